"""Missions and log lines are written by the services only, with their events: a
shell, a script or ``bulk_create`` cannot store one the dashboards never hear of,
and the services hold every caller to the API's input rules."""

import pytest

from brain.errors import Invalid
from missions import services
from missions.models import Mission, MissionLog
from missions.services import LogLine
from tests.missions.factories import make_mission, stored

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["PENDING", "COMPLETED"])
def test_a_mission_saved_directly_is_refused(status):
    before = stored()
    with pytest.raises(TypeError, match="mission_create"):
        Mission.objects.create(name="from the shell", status=status)
    with pytest.raises(TypeError, match="mission_create"):
        Mission(name="from the shell").save()
    assert stored() == before


def test_bulk_created_missions_are_refused():
    before = stored()
    with pytest.raises(TypeError, match="mission_create"):
        Mission.objects.bulk_create([Mission(name="a"), Mission(name="b")])
    assert stored() == before


def test_bulk_created_log_lines_are_refused():
    mission = make_mission()
    before = stored()
    with pytest.raises(TypeError, match="mission_log_append"):
        MissionLog.objects.bulk_create([MissionLog(mission=mission, message="x")])
    with pytest.raises(TypeError, match="mission_log_append"):
        MissionLog.objects.create(mission=mission, message="x")
    assert stored() == before


def test_a_mission_returned_by_the_service_cannot_then_be_changed_directly():
    mission = make_mission()
    mission.status = "RUNNING"
    with pytest.raises(TypeError, match="mission_set_status"):
        mission.save()
    assert Mission.objects.get(pk=mission.pk).status == "PENDING"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"description": ["no"]}, "description"),
        ({"data": [1, 2]}, "data"),
        ({"data": "text"}, "data"),
        ({"priority": 15}, "priority"),
        ({"priority": True}, "priority"),
    ],
)
def test_the_service_refuses_what_the_api_refuses(overrides, field):
    before = stored()
    with pytest.raises(Invalid) as refused:
        services.mission_create(**{"name": "ok", **overrides})
    assert field in refused.value.detail
    assert stored() == before


def test_the_longest_name_is_accepted():
    assert services.mission_create(name="x" * 200).name == "x" * 200


@pytest.mark.parametrize(
    "line, field",
    [
        (LogLine(""), "lines[1].message"),
        (LogLine("x", level="fatal"), "lines[1].level"),
        (LogLine("x", data=[1]), "lines[1].data"),
        ("just text", "lines[1]"),
    ],
)
def test_log_lines_are_checked_whole_batch_or_nothing(line, field):
    mission = make_mission()
    before = stored()
    with pytest.raises(Invalid) as refused:
        services.mission_log_append(
            mission_id=mission.pk, lines=[LogLine("fine"), line]
        )
    assert refused.value.detail.startswith(field)
    assert stored() == before
