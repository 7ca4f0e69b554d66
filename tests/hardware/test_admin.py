"""Admin: the robot list, read-only history, registering, and the Stop action."""

import pytest
from django.test import Client

from hardware.models import Robot, RobotCommand
from tests.delivery import assert_delivered_as_stored
from tests.hardware.factories import report_state, send_command

pytestmark = pytest.mark.usefixtures("plain_static_files")

CHANGELIST = "/admin/hardware/robot/"


@pytest.fixture
def admin_client_for(make_user):
    def client_for(role: str = "superuser") -> Client:
        user = make_user(role)
        if role != "superuser":
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return client_for


def test_changelist_shows_model_online_battery_and_last_seen(
    admin_client_for, robot, other_robot
):
    report_state(robot.robot_id, battery_percentage=64.5)
    response = admin_client_for().get(CHANGELIST)
    assert response.status_code == 200
    rows = {r.robot_id: r for r in response.context["cl"].result_list}
    assert rows["go2-alpha"].online is True
    assert rows["b2-bravo"].online is False
    html = response.content.decode()
    assert "64.5" in html
    assert "unitree_b2" in html or "Unitree B2" in html
    for column in ("column-online", "column-battery", "column-last_seen"):
        assert column in html


def test_change_page_shows_history_read_only(admin_client_for, robot):
    report_state(robot.robot_id, battery_percentage=33)
    command = send_command(robot.robot_id, linear_x=0.75)
    response = admin_client_for().get(f"{CHANGELIST}{robot.robot_id}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert str(command.id) in html
    assert "0.75" in html
    formsets = [f.formset for f in response.context["inline_admin_formsets"]]
    assert [fs.queryset.count() for fs in formsets] == [1, 1]
    for inline in response.context["inline_admin_formsets"]:
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission


def test_adding_a_robot_goes_through_the_service(admin_client_for, events):
    response = admin_client_for().post(
        f"{CHANGELIST}add/",
        {
            "robot_id": "go1-new",
            "name": "Newcomer",
            "model": "unitree_go1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Robot.objects.get().name == "Newcomer"
    assert events.all() == []


def test_editing_a_robot_goes_through_the_service(admin_client_for, robot):
    report_state(robot.robot_id)
    send_command(robot.robot_id)
    client = admin_client_for()
    page = client.get(f"{CHANGELIST}{robot.robot_id}/change/")
    data = {"name": "Renamed", "model": "unitree_b2"}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(
                name, field.initial
            )
    response = client.post(f"{CHANGELIST}{robot.robot_id}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    robot.refresh_from_db()
    assert (robot.name, robot.model) == ("Renamed", "unitree_b2")
    assert robot.states.count() == 1
    assert robot.commands.count() == 1


def test_stop_action_sends_a_zero_velocity_command_with_the_event(
    admin_client_for,
    robot,
    other_robot,
    events,
    delivered,
    django_capture_on_commit_callbacks,
):
    client = admin_client_for()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            CHANGELIST,
            {"action": "stop", "_selected_action": ["go2-alpha", "b2-bravo"]},
        )
    assert response.status_code == 302
    commands = RobotCommand.objects.order_by("robot_id")
    assert [(c.robot_id, c.velocity, c.status) for c in commands] == [
        ("b2-bravo", {"linear_x": 0.0, "linear_y": 0.0, "angular_z": 0.0}, "sent"),
        ("go2-alpha", {"linear_x": 0.0, "linear_y": 0.0, "angular_z": 0.0}, "sent"),
    ]
    assert all(c.sent_by == client.user for c in commands)
    # One commit hook per transaction: each robot's command commits on its own,
    # and the test's one transaction holds both.
    assert len(callbacks) == 1
    assert_delivered_as_stored(delivered, events.rows())
    assert {e.subjects for e in delivered[0]} == {
        frozenset({"robot_go2-alpha"}),
        frozenset({"robot_b2-bravo"}),
    }
    sent = events.of_type("hardware.command_sent")
    assert events.types() == ["hardware.command_sent"] * 2
    by_robot = {e["payload"]["robot_id"]: e for e in sent}
    assert set(by_robot) == {"go2-alpha", "b2-bravo"}
    for robot_id, event in by_robot.items():
        assert event["source"] == "hardware_service"
        assert event["target"] == f"robot_{robot_id}"
        assert event["payload"]["command"] == {
            "linear_x": 0.0,
            "linear_y": 0.0,
            "angular_z": 0.0,
        }
        assert event["payload"]["command_type"] == "movement"
        assert event["meta"]["actor"] == client.user.username


def test_stop_is_not_offered_without_the_command_permission(
    admin_client_for, robot, events
):
    client = admin_client_for("viewer")
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["action_form"] is None
    client.post(CHANGELIST, {"action": "stop", "_selected_action": ["go2-alpha"]})
    assert not RobotCommand.objects.exists()
    assert events.all() == []


def test_robots_cannot_be_deleted_from_admin(admin_client_for, robot):
    response = admin_client_for().get(f"{CHANGELIST}{robot.robot_id}/delete/")
    assert response.status_code == 403
    assert Robot.objects.exists()
