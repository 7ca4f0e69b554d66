"""``brain.api.representation``: each representation in use renders exactly what its
serializer renders, value for value and byte for byte once JSON."""

import pytest
from rest_framework.renderers import JSONRenderer

from hardware.models import Robot
from hardware.serializers import RobotStateViewSerializer
from hardware.views import ROBOT_STATE, _state_view
from missions.models import MissionStatus
from missions.serializers import MissionSerializer
from missions.views import MISSION
from tests.hardware.factories import make_robot, report_state
from tests.missions.factories import make_mission, mission_in

pytestmark = pytest.mark.django_db


def same(fast: dict, slow) -> None:
    assert fast == slow
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)


def test_missions_render_as_their_serializer_does():
    missions = [
        make_mission(name="plain"),
        make_mission(name="with data", data={"a": [1, {"b": None}]}, priority=30),
        *(mission_in(status, name=status) for status in MissionStatus.values),
    ]
    for mission in missions:
        same(MISSION(mission), MissionSerializer(mission).data)
    assert MISSION.many(missions) == MissionSerializer(missions, many=True).data
    # The date-times are ISO 8601 in UTC, as DRF writes them.
    assert MISSION(missions[0])["created_at"].endswith("Z")


def test_robot_states_render_as_their_serializer_does():
    make_robot("never-reported")
    make_robot("reported")
    report_state("reported")
    for robot_id in ("never-reported", "reported"):
        robot = Robot.objects.select_related("latest_state").get(pk=robot_id)
        view = _state_view(robot, robot.latest_state)
        same(ROBOT_STATE(view), RobotStateViewSerializer(view).data)
