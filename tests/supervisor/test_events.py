"""Each supervisor event: delivered after commit with its exact envelope (a durable
one as stored, numbered; a live-only one never stored, without a ``seq``); a
rolled-back change stores and delivers nothing."""

import pytest
from django.db import connection, transaction

from brain.events import registered_types
from supervisor import services
from tests.conftest import EventLogView
from tests.supervisor.factories import (
    ANY_TIME,
    agent_in,
    assert_envelope,
    delivered_as_stored,
    make_agent,
    settle,
    silence,
)

pytestmark = pytest.mark.django_db

LIVE_ONLY = {
    "supervisor.health_checked",
    "supervisor.status_queried",
    "supervisor.agents_listed",
}


def test_the_six_types_are_declared():
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
        "supervisor.agent_controlled",
    }
    assert {spec.source for spec in declared.values()} == {"supervisor_service"}
    assert {name for name, spec in declared.items() if not spec.durable} == LIVE_ONLY


# Live-only: who looks -----------------------------------------------------------------


def test_health_checked(anon, events, delivered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = anon.get("/api/supervisor/health").json()
        assert delivered == []  # after commit, like any event
    ((wire,),) = delivered
    assert (wire.seq, wire.type, wire.subjects) == (
        None,
        "supervisor.health_checked",
        frozenset(),
    )
    (event,) = delivered_as_stored(delivered, events)
    assert_envelope(
        event,
        type_="supervisor.health_checked",
        target=None,
        payload={"status": "ok", "checked_at": body["timestamp"]},
    )
    assert event["meta"]["actor"] is None
    assert "seq" not in event["meta"]
    assert events.all() == []  # never stored


def test_status_queried(api, delivered, django_capture_on_commit_callbacks):
    make_agent("agent-1")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        body = api.get("/api/supervisor/status").json()
    (event,) = delivered_as_stored(delivered, events)
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
    assert "seq" not in event["meta"]
    assert events.all() == []


def test_agents_listed(api, delivered, django_capture_on_commit_callbacks):
    make_agent("agent-1")
    make_agent("agent-2")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        api.get("/api/supervisor/agents")
        api.get("/api/supervisor/agents?state=unknown")
    first, second = delivered_as_stored(delivered, events)
    assert_envelope(
        first,
        type_="supervisor.agents_listed",
        target=None,
        payload={"agent_count": 2, "queried_at": ANY_TIME},
    )
    # The count of the agents matching the filters.
    assert second["type"] == "supervisor.agents_listed"
    assert second["payload"]["agent_count"] == 0
    assert first["meta"]["actor"] == "alice"
    assert events.all() == []


# Durable: what happened to an agent ---------------------------------------------------


def test_agent_registered_once(
    api, events, delivered, django_capture_on_commit_callbacks
):
    data = {"agent_id": "worker-7", "name": "Worker 7", "role": "planner"}
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/supervisor/agents", data, format="json")
        assert delivered == []  # stored now, delivered only after commit
    ((wire,),) = delivered
    assert wire.subjects == frozenset({"agent_worker-7"})
    (event,) = delivered_as_stored(delivered, events)
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
    assert event["meta"]["actor"] == "alice"
    # Updating a known agent is not a registration.
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/supervisor/agents", {**data, "name": "Renamed"}, format="json"
        )
    assert response.status_code == 200
    assert len(delivered) == 1
    assert events.types() == ["supervisor.agent_registered"]


