"""The wire: a robot's control program receives its own commands, and only those."""

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from hardware.models import RobotCommand
from tests.conftest import token_for
from tests.hardware.factories import make_robot
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)

ZERO = {"linear_x": 0, "linear_y": 0, "angular_z": 0}


async def test_a_robot_socket_receives_its_commands_and_not_another_robots(
    live, make_user
):
    await sync_to_async(make_robot)("robot_a")
    await sync_to_async(make_robot)("robot_b")
    robot_user = await sync_to_async(make_user)("operator", "robot-a-controller")
    robot_token = await sync_to_async(token_for)(robot_user)
    operator = await sync_to_async(make_user)("operator", "dispatcher")
    headers = {"Authorization": f"Token {await sync_to_async(token_for)(operator)}"}

    async with await ws_connect(live, "subject=robot_robot_a", token=robot_token) as ws:
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        async with httpx.AsyncClient(base_url=live.url, headers=headers) as http:
            to_b = await http.post(
                "/api/hardware/robots/robot_b/command", json={**ZERO, "linear_x": 1}
            )
            assert to_b.status_code == 202, to_b.text
            to_a = await http.post(
                "/api/hardware/robots/robot_a/command",
                json={**ZERO, "angular_z": -2},
            )
            assert to_a.status_code == 202, to_a.text
        (event,) = await collect_events(ws, 1)
        assert event["type"] == "hardware.command_sent"
        assert event["source"] == "hardware_service"
        assert event["target"] == "robot_robot_a"
        assert event["payload"]["robot_id"] == "robot_a"
        assert event["payload"]["command_id"] == to_a.json()["command_id"]
        assert event["payload"]["command"] == {
            "linear_x": 0.0,
            "linear_y": 0.0,
            "angular_z": -2.0,
        }
        assert event["meta"]["actor"] == "dispatcher"
        # robot_b's command was sent first; it never arrives here.
        assert await quiet(ws, 1.0) == []


def post_stop_from_admin(user, robot_ids: list[str]):
    """Staff tick robots on the admin changelist and run "Stop", as in a browser."""
    browser = Client()
    browser.force_login(user)
    return browser.post(
        "/admin/hardware/robot/",
        {"action": "stop", "_selected_action": robot_ids},
    )


async def test_the_admin_stop_action_reaches_the_robot_socket_live(live, make_user):
    await sync_to_async(make_robot)("robot_a")
    await sync_to_async(make_robot)("robot_b")
    robot_user = await sync_to_async(make_user)("operator", "robot-a-controller")
    robot_token = await sync_to_async(token_for)(robot_user)
    staff = await sync_to_async(make_user)("superuser", "shift-lead")

    async with await ws_connect(live, "subject=robot_robot_a", token=robot_token) as ws:
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        response = await sync_to_async(post_stop_from_admin)(
            staff, ["robot_a", "robot_b"]
        )
        assert response.status_code == 302
        (event,) = await collect_events(ws, 1, timeout=5.0)
        stop = await sync_to_async(RobotCommand.objects.get)(robot_id="robot_a")
        assert event["type"] == "hardware.command_sent"
        assert event["source"] == "hardware_service"
        assert event["target"] == "robot_robot_a"
        assert event["payload"]["robot_id"] == "robot_a"
        assert event["payload"]["command_id"] == str(stop.id)
        assert event["payload"]["command_type"] == "movement"
        assert event["payload"]["command"] == ZERO
        assert event["meta"]["actor"] == "shift-lead"
        # robot_b was stopped in the same action; its command never arrives here.
        assert await quiet(ws, 1.0) == []
    stopped = RobotCommand.objects.filter(linear_x=0, linear_y=0, angular_z=0)
    assert await stopped.acount() == 2
