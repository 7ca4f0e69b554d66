"""Each supervisor event: emitted on commit with its exact envelope; a rolled-back
change emits nothing."""

import pytest
from django.db import transaction

from brain.events import registered_types
from supervisor import services
from tests.conftest import EventLogView
from tests.supervisor.factories import (
    ANY_TIME,
    agent_in,
    assert_envelope,
    make_agent,
    silence,
)

pytestmark = pytest.mark.django_db


def test_the_five_types_are_declared():
    declared = {
        name: spec
        for name, spec in registered_types().items()
        if name.startswith("supervisor.")
    }
    assert set(declared) == {
        "supervisor.health_checked",
        "supervisor.status_queried",
        "supervisor.agents_listed",
        "supervisor.agent_registered",
        "supervisor.agent_state_changed",
    }
    assert {spec.source for spec in declared.values()} == {"supervisor_service"}


def test_health_checked(anon, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        body = anon.get("/api/supervisor/health").json()
    assert callbacks
    (event,) = events.all()
    assert_envelope(
        event,
        type_="supervisor.health_checked",
        target=None,
        payload={"status": "ok", "checked_at": body["timestamp"]},
    )
    assert event["meta"]["actor"] is None


def test_status_queried(api, django_capture_on_commit_callbacks):
    make_agent("agent-1")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        body = api.get("/api/supervisor/status").json()
    assert callbacks
    (event,) = events.all()
    assert_envelope(
        event,
        type_="supervisor.status_queried",
        target=None,
        payload={
            "total_missions": body["total_missions"],
            "running_missions": body["running_missions"],
            "pending_missions": body["pending_missions"],
            "completed_missions": body["completed_missions"],
            "failed_missions": body["failed_missions"],
            "cancelled_missions": body["cancelled_missions"],
            "agent_count": 1,
            "queried_at": ANY_TIME,
        },
    )
    assert event["meta"]["actor"] == "alice"


def test_agents_listed(api, django_capture_on_commit_callbacks):
    make_agent("agent-1")
    make_agent("agent-2")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api.get("/api/supervisor/agents")
    assert callbacks
    (event,) = events.all()
    assert_envelope(
        event,
        type_="supervisor.agents_listed",
        target=None,
        payload={"agent_count": 2, "queried_at": ANY_TIME},
    )


def test_agent_registered_once(api, events, django_capture_on_commit_callbacks):
    data = {"agent_id": "worker-7", "name": "Worker 7", "role": "planner"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api.post("/api/supervisor/agents", data, format="json")
    assert callbacks
    (event,) = events.all()
    assert_envelope(
        event,
        type_="supervisor.agent_registered",
        target="agent_worker-7",
        payload={
            "agent_id": "worker-7",
            "name": "Worker 7",
            "role": "planner",
            "registered_at": ANY_TIME,
        },
    )
    # Updating a known agent is not a registration.
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/supervisor/agents", {**data, "name": "Renamed"}, format="json")
    assert events.types() == ["supervisor.agent_registered"]


def test_agent_state_changed_by_control(api, django_capture_on_commit_callbacks):
    agent_in("healthy")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api.post(
            "/api/supervisor/control",
            {"agent_id": "agent-1", "action": "pause", "reason": "maintenance"},
            format="json",
        )
    assert callbacks
    (event,) = events.all()
    assert_envelope(
        event,
        type_="supervisor.agent_state_changed",
        target="agent_agent-1",
        payload={
            "agent_id": "agent-1",
            "old_state": "healthy",
            "new_state": "degraded",
            "reason": "pause: maintenance",
            "changed_at": ANY_TIME,
        },
    )
    assert event["meta"]["actor"] == "alice"


def test_agent_state_changed_by_heartbeat(api, django_capture_on_commit_callbacks):
    make_agent("agent-1", beat=False)
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        body = api.post("/api/supervisor/agents/agent-1/heartbeat").json()
    assert callbacks
    (event,) = events.all()
    assert_envelope(
        event,
        type_="supervisor.agent_state_changed",
        target="agent_agent-1",
        payload={
            "agent_id": "agent-1",
            "old_state": "unknown",
            "new_state": "healthy",
            "reason": "heartbeat",
            "changed_at": ANY_TIME,
        },
    )
    assert body["state"] == "healthy"
    # A beat that changes nothing is no event.
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/supervisor/agents/agent-1/heartbeat")
    assert len(events.all()) == 1


def test_agent_state_changed_by_the_offline_check(django_capture_on_commit_callbacks):
    make_agent("agent-1")
    silence("agent-1", 90)
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.agents_mark_offline()
    assert callbacks
    (event,) = events.all()
    reason = event["payload"]["reason"]
    assert reason.startswith("no heartbeat for 9") and reason.endswith(" s")
    assert_envelope(
        event,
        type_="supervisor.agent_state_changed",
        target="agent_agent-1",
        payload={
            "agent_id": "agent-1",
            "old_state": "healthy",
            "new_state": "offline",
            "reason": reason,
            "changed_at": ANY_TIME,
        },
    )
    assert event["meta"]["actor"] is None


class Rollback(Exception):
    pass


@pytest.mark.parametrize(
    "change",
    [
        lambda: services.agent_register(agent_id="agent-2", name="Two"),
        lambda: services.agent_heartbeat(agent_id="agent-1", state="degraded"),
        lambda: services.agent_control(agent_id="agent-1", action="restart"),
        lambda: services.agents_mark_offline(),
        lambda: services.supervisor_status_query(),
        lambda: services.supervisor_health_check(),
        lambda: services.agents_list_record(agent_count=1),
    ],
    ids=["register", "heartbeat", "control", "check", "status", "health", "listed"],
)
def test_a_rolled_back_change_emits_nothing(change, django_capture_on_commit_callbacks):
    make_agent("agent-1")
    silence("agent-1", 90)
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Rollback), transaction.atomic():
            change()
            assert events.all(), "the change emitted something to roll back"
            raise Rollback
    assert callbacks == []
    assert events.all() == []
