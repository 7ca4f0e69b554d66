"""``GET /api/events/stream``: Server-Sent Events on a real uvicorn, read by curl."""

import time

import httpx
import pytest

from brain.events import sequencer
from brain.events.models import EventLog
from missions.services import mission_create
from tests.cloudevents_sdk import assert_matches_envelope, parse_cloudevent
from tests.conftest import token_for
from tests.events.sse_client import Curl
from tests.eventsapp.services import widget_create, widget_ping

pytestmark = pytest.mark.django_db(transaction=True)


def widgets(count: int, prefix: str = "w") -> list[EventLog]:
    start = EventLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for n in range(count):
        widget_create(name=f"{prefix}{n}")
    assert sequencer.drain()
    return list(
        EventLog.objects.filter(id__gt=start, type="widget.created").order_by("seq")
    )


def head() -> int:
    return EventLog.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def token(make_user) -> str:
    return token_for(make_user("operator"))


def stream(server, token: str, query: str = "", *headers: str) -> Curl:
    return Curl(
        f"{server.url}/api/events/stream{query}",
        f"Authorization: Token {token}",
        *headers,
    )


def test_curl_resumes_with_last_event_id_without_gap_or_duplicate(live, token):
    before = widgets(2, "before")
    first = stream(live, token, f"?types=widget.*&since={before[0].seq}")
    try:
        first.read_until(lambda c: len(c.events()) >= 1)
        hello = first.messages[0]
        assert hello.event == "subscribed" and hello.json["replaying"] is True
        # The replay, then live events, each with its seq as id and type as event.
        live_rows = widgets(5, "live")
        got = first.read_until(lambda c: len(c.events()) >= 6)
        events = first.events()
        assert [m.id for m in events] == [str(r.seq) for r in [before[1], *live_rows]]
        assert [m.event for m in events] == ["widget.created"] * 6
        assert [m.json for m in events] == [
            r.envelope() for r in [before[1], *live_rows]
        ]
        assert got[-1].json == live_rows[-1].envelope()
    finally:
        first.close()
    last_id = events[-1].id
    missed = widgets(4, "missed")
    # The client's reconnect: the same URL (since= and all) plus Last-Event-ID.
    again = stream(
        live,
        token,
        f"?types=widget.*&since={before[0].seq}",
        f"Last-Event-ID: {last_id}",
    )
    try:
        again.read_until(lambda c: len(c.events()) >= 4)
        after = widgets(2, "after")
        again.read_until(lambda c: len(c.events()) >= 6)
        time.sleep(0.5)
        assert [m.id for m in again.events()] == [str(r.seq) for r in missed + after]
        assert again.messages[0].json["replaying"] is True
        assert [m.event for m in again.messages if "control" in m.json] == [
            "subscribed",
            "caught_up",
        ]
    finally:
        again.close()


def test_filters_and_permissions_are_the_sockets(live, make_user):
    from django.contrib.auth.models import Permission

    reader = make_user("plain", "missions_reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_mission"))
    curl = stream(live, token_for(reader))
    try:
        curl.read_until(lambda c: len(c.messages) >= 1)
        widgets(2)
        mission = mission_create(name="seen")
        curl.read_until(lambda c: len(c.events()) >= 2)
        time.sleep(0.5)
        assert [m.event for m in curl.events()] == [
            "mission.created",
            "mission.log_appended",
        ]
        assert curl.events()[0].json["payload"]["mission_id"] == str(mission.id)
    finally:
        curl.close()
    subject = stream(
        live, token_for(make_user("operator")), f"?subject=mission_{mission.id}&since=0"
    )
    try:
        subject.read_until(lambda c: any(m.event == "caught_up" for m in c.messages))
        assert {m.event for m in subject.events()} == {
            "mission.created",
            "mission.log_appended",
        }
    finally:
        subject.close()


def test_live_only_events_have_no_id(live, token):
    (widget_row,) = widgets(1)
    curl = stream(live, token, "?types=widget.pinged")
    try:
        curl.read_until(lambda c: len(c.messages) >= 1)
        widget_ping(widget_id=widget_row.payload["widget_id"])
        (pinged,) = curl.read_until(lambda c: len(c.events()) >= 1)[1:]
        assert pinged.event == "widget.pinged" and pinged.id is None
        assert "seq" not in pinged.json["meta"]
    finally:
        curl.close()


