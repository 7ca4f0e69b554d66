"""State reports: validation, history, the latest state, ``online`` and the events."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from hardware.models import Robot, RobotState
from tests.conftest import EventLogView, settle
from tests.delivery import assert_delivered_as_stored
from tests.hardware.conftest import only_event, only_live_event
from tests.hardware.factories import MOTOR, make_robot, report_state, state_body

URL = "/api/hardware/robots/go2-alpha/state"


@pytest.mark.smoke
def test_report_stores_the_state_and_emits_state_reported(
    api, robot, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(URL, state_body(battery_percentage=87.5))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["robot_id"] == "go2-alpha"
    assert body["online"] is True
    assert body["state"]["battery_percentage"] == 87.5
    assert body["state"]["battery_voltage"] == 25.2
    assert [m["motor_id"] for m in body["state"]["motor_states"]] == [0, 1]
    assert body["state"]["imu_data"] == {"roll": 0.01, "pitch": -0.02, "yaw": 1.57}
    state = RobotState.objects.get()
    robot.refresh_from_db()
    assert robot.latest_state == state
    assert robot.last_seen == state.received_at
    # No timestamp sent: the server's time of arrival is the state's time.
    assert state.timestamp == state.received_at
    assert len(callbacks) == 1
    event = only_event(events, "hardware.state_reported")
    assert event["target"] == "robot_go2-alpha"
    assert event["payload"] == {
        "robot_id": "go2-alpha",
        "battery_percentage": 87.5,
        "online": True,
        "reported_at": state.timestamp.timestamp(),
        "reports": 1,
    }
    assert event["meta"]["actor"] == "alice"
    assert_delivered_as_stored(delivered, events.rows())
    assert delivered[0][0].subjects == frozenset({"robot_go2-alpha"})


def test_a_rolled_back_report_stores_and_emits_nothing(
    robot, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            report_state(robot.robot_id)
            assert events.types() == ["hardware.state_reported"]
            raise RuntimeError("abort")
    assert callbacks == []
    assert delivered == []
    assert events.all() == []
    assert not RobotState.objects.exists()
    robot.refresh_from_db()
    assert (robot.latest_state, robot.last_seen) == (None, None)


def test_get_state_returns_the_latest_and_emits_state_queried(
    api, robot, delivered, django_capture_on_commit_callbacks
):
    report_state(robot.robot_id, battery_percentage=70)
    newest = report_state(robot.robot_id, battery_percentage=69)
    settle()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["online"] is True
    assert body["state"]["id"] == newest.id
    assert body["state"]["battery_percentage"] == 69
    assert len(callbacks) == 1
    # Live-only: delivered to the sockets subscribed now, never stored.
    event = only_live_event(delivered, events, "hardware.state_queried")
    assert event["target"] == "robot_go2-alpha"
    assert delivered[0][0].subjects == frozenset({"robot_go2-alpha"})
    assert set(event["payload"]) == {"robot_id", "queried_at"}
    assert event["payload"]["robot_id"] == "go2-alpha"
    assert abs(event["payload"]["queried_at"] - time.time()) < 5


def test_get_state_of_a_robot_that_never_reported(
    api, robot, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.get(URL + "/")
    assert response.status_code == 200
    assert response.json() == {
        "robot_id": "go2-alpha",
        "online": False,
        "last_seen": None,
        "state": None,
    }
    only_live_event(delivered, events, "hardware.state_queried")


def test_get_state_of_an_unknown_robot_is_404_and_emits_nothing(
    api, events, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.get("/api/hardware/robots/nobody/state")
    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]
    assert delivered == []
    assert events.all() == []


def test_report_for_an_unknown_robot_is_404_and_stores_nothing(api, events):
    response = api.post("/api/hardware/robots/nobody/state", state_body())
    assert response.status_code == 404
    assert response.json()["robot_id"] == "nobody"
    assert not RobotState.objects.exists()
    assert events.all() == []


def test_history_is_kept_and_the_newest_timestamp_is_the_state(api, robot):
    now = timezone.now()
    report_state(robot.robot_id, battery_percentage=50, timestamp=now)
    # A backlog flushed after a dropout: stored, but not the robot's state.
    late = api.post(
        URL,
        state_body(
            battery_percentage=90, timestamp=(now - timedelta(minutes=1)).timestamp()
        ),
    )
    assert late.status_code == 201
    assert RobotState.objects.filter(robot=robot).count() == 2
    assert api.get(URL).json()["state"]["battery_percentage"] == 50
    assert (
        api.get(f"/api/hardware/robots/{robot.robot_id}").json()["state"][
            "battery_percentage"
        ]
        == 50
    )


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (1703001300.5, datetime(2023, 12, 19, 15, 55, 0, 500000, tzinfo=UTC)),
        (1703001300, datetime(2023, 12, 19, 15, 55, tzinfo=UTC)),
        ("2023-12-19T15:55:00Z", datetime(2023, 12, 19, 15, 55, tzinfo=UTC)),
        ("2023-12-19T16:55:00+01:00", datetime(2023, 12, 19, 15, 55, tzinfo=UTC)),
    ],
)
def test_timestamp_as_unix_seconds_or_iso(api, robot, sent, stored):
    response = api.post(URL, state_body(timestamp=sent))
    assert response.status_code == 201, response.json()
    assert RobotState.objects.get().timestamp == stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("battery_percentage", 0),
        ("battery_percentage", 100),
        ("battery_percentage", 42.5),
        ("battery_voltage", 0),
        ("battery_voltage", 58.8),
        ("motor_states", []),
        ("imu_data", {}),
    ],
)
def test_values_at_the_bounds_are_accepted(api, robot, field, value):
    response = api.post(URL, state_body(**{field: value}))
    assert response.status_code == 201, response.json()
    assert RobotState.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("battery_percentage", -0.001),
        ("battery_percentage", 100.001),
        ("battery_percentage", 101),
        ("battery_percentage", "87"),
        ("battery_percentage", True),
        ("battery_percentage", None),
        ("battery_voltage", -0.001),
        ("battery_voltage", "25.2"),
        ("battery_voltage", []),
        ("motor_states", {"motor_id": 0}),
        ("motor_states", "none"),
        ("motor_states", [{**MOTOR, "speed": 1}]),
        ("motor_states", [{k: v for k, v in MOTOR.items() if k != "torque"}]),
        ("motor_states", [{**MOTOR, "motor_id": 1.5}]),
        ("motor_states", [{**MOTOR, "motor_id": "1"}]),
        ("motor_states", [{**MOTOR, "angle": "0.5"}]),
        ("motor_states", [{**MOTOR, "temperature": None}]),
        ("motor_states", [MOTOR, MOTOR]),
        ("motor_states", [{**MOTOR, "motor_id": n} for n in range(65)]),
        ("imu_data", [1, 2, 3]),
        ("imu_data", "level"),
        ("timestamp", "yesterday"),
        ("timestamp", True),
        ("timestamp", -1),
        pytest.param("timestamp", time.time() + 3600, id="timestamp-an_hour_ahead"),
        ("robot_id", "b2-bravo"),
        ("firmware", "1.2"),
    ],
)
def test_bad_values_are_refused_naming_the_field(api, robot, events, field, value):
    response = api.post(URL, state_body(**{field: value}))
    assert response.status_code == 400
    assert field in response.json()
    assert not RobotState.objects.exists()
    robot.refresh_from_db()
    assert robot.last_seen is None
    assert events.all() == []


@pytest.mark.parametrize(
    "missing", ["battery_voltage", "battery_percentage", "motor_states", "imu_data"]
)
def test_missing_fields_are_refused(api, robot, events, missing):
    body = state_body()
    del body[missing]
    response = api.post(URL, body)
    assert response.status_code == 400
    assert response.json()[missing] == ["This field is required."]
    assert not RobotState.objects.exists()
    assert events.all() == []


def test_robot_id_in_the_body_may_repeat_the_url(api, robot):
    response = api.post(URL, state_body(robot_id="go2-alpha"))
    assert response.status_code == 201


def test_a_rolled_back_report_leaves_nothing(robot, events):
    with pytest.raises(RuntimeError), transaction.atomic():
        report_state(robot.robot_id)
        raise RuntimeError("abort")
    assert not RobotState.objects.exists()
    robot.refresh_from_db()
    assert robot.last_seen is None
    assert events.all() == []


# Online ------------------------------------------------------------------------


@override_settings(HARDWARE_OFFLINE_AFTER_SECONDS=1)
def test_online_turns_false_after_the_configured_silence(api, robot, time_machine):
    time_machine.move_to(timezone.now())
    assert api.post(URL, state_body()).json()["online"] is True
    detail = f"/api/hardware/robots/{robot.robot_id}"
    assert api.get(detail).json()["online"] is True
    assert api.get("/api/hardware/robots").json()["results"][0]["online"] is True
    time_machine.shift(1.1)
    assert api.get(detail).json()["online"] is False
    assert api.get(URL).json()["online"] is False
    assert api.get("/api/hardware/robots").json()["results"][0]["online"] is False
    assert api.get("/api/hardware/robots?online=true").json()["count"] == 0
    # Reporting again brings it back.
    assert api.post(URL, state_body()).json()["online"] is True
    assert api.get(detail).json()["online"] is True


def test_online_uses_the_default_window_of_30_seconds(api, robot):
    report_state(robot.robot_id)
    detail = f"/api/hardware/robots/{robot.robot_id}"
    Robot.objects.filter(pk=robot.pk).update(
        last_seen=timezone.now() - timedelta(seconds=29)
    )
    assert api.get(detail).json()["online"] is True
    Robot.objects.filter(pk=robot.pk).update(
        last_seen=timezone.now() - timedelta(seconds=30)
    )
    assert api.get(detail).json()["online"] is False
    # The latest state stays readable after the robot went quiet.
    assert api.get(detail).json()["state"]["battery_percentage"] == 87


def test_robots_with_the_same_id_prefix_keep_separate_state(api, db):
    make_robot("go2")
    make_robot("go2-b")
    report_state("go2", battery_percentage=10)
    report_state("go2-b", battery_percentage=20)
    assert (
        api.get("/api/hardware/robots/go2/state").json()["state"]["battery_percentage"]
        == 10
    )
