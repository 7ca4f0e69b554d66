"""The transition table: checked by the service (what REST, admin and commands
answer), and held by the database whoever writes."""

import itertools

import pytest
from django.db import connection

from missions import services
from missions.models import TRANSITIONS, Mission, MissionLog, TransitionRefused
from tests.conftest import EventLogView
from tests.missions.factories import make_mission, mission_in, stored
from tests.triggers import refused_by_the_database

pytestmark = pytest.mark.django_db

STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
ALLOWED = [
    ("PENDING", "RUNNING"),
    ("RUNNING", "COMPLETED"),
    ("RUNNING", "FAILED"),
    ("PENDING", "CANCELLED"),
    ("RUNNING", "CANCELLED"),
]
REFUSED = [
    pair for pair in itertools.product(STATUSES, STATUSES) if pair not in ALLOWED
]
ALLOWED_FROM = {
    "PENDING": ["RUNNING", "CANCELLED"],
    "RUNNING": ["COMPLETED", "FAILED", "CANCELLED"],
    "COMPLETED": [],
    "FAILED": [],
    "CANCELLED": [],
}


def test_the_table_is_the_one_the_issue_gives():
    assert {
        (current, target)
        for current, targets in TRANSITIONS.items()
        for target in targets
    } == set(ALLOWED)
    assert len(REFUSED) == 20


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transition_is_200(api, current, target):
    mission = mission_in(current)
    before = stored()
    response = api.post(f"/api/missions/{mission.id}/status", {"status": target})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == target
    assert body["allowed_transitions"] == ALLOWED_FROM[target]
    fresh = Mission.objects.get(pk=mission.id)
    assert fresh.status == target
    assert fresh.updated_at > mission.updated_at
    entry = MissionLog.objects.filter(mission=mission).last()
    assert (entry.level, entry.message) == ("info", "Mission status changed")
    assert entry.data == {"from": current, "to": target}
    assert stored() == {
        **before,
        "log": before["log"] + 1,
        "events": before["events"] + 2,
    }


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_transition_is_409_and_changes_nothing(api, current, target):
    mission = mission_in(current)
    before = stored()
    events = EventLogView()
    response = api.post(f"/api/missions/{mission.id}/status", {"status": target})
    assert response.status_code == 409
    allowed = ALLOWED_FROM[current]
    assert response.json() == {
        "detail": f"cannot change status from {current} to {target}; allowed: "
        + (", ".join(allowed) if allowed else f"none, {current} is final"),
        "current_status": current,
        "requested_status": target,
        "allowed_transitions": allowed,
    }
    fresh = Mission.objects.get(pk=mission.id)
    assert (fresh.status, fresh.updated_at) == (current, mission.updated_at)
    assert stored() == before
    assert events.all() == []


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_service_refuses_the_same_transitions(current, target):
    mission = mission_in(current)
    before = stored()
    with pytest.raises(TransitionRefused) as refused:
        services.mission_set_status(mission_id=mission.id, status=target)
    assert refused.value.status_code == 409
    assert refused.value.extra["allowed_transitions"] == ALLOWED_FROM[current]
    assert Mission.objects.get(pk=mission.id).status == current
    assert stored() == before


CHANGES_REFUSED = [
    (current, target) for current, target in REFUSED if current != target
]


@pytest.mark.postgres
@pytest.mark.parametrize(("current", "target"), CHANGES_REFUSED)
def test_the_database_refuses_the_same_transitions(current, target):
    """The last line under the service's check, whoever writes: an ORM update, a
    model saved from the shell (whole or with its status deferred), raw SQL."""
    mission = mission_in(current)
    refused = f'Invalid transition of field "status" from "{current}" to "{target}"'
    with refused_by_the_database(refused):
        Mission.objects.filter(pk=mission.id).update(status=target)
    mission.status = target
    with refused_by_the_database(refused):
        mission.save()
    partial = Mission.objects.only("name").get(pk=mission.id)
    partial.status = target
    with refused_by_the_database(refused):
        partial.save()
    with refused_by_the_database(refused), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Mission._meta.db_table} SET status = %s WHERE id = %s",
            [target, mission.id],
        )
    assert Mission.objects.get(pk=mission.id).status == current


