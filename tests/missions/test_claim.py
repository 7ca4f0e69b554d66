"""The work queue: a claim takes the highest-priority, oldest PENDING mission.

Claims are made by registered agents that have sent a heartbeat (``working_agent``);
which agents may claim is tested in ``tests/supervisor/test_claims.py``.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from missions import services
from missions.models import Mission
from supervisor import services as supervisor
from tests.missions.factories import make_mission, mission_in, stored
from tests.supervisor.factories import claim, working_agent

pytestmark = pytest.mark.django_db


def queue_in_shuffled_order() -> list[str]:
    """Missions created in an order unlike the queue's, with the queue's order."""
    base = timezone.now() - timedelta(hours=1)
    # (name, priority, minutes after base), created in this (shuffled) order.
    specs = [
        ("normal-new", 20, 30),
        ("low-old", 10, 1),
        ("critical-new", 40, 50),
        ("high-old", 30, 5),
        ("normal-old", 20, 2),
        ("critical-old", 40, 10),
        ("high-new", 30, 40),
    ]
    for name, priority, minutes in specs:
        mission = make_mission(name=name, priority=priority)
        # created_at only (never the status) may be set in bulk.
        Mission.objects.filter(pk=mission.pk).update(
            created_at=base + timedelta(minutes=minutes)
        )
    return [
        "critical-old",
        "critical-new",
        "high-old",
        "high-new",
        "normal-old",
        "normal-new",
        "low-old",
    ]


@pytest.mark.parametrize("slash", ["", "/"])
def test_claims_follow_priority_then_age_then_204(api, slash):
    expected = queue_in_shuffled_order()
    mission_in("RUNNING", name="already running", priority=40)
    mission_in("CANCELLED", name="cancelled", priority=40)
    claimed = []
    for n in range(len(expected)):
        working_agent(f"agent-{n}")
        response = api.post(f"/api/missions/claim{slash}", {"agent_id": f"agent-{n}"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "RUNNING"
        assert body["assigned_agent"] == f"agent-{n}"
        assert body["allowed_transitions"] == ["COMPLETED", "FAILED", "CANCELLED"]
        claimed.append(body["name"])
    assert claimed == expected
    working_agent("late")
    before = stored()
    response = api.post(f"/api/missions/claim{slash}", {"agent_id": "late"})
    assert response.status_code == 204
    assert response.content == b""
    assert stored() == before


def test_a_claim_is_stored_with_its_agent_and_log_line(api):
    mission = make_mission()
    working_agent("rover-7")
    response = api.post("/api/missions/claim", {"agent_id": "rover-7"})
    assert response.status_code == 200
    fresh = Mission.objects.get(pk=mission.pk)
    assert (fresh.status, fresh.assigned_agent_id) == ("RUNNING", "rover-7")
    assert api.get("/api/missions", {"assigned_agent": "rover-7"}).json()["count"] == 1
    entry = fresh.log_entries.last()
    assert entry.message == "Mission status changed"
    assert entry.data == {
        "from": "PENDING",
        "to": "RUNNING",
        "reason": "claimed by rover-7",
    }


def test_claim_on_an_empty_queue_is_204(api):
    working_agent("agent-1")
    assert api.post("/api/missions/claim", {"agent_id": "agent-1"}).status_code == 204


def test_the_service_returns_none_when_the_queue_is_empty():
    mission_in("COMPLETED")
    assert claim("agent-1") is None
    assert supervisor.agent_claim_mission(agent_id="agent-1") is None
    assert services.mission_assign_next(agent_id="agent-1") is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"agent_id": ""},
        {"agent_id": "has space"},
        {"agent_id": "a" * 65},
        {"agent_id": None},
    ],
    ids=["missing", "empty", "space", "too-long", "null"],
)
def test_bad_agent_id_is_400_and_claims_nothing(api, body):
    make_mission()
    before = stored()
    response = api.post("/api/missions/claim", body)
    assert response.status_code == 400
    # The field is named; a missing one (which only an agent's own token may leave
    # out) is refused after the serializer, with a ``detail`` too.
    errors = response.json()
    assert set(errors) <= {"detail", "agent_id"}
    assert errors["agent_id"]
    assert stored() == before
    assert Mission.objects.get().status == "PENDING"
