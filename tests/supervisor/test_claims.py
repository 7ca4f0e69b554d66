"""Only a working agent claims: paused, killed, offline and unknown agents are
refused (409 naming why), unregistered ones are 404, and nothing is assigned; a kill
ends the missions the agent holds."""

import asyncio
import threading

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from brain.errors import Conflict, NotFound
from missions.models import Mission, MissionLog, MissionStatus
from supervisor import services
from tests.conftest import token_for
from tests.missions.factories import make_mission
from tests.supervisor.factories import make_agent, silence
from tests.supervisor.test_transitions import make_row

REFUSING = ("unknown", "paused", "offline", "killed")


def pending_untouched(mission_id) -> bool:
    mission = Mission.objects.get(pk=mission_id)
    return mission.status == MissionStatus.PENDING and mission.assigned_agent_id is None


@pytest.mark.django_db
@pytest.mark.parametrize("row", REFUSING)
def test_a_claim_by_an_agent_that_is_not_working_is_refused(row, api):
    make_row(row)
    mission = make_mission()
    response = api.post("/api/missions/claim", {"agent_id": "agent-1"}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["current_state"] == ("offline" if row == "killed" else row)
    assert "agent agent-1 cannot claim a mission" in body["detail"]
    assert pending_untouched(mission.pk)


@pytest.mark.django_db
def test_the_409_says_why(api):
    make_row("killed", "k")
    make_row("offline", "o")
    make_row("paused", "p")
    make_row("unknown", "u")
    make_mission()
    why = {}
    for agent_id in "kopu":
        response = api.post("/api/missions/claim", {"agent_id": agent_id})
        why[agent_id] = response.json()["detail"]
    assert "killed; an operator must restart it" in why["k"]
    assert "no heartbeat within the window" in why["o"]
    assert "an operator paused it" in why["p"]
    assert "has not sent a heartbeat" in why["u"]


@pytest.mark.django_db
def test_a_claim_by_an_unregistered_agent_is_404_and_assigns_nothing(api):
    mission = make_mission()
    response = api.post("/api/missions/claim", {"agent_id": "nobody"}, format="json")
    assert response.status_code == 404, response.content
    assert response.json()["detail"] == "agent nobody not found"
    assert pending_untouched(mission.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("row", ["healthy", "degraded"])
def test_healthy_and_degraded_agents_claim(row, api):
    make_row(row)
    mission = make_mission()
    response = api.post("/api/missions/claim", {"agent_id": "agent-1"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assigned_agent"] == "agent-1"
    assert Mission.objects.get(pk=mission.pk).assigned_agent_id == "agent-1"


@pytest.mark.django_db
def test_pause_keeps_the_running_mission_and_resume_takes_work_again():
    make_agent("agent-1")
    held = make_mission(name="held")
    assert services.agent_claim_mission(agent_id="agent-1").pk == held.pk
    waiting = make_mission(name="waiting")
    services.agent_control(agent_id="agent-1", action="pause", reason="inspection")
    assert Mission.objects.get(pk=held.pk).status == MissionStatus.RUNNING
    with pytest.raises(Conflict):
        services.agent_claim_mission(agent_id="agent-1")
    assert pending_untouched(waiting.pk)
    services.agent_control(agent_id="agent-1", action="resume")
    assert services.agent_claim_mission(agent_id="agent-1").pk == waiting.pk


@pytest.mark.django_db
def test_a_kill_fails_each_held_mission_naming_the_operator_and_reason(api_as):
    client = api_as("operator", "olga")
    make_agent("agent-1")
    make_agent("agent-2")
    first, second, other = make_mission(), make_mission(), make_mission()
    services.agent_claim_mission(agent_id="agent-1")
    services.agent_claim_mission(agent_id="agent-1")
    services.agent_claim_mission(agent_id="agent-2")
    response = client.post(
        "/api/supervisor/control",
        {"agent_id": "agent-1", "action": "kill", "reason": "runaway loop"},
        format="json",
    )
    assert response.status_code == 200, response.content
    for mission in (first, second):
        mission.refresh_from_db()
        assert mission.status == MissionStatus.FAILED
        assert mission.assigned_agent_id == "agent-1"
        last = MissionLog.objects.filter(mission=mission).order_by("-id").first()
        assert last.level == "error"
        assert last.message == (
            "Agent agent-1 was killed by olga (runaway loop); the mission was "
            "marked FAILED."
        )
    other.refresh_from_db()
    assert other.status == MissionStatus.RUNNING
    detail = client.get("/api/supervisor/agents/agent-1").json()
    assert detail["state"] == "offline"
    assert detail["missions"] == []
    assert detail["last_control"]["action"] == "kill"
    assert detail["last_control"]["actor"] == "olga"
    assert detail["last_control"]["reason"] == "runaway loop"
    beat = client.post("/api/supervisor/agents/agent-1/heartbeat", {}, format="json")
    assert beat.status_code == 409
    assert beat.json()["killed"] is True


@pytest.mark.django_db
def test_the_agent_page_lists_the_missions_it_holds(api):
    make_agent("agent-1")
    make_mission(name="one")
    make_mission(name="two")
    services.agent_claim_mission(agent_id="agent-1")
    services.agent_claim_mission(agent_id="agent-1")
    detail = api.get("/api/supervisor/agents/agent-1").json()
    assert sorted(m["name"] for m in detail["missions"]) == ["one", "two"]
    assert detail["last_control"] is None


@pytest.mark.django_db(transaction=True)
async def test_fifty_parallel_claims_by_a_paused_agent_all_fail(live, make_user):
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)

    def set_up():
        make_agent("paused-1")
        services.agent_control(agent_id="paused-1", action="pause")
        return [make_mission(name=f"m{n}").pk for n in range(10)]

    mission_ids = await sync_to_async(set_up)()
    async with httpx.AsyncClient(
        base_url=live.url,
        headers={"Authorization": f"Token {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=50),
    ) as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/missions/claim", json={"agent_id": "paused-1"})
                for _ in range(50)
            )
        )
    assert [r.status_code for r in responses] == [409] * 50, [
        r.text for r in responses if r.status_code != 409
    ]

    def untouched():
        return all(pending_untouched(pk) for pk in mission_ids)

    assert await sync_to_async(untouched)()


@pytest.mark.django_db(transaction=True)
def test_a_claim_racing_a_kill_never_leaves_a_mission_running_for_a_killed_agent():
    """The claim locks the agent first: a kill either comes first (the claim is
    refused) or waits for the claim and then fails the mission just claimed."""
    if connection.vendor != "postgresql":
        pytest.fail("row-lock order is PostgreSQL's to prove")
    errors: list[BaseException] = []
    for round_ in range(60):
        agent_id = f"racer-{round_}"
        make_agent(agent_id)
        mission = make_mission(name=f"race {round_}")
        start = threading.Barrier(2)

        def run(fn, start=start) -> None:
            try:
                start.wait(10)
                fn()
            except (Conflict, NotFound):
                pass
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(
                target=run,
                args=(lambda a=agent_id: services.agent_claim_mission(agent_id=a),),
            ),
            threading.Thread(
                target=run,
                args=(
                    lambda a=agent_id: services.agent_control(
                        agent_id=a, action="kill"
                    ),
                ),
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors, errors
        mission.refresh_from_db()
        assert mission.status in (MissionStatus.PENDING, MissionStatus.FAILED), (
            round_,
            mission.status,
        )
        if mission.status == MissionStatus.PENDING:
            assert mission.assigned_agent_id is None
        else:
            assert mission.assigned_agent_id == agent_id
    assert not Mission.objects.filter(status=MissionStatus.RUNNING).exists()


@pytest.mark.django_db
def test_a_silent_agent_cannot_claim(api):
    make_agent("agent-1")
    silence("agent-1", 3600)
    make_mission()
    response = api.post("/api/missions/claim", {"agent_id": "agent-1"})
    assert response.status_code == 409
    assert response.json()["current_state"] == "offline"