def test_a_pruned_cursor_gets_a_reset_and_one_past_the_head_a_400(live, token):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from brain.events.services import events_prune

    before = head()
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=40)):
        widget_create(name="old")
    widgets(1, "kept")
    events_prune(now=now, default_days=30)
    curl = stream(live, token, f"?since={before}")
    try:
        (reset,) = curl.read_until(lambda c: len(c.messages) >= 1)
        assert reset.event == "reset"
        assert reset.json["control"] == "reset"
        # Its id moves the client's cursor to where it may continue from.
        assert reset.id == str(reset.json["last_seq"]) == str(head())
        (after,) = widgets(1, "after")
        curl.read_until(lambda c: len(c.events()) >= 1)
        assert curl.events()[0].id == str(after.seq)
    finally:
        curl.close()
    with httpx.Client(base_url=live.url, timeout=5) as http:
        past = http.get(
            f"/api/events/stream?since={head() + 1000}",
            headers={"Authorization": f"Token {token}"},
        )
    assert past.status_code == 400 and "past the log's head" in past.json()["detail"]


def test_an_idle_stream_gets_comment_keepalives(start_server, token):
    server = start_server(EVENTS_SSE_KEEPALIVE_SECONDS="0.3")
    curl = stream(server, token)
    try:
        curl.read_until(lambda c: len(c.comments) >= 2, timeout=5)
        assert set(curl.comments) == {": keepalive"}
    finally:
        curl.close()


def test_cloudevents_format(live, token):
    curl = stream(live, token, "?types=widget.*&format=cloudevents")
    try:
        curl.read_until(lambda c: len(c.messages) >= 1)
        rows = widgets(3)
        curl.read_until(lambda c: len(c.events()) >= 3)
        for message, row in zip(curl.events(), rows, strict=True):
            assert message.id == str(row.seq)
            assert_matches_envelope(parse_cloudevent(message.data), row.envelope())
    finally:
        curl.close()


def test_refusals(live, token, make_user):
    with httpx.Client(base_url=live.url, timeout=5) as http:
        anonymous = http.get("/api/events/stream")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Token"
        bad = http.get(
            "/api/events/stream?types=Bad!",
            headers={"Authorization": f"Token {token}"},
        )
        assert bad.status_code == 400 and "types" in bad.json()["detail"]
        wrong = http.post(
            "/api/events/stream", headers={"Authorization": f"Token {token}"}
        )
        assert wrong.status_code == 405
        # A browser's session from another site is not a reader.
        from django.test import Client

        client = Client()
        client.force_login(make_user("operator"))
        cross = http.get(
            "/api/events/stream",
            headers={
                "Cookie": f"sessionid={client.cookies['sessionid'].value}",
                "Origin": "https://evil.example",
            },
        )
        assert cross.status_code == 401


def test_open_streams_hold_no_request_slot(start_server, token):
    server = start_server(HTTP_MAX_IN_FLIGHT="1")
    streams = [stream(server, token) for _ in range(3)]
    try:
        for curl in streams:
            curl.read_until(lambda c: len(c.messages) >= 1)
        with httpx.Client(base_url=server.url, timeout=5) as http:
            assert http.get("/api/health").status_code == 200
            history = http.get(
                "/api/events", headers={"Authorization": f"Token {token}"}
            )
            assert history.status_code == 200
    finally:
        for curl in streams:
            curl.close()


def test_a_deleted_token_ends_its_stream(start_server, make_user):
    from rest_framework.authtoken.models import Token

    server = start_server(EVENTS_AUTH_RECHECK_SECONDS="0.3", EVENTS_POLL_INTERVAL="0.1")
    user = make_user("operator")
    curl = stream(server, token_for(user))
    try:
        curl.read_until(lambda c: len(c.messages) >= 1)
        Token.objects.filter(user=user).delete()
        curl.read_until(lambda c: c.messages[-1].event == "error", timeout=10)
        assert curl.messages[-1].json["detail"] == "credentials revoked"
        assert curl.process.wait(timeout=5) == 0  # the response ended
    finally:
        curl.close()


def test_a_machine_token_follows_only_its_own_subject(live):
    from brain.access.machines import machine_token_issue
    from tests.hardware.factories import make_robot

    make_robot("go2-one")
    robot_token = machine_token_issue(
        kind="robot", ident="go2-one", permissions=["hardware.view_robot"]
    )
    curl = stream(live, robot_token, "?types=hardware.*")
    try:
        (hello,) = curl.read_until(lambda c: len(c.messages) >= 1)
        assert hello.json["subject"] == "robot_go2-one"
    finally:
        curl.close()
    with httpx.Client(base_url=live.url, timeout=5) as http:
        other = http.get(
            "/api/events/stream?subject=robot_go2-two",
            headers={"Authorization": f"Token {robot_token}"},
        )
    assert other.status_code == 400
    assert "may only follow robot_go2-one" in other.json()["detail"]
