"""The board's chart follows its filters, empty lists say so and what to do, and the
event feed pauses, expands, copies and names an unknown type (issue 17)."""

import json
import time

import pytest
from playwright.sync_api import expect

from hardware import services as hardware
from supervisor import services as supervisor
from tests.dashboard.browser import off_loop
from tests.dashboard.seed import report
from tests.missions.factories import make_mission, mission_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def donut(page, check) -> dict:
    deadline = time.monotonic() + 5
    while True:
        data = page.evaluate(
            """() => {
                const chart = Chart.getChart(document.getElementById("status-chart"));
                const set = chart.data.datasets[0];
                return { labels: chart.data.labels, data: set.data };
            }"""
        )
        if check(data):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"the donut holds {data}")
        page.wait_for_timeout(50)


def test_the_donut_counts_only_what_the_search_matches_and_follows_live_changes(
    dash_server, pages, make_user
):
    make_mission(name="Survey the north ridge")
    mission_in("COMPLETED", name="Map the ridge")
    make_mission(name="Patrol the depot")
    mission_in("RUNNING", name="Inspect the fence")
    page = pages.open(dash_server, make_user("viewer"), "/?search=ridge")
    data = donut(page, lambda d: sum(d["data"]) == 2)
    assert data["data"] == [1, 0, 1, 0, 0]
    expect(page.locator("#stats-total")).to_have_text("2 missions match the filters")

    off_loop(make_mission, name="Not this one")
    off_loop(make_mission, name="Sample the ridge soil")
    donut(page, lambda d: d["data"] == [2, 0, 1, 0, 0])
    expect(page.locator("#stats-total")).to_have_attribute("data-total", "3")
    expect(page.locator('[data-column="RUNNING"] [data-empty]')).to_have_text(
        "No running missions match “ridge”."
    )
    expect(page.locator('[data-column="PENDING"] [data-empty]')).to_be_hidden()


