"""A mission's status history (``GET /api/missions/{id}/history``) is its own: who
moved it, for which agent, and it outlives the event log's retention."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from brain.events.models import EventLog
from brain.events.services import events_prune
from tests.conftest import number_pending
from tests.missions.factories import make_mission
from tests.supervisor.factories import claim, working_agent

pytestmark = pytest.mark.django_db


def history(api, mission_id) -> list[dict]:
    response = api.get(f"/api/missions/{mission_id}/history")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_history_survives_pruning_and_names_the_actor_and_the_agent(api):
    now = timezone.now()
    working_agent("rover-7")  # registered and beating now, so it may claim
    # Older than mission events' retention (365 days) and the default (30).
    created_at = now - timedelta(days=400)
    with time_machine.travel(created_at, tick=False):
        response = api.post("/api/missions", {"name": "Survey north"})
        assert response.status_code == 201
        mission_id = response.json()["id"]
    with time_machine.travel(created_at + timedelta(minutes=1), tick=False):
        claimed = api.post("/api/missions/claim", {"agent_id": "rover-7"})
        assert claimed.json()["id"] == mission_id
    with time_machine.travel(created_at + timedelta(minutes=2), tick=False):
        done = api.post(f"/api/missions/{mission_id}/status", {"status": "COMPLETED"})
        assert done.status_code == 200
    make_mission(name="today")  # the log's newest event, which pruning keeps
    number_pending()
    about_it = EventLog.objects.filter(subjects__has=f"mission_{mission_id}")
    assert about_it.filter(type="mission.status_changed").count() == 2
    before = history(api, mission_id)

    record = events_prune(now=now, default_days=30)

    assert not about_it.exists()
    assert record.deleted == 6  # created, 2 status changes, their 3 log lines
    after = history(api, mission_id)
    assert after == before
    assert [
        (c["old_status"], c["new_status"], c["actor"], c["agent_id"], c["reason"])
        for c in after
    ] == [
        ("", "PENDING", "alice", None, "created"),
        ("PENDING", "RUNNING", "alice", "rover-7", "claimed by rover-7"),
        ("RUNNING", "COMPLETED", "alice", "rover-7", ""),
    ]
    assert [datetime.fromisoformat(c["changed_at"]) for c in after] == [
        created_at + timedelta(minutes=n) for n in range(3)
    ]
    ids = [c["id"] for c in after]
    assert ids == sorted(ids)


def test_the_history_from_the_shell_has_no_actor(api):
    mission = make_mission()
    claim("rover-7")
    assert [(c["actor"], c["agent_id"]) for c in history(api, mission.id)] == [
        (None, None),
        (None, "rover-7"),
    ]


def test_the_history_of_an_unknown_mission_is_404(api):
    assert api.get(f"/api/missions/{uuid.uuid4()}/history").status_code == 404


@pytest.mark.parametrize("steps", [1, 3])
def test_the_history_runs_the_same_queries_however_long(
    api, steps, django_assert_num_queries
):
    from missions import services

    mission = make_mission()
    for status in ("RUNNING", "COMPLETED")[: steps - 1]:
        services.mission_set_status(mission_id=mission.id, status=status)
    # Token lookup, the user's permissions (its own and its groups'), the mission,
    # its changes.
    with django_assert_num_queries(5):
        assert len(history(api, mission.id)) == steps
