"""An agent's current mission is derived from the missions: the RUNNING mission
assigned to it by a claim. It follows the claims and the missions' ends, and no
mission change writes an agent row."""

import pytest

from brain.errors import NotFound
from missions import services as mission_services
from missions.models import Mission
from supervisor import services
from supervisor.models import Agent
from tests.missions.factories import make_mission, mission_in
from tests.supervisor.factories import claim, current_mission, make_agent

pytestmark = pytest.mark.django_db


def shown(api, agent_id: str):
    """``current_mission`` as the detail and the list show it."""
    detail = api.get(f"/api/supervisor/agents/{agent_id}").json()["current_mission"]
    rows = api.get("/api/supervisor/agents").json()["results"]
    (listed,) = [row["current_mission"] for row in rows if row["agent_id"] == agent_id]
    assert detail == listed
    return detail


@pytest.mark.parametrize("end", ["COMPLETED", "FAILED", "CANCELLED"])
def test_claim_sets_it_and_the_end_clears_it(api, end):
    make_agent("agent-1")
    mission = make_mission()
    assert shown(api, "agent-1") is None
    response = api.post("/api/missions/claim", {"agent_id": "agent-1"}, format="json")
    assert response.status_code == 200
    assert current_mission("agent-1") == mission.id
    assert shown(api, "agent-1") == str(mission.id)

    response = api.post(
        f"/api/missions/{mission.id}/status", {"status": end}, format="json"
    )
    assert response.status_code == 200
    assert current_mission("agent-1") is None
    assert shown(api, "agent-1") is None


def test_only_the_claiming_agent_is_touched():
    make_agent("agent-1")
    make_agent("agent-2")
    first, second = make_mission(name="first"), make_mission(name="second")
    claim("agent-1")
    claim("agent-2")
    assert current_mission("agent-1") == first.id
    assert current_mission("agent-2") == second.id
    mission_services.mission_set_status(mission_id=first.id, status="COMPLETED")
    assert current_mission("agent-1") is None
    assert current_mission("agent-2") == second.id


def test_no_mission_change_writes_the_agent_row():
    """Nothing listens to mission signals to update agents (that deadlocked against
    a control action): a claim and an end leave the agent row as it was."""
    make_agent("agent-1")
    before = Agent.objects.values().get(pk="agent-1")
    mission = make_mission()
    claim("agent-1")  # already working: no heartbeat of its own
    assert current_mission("agent-1") == mission.id
    mission_services.mission_set_status(mission_id=mission.id, status="COMPLETED")
    assert current_mission("agent-1") is None
    assert Agent.objects.values().get(pk="agent-1") == before


def test_the_latest_of_several_running_missions_is_the_current_one():
    make_agent("agent-1")
    first, second = make_mission(name="first"), make_mission(name="second")
    claim("agent-1")
    claim("agent-1")
    assert current_mission("agent-1") == second.id
    mission_services.mission_set_status(mission_id=second.id, status="FAILED")
    assert current_mission("agent-1") == first.id
    mission_services.mission_set_status(mission_id=first.id, status="COMPLETED")
    assert current_mission("agent-1") is None


def test_a_mission_started_without_an_agent_touches_no_agent():
    make_agent("agent-1")
    mission = make_mission()
    mission_services.mission_set_status(mission_id=mission.id, status="RUNNING")
    assert current_mission("agent-1") is None


def test_a_claim_by_an_unregistered_agent_is_refused(api):
    """A mission's holder is a registered agent (a foreign key): an agent must
    register, and beat, before it claims."""
    mission = make_mission()
    with pytest.raises(NotFound):
        services.agent_claim_mission(agent_id="stranger")
    response = api.post("/api/missions/claim", {"agent_id": "stranger"}, format="json")
    assert response.status_code == 404
    assert "stranger" in response.json()["detail"]
    assert not Agent.objects.exists()
    assert Mission.objects.values_list("status", "assigned_agent_id").get() == (
        "PENDING",
        None,
    )
    # Registered, and once it has beaten, it claims and holds the mission.
    make_agent("stranger")
    assert claim("stranger").id == mission.id
    assert current_mission("stranger") == mission.id


def test_a_heartbeat_does_not_make_a_mission_current(api):
    """Only a claim does: a heartbeat naming an unassigned RUNNING mission is
    refused, and the agent's current mission stays what the missions say."""
    make_agent("agent-1")
    mission = mission_in("RUNNING")
    response = api.post(
        "/api/supervisor/agents/agent-1/heartbeat",
        {"current_mission_id": str(mission.id)},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert current_mission("agent-1") is None
    assert api.get("/api/supervisor/agents/agent-1").json()["current_mission"] is None
