"""The charts hold the data they are labelled with, and follow changes live.

Each test reads what Chart.js itself holds (``Chart.getChart(canvas).data``), not the
picture: the numbers a person would read off the chart.
"""

import time
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from brain.events.models import EventLog
from credits import services as credits
from credits.models import LedgerEntry
from hardware import services as hardware
from missions import services as missions
from missions.models import MissionStatus
from tests.conftest import number_pending
from tests.dashboard.browser import off_loop
from tests.missions.factories import make_mission, mission_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHART_TIMEOUT_MS = 5000


def chart_data(page, canvas_id: str) -> dict:
    return page.evaluate(
        """id => {
            const chart = Chart.getChart(document.getElementById(id));
            if (!chart) return null;
            return { labels: chart.data.labels, data: chart.data.datasets[0].data };
        }""",
        canvas_id,
    )


def wait_for_chart(page, canvas_id: str, check, timeout_ms=CHART_TIMEOUT_MS) -> dict:
    """The chart's data once ``check(data)`` holds; fails with the last data seen."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        data = chart_data(page, canvas_id)
        if data is not None and check(data):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"#{canvas_id} holds {data}")
        page.wait_for_timeout(50)


def ys(data: dict) -> list[float]:
    return [point["y"] for point in data["data"]]


def past_events(count: int, *, minutes_ago: int, type_: str) -> None:
    """Events as the log holds them from earlier minutes.

    ``emit()`` stamps the present, so history is written straight into the log,
    and numbered as its commit would have been (left to the hubs' straggler poll,
    the rows would only count once a hub got to them).
    """
    when = timezone.now() - timedelta(minutes=minutes_ago)
    EventLog.objects.bulk_create(
        EventLog(
            event_id=uuid.uuid4(),
            type=type_,
            source="test",
            target=None,
            occurred_at=when,
            payload={},
            meta={},
        )
        for _ in range(count)
    )
    number_pending()


def at_the_start_of_this_minute(time_machine) -> datetime:
    """Hold a test about "this minute" clear of a minute boundary, without waiting.

    This process's clock (which stamps the events) restarts at second 1 of the
    current minute, and the page's ``Date`` (which places the chart's last minute) is
    held there: the test ends in that minute however late in the real one it began.
    The server counts the history by its own clock, a window that covers that
    minute whether or not the real one has passed since.
    """
    start = timezone.now().replace(second=1, microsecond=0)
    time_machine.move_to(start, tick=True)
    return start


def test_missions_by_status_counts_each_status_and_follows_changes(
    dash_server, pages, make_user
):
    make_mission(name="waiting 1")
    make_mission(name="waiting 2")
    moving = make_mission(name="waiting 3")
    mission_in(MissionStatus.RUNNING, name="running")
    mission_in(MissionStatus.COMPLETED, name="done 1")
    mission_in(MissionStatus.COMPLETED, name="done 2")
    mission_in(MissionStatus.CANCELLED, name="called off")
    page = pages.open(dash_server, make_user("viewer"), "/")

    statuses = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
    data = wait_for_chart(page, "status-chart", lambda d: sum(d["data"]) == 7)
    assert data["labels"] == statuses
    assert data["data"] == [3, 1, 2, 0, 1]

    off_loop(missions.mission_set_status, mission_id=moving.id, status="RUNNING")
    wait_for_chart(page, "status-chart", lambda d: d["data"] == [2, 2, 2, 0, 1])
    off_loop(make_mission, name="one more")
    wait_for_chart(page, "status-chart", lambda d: d["data"] == [3, 2, 2, 0, 1])


def test_events_per_minute_counts_the_last_30_minutes_of_the_whole_log(
    dash_server, pages, make_user, time_machine
):
    """More events than the feed loads (2,000 seqs) still count, each in its minute."""
    start = at_the_start_of_this_minute(time_machine)
    past_events(2500, minutes_ago=10, type_="hardware.info_queried")
    past_events(40, minutes_ago=45, type_="hardware.info_queried")  # too old
    make_mission(name="Counted now")
    page = pages.open(dash_server, make_user("viewer"), "/events/", fixed_time=start)

    def in_window() -> int:
        since = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=29)
        return EventLog.objects.filter(occurred_at__gte=since).count()

    def this_minute() -> int:
        since = timezone.now().replace(second=0, microsecond=0)
        return EventLog.objects.filter(occurred_at__gte=since).count()

    data = wait_for_chart(page, "rate-chart", lambda d: sum(d["data"]) == in_window())
    assert len(data["data"]) == 30
    assert data["data"][-11] == 2500  # ten minutes before this one
    assert data["data"][-1] == this_minute() > 0

    before = data["data"][-1]
    off_loop(make_mission, name="Counted live")
    off_loop(make_mission, name="Counted live too")
    data = wait_for_chart(
        page, "rate-chart", lambda d: d["data"][-1] == this_minute() > before
    )
    assert sum(data["data"]) == in_window()

    # The chart counts the types the feed shows.
    filtered = pages.open(
        dash_server, make_user("viewer"), "/events/?types=mission.*", fixed_time=start
    )
    missions_now = EventLog.objects.filter(type__startswith="mission.").count()
    data = wait_for_chart(
        filtered, "rate-chart", lambda d: sum(d["data"]) == missions_now
    )
    assert data["data"][-11] == 0
    off_loop(make_mission, name="Counted in the filtered chart")
    missions_now = EventLog.objects.filter(type__startswith="mission.").count()
    wait_for_chart(filtered, "rate-chart", lambda d: sum(d["data"]) == missions_now)


def report(robot_id: str, battery: float) -> None:
    hardware.robot_report_state(
        robot_id=robot_id,
        battery_voltage=24.0 * battery / 100,
        battery_percentage=battery,
        motor_states=[],
        imu_data={},
    )


def robot_line(page, robot_id: str, check) -> list[float]:
    """The battery values of one robot's line on the robots page, once ``check``."""
    deadline = time.monotonic() + CHART_TIMEOUT_MS / 1000
    while True:
        line = page.evaluate(
            """id => {
                const chart = Chart.getChart(document.getElementById("battery-chart"));
                const set = chart && chart.data.datasets.find(s => s.label === id);
                return set ? set.data : null;
            }""",
            robot_id,
        )
        if line is not None and check(line):
            return line
        if time.monotonic() > deadline:
            raise AssertionError(f"{robot_id}'s battery line holds {line}")
        page.wait_for_timeout(50)