def test_a_search_that_matches_nothing_says_so_and_how_to_get_out(
    dash_server, pages, make_user
):
    for name in ("One", "Two", "Three"):
        make_mission(name=name)
    page = pages.open(dash_server, make_user("viewer"), "/?search=zzzznomatch")
    donut(page, lambda d: d["data"] == [0, 0, 0, 0, 0])
    expect(page.locator("#stats-total")).to_have_text("0 missions match the filters")
    empty = page.locator("#board-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("No mission matches these filters")
    expect(empty).to_contain_text("zzzznomatch")
    empty.get_by_role("link", name="clear the filters").click()
    page.wait_for_url(dash_server.url + "/")
    donut(page, lambda d: sum(d["data"]) == 3)
    expect(page.locator("#board-empty")).to_be_hidden()


def test_the_status_filter_narrows_the_donut_to_the_statuses_chosen(
    dash_server, pages, make_user
):
    mission_in("RUNNING", name="Going")
    mission_in("FAILED", name="Broke")
    make_mission(name="Waiting")
    page = pages.open(
        dash_server, make_user("viewer"), "/?status=RUNNING&status=FAILED"
    )
    data = donut(page, lambda d: sum(d["data"]) == 2)
    assert data == {"labels": ["RUNNING", "FAILED"], "data": [1, 1]}


def test_an_empty_board_says_how_to_start(dash_server, pages, make_user):
    page = pages.open(dash_server, make_user("operator"), "/")
    empty = page.locator("#board-empty")
    expect(empty).to_contain_text("No missions yet")
    expect(empty).to_contain_text("New mission")
    expect(page.locator('[data-column="PENDING"] [data-empty]')).to_have_text(
        "No pending missions."
    )


def test_an_unknown_event_type_is_named_and_nothing_is_shown(
    dash_server, pages, make_user
):
    make_mission(name="An event the filter must not let through")
    page = pages.open(
        dash_server, make_user("viewer"), "/events/?types=bogus.*", wait_live=False
    )
    notice = page.locator("#unknown-types")
    expect(notice).to_contain_text("Unknown event type: bogus.*")
    expect(page.locator("#feed-showing")).to_have_text("Showing nothing")
    expect(page.locator("#feed-empty")).to_be_visible()
    assert page.locator("#feed-rows tr").count() == 0
    page.get_by_role("link", name="Show all types").click()
    expect(page.locator("#feed-rows tr.event")).to_have_count(2)  # created, its log


def test_the_feed_pauses_expands_a_payload_and_copies_an_event(
    dash_server, pages, make_user
):
    mission = make_mission(name="Watched")
    page = pages.open(dash_server, make_user("viewer"), "/events/?types=mission.*")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    rows = page.locator("#feed-rows tr.event")
    expect(rows).to_have_count(2)

    page.click("#feed-pause")
    off_loop(make_mission, name="Arrives while paused")
    expect(page.locator("#feed-count")).to_contain_text("2 new while paused")
    assert rows.count() == 2
    page.click("#feed-pause")
    expect(rows).to_have_count(4)
    expect(page.locator("#feed-count")).to_have_text("4 shown")

    created = page.locator('#feed-rows tr.event[data-type="mission.created"]').last
    link = created.locator('a[data-kind="mission"]')
    expect(link).to_have_attribute("href", f"/missions/{mission.id}/")

    created.locator("td.payload").click()
    expanded = page.locator("#feed-rows tr.expanded")
    expect(expanded.locator("pre.json")).to_contain_text('"name": "Watched"')
    expanded.get_by_role("button", name="Copy as JSON").click()
    expect(expanded.get_by_role("button", name="Copied")).to_be_visible()
    copied = json.loads(page.evaluate("() => navigator.clipboard.readText()"))
    assert copied["type"] == "mission.created"
    assert copied["payload"]["mission_id"] == str(mission.id)
    assert copied["meta"]["seq"] == int(created.get_attribute("data-seq"))
    created.locator("td.payload").click()
    expect(expanded).to_have_count(0)


def test_event_rows_link_to_their_robot_and_agent(dash_server, pages, make_user):
    hardware.robot_register(robot_id="go2-alpha", name="Alpha", model="unitree_go2")
    page = pages.open(dash_server, make_user("viewer"), "/events/")
    off_loop(report, "go2-alpha", 50.0)
    off_loop(supervisor.agent_register, agent_id="scout-1", name="Scout")
    robot = page.locator('#feed-rows tr.event a[data-kind="robot"]').first
    expect(robot).to_have_attribute("href", "/robots/go2-alpha/")
    agent = page.locator('#feed-rows tr.event a[data-kind="agent"]').first
    expect(agent).to_have_attribute("href", "/agents/?agent=scout-1")


def test_a_card_links_to_its_mission_and_its_agent(dash_server, pages, make_user):
    supervisor.agent_register(agent_id="scout-1", name="Scout")
    supervisor.agent_heartbeat(agent_id="scout-1", state="healthy")
    mission = make_mission(name="Held")
    supervisor.agent_claim_mission(agent_id="scout-1")
    page = pages.open(dash_server, make_user("viewer"), "/")
    card = page.locator(f'.mission-card[data-mission-id="{mission.id}"]')
    expect(card.locator("a.agent")).to_have_attribute("href", "/agents/?agent=scout-1")
    expect(card.locator("a.name")).to_have_attribute("href", f"/missions/{mission.id}/")
    card.locator("a.agent").click()
    expect(page.locator('#agent-rows tr[data-agent-id="scout-1"]')).to_have_class(
        "selected"
    )


@pytest.mark.parametrize(
    "path, empties",
    [
        ("/agents/", ["#agents-empty"]),
        ("/robots/", ["#robots-empty"]),
        ("/credits/", ["#balances-empty", "#transactions-empty"]),
        ("/events/?types=credits.*", ["#feed-empty"]),
    ],
)
def test_every_empty_list_says_so_and_what_to_do(
    dash_server, pages, make_user, path, empties
):
    page = pages.open(dash_server, make_user("viewer"), path)
    for empty in empties:
        expect(page.locator(empty)).to_be_visible()
        expect(page.locator(empty)).to_contain_text("bin/run --simulate")
