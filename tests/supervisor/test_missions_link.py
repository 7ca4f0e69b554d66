"""An agent's current mission follows the missions it claims and finishes."""

import pytest

from missions import services as mission_services
from supervisor.models import Agent
from tests.missions.factories import make_mission, mission_in
from tests.supervisor.factories import make_agent

pytestmark = pytest.mark.django_db


def current(agent_id: str):
    return Agent.objects.values_list("current_mission", flat=True).get(pk=agent_id)


@pytest.mark.parametrize("end", ["COMPLETED", "FAILED", "CANCELLED"])
def test_claim_sets_it_and_the_end_clears_it(api, end):
    make_agent("agent-1")
    mission = make_mission()
    response = api.post("/api/missions/claim", {"agent_id": "agent-1"}, format="json")
    assert response.status_code == 200
    assert current("agent-1") == mission.id
    body = api.get("/api/supervisor/agents/agent-1").json()
    assert body["current_mission"] == str(mission.id)

    response = api.post(
        f"/api/missions/{mission.id}/status", {"status": end}, format="json"
    )
    assert response.status_code == 200
    assert current("agent-1") is None


def test_only_the_claiming_agent_is_touched():
    make_agent("agent-1")
    make_agent("agent-2")
    first, second = make_mission(name="first"), make_mission(name="second")
    mission_services.mission_claim(agent_id="agent-1")
    mission_services.mission_claim(agent_id="agent-2")
    assert current("agent-1") == first.id
    assert current("agent-2") == second.id
    mission_services.mission_set_status(mission_id=first.id, status="COMPLETED")
    assert current("agent-1") is None
    assert current("agent-2") == second.id


def test_a_mission_started_without_an_agent_touches_no_agent():
    make_agent("agent-1")
    mission = make_mission()
    mission_services.mission_set_status(mission_id=mission.id, status="RUNNING")
    assert current("agent-1") is None


def test_a_claim_by_an_unregistered_agent_is_fine():
    mission = make_mission()
    claimed = mission_services.mission_claim(agent_id="stranger")
    assert claimed.id == mission.id
    assert not Agent.objects.exists()


def test_a_heartbeat_naming_another_mission_does_not_lose_the_end(api):
    """The mission an agent reports is cleared when that mission ends, too."""
    make_agent("agent-1")
    mission = mission_in("RUNNING")
    api.post(
        "/api/supervisor/agents/agent-1/heartbeat",
        {"current_mission_id": str(mission.id)},
        format="json",
    )
    assert current("agent-1") == mission.id
    mission_services.mission_set_status(mission_id=mission.id, status="CANCELLED")
    assert current("agent-1") is None
