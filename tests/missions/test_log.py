"""Mission logs over REST: append one or a batch, read in order, filter, page; and
they are append-only."""

from datetime import datetime

import pytest

from missions import services
from missions.models import Mission, MissionLog
from tests.conftest import EventLogView, number_pending
from tests.missions.factories import make_mission, stored

pytestmark = pytest.mark.django_db


def log_url(mission, slash: str = "") -> str:
    return f"/api/missions/{mission.id}/log{slash}"


# Append -------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_append_one_entry(api, slash):
    mission = make_mission()
    events = EventLogView()
    response = api.post(
        log_url(mission, slash),
        {"level": "warning", "message": "Battery at 20%", "data": {"battery": 20}},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    entry = MissionLog.objects.filter(mission=mission).last()
    assert body == {
        "mission_id": str(mission.id),
        "log": [
            {
                "id": entry.id,
                "timestamp": body["log"][0]["timestamp"],
                "level": "warning",
                "message": "Battery at 20%",
                "data": {"battery": 20},
            }
        ],
    }
    assert datetime.fromisoformat(body["log"][0]["timestamp"]) == entry.timestamp
    assert (entry.level, entry.message, entry.data) == (
        "warning",
        "Battery at 20%",
        {"battery": 20},
    )
    (event,) = events.all()
    assert event["type"] == "mission.log_appended"
    assert event["payload"] == {
        "mission_id": str(mission.id),
        "log_level": "warning",
        "message": "Battery at 20%",
        "appended_at": entry.timestamp.timestamp(),
    }


def test_append_takes_the_defaults(api):
    mission = make_mission()
    response = api.post(log_url(mission), {"message": "  hello  "})
    assert response.status_code == 201
    (entry,) = response.json()["log"]
    assert (entry["level"], entry["message"], entry["data"]) == ("info", "hello", {})


@pytest.mark.parametrize("size", [3, 100])
def test_append_a_batch_in_order_with_one_event_per_entry(api, size):
    """3 entries go by INSERT, 100 by PostgreSQL's COPY: the same result."""
    mission = make_mission()
    levels = ["debug", "info", "warning", "error"]
    batch = [
        {"level": levels[n % 4], "message": f"Step {n + 1}/{size}", "data": {"n": n}}
        for n in range(size)
    ]
    events = EventLogView()
    response = api.post(log_url(mission), batch)
    assert response.status_code == 201, response.json()
    returned = response.json()["log"]
    assert [(e["level"], e["message"], e["data"]) for e in returned] == [
        (b["level"], b["message"], b["data"]) for b in batch
    ]
    entries = list(MissionLog.objects.filter(mission=mission).order_by("id"))[1:]
    assert [e.id for e in entries] == [e["id"] for e in returned]
    assert [e.message for e in entries] == [b["message"] for b in batch]
    appended = events.all()
    assert [e["type"] for e in appended] == ["mission.log_appended"] * size
    assert [e["payload"] for e in appended] == [
        {
            "mission_id": str(mission.id),
            "log_level": entry.level,
            "message": entry.message,
            "appended_at": entry.timestamp.timestamp(),
        }
        for entry in entries
    ]
    # Numbered at commit in the order stored: the order posted, with no gap.
    number_pending()
    seqs = [e["meta"]["seq"] for e in events.all()]
    assert seqs == list(range(seqs[0], seqs[0] + size))
    assert len({e["meta"]["correlation_id"] for e in appended}) == 1


def test_append_to_a_final_mission_is_allowed(api):
    mission = make_mission()
    services.mission_set_status(mission_id=mission.id, status="CANCELLED")
    response = api.post(log_url(mission), {"message": "post-mortem"})
    assert response.status_code == 201


# Bad input: 400 naming the problem, 404 for an unknown mission, nothing stored --------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"level": "fatal", "message": "x"}, {"0": {"level": ["valid choice"]}}),
        ({"level": "INFO", "message": "x"}, {"0": {"level": ["valid choice"]}}),
        ({"message": ""}, {"0": {"message": ["blank"]}}),
        ({"message": "   "}, {"0": {"message": ["blank"]}}),
        ({"level": "info"}, {"0": {"message": ["required"]}}),
        ({"message": None}, {"0": {"message": ["null"]}}),
        ({"message": "x", "data": [1]}, {"0": {"data": ["JSON object"]}}),
        ({"message": "x", "data": "text"}, {"0": {"data": ["JSON object"]}}),
        ({"message": "x" * 10001}, {"0": {"message": ["10000 characters"]}}),
        (
            [
                {"message": "good 1"},
                {"message": "good 2", "level": "debug"},
                {"message": "bad", "level": "loud"},
                {"message": "good 3"},
                {"message": ""},
            ],
            {"2": {"level": ["valid choice"]}, "4": {"message": ["blank"]}},
        ),
        (["just a string"], {"0": {"non_field_errors": ["dictionary"]}}),
    ],
    ids=[
        "unknown-level",
        "upper-case-level",
        "empty-message",
        "blank-message",
        "missing-message",
        "null-message",
        "data-list",
        "data-string",
        "message-too-long",
        "batch-with-bad-entries",
        "batch-of-strings",
    ],
)
def test_bad_entries_are_400_naming_them_and_nothing_is_stored(api, body, problem):
    mission = make_mission()
    before = stored()
    response = api.post(log_url(mission), body)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["entries"]
    assert set(errors["entries"]) == set(problem)
    for index, fields in problem.items():
        assert set(errors["entries"][index]) == set(fields)
        for field, words in fields.items():
            text = " ".join(errors["entries"][index][field])
            assert all(word in text for word in words), text
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "words"),
    [([], "no log entries"), ("a line", "expected a log entry"), (7, "expected")],
)
def test_a_body_that_is_no_entry_is_400(api, body, words):
    mission = make_mission()
    before = stored()
    response = api.post(log_url(mission), body)
    assert response.status_code == 400
    assert words in " ".join(response.json()["non_field_errors"])
    assert stored() == before


