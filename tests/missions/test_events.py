"""Every mission event: type, source, target and payload, its order, and nothing on
rollback or refusal."""

import uuid

import pytest
from django.db import transaction

from missions import services
from missions.models import Mission, MissionLog
from supervisor import services as supervisor
from tests.conftest import EventLogView, settle
from tests.delivery import assert_delivered_as_stored
from tests.missions.factories import make_mission, mission_in
from tests.supervisor.factories import working_agent

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"id", "type", "source", "target", "timestamp", "payload", "meta"}


def assert_envelope(event: dict, *, type_: str, target: str | None, actor=None):
    assert set(event) == ENVELOPE_KEYS
    assert event["type"] == type_
    assert event["source"] == "missions_service"
    assert event["target"] == target
    assert uuid.UUID(event["id"])
    assert isinstance(event["timestamp"], float)
    assert event["meta"]["producer"] == "missions_service"
    # The type's prefix, as for every declared type.
    assert event["meta"]["source_module"] == "missions"
    assert event["meta"]["schema_version"] == 1
    assert event["meta"]["actor"] == actor


def assert_about(delivered: list[list], mission) -> None:
    """Every delivered event is about the mission: ``subject=mission_<id>`` gets it."""
    assert {event.subjects for call in delivered for event in call} == {
        frozenset({f"mission_{mission.id}"})
    }


def log_appended(entry: MissionLog) -> dict:
    return {
        "mission_id": str(entry.mission_id),
        "log_level": entry.level,
        "message": entry.message,
        "appended_at": entry.timestamp.timestamp(),
    }


def test_create_emits_created_then_its_log_line(
    api, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/missions",
            {"name": "Deploy v2.0", "description": "Deploy new version"},
        )
        assert delivered == []  # stored now, delivered only after commit
    assert response.status_code == 201
    mission = Mission.objects.get()
    (entry,) = MissionLog.objects.all()
    created, appended = events.all()
    assert_envelope(created, type_="mission.created", target=None, actor="alice")
    assert created["payload"] == {
        "mission_id": str(mission.id),
        "name": "Deploy v2.0",
        "description": "Deploy new version",
        "status": "PENDING",
        "created_at": mission.created_at.timestamp(),
    }
    assert_envelope(appended, type_="mission.log_appended", target=None, actor="alice")
    assert appended["payload"] == {
        "mission_id": str(mission.id),
        "log_level": "info",
        "message": "Mission created",
        "appended_at": entry.timestamp.timestamp(),
    }
    assert appended["meta"]["seq"] == created["meta"]["seq"] + 1
    assert appended["meta"]["correlation_id"] == created["meta"]["correlation_id"]
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, mission)


def test_created_without_description_has_an_empty_one(api, events):
    api.post("/api/missions", {"name": "bare"})
    created = events.of_type("mission.created")[0]
    assert created["payload"]["description"] == ""
    assert isinstance(created["payload"]["created_at"], float)


def test_status_change_emits_status_changed_then_its_log_line(
    api, delivered, django_capture_on_commit_callbacks
):
    mission = make_mission()
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/missions/{mission.id}/status", {"status": "RUNNING"})
    assert response.status_code == 200
    mission.refresh_from_db()
    entry = MissionLog.objects.filter(mission=mission).last()
    changed, appended = events.all()
    assert_envelope(
        changed,
        type_="mission.status_changed",
        target=f"mission_{mission.id}",
        actor="alice",
    )
    assert changed["payload"] == {
        "mission_id": str(mission.id),
        "old_status": "PENDING",
        "new_status": "RUNNING",
        "changed_at": mission.updated_at.timestamp(),
    }
    assert_envelope(appended, type_="mission.log_appended", target=None, actor="alice")
    assert appended["payload"] == {
        "mission_id": str(mission.id),
        "log_level": "info",
        "message": "Mission status changed",
        "appended_at": entry.timestamp.timestamp(),
    }
    assert appended["meta"]["seq"] == changed["meta"]["seq"] + 1
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, mission)