def test_every_robots_battery_line_holds_its_reports_and_grows_live(
    dash_server, pages, make_user
):
    hardware.robot_register(robot_id="go2-alpha", name="Alpha", model="unitree_go2")
    hardware.robot_register(robot_id="b2-beta", name="Beta", model="unitree_b2")
    for level in (80.0, 72.5, 61.0):
        report("go2-alpha", level)
    report("b2-beta", 15.0)
    page = pages.open(dash_server, make_user("viewer"), "/robots/?robot=go2-alpha")

    alpha = robot_line(page, "go2-alpha", lambda line: len(line) == 3)
    assert [point["y"] for point in alpha] == [80.0, 72.5, 61.0]
    times = [point["x"] for point in alpha]
    assert times == sorted(times)
    assert [p["y"] for p in robot_line(page, "b2-beta", bool)] == [15.0]

    off_loop(report, "go2-alpha", 55.0)
    off_loop(report, "b2-beta", 14.0)  # each robot's report on its own line
    alpha = robot_line(page, "go2-alpha", lambda line: len(line) >= 4)
    assert [point["y"] for point in alpha] == [80.0, 72.5, 61.0, 55.0]
    beta = robot_line(page, "b2-beta", lambda line: len(line) >= 2)
    assert [point["y"] for point in beta] == [15.0, 14.0]


def test_an_agents_balance_chart_holds_its_ledger_and_grows_live(
    dash_server, pages, make_user
):
    credits.account_create(agent_id="scout-1", initial_credits="100.00")
    credits.credits_consume(agent_id="scout-1", amount="30.00", reason="compute")
    credits.credits_allocate(agent_id="scout-1", amount="10.50", reason="top-up")
    credits.account_create(agent_id="hauler-2", initial_credits="5.00")
    page = pages.open(dash_server, make_user("viewer"), "/credits/?agent=scout-1")

    data = wait_for_chart(page, "balance-chart", lambda d: len(d["data"]) == 3)
    assert ys(data) == [100.0, 70.0, 80.5]

    off_loop(
        credits.credits_consume, agent_id="scout-1", amount="0.50", reason="compute"
    )
    off_loop(
        credits.credits_consume, agent_id="hauler-2", amount="1.00", reason="compute"
    )
    data = wait_for_chart(page, "balance-chart", lambda d: len(d["data"]) >= 4)
    assert ys(data) == [100.0, 70.0, 80.5, 80.0]


def test_the_latest_transactions_come_from_the_ledger_however_busy_the_log(
    dash_server, pages, make_user
):
    """Thousands of other events since the last movement hide no transaction."""
    credits.account_create(agent_id="scout-1", initial_credits="100.00")
    credits.credits_consume(agent_id="scout-1", amount="12.25", reason="compute")
    credits.account_create(agent_id="hauler-2", initial_credits="5.00")
    past_events(6000, minutes_ago=0, type_="hardware.info_queried")
    page = pages.open(dash_server, make_user("viewer"), "/credits/")

    rows = page.locator("#transaction-rows tr")
    newest_first = list(
        LedgerEntry.objects.order_by("-id").values_list("id", flat=True)
    )
    page.wait_for_function(
        "n => document.querySelectorAll('#transaction-rows tr').length === n",
        arg=len(newest_first),
    )
    assert (
        rows.evaluate_all("rows => rows.map(row => Number(row.dataset.transactionId))")
        == newest_first
    )
    assert "−12.25" in rows.nth(1).inner_text()

    off_loop(credits.credits_refund, agent_id="scout-1", amount="2.00", reason="oops")
    page.wait_for_function(
        "() => document.querySelector('#transaction-rows tr').textContent"
        ".includes('refund')"
    )
    assert rows.count() == 4
