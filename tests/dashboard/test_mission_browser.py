"""The mission page in a real browser: live details, history and log tail."""

import httpx
import pytest
from playwright.sync_api import expect

from brain.events.models import EventLog
from missions import services
from tests.conftest import token_for
from tests.dashboard.browser import WITHIN_A_SECOND, off_loop
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_lines(page):
    return page.locator("#log .line")


def append(mission, *messages, level="info"):
    off_loop(
        services.mission_log_append,
        mission_id=mission.id,
        lines=[services.LogLine(message, level=level) for message in messages],
    )


def test_the_mission_page_tails_new_log_lines_live(dash_server, pages, make_user):
    mission = make_mission(name="Survey", description="North ridge")
    operator = make_user("operator")
    page = pages.open(dash_server, operator, f"/missions/{mission.id}/")
    expect(log_lines(page)).to_have_count(1)  # "Mission created"

    with httpx.Client(base_url=dash_server.url, timeout=5) as api:
        response = api.post(
            f"/api/missions/{mission.id}/log",
            json=[
                {"message": "Waypoint 1 reached"},
                {"message": "Low signal", "level": "warning"},
            ],
            headers={"Authorization": f"Token {token_for(operator)}"},
        )
    assert response.status_code == 201, response.text

    expect(log_lines(page)).to_have_count(3, timeout=WITHIN_A_SECOND)
    expect(log_lines(page).nth(1)).to_contain_text("Waypoint 1 reached")
    expect(page.locator("#log .line.lvl-warning")).to_contain_text("Low signal")

    off_loop(services.mission_set_status, mission_id=mission.id, status="RUNNING")
    expect(page.locator('[data-field="status"]')).to_have_text(
        "RUNNING", timeout=WITHIN_A_SECOND
    )
    expect(page.locator("#history tr")).to_have_count(2)  # created, PENDING -> RUNNING
    expect(page.locator("#actions button")).to_have_text(["Complete", "Fail", "Cancel"])
    expect(log_lines(page)).to_have_count(4)
    # Retention empties the event log of this mission: its history is its own.
    off_loop(
        lambda: EventLog.objects.filter(subjects__has=f"mission_{mission.id}").delete()
    )
    page.reload()
    expect(page.locator("#history tr")).to_have_count(2)
    expect(page.locator("#history tr").nth(1)).to_contain_text("RUNNING")
    expect(page.locator("#history-note")).to_be_hidden()


def test_auto_scroll_follows_new_lines_and_pauses_when_scrolled_up(
    dash_server, pages, make_user
):
    mission = make_mission(name="Long run")
    append(mission, *(f"step {i}" for i in range(200)))
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    expect(log_lines(page)).to_have_count(201)
    log = page.locator("#log")

    def distance_from_bottom() -> float:
        return log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight")

    assert distance_from_bottom() < 5
    append(mission, "step 200")
    expect(log_lines(page)).to_have_count(202, timeout=WITHIN_A_SECOND)
    assert distance_from_bottom() < 5

    log.evaluate("el => { el.scrollTop = 100; }")
    expect(page.locator("#log-follow")).to_be_visible()
    append(mission, "step 201", "step 202")
    expect(log_lines(page)).to_have_count(204, timeout=WITHIN_A_SECOND)
    assert log.evaluate("el => el.scrollTop") == 100
    expect(page.locator("#log-follow")).to_contain_text("2 new")

    page.locator("#log-follow").click()
    assert distance_from_bottom() < 5
    expect(page.locator("#log-follow")).to_be_hidden()


def test_the_level_filter_sticks_in_the_url_and_applies_to_live_lines(
    dash_server, pages, make_user
):
    mission = make_mission(name="Filtered")
    append(mission, "all fine")
    append(mission, "it broke", level="error")
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    page.select_option("#log-level", "error")
    page.wait_for_url("**level=error")
    expect(log_lines(page)).to_have_count(1)
    page.wait_for_selector('#conn-state[data-state="live"]')

    append(mission, "quiet line")
    append(mission, "broke again", level="error")
    expect(log_lines(page)).to_have_count(2, timeout=WITHIN_A_SECOND)
    expect(log_lines(page).locator(".msg")).to_have_text(["it broke", "broke again"])


@pytest.mark.serial  # the page's longest task: no other test's load in it
def test_ten_thousand_lines_page_back_without_freezing_the_page(
    dash_server, pages, make_user
):
    mission = make_mission(name="Chatty")
    append(mission, *(f"line {i}" for i in range(10_000)))
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    count = page.locator("#log-count")
    expect(count).to_have_attribute("data-total", "10001")
    page.evaluate(
        """() => {
            window.longTasks = [];
            new PerformanceObserver((list) => {
                for (const task of list.getEntries()) {
                    window.longTasks.push(task.duration);
                }
            }).observe({ type: "longtask" });
        }"""
    )
    page.locator("#log-all").click()
    expect(count).to_have_attribute("data-shown", "10001", timeout=20_000)
    expect(log_lines(page)).to_have_count(10_001)
    first, last = log_lines(page).first, log_lines(page).last
    expect(first).to_contain_text("Mission created")
    expect(last).to_contain_text("line 9999")
    longest = max(page.evaluate("window.longTasks"), default=0)
    assert longest < 500, f"the page froze for {longest:.0f} ms"
    ids = page.locator("#log .line").evaluate_all(
        "els => els.map(e => Number(e.dataset.id))"
    )
    assert ids == sorted(set(ids))