def test_log_append_emits_log_appended(
    api, delivered, django_capture_on_commit_callbacks
):
    mission = make_mission()
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/missions/{mission.id}/log", {"level": "error", "message": "Boom"}
        )
    assert response.status_code == 201
    entry = MissionLog.objects.filter(mission=mission).last()
    (event,) = events.all()
    assert_envelope(event, type_="mission.log_appended", target=None, actor="alice")
    assert event["payload"] == log_appended(entry)
    assert event["payload"]["log_level"] == "error"
    assert_delivered_as_stored(delivered, events.rows())
    assert_about(delivered, mission)


def test_claim_emits_status_changed_and_its_log_line(api):
    mission = make_mission()
    working_agent("agent-7")
    events = EventLogView()
    response = api.post("/api/missions/claim", {"agent_id": "agent-7"})
    assert response.status_code == 200
    mission.refresh_from_db()
    changed, appended = events.all()
    assert changed["type"] == "mission.status_changed"
    assert changed["payload"] == {
        "mission_id": str(mission.id),
        "old_status": "PENDING",
        "new_status": "RUNNING",
        "changed_at": mission.updated_at.timestamp(),
    }
    entry = MissionLog.objects.filter(mission=mission).last()
    assert entry.data == {
        "from": "PENDING",
        "to": "RUNNING",
        "reason": "claimed by agent-7",
    }
    assert appended["payload"] == log_appended(entry)


def test_events_from_the_shell_have_no_actor():
    events = EventLogView()
    mission = make_mission()
    services.mission_set_status(mission_id=mission.id, status="RUNNING")
    assert events.types() == [
        "mission.created",
        "mission.log_appended",
        "mission.status_changed",
        "mission.log_appended",
    ]
    assert {e["meta"]["actor"] for e in events.all()} == {None}


@pytest.mark.parametrize(
    "operation",
    [
        lambda m: services.mission_create(name="another"),
        lambda m: services.mission_set_status(mission_id=m.id, status="RUNNING"),
        lambda m: services.mission_log_append(
            mission_id=m.id, lines=[services.LogLine("a"), services.LogLine("b")]
        ),
        lambda m: services.mission_log_append(
            mission_id=m.id, lines=[services.LogLine(f"{n}") for n in range(80)]
        ),
        lambda m: supervisor.agent_claim_mission(agent_id="agent-1"),
    ],
    ids=["create", "status", "log", "log-copy", "claim"],
)
def test_a_rolled_back_change_emits_nothing(
    operation, delivered, django_capture_on_commit_callbacks
):
    mission = make_mission()
    working_agent("agent-1")  # may claim
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            operation(mission)
            assert events.all(), "the operation should have emitted inside the block"
            raise RuntimeError("roll back")
    assert callbacks == []
    assert delivered == []
    assert events.all() == []
    assert Mission.objects.count() == 1
    assert Mission.objects.get().status == "PENDING"
    assert MissionLog.objects.count() == 1


def test_refusals_emit_nothing(api, delivered, django_capture_on_commit_callbacks):
    pending = make_mission()
    done = mission_in("COMPLETED")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        responses = [
            api.post(f"/api/missions/{done.id}/status", {"status": "RUNNING"}),
            api.post(f"/api/missions/{pending.id}/status", {"status": "COMPLETED"}),
            api.post(f"/api/missions/{pending.id}/status", {"status": "DONE"}),
            api.post("/api/missions", {"id": str(done.id), "name": "dup"}),
            api.post("/api/missions", {"name": ""}),
            api.post(f"/api/missions/{pending.id}/log", [{"message": "ok"}, {}]),
            api.post(f"/api/missions/{uuid.uuid4()}/log", {"message": "lost"}),
        ]
    assert [r.status_code for r in responses] == [409, 409, 400, 409, 400, 400, 404]
    assert callbacks == []
    assert delivered == []
    assert events.all() == []


def test_every_mission_event_is_declared_once():
    from brain.events import registered_types

    declared = {
        name: spec
        for name, spec in registered_types().items()
        if name.startswith("mission.")
    }
    assert set(declared) == {
        "mission.created",
        "mission.status_changed",
        "mission.log_appended",
    }
    assert {spec.source for spec in declared.values()} == {"missions_service"}
    assert declared["mission.created"].target is None
    assert declared["mission.log_appended"].target is None
    assert declared["mission.status_changed"].target == "mission_{mission_id}"