def test_agent_controlled_then_state_changed_by_control(
    api, delivered, django_capture_on_commit_callbacks
):
    agent_in("healthy")
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            "/api/supervisor/control",
            {"agent_id": "agent-1", "action": "pause", "reason": "maintenance"},
            format="json",
        )
    ((first, second),) = delivered
    assert first.subjects == second.subjects == frozenset({"agent_agent-1"})
    controlled, changed = delivered_as_stored(delivered, events)
    assert_envelope(
        controlled,
        type_="supervisor.agent_controlled",
        target="agent_agent-1",
        payload={
            "agent_id": "agent-1",
            "action": "pause",
            "reason": "maintenance",
            "actor": "alice",
            "old_state": "healthy",
            "new_state": "paused",
            "controlled_at": ANY_TIME,
        },
    )
    assert_envelope(
        changed,
        type_="supervisor.agent_state_changed",
        target="agent_agent-1",
        payload={
            "agent_id": "agent-1",
            "old_state": "healthy",
            "new_state": "paused",
            "reason": "pause: maintenance",
            "changed_at": ANY_TIME,
        },
    )
    assert controlled["meta"]["actor"] == changed["meta"]["actor"] == "alice"


def test_a_control_that_changes_no_state_emits_only_agent_controlled(
    api, delivered, django_capture_on_commit_callbacks
):
    make_agent("agent-1", beat=False)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/supervisor/control",
            {"agent_id": "agent-1", "action": "restart"},
            format="json",
        )
    assert response.json()["agent"]["state"] == "unknown"
    (event,) = delivered_as_stored(delivered, events)
    assert event["type"] == "supervisor.agent_controlled"
    assert event["payload"]["action"] == "restart"
    assert event["payload"]["reason"] == ""
    assert (event["payload"]["old_state"], event["payload"]["new_state"]) == (
        "unknown",
        "unknown",
    )


def test_agent_state_changed_by_heartbeat(
    api, delivered, django_capture_on_commit_callbacks
):
    make_agent("agent-1", beat=False)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        body = api.post("/api/supervisor/agents/agent-1/heartbeat").json()
    (event,) = delivered_as_stored(delivered, events)
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
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/supervisor/agents/agent-1/heartbeat")
    assert response.status_code == 200
    assert len(delivered) == 1
    assert len(events.all()) == 1


def test_agent_state_changed_by_the_offline_check(
    delivered, django_capture_on_commit_callbacks
):
    make_agent("agent-1")
    silence("agent-1", 90)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        services.agents_mark_offline()
    (event,) = delivered_as_stored(delivered, events)
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


# Rolled back --------------------------------------------------------------------------


class Rollback(Exception):
    pass


# Each change and the types it emits, in order.
CHANGES = {
    "register": (
        ("supervisor.agent_registered",),
        lambda: services.agent_register(agent_id="agent-2", name="Two"),
    ),
    "heartbeat": (
        ("supervisor.agent_state_changed",),
        lambda: services.agent_heartbeat(agent_id="agent-1", state="degraded"),
    ),
    "control": (
        ("supervisor.agent_controlled", "supervisor.agent_state_changed"),
        lambda: services.agent_control(agent_id="agent-1", action="restart"),
    ),
    "check": (
        ("supervisor.agent_state_changed",),
        lambda: services.agents_mark_offline(),
    ),
    "status": (
        ("supervisor.status_queried",),
        lambda: services.supervisor_status_query(),
    ),
    "health": (
        ("supervisor.health_checked",),
        lambda: services.supervisor_health_check(),
    ),
    "listed": (
        ("supervisor.agents_listed",),
        lambda: services.agents_list_record(agent_count=1),
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_rolled_back_change_emits_nothing(
    name, delivered, django_capture_on_commit_callbacks
):
    types, change = CHANGES[name]
    make_agent("agent-1")
    silence("agent-1", 90)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Rollback), transaction.atomic():
            change()
            # The change emitted something to roll back: a durable event is stored
            # at once; a live-only one is never stored and waits for the commit.
            assert connection.run_on_commit, "nothing waits for the commit"
            if set(types) <= LIVE_ONLY:
                assert events.all() == []
            else:
                assert events.types() == list(types)
            assert delivered == []
            raise Rollback
    assert callbacks == []
    assert delivered == []
    assert events.all() == []
    # The same change, committed, delivers its event.
    with django_capture_on_commit_callbacks(execute=True):
        change()
    assert [event["type"] for event in delivered_as_stored(delivered, events)] == list(
        types
    )