@pytest.mark.postgres
def test_queryset_update_of_status_is_refused():
    mission = make_mission()
    before = stored()
    with refused_by_the_database('from "PENDING" to "COMPLETED"'):
        Mission.objects.filter(pk=mission.id).update(status="COMPLETED")
    assert Mission.objects.get(pk=mission.id).status == "PENDING"
    assert stored() == before
    # Other fields, and the status unchanged, still pass the trigger.
    assert Mission.objects.filter(pk=mission.id).update(priority=40) == 1
    assert Mission.objects.filter(pk=mission.id).update(status="PENDING") == 1
    # The allowed transition, through the service, with its log line and events.
    services.mission_set_status(mission_id=mission.id, status="RUNNING")
    assert Mission.objects.get(pk=mission.id).status == "RUNNING"
    assert stored() == {
        **before,
        "log": before["log"] + 1,
        "events": before["events"] + 2,
    }


@pytest.mark.postgres
@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_the_database_lets_the_allowed_transitions_pass(current, target):
    """The trigger holds the table, nothing more: the events are the services' (and
    tests/foundation/test_service_writes.py keeps the project's code on them)."""
    mission = mission_in(current)
    assert Mission.objects.filter(pk=mission.id).update(status=target) == 1
    assert Mission.objects.get(pk=mission.id).status == target


def test_an_invalid_status_cannot_be_stored():
    from django.db import IntegrityError, transaction

    mission = make_mission()
    with pytest.raises(IntegrityError), transaction.atomic():
        Mission.objects.filter(pk=mission.id).update(priority=15)


# The status endpoint's input ----------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_query_parameter_form_is_accepted(api, slash):
    mission = make_mission()
    response = api.post(
        f"/api/missions/{mission.id}/status{slash}?mission_status=RUNNING"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "RUNNING"
    assert Mission.objects.get(pk=mission.id).status == "RUNNING"


def test_query_parameter_form_is_held_to_the_table(api):
    mission = mission_in("COMPLETED")
    response = api.post(f"/api/missions/{mission.id}/status?mission_status=RUNNING")
    assert response.status_code == 409
    assert response.json()["current_status"] == "COMPLETED"


def test_body_wins_over_the_query_parameter(api):
    mission = make_mission()
    response = api.post(
        f"/api/missions/{mission.id}/status?mission_status=RUNNING",
        {"status": "CANCELLED"},
    )
    assert response.status_code == 200
    assert Mission.objects.get(pk=mission.id).status == "CANCELLED"


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("", {"status": "DONE"}),
        ("", {"status": "running"}),
        ("", {"status": ""}),
        ("", {"status": None}),
        ("", {"status": 1}),
        ("", {}),
        ("?mission_status=DONE", None),
        ("?mission_status=", None),
        ("", None),
    ],
    ids=[
        "unknown",
        "lower-case",
        "empty",
        "null",
        "number",
        "missing",
        "query-unknown",
        "query-empty",
        "nothing",
    ],
)
def test_unknown_or_missing_status_is_400_naming_it(api, query, body):
    mission = make_mission()
    before = stored()
    events = EventLogView()
    response = api.post(f"/api/missions/{mission.id}/status{query}", body)
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert Mission.objects.get(pk=mission.id).status == "PENDING"
    assert stored() == before
    assert events.all() == []


def test_a_body_that_is_a_list_is_400(api):
    mission = make_mission()
    response = api.post(f"/api/missions/{mission.id}/status", ["RUNNING"])
    assert response.status_code == 400
    assert Mission.objects.get(pk=mission.id).status == "PENDING"
