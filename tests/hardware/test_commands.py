"""Movement commands: bounds, strict numbers, acknowledgement order and the events."""

import uuid

import pytest
from django.db import transaction

from hardware import services
from hardware.models import Robot, RobotCommand
from tests.conftest import EventLogView, settle
from tests.delivery import assert_delivered_as_stored
from tests.hardware.conftest import only_event
from tests.hardware.factories import make_robot, send_command

URL = "/api/hardware/robots/go2-alpha/command"
ZERO = {"linear_x": 0, "linear_y": 0, "angular_z": 0}


def ack_url(command_id) -> str:
    return f"/api/hardware/commands/{command_id}/ack"


@pytest.mark.smoke
def test_send_stores_the_command_and_emits_command_sent(
    api, robot, events, delivered, django_capture_on_commit_callbacks
):
    body = {"linear_x": 0.5, "linear_y": -0.25, "angular_z": 1}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(URL, body)
    assert response.status_code == 202, response.json()
    command = RobotCommand.objects.get()
    reply = response.json()
    assert reply["robot_id"] == "go2-alpha"
    assert reply["command_id"] == str(command.id)
    assert reply["status"] == "command_sent"
    assert reply["command"] == {
        "command_id": str(command.id),
        "robot_id": "go2-alpha",
        "command_type": "movement",
        "linear_x": 0.5,
        "linear_y": -0.25,
        "angular_z": 1.0,
        "status": "sent",
        "detail": "",
        "sent_by": "alice",
        "created_at": reply["command"]["created_at"],
        "updated_at": reply["command"]["updated_at"],
    }
    assert command.sent_by == api.user
    assert len(callbacks) == 1
    event = only_event(events, "hardware.command_sent")
    assert event["target"] == "robot_go2-alpha"
    assert event["payload"] == {
        "robot_id": "go2-alpha",
        "command_id": str(command.id),
        "command_type": "movement",
        "command": {"linear_x": 0.5, "linear_y": -0.25, "angular_z": 1.0},
        "sent_at": command.created_at.timestamp(),
    }
    assert event["meta"]["actor"] == "alice"
    assert_delivered_as_stored(delivered, events.rows())
    # What a robot's control program subscribed to subject=robot_<id> receives.
    assert delivered[0][0].subjects == frozenset({"robot_go2-alpha"})


def test_trailing_slash_works_too(api, robot):
    assert api.post(URL + "/", ZERO).status_code == 202


BOUNDS = {"linear_x": (-1, 1), "linear_y": (-1, 1), "angular_z": (-2, 2)}
AT_BOUNDS = [(f, v) for f, (lo, hi) in BOUNDS.items() for v in (lo, hi, lo + 0.0)]
PAST_BOUNDS = [
    (f, v) for f, (lo, hi) in BOUNDS.items() for v in (lo - 0.001, hi + 0.001)
] + [("linear_x", 1.0000001), ("angular_z", -2.0000001), ("angular_z", 3)]


@pytest.mark.parametrize(("field", "value"), AT_BOUNDS)
def test_values_at_each_bound_are_accepted(api, robot, events, field, value):
    response = api.post(URL, {**ZERO, field: value})
    assert response.status_code == 202, response.json()
    assert getattr(RobotCommand.objects.get(), field) == value
    assert events.types() == ["hardware.command_sent"]


@pytest.mark.parametrize(("field", "value"), PAST_BOUNDS)
def test_values_just_past_each_bound_are_refused(api, robot, events, field, value):
    response = api.post(URL, {**ZERO, field: value})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert "between" in body[field][0]
    assert not RobotCommand.objects.exists()
    assert events.all() == []


@pytest.mark.parametrize("field", list(BOUNDS))
@pytest.mark.parametrize("value", ["0.5", "0", True, False, None, [], {}, ""])
def test_non_numbers_are_refused(api, robot, events, field, value):
    response = api.post(URL, {**ZERO, field: value})
    assert response.status_code == 400
    assert list(response.json()) == [field]
    if value is not None:
        assert response.json()[field] == ["A JSON number is required."]
    assert not RobotCommand.objects.exists()
    assert events.all() == []


@pytest.mark.parametrize("field", list(BOUNDS))
def test_missing_values_are_refused(api, robot, events, field):
    body = {k: v for k, v in ZERO.items() if k != field}
    response = api.post(URL, body)
    assert response.status_code == 400
    assert response.json() == {field: ["This field is required."]}
    assert not RobotCommand.objects.exists()
    assert events.all() == []


