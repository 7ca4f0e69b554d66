"""The ``Idempotency-Key`` header on every write (issue 16, point 7).

Before the fix the header was ignored: 20 parallel ``POST /api/credits/consume``
carrying only the header charged 20 times. Now the first request's success is
stored for 24 h and replayed to a repeat with the same key and body; the same key
with another body is 422, a repeat while the first runs is 409. On a real uvicorn
for the race; in process (Django's test client, the same middleware) for the rules
of each write.
"""

import io
import json
import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from brain.api.idempotency import fingerprint, idempotency_claim
from brain.events.models import EventLog
from credits.models import LedgerEntry
from missions.models import Mission
from tests.conftest import token_for
from tests.credits.factories import balance_of, make_account
from tests.security.test_bad_input import WRITES, write

pytestmark = pytest.mark.django_db


def post(client, path: str, body, key: str | None = None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(
        path, json.dumps(body), content_type="application/json", **headers
    )


@pytest.mark.slow
def test_parallel_repeats_with_the_header_charge_once(live, make_user):
    operator = make_user("operator")
    make_account("agent-9", initial_credits="100")
    headers = {
        "Authorization": f"Token {token_for(operator)}",
        "Idempotency-Key": "j-1",
    }
    body = {"agent_id": "agent-9", "amount": "3.00", "reason": "one job"}
    answers: list[httpx.Response] = []
    start = threading.Barrier(20)

    def consume():
        with httpx.Client(base_url=live.url, timeout=30) as http:
            start.wait()
            answer = http.post("/api/credits/consume", json=body, headers=headers)
            answers.append(answer)

    threads = [threading.Thread(target=consume) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert str(balance_of("agent-9")) == "97.00"
    assert LedgerEntry.objects.filter(agent_id="agent-9").count() == 2
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 201, 409}, statuses
    succeeded = [answer for answer in answers if answer.status_code != 409]
    assert len({answer.content for answer in succeeded}) == 1  # one answer, replayed
    assert sum("Idempotent-Replayed" not in a.headers for a in succeeded) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["Retry-After"] == "1"
    # After the race, every repeat is a replay.
    again = httpx.post(
        live.url + "/api/credits/consume", json=body, headers=headers, timeout=10
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == succeeded[0].content
    assert str(balance_of("agent-9")) == "97.00"


@pytest.fixture
def api(api_as):
    return api_as("superuser", "root")


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_replays_its_first_answer(api, path_values, name):
    path, body = write(name, path_values)
    key = "key-" + name.replace(" ", "-")
    first = post(api, path, body, key=key)
    assert 200 <= first.status_code < 300, first.content
    assert "Idempotent-Replayed" not in first.headers
    events = EventLog.objects.count()
    again = post(api, path, body, key=key)
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.get("Location") == first.get("Location")
    assert EventLog.objects.count() == events  # nothing happened twice
    # The same key with another body (or another write) is refused, unread.
    other = post(api, path, {**body, "unexpected": 1}, key=key)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert EventLog.objects.count() == events


def test_the_same_body_spelt_differently_is_the_same_request(api):
    first = post(api, "/api/missions", {"name": "a", "priority": 30}, key="k")
    assert first.status_code == 201
    spelt = api.post(
        "/api/missions",
        '{ "priority":30,\n "name" : "a" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY='"k"',  # the draft's quoted form of the same key
    )
    assert spelt["Idempotent-Replayed"] == "true"
    assert Mission.objects.count() == 1


def test_a_repeat_while_the_first_is_in_flight_is_409_until_its_lease_ends(
    api, time_machine
):
    time_machine.move_to(timezone.now())
    body = {"name": "slow one"}
    request = api.post("/api/missions", body, format="json").wsgi_request
    request_fp = fingerprint(request)  # the request above, as the header sees it
    assert Mission.objects.count() == 1
    idempotency_claim(user=api.user, key="in-flight", fingerprint=request_fp)
    busy = post(api, "/api/missions", body, key="in-flight")
    assert busy.status_code == 409
    assert busy["Retry-After"] == "1"
    assert Mission.objects.count() == 1
    # A request that died holding its key loses it after the lease (60 s).
    time_machine.shift(timedelta(seconds=61))
    assert post(api, "/api/missions", body, key="in-flight").status_code == 201
    assert Mission.objects.count() == 2


def test_an_answer_is_kept_for_the_retention_period(api, time_machine):
    time_machine.move_to(timezone.now())
    assert post(api, "/api/missions", {"name": "m"}, key="daily").status_code == 201
    time_machine.shift(timedelta(hours=23, minutes=59))
    replayed = post(api, "/api/missions", {"name": "m"}, key="daily")
    assert replayed["Idempotent-Replayed"] == "true"
    time_machine.shift(timedelta(minutes=2))
    fresh = post(api, "/api/missions", {"name": "m"}, key="daily")
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh
    assert Mission.objects.count() == 2


def test_a_failed_request_releases_its_key(api):
    refused = post(api, "/api/missions", {"name": ""}, key="retry-me")
    assert refused.status_code == 400
    fixed = post(api, "/api/missions", {"name": "fixed"}, key="retry-me")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed


def test_keys_belong_to_their_user(api, api_as):
    other = api_as("operator", "bob")
    mine = post(api, "/api/missions", {"name": "same"}, key="shared")
    theirs = post(other, "/api/missions", {"name": "same"}, key="shared")
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize("key", ["", " ", "k" * 256, "tab\tin", "ünï", '"open'])
def test_a_malformed_key_is_400_naming_the_header(api, key):
    response = post(api, "/api/missions", {"name": "m"}, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Mission.objects.count() == 0


def test_the_body_field_keeps_working(api):
    make_account("agent-7", initial_credits="10")
    body = {"agent_id": "agent-7", "amount": "1.00", "reason": "r"}
    for _ in range(2):
        answer = post(api, "/api/credits/consume", {**body, "idempotency_key": "b"})
        assert answer.status_code in (200, 201)
    assert str(balance_of("agent-7")) == "9.00"


def test_pruning_deletes_what_is_past_its_retention(api, time_machine):
    from django.core.management import call_command

    from brain.api.models import IdempotentRequest

    time_machine.move_to(timezone.now())
    post(api, "/api/missions", {"name": "old"}, key="old")
    time_machine.shift(timedelta(hours=23))
    post(api, "/api/missions", {"name": "new"}, key="new")
    time_machine.shift(timedelta(hours=2))
    out = io.StringIO()
    call_command("prune_idempotency_keys", stdout=out)
    assert out.getvalue() == "deleted 1 stored idempotent requests\n"
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
