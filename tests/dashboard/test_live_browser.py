"""Live delivery in a real browser: the event feed, and resuming after a restart."""

import re

import httpx
import pytest
from django.db.models import Max
from django.utils import timezone
from playwright.sync_api import expect

from brain.events import sequencer
from brain.events.models import EventLog, PruneRecord
from missions import services
from tests.conftest import token_for
from tests.dashboard.browser import NETWORK_NOISE, off_loop, wait_live_state
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def feed_seqs(page) -> list[int]:
    return page.locator("#feed-rows tr").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.seq))"
    )


def test_the_event_feed_shows_new_events_of_the_chosen_types(
    dash_server, pages, make_user
):
    operator = make_user("operator")
    page = pages.open(dash_server, operator, "/events/?types=mission.*")
    assert page.locator('input[value="mission.*"]').is_checked()
    with httpx.Client(
        base_url=dash_server.url,
        headers={"Authorization": f"Token {token_for(operator)}"},
        timeout=5,
    ) as api:
        created = api.post("/api/missions", json={"name": "Feed me"})
        assert created.status_code == 201
        other = api.post(  # another module
            "/api/credits/accounts", json={"agent_id": "feed-1", "initial_credits": "5"}
        )
        assert other.status_code == 201, other.text

    rows = page.locator("#feed-rows tr")
    expect(rows).to_have_count(2)
    expect(rows.locator("td.type")).to_have_text(
        ["mission.log_appended", "mission.created"]
    )
    expect(rows.first).to_contain_text(created.json()["id"])
    latest = EventLog.objects.filter(type__startswith="mission.").order_by("-seq")
    assert feed_seqs(page) == list(latest.values_list("seq", flat=True)[:2])

    page.uncheck('input[value="mission.*"]')  # submits: every type again
    page.wait_for_url(re.compile(r"/events/\??$"))
    wait_live_state(page)
    expect(page.locator('#feed-rows tr[data-type="credits.allocated"]')).to_have_count(
        1
    )


def test_after_a_server_restart_every_change_shows_exactly_once(
    start_dash_server, pages, make_user
):
    server = start_dash_server()
    kept = make_mission(name="Kept across the restart")
    operator = make_user("operator")
    board = pages.open(server, operator, "/")
    mission = pages.open(server, operator, f"/missions/{kept.id}/")
    feed = pages.open(server, operator, "/events/")
    expect(mission.locator("#log .line")).to_have_count(1)
    seen_before = max(feed_seqs(feed))
    pages.allow(NETWORK_NOISE)

    server.stop()
    for page in (board, mission, feed):
        page.wait_for_selector('#conn-state[data-state="reconnecting"]')
    made = off_loop(make_mission, name="Made while the server was down")
    off_loop(services.mission_set_status, mission_id=kept.id, status="RUNNING")
    off_loop(
        services.mission_log_append,
        mission_id=kept.id,
        lines=[services.LogLine(f"offline line {i}") for i in range(3)],
    )
    server.start()
    for page in (board, mission, feed):
        wait_live_state(page, timeout=20_000)

    # Each change once, in the right place.
    expect(
        board.locator(f'[data-column="PENDING"] [data-mission-id="{made.id}"]')
    ).to_have_count(1)
    expect(
        board.locator(f'[data-column="RUNNING"] [data-mission-id="{kept.id}"]')
    ).to_have_count(1)
    expect(board.locator(".mission-card")).to_have_count(2)
    expect(mission.locator('[data-field="status"]')).to_have_text("RUNNING")
    expect(mission.locator("#history tr")).to_have_count(2)
    messages = mission.locator("#log .line .msg")
    expect(messages).to_have_text(
        [
            "Mission created",
            "Mission status changed",
            "offline line 0",
            "offline line 1",
            "offline line 2",
        ]
    )
    missed = list(
        EventLog.objects.filter(seq__gt=seen_before)
        .order_by("-seq")
        .values_list("seq", flat=True)
    )
    assert len(missed) >= 6
    expect(feed.locator("#feed-rows tr").first).to_have_attribute(
        "data-seq", str(missed[0])
    )
    seqs = feed_seqs(feed)
    assert len(seqs) == len(set(seqs)), "an event shown twice"
    assert seqs[: len(missed)] == missed

    # And live again afterwards.
    off_loop(
        services.mission_log_append,
        mission_id=kept.id,
        lines=[services.LogLine("back")],
    )
    expect(messages).to_have_count(6)
    expect(messages.last).to_have_text("back")


def test_a_reset_after_the_log_was_pruned_refetches_the_state(
    start_dash_server, pages, make_user
):
    server = start_dash_server()
    kept = make_mission(name="Survives the prune")
    operator = make_user("operator")
    board = pages.open(server, operator, "/")
    pages.allow(NETWORK_NOISE)

    server.kill()
    board.wait_for_selector('#conn-state[data-state="reconnecting"]')
    made = off_loop(make_mission, name="Made before the prune")
    off_loop(services.mission_set_status, mission_id=kept.id, status="CANCELLED")
    # Retention removed everything the page had not seen: resuming is impossible.
    assert sequencer.drain(10)
    pruned = EventLog.objects.aggregate(through=Max("seq"))["through"]
    deleted, _ = EventLog.objects.all().delete()
    PruneRecord.objects.create(
        pruned_at=timezone.now(), deleted=deleted, through_seq=pruned
    )
    off_loop(make_mission, name="Made after the prune")
    server.start()
    wait_live_state(board, timeout=20_000)

    expect(
        board.locator(f'[data-column="CANCELLED"] [data-mission-id="{kept.id}"]')
    ).to_have_count(1)
    expect(
        board.locator(f'[data-column="PENDING"] [data-mission-id="{made.id}"]')
    ).to_have_count(1)
    expect(board.locator(".mission-card")).to_have_count(3)
    expect(board.locator('[data-column="PENDING"] [data-count]')).to_have_text("2")


def test_a_page_whose_session_ended_says_so_instead_of_retrying(
    dash_server, pages, make_user
):
    from django.contrib.sessions.models import Session

    page = pages.open(dash_server, make_user("viewer"), "/")
    pages.allow(r"WebSocket connection to .* failed|status of 401")
    Session.objects.all().delete()
    page.evaluate("() => window.Brain.connection.ws.close()")
    expect(page.locator("#conn-state")).to_have_attribute(
        "data-state", "signed-out", timeout=15_000
    )
    expect(page.locator("#flash")).to_contain_text("signed out")
