"""A heartbeat's ``current_mission_id``: only a RUNNING mission that is this agent's
or no agent's; any other is refused (409) with nothing changed and nothing emitted."""

import pytest

from missions import services as mission_services
from missions.models import Mission
from supervisor.models import Agent
from tests.conftest import EventLogView
from tests.missions.factories import make_mission, mission_in
from tests.supervisor.factories import make_agent

pytestmark = pytest.mark.django_db


def beat(api, agent_id: str, mission_id):
    return api.post(
        f"/api/supervisor/agents/{agent_id}/heartbeat",
        {"current_mission_id": str(mission_id)},
        format="json",
    )


def snapshot(agent_id: str) -> tuple:
    return Agent.objects.values_list(
        "state", "last_heartbeat", "current_mission", "updated_at"
    ).get(pk=agent_id)


def mission_row(mission: Mission) -> tuple:
    return Mission.objects.values_list("status", "assigned_agent", "updated_at").get(
        pk=mission.pk
    )


def assert_refused(api, agent_id: str, mission: Mission, **body_fields) -> dict:
    """409 naming the mission, and no change to the agent, the mission or the log."""
    agent_before, mission_before = snapshot(agent_id), mission_row(mission)
    events = EventLogView()
    response = beat(api, agent_id, mission.id)
    assert response.status_code == 409, response.content
    body = response.json()
    assert str(mission.id) in body["detail"]
    assert body["current_mission_id"] == str(mission.id)
    for key, value in body_fields.items():
        assert body[key] == value, key
    assert snapshot(agent_id) == agent_before
    assert mission_row(mission) == mission_before
    assert events.all() == []
    return body


@pytest.mark.parametrize("mission_status", ["PENDING", "COMPLETED", "FAILED"])
def test_a_mission_that_is_not_running_is_refused(api, mission_status):
    # Never beaten: an accepted heartbeat would make it healthy and emit an event.
    make_agent("agent-1", beat=False)
    mission = mission_in(mission_status)
    body = assert_refused(api, "agent-1", mission, mission_status=mission_status)
    assert "RUNNING" in body["detail"]
    assert snapshot("agent-1")[:3] == ("unknown", None, None)


def test_a_cancelled_mission_the_agent_claimed_is_refused(api):
    make_agent("agent-1")
    mission = make_mission()
    mission_services.mission_claim(agent_id="agent-1")
    mission_services.mission_set_status(mission_id=mission.id, status="CANCELLED")
    assert_refused(api, "agent-1", mission, mission_status="CANCELLED")
    assert snapshot("agent-1")[2] is None


def test_a_mission_assigned_to_another_agent_is_refused(api):
    make_agent("agent-1")
    make_agent("agent-2", beat=False)
    mission = make_mission()
    mission_services.mission_claim(agent_id="agent-1")
    assert_refused(api, "agent-2", mission, assigned_agent="agent-1")
    # Also when the owner is not a registered agent.
    other = make_mission()
    mission_services.mission_claim(agent_id="stranger")
    assert_refused(api, "agent-2", other, assigned_agent="stranger")


def test_an_unassigned_mission_another_agent_holds_is_refused(api):
    make_agent("agent-1")
    make_agent("agent-2", beat=False)
    mission = mission_in("RUNNING")
    assert beat(api, "agent-1", mission.id).status_code == 200
    assert_refused(api, "agent-2", mission, held_by="agent-1")
    # Once the holder lets go, the other agent may take it.
    api.post(
        "/api/supervisor/agents/agent-1/heartbeat",
        {"current_mission_id": None},
        format="json",
    )
    response = beat(api, "agent-2", mission.id)
    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] == str(mission.id)


def test_a_running_mission_assigned_to_this_agent_is_accepted(api):
    make_agent("agent-1", beat=False)
    mission = make_mission()
    mission_services.mission_claim(agent_id="agent-1")
    Agent.objects.filter(pk="agent-1").update(current_mission=None)
    events = EventLogView()

    response = beat(api, "agent-1", mission.id)

    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] == str(mission.id)
    assert response.json()["state"] == "healthy"
    assert events.types() == ["supervisor.agent_state_changed"]
    # Naming it again on the next beat is fine too.
    assert beat(api, "agent-1", mission.id).status_code == 200


def test_an_unassigned_running_mission_is_accepted_but_not_assigned(api):
    make_agent("agent-1")
    mission = mission_in("RUNNING")
    before = mission_row(mission)
    events = EventLogView()

    response = beat(api, "agent-1", mission.id)

    assert response.status_code == 200, response.content
    assert response.json()["current_mission"] == str(mission.id)
    assert Agent.objects.get(pk="agent-1").current_mission_id == mission.id
    assert mission_row(mission) == before
    assert mission_row(mission)[1] is None
    assert events.all() == []