def test_a_batch_over_the_limit_is_400(api, settings):
    settings.MISSIONS_LOG_BATCH_MAX = 5
    mission = make_mission()
    before = stored()
    response = api.post(log_url(mission), [{"message": f"{n}"} for n in range(6)])
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["at most 5 entries per request"]}
    assert stored() == before


def test_malformed_json_is_400_and_stores_nothing(api):
    mission = make_mission()
    before = stored()
    response = api.generic(
        "POST", log_url(mission), '[{"message": "a"},', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert stored() == before


def test_append_to_an_unknown_mission_is_404_and_stores_nothing(api):
    """The original accepted this silently."""
    import uuid

    make_mission()
    before = stored()
    unknown = uuid.uuid4()
    response = api.post(
        f"/api/missions/{unknown}/log", [{"message": "a"}, {"message": "b"}]
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"mission {unknown} not found"}
    assert stored() == before
    assert not MissionLog.objects.filter(mission_id=unknown).exists()


# Read ---------------------------------------------------------------------------------


def seed_log(mission) -> list[MissionLog]:
    services.mission_set_status(mission_id=mission.id, status="RUNNING")
    services.mission_log_append(
        mission_id=mission.id,
        lines=[
            services.LogLine("Step 1/3", level="debug"),
            services.LogLine("Step 2/3", level="warning", data={"retry": 1}),
            services.LogLine("Step 3/3", level="error"),
        ],
    )
    return list(MissionLog.objects.filter(mission=mission).order_by("id"))


@pytest.mark.parametrize("slash", ["", "/"])
def test_read_the_log_in_time_order(api, slash):
    mission = make_mission()
    other = make_mission(name="other")
    services.mission_log_append(
        mission_id=other.id, lines=[services.LogLine("not this one")]
    )
    entries = seed_log(mission)
    response = api.get(log_url(mission, slash))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"mission_id", "count", "next", "previous", "log"}
    assert body["mission_id"] == str(mission.id)
    assert body["count"] == 5
    assert [e["message"] for e in body["log"]] == [
        "Mission created",
        "Mission status changed",
        "Step 1/3",
        "Step 2/3",
        "Step 3/3",
    ]
    assert [e["id"] for e in body["log"]] == [e.id for e in entries]
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in body["log"]]
    assert stamps == sorted(stamps)
    assert stamps == [e.timestamp for e in entries]
    assert body["log"][0]["data"] == {
        "name": "Deploy v2.0",
        "description": "Deploy new version",
    }
    assert body["log"][1]["data"] == {"from": "PENDING", "to": "RUNNING"}
    assert body["log"][3] == {
        "id": entries[3].id,
        "timestamp": body["log"][3]["timestamp"],
        "level": "warning",
        "message": "Step 2/3",
        "data": {"retry": 1},
    }


def test_level_filter(api):
    mission = make_mission()
    seed_log(mission)
    body = api.get(log_url(mission), {"level": "warning"}).json()
    assert [e["message"] for e in body["log"]] == ["Step 2/3"]
    body = api.get(log_url(mission), {"level": "info"}).json()
    assert [e["message"] for e in body["log"]] == [
        "Mission created",
        "Mission status changed",
    ]
    response = api.get(log_url(mission), {"level": "fatal"})
    assert response.status_code == 400
    assert "level" in response.json()


def test_after_cursor(api):
    mission = make_mission()
    entries = seed_log(mission)
    body = api.get(log_url(mission), {"after": entries[1].id}).json()
    assert [e["id"] for e in body["log"]] == [e.id for e in entries[2:]]
    assert body["count"] == 3
    assert api.get(log_url(mission), {"after": entries[-1].id}).json()["log"] == []
    combined = api.get(log_url(mission), {"after": entries[2].id, "level": "error"})
    assert [e["message"] for e in combined.json()["log"]] == ["Step 3/3"]
    for bad in ("-1", "abc"):
        response = api.get(log_url(mission), {"after": bad})
        assert response.status_code == 400
        assert "after" in response.json()


def test_long_logs_are_paginated(api):
    mission = make_mission()
    services.mission_log_append(
        mission_id=mission.id,
        lines=[services.LogLine(f"line {n}") for n in range(24)],
    )
    first = api.get(log_url(mission), {"page_size": 10}).json()
    assert first["count"] == 25
    assert first["previous"] is None
    assert [e["message"] for e in first["log"]] == ["Mission created"] + [
        f"line {n}" for n in range(9)
    ]
    seen = list(first["log"])
    page = first
    while page["next"]:
        page = api.get(page["next"]).json()
        seen.extend(page["log"])
    assert len(seen) == 25
    assert [e["id"] for e in seen] == sorted(e["id"] for e in seen)
    assert page["previous"] is not None
    # The default page holds 50 entries.
    assert len(api.get(log_url(mission)).json()["log"]) == 25


# What the database refuses (edits, deletes: test_direct_writes.py) --------------------


def test_a_mission_with_a_log_cannot_be_deleted():
    from django.db.models import ProtectedError

    mission = make_mission()
    with pytest.raises(ProtectedError):
        Mission.objects.get(pk=mission.id).delete()
    assert MissionLog.objects.filter(mission_id=mission.id).count() == 1


def test_an_empty_message_cannot_be_stored():
    from django.db import IntegrityError, transaction

    mission = make_mission()
    entry = MissionLog(mission=mission, message="")
    with pytest.raises(IntegrityError), transaction.atomic():
        MissionLog.objects.bulk_create([entry])
