"""Stats are counted from the data, so they equal it after any mix of operations."""

import random
from datetime import datetime

import pytest

from missions import services
from missions.models import Mission, MissionStatus, TransitionRefused
from supervisor import services as supervisor
from tests.supervisor.factories import working_agent

pytestmark = pytest.mark.django_db

STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]


def counted() -> dict[str, int]:
    return {
        status: Mission.objects.filter(status=status).count() for status in STATUSES
    }


@pytest.mark.parametrize("slash", ["", "/"])
def test_stats_of_nothing(api, slash):
    response = api.get(f"/api/missions/stats{slash}")
    assert response.status_code == 200
    assert response.json() == {
        "total": 0,
        "by_status": dict.fromkeys(STATUSES, 0),
        "last_updated": None,
    }


@pytest.mark.parametrize("seed", [4, 2024, 77])
def test_stats_equal_the_data_after_a_random_mix(api, seed):
    rng = random.Random(seed)
    ids: list = []
    tally = dict.fromkeys(STATUSES, 0)
    for n in range(5):
        working_agent(f"agent-{n}")
    for _ in range(150):
        op = rng.random()
        if op < 0.3 or not ids:
            mission = services.mission_create(
                name=f"m{len(ids)}", priority=rng.choice([10, 20, 30, 40])
            )
            ids.append(mission.id)
            tally["PENDING"] += 1
        elif op < 0.4:
            claimed = supervisor.agent_claim_mission(
                agent_id=f"agent-{rng.randrange(5)}"
            )
            if claimed is not None:
                tally["PENDING"] -= 1
                tally["RUNNING"] += 1
        else:
            # Any target, refused ones included: a refusal must change nothing.
            mission_id = rng.choice(ids)
            target = rng.choice(STATUSES)
            current = Mission.objects.get(pk=mission_id).status
            try:
                services.mission_set_status(mission_id=mission_id, status=target)
            except TransitionRefused:
                continue
            tally[current] -= 1
            tally[target] += 1
        if rng.random() < 0.1:
            body = api.get("/api/missions/stats").json()
            assert body["by_status"] == counted() == tally

    response = api.get("/api/missions/stats")
    assert response.status_code == 200
    body = response.json()
    assert body["by_status"] == counted() == tally
    assert list(body["by_status"]) == STATUSES
    assert body["total"] == Mission.objects.count() == len(ids)
    assert body["total"] == sum(body["by_status"].values())
    newest = Mission.objects.order_by("-updated_at").first().updated_at
    assert datetime.fromisoformat(body["last_updated"]) == newest
    # The mix reached every status.
    assert all(n > 0 for n in body["by_status"].values()), body["by_status"]


def test_stats_follow_each_change(api):
    def by_status():
        return api.get("/api/missions/stats").json()["by_status"]

    mission = services.mission_create(name="one")
    assert by_status() == {**dict.fromkeys(STATUSES, 0), "PENDING": 1}
    services.mission_set_status(mission_id=mission.id, status=MissionStatus.RUNNING)
    assert by_status() == {**dict.fromkeys(STATUSES, 0), "RUNNING": 1}
    with pytest.raises(TransitionRefused):
        services.mission_set_status(mission_id=mission.id, status="PENDING")
    assert by_status() == {**dict.fromkeys(STATUSES, 0), "RUNNING": 1}
    services.mission_set_status(mission_id=mission.id, status=MissionStatus.FAILED)
    assert by_status() == {**dict.fromkeys(STATUSES, 0), "FAILED": 1}