def test_an_empty_body_names_every_field(api, robot):
    response = api.post(URL, {})
    assert response.status_code == 400
    assert set(response.json()) == set(BOUNDS)


def test_infinity_is_refused_naming_the_field(api, robot, events):
    # 1e400 is valid JSON that Python reads as infinity.
    raw = '{"linear_x": 1e400, "linear_y": 0, "angular_z": 0}'
    response = api.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert "linear_x" in response.json()
    assert not RobotCommand.objects.exists()
    assert events.all() == []


def test_nan_is_refused(api, robot, events):
    raw = '{"linear_x": NaN, "linear_y": 0, "angular_z": 0}'
    response = api.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert not RobotCommand.objects.exists()
    assert events.all() == []


def test_form_encoded_strings_are_refused(api, robot):
    response = api.post(
        URL, {"linear_x": "0.5", "linear_y": "0", "angular_z": "0"}, format="multipart"
    )
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"speed": 1}, "speed"),
        ({"command_type": "jump"}, "command_type"),
        ({"robot_id": "b2-bravo"}, "robot_id"),
    ],
)
def test_unknown_or_contradicting_fields_are_refused(api, robot, extra, field):
    response = api.post(URL, {**ZERO, **extra})
    assert response.status_code == 400
    assert field in response.json()
    assert not RobotCommand.objects.exists()


def test_command_type_and_robot_id_may_be_repeated(api, robot):
    body = {**ZERO, "command_type": "movement", "robot_id": "go2-alpha"}
    assert api.post(URL, body).status_code == 202


def test_a_command_to_an_unknown_robot_is_404(api, events):
    response = api.post("/api/hardware/robots/nobody/command", ZERO)
    assert response.status_code == 404
    assert response.json()["robot_id"] == "nobody"
    assert not RobotCommand.objects.exists()
    assert events.all() == []


def test_the_service_refuses_out_of_range_values_on_any_path(robot, events):
    from brain.errors import Invalid

    with pytest.raises(Invalid) as refused:
        send_command(robot.robot_id, angular_z=2.5)
    assert refused.value.extra == {"field": "angular_z"}
    with pytest.raises(Invalid):
        send_command(robot.robot_id, linear_x="0.5")
    assert not RobotCommand.objects.exists()
    assert events.all() == []


def test_a_rolled_back_command_leaves_nothing(
    robot, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            send_command(robot.robot_id)
            assert events.types() == ["hardware.command_sent"]
            raise RuntimeError("abort")
    assert callbacks == []
    assert delivered == []
    assert not RobotCommand.objects.exists()
    assert Robot.objects.get().last_command is None
    assert events.all() == []


# Acknowledgement --------------------------------------------------------------


def test_ack_updates_the_status_and_emits_command_acknowledged(
    api, robot, delivered, django_capture_on_commit_callbacks
):
    command = send_command(robot.robot_id)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            ack_url(command.id), {"status": "acknowledged", "detail": "walking"}
        )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "acknowledged"
    assert response.json()["detail"] == "walking"
    command.refresh_from_db()
    assert command.status == "acknowledged"
    assert len(callbacks) == 1
    event = only_event(events, "hardware.command_acknowledged")
    assert event["target"] == "robot_go2-alpha"
    assert event["payload"] == {
        "robot_id": "go2-alpha",
        "command_id": str(command.id),
        "status": "acknowledged",
        "detail": "walking",
        "acknowledged_at": command.updated_at.timestamp(),
    }
    assert_delivered_as_stored(delivered, events.rows())
    assert delivered[0][0].subjects == frozenset({"robot_go2-alpha"})


@pytest.mark.parametrize(
    "statuses",
    [
        ["acknowledged", "executed"],
        ["acknowledged", "failed"],
        ["executed"],
        ["failed"],
    ],
)
def test_allowed_status_orders(api, robot, events, statuses):
    command = send_command(robot.robot_id)
    for status in statuses:
        response = api.post(ack_url(command.id) + "/", {"status": status})
        assert response.status_code == 200, response.json()
    command.refresh_from_db()
    assert command.status == statuses[-1]
    acks = events.of_type("hardware.command_acknowledged")
    assert [e["payload"]["status"] for e in acks] == statuses


