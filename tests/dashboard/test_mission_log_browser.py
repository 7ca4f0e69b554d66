"""The mission page's log as a person works with it (issue 17): the first load of a
long log, older lines on scroll, search, level filter, follow and pause, downloads,
permalinks; the timeline of time in each status; links to the mission's agent."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from missions import services
from missions.models import MissionLog, MissionStatusChange
from tests.dashboard.browser import WITHIN_A_SECOND, off_loop
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def lines(page):
    return page.locator("#log .line")


def append(mission, *messages, level="info"):
    off_loop(
        services.mission_log_append,
        mission_id=mission.id,
        lines=[services.LogLine(message, level=level) for message in messages],
    )


def chatty_mission(count: int = 3000):
    """A mission with ``count`` lines after "Mission created", in batches of 500."""
    mission = make_mission(name="Chatty")
    for start in range(0, count, 500):
        services.mission_log_append(
            mission_id=mission.id,
            lines=[
                services.LogLine(
                    f"line {i}", level="warning" if i % 10 == 0 else "info"
                )
                for i in range(start, min(count, start + 500))
            ],
        )
    return mission


def shown_ids(page) -> list[int]:
    return lines(page).evaluate_all("els => els.map(e => Number(e.dataset.id))")


def test_a_long_log_opens_on_its_newest_lines_and_loads_older_ones_on_scroll_up(
    dash_server, pages, make_user
):
    mission = chatty_mission(3000)
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    count = page.locator("#log-count")
    expect(count).to_have_attribute("data-shown", "300")
    expect(count).to_have_text("300 of 3001 lines")
    expect(lines(page).last).to_contain_text("line 2999")
    expect(lines(page).first).to_contain_text("line 2700")
    log = page.locator("#log")
    assert log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 5

    log.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    expect(count).to_have_attribute("data-shown", "600")
    expect(lines(page).first).to_contain_text("line 2400")
    # The line read before the load stays in view: the reader is not thrown back.
    assert log.evaluate("el => el.scrollTop") > 1000
    ids = shown_ids(page)
    assert ids == sorted(set(ids))


def test_search_runs_on_the_server_highlights_matches_and_follows_live_lines(
    dash_server, pages, make_user
):
    mission = chatty_mission(1000)
    append(mission, "Gripper JAMMED at bay 4", "bay 4 clear, jammed part removed")
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    expect(page.locator("#log-count")).to_have_attribute("data-total", "1003")

    page.fill("#log-q", "jammed")
    page.wait_for_url("**q=jammed")
    expect(page.locator("#log-count")).to_have_text("2 matching lines")
    expect(lines(page).locator("mark")).to_have_text(["JAMMED", "jammed"])
    expect(lines(page).first.locator(".msg")).to_have_text("Gripper JAMMED at bay 4")

    append(mission, "not this one")
    append(mission, "jammed again")
    expect(lines(page)).to_have_count(3, timeout=WITHIN_A_SECOND)
    expect(lines(page).last.locator("mark")).to_have_text("jammed")

    page.fill("#log-q", "no such words")
    expect(lines(page)).to_have_count(0)
    expect(page.locator("#log-empty")).to_contain_text("No line matches")

    page.fill("#log-q", "")
    expect(page.locator("#log-count")).to_have_text("300 of 1005 lines")


def test_the_level_filter_is_applied_by_the_server(dash_server, pages, make_user):
    mission = chatty_mission(3000)
    page = pages.open(
        dash_server, make_user("viewer"), f"/missions/{mission.id}/?level=warning"
    )
    # 300 warnings in 3,000 lines: the server filtered them, not the page.
    expect(page.locator("#log-count")).to_have_text("300 lines")
    assert set(lines(page).locator(".lvl").all_inner_texts()) == {"WARNING"}
    page.select_option("#log-level", "")
    expect(page.locator("#log-count")).to_have_text("300 of 3001 lines")


def test_the_log_downloads_as_text_and_json_lines_with_its_filters(
    dash_server, pages, make_user
):
    mission = chatty_mission(1200)
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    with page.expect_download() as download:
        page.click("#log-download-txt")
    text = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert len(text) == 1201
    assert " INFO    Mission created " in text[0]
    assert "WARNING" in text[1] and text[1].endswith("line 0")

    page.select_option("#log-level", "warning")
    page.wait_for_url("**level=warning")
    with page.expect_download() as download:
        page.click("#log-download-jsonl")
    assert download.value.suggested_filename == f"mission-{mission.id}.jsonl"
    records = [
        json.loads(line)
        for line in open(download.value.path(), encoding="utf-8").read().splitlines()
    ]
    assert len(records) == 120
    assert {record["level"] for record in records} == {"warning"}
    assert records[-1]["message"] == "line 1190"


def test_a_permalink_opens_the_log_at_its_line(dash_server, pages, make_user):
    mission = chatty_mission(3000)
    line = MissionLog.objects.get(mission=mission, message="line 1000")
    page = pages.open(
        dash_server, make_user("viewer"), f"/missions/{mission.id}/#line-{line.id}"
    )
    target = page.locator(f"#line-{line.id}")
    expect(target).to_have_class("line lvl-warning target")
    expect(target).to_be_in_viewport()
    expect(page.locator("#log-newer")).to_be_visible()  # newer lines than loaded

    # A live line does not move the reader away from the linked one.
    append(mission, "while reading")
    page.wait_for_timeout(500)
    expect(target).to_be_in_viewport()

    other = page.locator(
        f"#line-{MissionLog.objects.get(mission=mission, message='line 1002').id}"
    )
    other_id = other.get_attribute("data-id")
    other.locator("a.stamp").click()
    assert page.url.endswith(f"#line-{other_id}")
    expect(other).to_have_class("line lvl-info target")

    page.locator("#log-follow").click()
    expect(lines(page).last).to_contain_text("while reading")
    assert "#line-" not in page.url


def test_pause_follow_keeps_the_view_and_resume_jumps_to_the_newest(
    dash_server, pages, make_user
):
    mission = chatty_mission(500)
    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    log = page.locator("#log")
    expect(lines(page).last).to_contain_text("line 499")
    log.evaluate("el => { el.scrollTop = el.scrollHeight - el.clientHeight - 200; }")
    page.click("#log-pause")
    expect(page.locator("#log-pause")).to_have_attribute("aria-pressed", "true")
    before = log.evaluate("el => el.scrollTop")

    append(mission, "new while paused")
    expect(page.locator("#log-pause")).to_contain_text("1 new")
    assert log.evaluate("el => el.scrollTop") == before

    page.click("#log-pause")
    expect(page.locator("#log-pause")).to_have_text("Pause follow")
    assert log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 5
    append(mission, "followed again")
    expect(lines(page).last).to_contain_text("followed again")
    assert log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 5


def test_the_timeline_shows_time_in_each_status_duration_and_who(
    dash_server, pages, make_user
):
    mission = make_mission(name="Timed")
    services.mission_set_status(mission_id=mission.id, status="RUNNING")
    services.mission_set_status(
        mission_id=mission.id, status="COMPLETED", reason="all waypoints"
    )
    # The history as it would read after a real run: 5 minutes pending, 1 h running.
    start = timezone.now() - timedelta(hours=2)
    changes = list(MissionStatusChange.objects.filter(mission=mission).order_by("id"))
    for change, offset, agent in zip(
        changes, (0, 300, 3900), (None, "scout-7", None), strict=True
    ):
        MissionStatusChange.objects.filter(pk=change.pk).update(
            changed_at=start + timedelta(seconds=offset), agent_id=agent, actor=None
        )
    MissionStatusChange.objects.filter(pk=changes[2].pk).update(actor="ada")

    page = pages.open(dash_server, make_user("viewer"), f"/missions/{mission.id}/")
    rows = page.locator("#history tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".lasted")).to_have_text("5m 0s")
    expect(rows.nth(1).locator(".lasted")).to_have_text("1h 0m")
    expect(rows.nth(2).locator(".lasted")).to_have_text("final")
    expect(page.locator('[data-field="duration"]')).to_have_text("1h 5m")
    expect(rows.nth(2)).to_contain_text("ada")
    expect(rows.nth(2)).to_contain_text("all waypoints")
    agent = rows.nth(1).get_by_role("link", name="scout-7")
    expect(agent).to_have_attribute("href", "/agents/?agent=scout-7")
    expect(page.locator('#time-in-status li[data-status="RUNNING"]')).to_contain_text(
        "1h 0m"
    )
    expect(page.locator("#timeline .segment")).to_have_count(2)
