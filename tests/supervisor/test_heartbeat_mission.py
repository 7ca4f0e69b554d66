"""A heartbeat's ``current_mission_id`` is only checked, never stored: it must name a
RUNNING mission assigned to this agent (by a claim). An unknown mission is a 400; a
mission that is not RUNNING, or is another agent's or no agent's, is a 409. A
refused heartbeat changes nothing and emits nothing."""

import uuid

import pytest

from missions import services as mission_services
from missions.models import Mission
from supervisor import services
from supervisor.models import Agent
from tests.conftest import EventLogView
from tests.missions.factories import make_mission, mission_in
from tests.supervisor.factories import (
    claim,
    current_mission,
    delivered_as_stored,
    make_agent,
    settle,
    silence,
)

pytestmark = pytest.mark.django_db


def beat(api, agent_id: str, mission_id):
    return api.post(
        f"/api/supervisor/agents/{agent_id}/heartbeat",
        {"current_mission_id": None if mission_id is None else str(mission_id)},
        format="json",
    )


def snapshot(agent_id: str) -> tuple:
    """What a heartbeat could change: the stored row and the derived mission."""
    return (
        *Agent.objects.values_list("state", "last_heartbeat", "updated_at").get(
            pk=agent_id
        ),
        current_mission(agent_id),
    )


def mission_row(mission: Mission) -> tuple:
    return Mission.objects.values_list("status", "assigned_agent_id", "updated_at").get(
        pk=mission.pk
    )


@pytest.fixture
def refused(api, delivered, django_capture_on_commit_callbacks):
    """``refused(agent_id, mission_id, status=409, **fields)``: the heartbeat is
    refused with that status and those body fields, and changes and emits nothing."""

    def check(agent_id: str, mission_id, status: int = 409, **body_fields) -> dict:
        try:
            mission = Mission.objects.filter(pk=uuid.UUID(str(mission_id))).first()
        except ValueError:
            mission = None
        agent_before = snapshot(agent_id)
        mission_before = mission and mission_row(mission)
        settle()
        events = EventLogView()
        delivered.clear()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = beat(api, agent_id, mission_id)
        assert response.status_code == status, response.content
        body = response.json()
        for key, value in body_fields.items():
            assert body[key] == value, key
        assert snapshot(agent_id) == agent_before
        if mission:
            assert mission_row(mission) == mission_before
        assert (callbacks, delivered, events.all()) == ([], [], [])
        return body

    return check


@pytest.mark.parametrize("mission_status", ["PENDING", "COMPLETED", "FAILED"])
def test_a_mission_that_is_not_running_is_refused(refused, mission_status):
    # Never beaten: an accepted heartbeat would make it healthy and emit an event.
    make_agent("agent-1", beat=False)
    mission = mission_in(mission_status)
    body = refused(
        "agent-1",
        mission.id,
        current_mission_id=str(mission.id),
        mission_status=mission_status,
    )
    assert str(mission.id) in body["detail"]
    assert "RUNNING" in body["detail"]
    assert snapshot("agent-1")[:2] == ("unknown", None)
    assert snapshot("agent-1")[3] is None


@pytest.mark.parametrize("end", ["COMPLETED", "FAILED", "CANCELLED"])
def test_the_mission_the_agent_claimed_is_refused_once_it_ended(api, refused, end):
    mission = make_mission()
    claim("agent-1")
    assert beat(api, "agent-1", mission.id).status_code == 200
    mission_services.mission_set_status(mission_id=mission.id, status=end)

    refused(
        "agent-1", mission.id, current_mission_id=str(mission.id), mission_status=end
    )

    # It still names the agent, but it is no longer the agent's current mission;
    # an agent whose mission ended sends null.
    assert Mission.objects.get(pk=mission.pk).assigned_agent_id == "agent-1"
    response = beat(api, "agent-1", None)
    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] is None


def test_a_mission_assigned_to_another_agent_is_refused(refused):
    make_agent("agent-2", beat=False)
    mission = make_mission()
    claim("agent-1")
    body = refused(
        "agent-2",
        mission.id,
        current_mission_id=str(mission.id),
        assigned_agent="agent-1",
    )
    assert "assigned to agent agent-1" in body["detail"]
    assert current_mission("agent-1") == mission.id
    # Also when the owner is paused: it keeps the mission, and it stays its own.
    # (An unregistered agent can hold no mission: its claims are refused.)
    services.agent_control(agent_id="agent-1", action="pause")
    refused("agent-2", mission.id, assigned_agent="agent-1")
    assert current_mission("agent-1") == mission.id


def test_a_running_mission_assigned_to_no_agent_is_refused(refused):
    """Only a claim gives an agent a mission; naming one in a heartbeat does not."""
    make_agent("agent-1")
    make_agent("agent-2", beat=False)
    mission = mission_in("RUNNING")
    assert mission.assigned_agent is None
    for agent_id in ("agent-1", "agent-2"):
        body = refused(
            agent_id,
            mission.id,
            current_mission_id=str(mission.id),
            assigned_agent=None,
        )
        assert "assigned to no agent" in body["detail"]
        assert "/api/missions/claim" in body["detail"]
        assert current_mission(agent_id) is None
    assert Mission.objects.get(pk=mission.pk).assigned_agent is None


@pytest.mark.parametrize("mission_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_mission_is_invalid(refused, mission_id):
    make_agent("agent-1", beat=False)
    body = refused("agent-1", mission_id, status=400)
    assert "current_mission_id" in body
    assert snapshot("agent-1")[:2] == ("unknown", None)


def test_a_running_mission_assigned_to_this_agent_is_accepted(
    api, delivered, django_capture_on_commit_callbacks
):
    mission = make_mission()
    claim("agent-1")
    # Silent past the window (not yet checked): an accepted heartbeat brings it
    # back, which is a state change.
    silence("agent-1", 120)
    before = mission_row(mission)
    settle()
    events = EventLogView()

    with django_capture_on_commit_callbacks(execute=True):
        response = beat(api, "agent-1", mission.id)

    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] == str(mission.id)
    assert response.json()["state"] == "healthy"
    # The state change, and nothing about the mission: it is only checked.
    (event,) = delivered_as_stored(delivered, events)
    assert event["type"] == "supervisor.agent_state_changed"
    assert (event["payload"]["old_state"], event["payload"]["new_state"]) == (
        "offline",
        "healthy",
    )
    assert mission_row(mission) == before
    # Naming it again on the next beat is fine too.
    assert beat(api, "agent-1", mission.id).status_code == 200


def test_the_mission_named_is_stored_nowhere(api):
    """An agent holding two RUNNING missions may name either; its current mission
    stays the one derived from the missions (the latest claimed)."""
    first, second = make_mission(name="first"), make_mission(name="second")
    assert claim("agent-1").id == first.id
    assert claim("agent-1").id == second.id
    assert current_mission("agent-1") == second.id

    response = beat(api, "agent-1", first.id)

    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] == str(second.id)
    assert current_mission("agent-1") == second.id
    # When the latest ends, the other RUNNING one is the current mission.
    mission_services.mission_set_status(mission_id=second.id, status="COMPLETED")
    assert current_mission("agent-1") == first.id


@pytest.mark.parametrize("body", [{"current_mission_id": None}, {}])
def test_null_or_no_mission_checks_nothing_and_clears_nothing(api, body):
    """An agent that sends null still holds what it claimed: only the mission's end
    ends it."""
    mission = make_mission()
    claim("agent-1")
    response = api.post("/api/supervisor/agents/agent-1/heartbeat", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] == str(mission.id)
    assert Mission.objects.get(pk=mission.pk).status == "RUNNING"