@pytest.mark.parametrize(
    ("done", "refused"),
    [
        (["executed"], "acknowledged"),
        (["executed"], "failed"),
        (["executed"], "executed"),
        (["failed"], "executed"),
        (["failed"], "acknowledged"),
        (["acknowledged"], "acknowledged"),
        (["acknowledged", "executed"], "failed"),
    ],
)
def test_illegal_status_orders_are_409(api, robot, events, done, refused):
    command = send_command(robot.robot_id)
    for status in done:
        services.command_acknowledge(command_id=command.id, status=status)
    before = len(events.all())
    response = api.post(ack_url(command.id), {"status": refused})
    assert response.status_code == 409
    body = response.json()
    assert body["current_status"] == done[-1]
    assert body["requested_status"] == refused
    assert done[-1] in body["detail"]
    command.refresh_from_db()
    assert command.status == done[-1]
    assert len(events.all()) == before


@pytest.mark.parametrize("status", ["sent", "done", "", None])
def test_ack_with_an_unknown_status_is_400(api, robot, status):
    command = send_command(robot.robot_id)
    response = api.post(ack_url(command.id), {"status": status})
    assert response.status_code == 400
    assert "status" in response.json()
    command.refresh_from_db()
    assert command.status == "sent"


@pytest.mark.parametrize(
    "command_id", [pytest.param(str(uuid.uuid4()), id="unknown-uuid"), "not-a-uuid"]
)
def test_ack_of_an_unknown_command_is_404(api, events, command_id):
    response = api.post(ack_url(command_id), {"status": "executed"})
    assert response.status_code == 404
    assert events.all() == []


def test_ack_detail_replaces_the_previous_one(api, robot):
    command = send_command(robot.robot_id)
    api.post(ack_url(command.id), {"status": "acknowledged", "detail": "on it"})
    api.post(ack_url(command.id), {"status": "failed", "detail": "motor 3 hot"})
    command.refresh_from_db()
    assert (command.status, command.detail) == ("failed", "motor 3 hot")


def test_a_rolled_back_ack_leaves_the_status_and_emits_nothing(
    robot, delivered, django_capture_on_commit_callbacks
):
    command = send_command(robot.robot_id)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.command_acknowledge(command_id=command.id, status="executed")
            assert events.types() == ["hardware.command_acknowledged"]
            raise RuntimeError("abort")
    command.refresh_from_db()
    assert command.status == "sent"
    assert callbacks == []
    assert delivered == []
    assert events.all() == []


# History ----------------------------------------------------------------------


def test_history_is_newest_first_and_per_robot(api, robot, other_robot):
    first = send_command(robot.robot_id, linear_x=0.1)
    send_command(other_robot.robot_id)
    second = send_command(robot.robot_id, linear_x=0.2)
    services.command_acknowledge(command_id=first.id, status="executed")
    body = api.get("/api/hardware/robots/go2-alpha/commands").json()
    assert body["count"] == 2
    assert [c["command_id"] for c in body["results"]] == [
        str(second.id),
        str(first.id),
    ]
    assert body["results"][1]["status"] == "executed"
    executed = api.get("/api/hardware/robots/go2-alpha/commands/?status=executed")
    assert [c["command_id"] for c in executed.json()["results"]] == [str(first.id)]
    assert api.get(URL + "s?status=bogus").status_code == 400


def test_history_of_an_unknown_robot_is_404(api):
    assert api.get("/api/hardware/robots/nobody/commands").status_code == 404


@pytest.mark.parametrize("size", [2, 15])
def test_history_reads_in_constant_queries(api, robot, django_assert_num_queries, size):
    for _ in range(size):
        services.robot_command_send(
            robot_id=robot.robot_id,
            linear_x=0,
            linear_y=0,
            angular_z=0,
            sent_by=api.user,
        )
    # Token lookup, the user's permissions (its own and its groups'), robot exists,
    # count, page (sender joined).
    with django_assert_num_queries(6):
        body = api.get("/api/hardware/robots/go2-alpha/commands").json()
    assert len(body["results"]) == size
    assert {c["sent_by"] for c in body["results"]} == {"alice"}


def test_history_is_paginated(api, robot):
    for _ in range(3):
        send_command(robot.robot_id)
    page = api.get("/api/hardware/robots/go2-alpha/commands?page_size=2").json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"] is not None


def test_last_command_on_the_robot_follows_its_status(api, robot):
    command = send_command(robot.robot_id)
    services.command_acknowledge(command_id=command.id, status="acknowledged")
    body = api.get("/api/hardware/robots/go2-alpha").json()
    assert body["last_command"]["command_id"] == str(command.id)
    assert body["last_command"]["status"] == "acknowledged"
    make_robot("quiet-one")
    assert api.get("/api/hardware/robots/quiet-one").json()["last_command"] is None
