"""Webhook delivery through real worker processes to a real HTTP receiver.

Everything is committed (``transactional_db``): the workers are other processes on
the test database, woken by the events this process numbers.
"""

import json
import time

import pytest
from django.contrib.auth.models import Permission
from standardwebhooks.webhooks import Webhook

from brain.events import sequencer
from brain.events.models import EventLog
from missions.services import mission_create
from tests.cloudevents_sdk import assert_matches_envelope, parse_cloudevent
from tests.conftest import token_for
from tests.eventsapp.services import widget_create
from tests.webhooks.receiver import Answer
from webhooks.models import Endpoint, EndpointState

pytestmark = [pytest.mark.slow]


def create_endpoint(api, url: str, **fields) -> dict:
    response = api.post("/api/webhooks/endpoints", {"url": url, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def widgets(count: int, prefix: str = "w") -> list[EventLog]:
    """``count`` widgets, one committed transaction each; their events, numbered."""
    start = EventLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for n in range(count):
        widget_create(name=f"{prefix}{n}")
    assert sequencer.drain()
    rows = list(
        EventLog.objects.filter(id__gt=start, type="widget.created").order_by("seq")
    )
    assert len(rows) == count and all(row.seq for row in rows)
    return rows


def verified(secret: str, request) -> dict:
    """The body, after ``standardwebhooks`` checked its signature."""
    return Webhook(secret).verify(request.body, request.headers)


def attempts_of(api, endpoint: dict, count: int, query: str = "") -> list[dict]:
    """The endpoint's attempts, once ``count`` are recorded (a worker records an
    attempt just after the receiver answered it)."""
    deadline = time.monotonic() + 10
    while True:
        url = f"/api/webhooks/endpoints/{endpoint['id']}/attempts?page_size=500"
        results = api.get(url + query).json()["results"]
        if len(results) >= count or time.monotonic() > deadline:
            return results
        time.sleep(0.05)


def eventually(read, holds, timeout: float = 10.0):
    """``read()`` until ``holds(value)``; the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if holds(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def deduplicated(requests) -> list:
    seen, unique = set(), []
    for request in requests:
        if request.headers["webhook-id"] not in seen:
            seen.add(request.headers["webhook-id"])
            unique.append(request)
    return unique


def test_a_burst_arrives_in_order_once_with_valid_signatures(
    api, api_as, receiver, start_worker
):
    endpoint = create_endpoint(api, receiver.url(), types=["widget.*"])
    assert endpoint["secret"].startswith("whsec_")
    start_worker()
    rows = widgets(60)
    got = receiver.wait_for(lambda got: len(deduplicated(got)) >= 60)
    unique = deduplicated(got)
    assert [r.headers["webhook-id"] for r in unique] == [str(r.event_id) for r in rows]
    bodies = [verified(endpoint["secret"], r) for r in unique]
    assert [b["meta"]["seq"] for b in bodies] == [r.seq for r in rows]
    assert bodies == [row.envelope() for row in rows]
    # Nothing failed, so nothing was sent twice.
    assert len(got) == 60
    assert all(r.status == 200 for r in got)
    assert all(r.headers["content-type"] == "application/json" for r in got)
    # The console lists every attempt, newest first.
    attempts = attempts_of(api, endpoint, 60)
    assert [a["seq"] for a in attempts] == [r.seq for r in reversed(rows)]
    assert {a["outcome"] for a in attempts} == {"delivered"}
    assert all(
        a["status_code"] == 200 and a["response_excerpt"] == "ok" for a in attempts
    )


def test_an_endpoint_only_receives_what_its_owner_may_read(
    make_user, receiver, start_worker
):
    from rest_framework.test import APIClient

    owner = make_user("plain", "missions_only")
    owner.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_mission", "view_endpoint", "add_endpoint"]
        )
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(owner)}")
    endpoint = create_endpoint(client, receiver.url())
    start_worker(threads=1)
    widgets(3)
    mission = mission_create(name="visible")
    assert sequencer.drain()
    got = receiver.wait_for(lambda got: len(got) >= 2)
    time.sleep(1.0)
    types = [verified(endpoint["secret"], r)["type"] for r in receiver.at()]
    assert types == ["mission.created", "mission.log_appended"]
    assert verified(endpoint["secret"], got[0])["payload"]["mission_id"] == str(
        mission.id
    )


def test_500_three_times_then_200_delivers_once_recovered_in_order(
    api, receiver, start_worker
):
    receiver.answers["/hook"] = [Answer(500), Answer(502), Answer(503)]
    endpoint = create_endpoint(api, receiver.url(), types=["widget.created"])
    start_worker()
    rows = widgets(5)
    got = receiver.wait_for(lambda got: len(deduplicated(got)) >= 5)
    # The first event was tried four times (same webhook-id), then the rest in order.
    assert [r.status for r in got] == [500, 502, 503, 200, 200, 200, 200, 200]
    assert [r.headers["webhook-id"] for r in got[:4]] == [str(rows[0].event_id)] * 4
    unique = deduplicated([r for r in got if r.status == 200])
    assert [r.headers["webhook-id"] for r in unique] == [str(r.event_id) for r in rows]
    for request in got:
        verified(endpoint["secret"], request)
    # Backoff: each retry waited longer than none at all.
    gaps = [b.at - a.at for a, b in zip(got[:4], got[1:4], strict=False)]
    assert all(gap >= 0.09 for gap in gaps), gaps
    attempts = attempts_of(api, endpoint, 4, f"&seq={rows[0].seq}")
    assert [(a["number"], a["outcome"], a["status_code"]) for a in attempts] == [
        (4, "delivered", 200),
        (3, "retry", 503),
        (2, "retry", 502),
        (1, "retry", 500),
    ]
    assert all(a["next_attempt_at"] for a in attempts[1:])
    detail = eventually(
        lambda: api.get(f"/api/webhooks/endpoints/{endpoint['id']}").json(),
        lambda detail: detail["cursor"] == rows[-1].seq,
    )
    assert detail["failures"] == 0 and detail["next_attempt_at"] is None


def test_retry_after_is_honoured(api, receiver, start_worker):
    receiver.answers["/hook"] = [Answer(429, headers={"Retry-After": "2"})]
    create_endpoint(api, receiver.url(), types=["widget.created"])
    start_worker()
    widgets(1)
    got = receiver.wait_for(lambda got: len(got) >= 2)
    # The backoff alone would retry within a second.
    assert got[1].at - got[0].at >= 1.9
    assert got[1].headers["webhook-id"] == got[0].headers["webhook-id"]


def test_410_gone_disables_the_endpoint(api, receiver, start_worker):
    receiver.answers["/hook"] = [Answer(410)]
    endpoint = create_endpoint(api, receiver.url(), types=["widget.created"])
    start_worker()
    widgets(3)
    receiver.wait_for(lambda got: len(got) >= 1)
    time.sleep(1.5)
    assert len(receiver.at()) == 1
    detail = api.get(f"/api/webhooks/endpoints/{endpoint['id']}").json()
    assert detail["enabled"] is False and detail["state"] == EndpointState.GONE
    attempts = attempts_of(api, endpoint, 1)
    assert [a["outcome"] for a in attempts] == ["gone"]


def test_past_the_horizon_the_endpoint_is_failing_and_resumes_when_enabled(
    api, receiver, start_worker
):
    receiver.default["/hook"] = Answer(500)
    endpoint = create_endpoint(api, receiver.url(), types=["widget.created"])
    start_worker(WEBHOOKS_RETRY_HORIZON_SECONDS="1.5")
    (row,) = widgets(1)
    deadline = time.monotonic() + 20
    while Endpoint.objects.get(id=endpoint["id"]).state != EndpointState.FAILING:
        assert time.monotonic() < deadline, "the endpoint never became failing"
        time.sleep(0.1)
    tries = len(receiver.at())
    assert tries >= 3
    assert sequencer.drain()
    (failing,) = EventLog.objects.filter(type="webhooks.endpoint_failing")
    assert failing.target == f"webhook_{endpoint['id']}"
    assert failing.payload["seq"] == row.seq
    assert failing.payload["event_id"] == str(row.event_id)
    assert failing.payload["attempts"] == tries
    assert failing.payload["last_status"] == 500
    time.sleep(1.0)
    assert len(receiver.at()) == tries  # paused: nothing more is sent
    # Re-enabled, it resumes with the event that failed.
    receiver.default["/hook"] = Answer(200)
    response = api.patch(f"/api/webhooks/endpoints/{endpoint['id']}", {"enabled": True})
    assert response.status_code == 200 and response.json()["state"] == "active"
    got = receiver.wait_for(lambda got: got[-1].status == 200)
    assert got[-1].headers["webhook-id"] == str(row.event_id)


def test_two_workers_deliver_without_a_duplicate(api, receiver, start_worker):
    endpoints = [
        create_endpoint(api, receiver.url(f"/hook{n}"), types=["widget.*"])
        for n in range(3)
    ]
    start_worker(threads=4)
    start_worker(threads=4)
    started = time.monotonic()
    rows = widgets(150)
    expected = [str(r.event_id) for r in rows]
    for n, endpoint in enumerate(endpoints):
        got = receiver.wait_for(lambda got: len(got) >= 150, path=f"/hook{n}")
        assert [r.headers["webhook-id"] for r in got] == expected
        for request in got:
            verified(endpoint["secret"], request)
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    for n in range(3):
        assert len(receiver.at(f"/hook{n}")) == 150
    print(f"450 deliveries by two workers in {elapsed:.1f} s")


def test_a_slow_endpoint_never_delays_another(api, receiver, start_worker):
    receiver.default["/slow"] = Answer(200, delay=2.5)
    create_endpoint(api, receiver.url("/slow"), types=["widget.created"])
    create_endpoint(api, receiver.url("/fast"), types=["widget.created"])
    start_worker(threads=4)
    widgets(10)
    fast = receiver.wait_for(lambda got: len(got) >= 10, path="/fast", timeout=15)
    # Meanwhile the slow one has answered at most one request: were deliveries one
    # queue, the fast endpoint would have waited 2.5 s per slow event.
    assert len(fast) == 10
    assert len(receiver.at("/slow")) <= 1


def test_replay_of_a_range_sends_those_events_again_in_order(
    api, receiver, start_worker
):
    endpoint = create_endpoint(api, receiver.url(), types=["widget.created"])
    start_worker()
    rows = widgets(8)
    receiver.wait_for(lambda got: len(got) >= 8)
    response = api.post(
        f"/api/webhooks/endpoints/{endpoint['id']}/replay",
        {"after": rows[1].seq, "until": rows[5].seq},
    )
    assert response.status_code == 202, response.content
    got = receiver.wait_for(lambda got: len(got) >= 12)
    replayed = got[8:]
    assert [r.headers["webhook-id"] for r in replayed] == [
        str(r.event_id) for r in rows[2:6]
    ]
    for request in replayed:
        verified(endpoint["secret"], request)
    time.sleep(0.5)
    assert len(receiver.at()) == 12
    attempts = attempts_of(api, endpoint, 12)
    assert sum(1 for a in attempts if a["replay"] == response.json()["id"]) == 4
    # New events still follow, after the replay.
    (later,) = widgets(1, prefix="later")
    got = receiver.wait_for(lambda got: len(got) >= 13)
    assert got[-1].headers["webhook-id"] == str(later.event_id)


def test_cloudevents_endpoints_get_structured_cloudevents(api, receiver, start_worker):
    endpoint = create_endpoint(
        api, receiver.url(), types=["widget.created"], format="cloudevents"
    )
    start_worker(threads=1)
    rows = widgets(3)
    got = receiver.wait_for(lambda got: len(got) >= 3)
    for request, row in zip(got, rows, strict=True):
        assert request.headers["content-type"] == "application/cloudevents+json"
        verified(endpoint["secret"], request)
        event = parse_cloudevent(request.body)
        assert_matches_envelope(event, row.envelope())
        assert json.loads(request.body)["seq"] == row.seq


def test_both_secrets_sign_during_a_rotation(api, receiver, start_worker):
    endpoint = create_endpoint(api, receiver.url(), types=["widget.created"])
    rotated = api.post(f"/api/webhooks/endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"] and new_secret.startswith("whsec_")
    start_worker(threads=1)
    widgets(1)
    (request,) = receiver.wait_for(lambda got: len(got) >= 1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verified(endpoint["secret"], request) == verified(new_secret, request)
