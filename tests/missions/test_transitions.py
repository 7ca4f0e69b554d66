"""The transition table, enforced for REST, the services and the model itself."""

import itertools

import pytest

from missions import services
from missions.models import TRANSITIONS, Mission, MissionLog, TransitionRefused
from tests.conftest import EventLogView
from tests.missions.factories import make_mission, mission_in, stored

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


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_model_save_refuses_the_same_transitions(current, target):
    """The shell path: editing the field and saving is held to the same table."""
    mission = mission_in(current)
    mission.status = target
    if current == target:
        mission.save()  # no change at all
    else:
        with pytest.raises(TransitionRefused):
            mission.save()
    assert Mission.objects.get(pk=mission.id).status == current


def test_refresh_from_db_keeps_the_model_check_honest():
    """After a refresh, the check starts from the status just read, not an old one."""
    mission = make_mission()
    services.mission_set_status(mission_id=mission.id, status="RUNNING")
    services.mission_set_status(mission_id=mission.id, status="COMPLETED")
    mission.refresh_from_db()
    assert mission.status == "COMPLETED"
    mission.status = "RUNNING"
    with pytest.raises(TransitionRefused):
        mission.save()
    assert Mission.objects.get(pk=mission.id).status == "COMPLETED"

    running = make_mission()
    services.mission_set_status(mission_id=running.id, status="RUNNING")
    running.refresh_from_db()
    running.status = "COMPLETED"
    with pytest.raises(TypeError, match="mission_set_status"):
        running.save()  # allowed, but only through the service, with its events
    assert Mission.objects.get(pk=running.id).status == "RUNNING"


def test_a_deferred_status_is_still_checked():
    mission = mission_in("COMPLETED")
    partial = Mission.objects.only("name").get(pk=mission.id)
    partial.status = "RUNNING"
    with pytest.raises(TransitionRefused):
        partial.save()
    assert Mission.objects.get(pk=mission.id).status == "COMPLETED"


def test_queryset_update_of_status_is_refused():
    mission = make_mission()
    with pytest.raises(TypeError, match="mission_set_status"):
        Mission.objects.filter(pk=mission.id).update(status="COMPLETED")
    assert Mission.objects.get(pk=mission.id).status == "PENDING"
    # Other fields may still be updated in bulk.
    assert Mission.objects.filter(pk=mission.id).update(priority=40) == 1


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
