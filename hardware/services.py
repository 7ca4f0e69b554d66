"""Every write to robots, state reports and commands; views and admin call these.

Two reads live here too, ``hardware_info_query`` and ``robot_state_query``: the spec
announces each of them with an event, a live-only one that writes nothing.
"""

import re
import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from brain.access import machines
from brain.errors import Conflict, Forbidden, Invalid, NotFound
from hardware import selectors
from hardware.models import (
    COMMAND_TRANSITIONS,
    REPORTABLE_STATUSES,
    ROBOT_ID_PATTERN,
    CommandTransitionRefused,
    CommandType,
    Robot,
    RobotCommand,
    RobotModel,
    RobotState,
    number_error,
    velocity_error,
)
from hardware.signals import (
    command_acknowledged,
    command_sent,
    info_queried,
    state_queried,
    state_reported,
)

ROBOT_ID = re.compile(ROBOT_ID_PATTERN)


def _locked_robot(robot_id: str) -> Robot:
    # ``of`` keeps the lock on the robot row: the joined state may be absent, and
    # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    robot = (
        Robot.objects.select_for_update(of=("self",))
        .select_related("latest_state")
        .filter(pk=robot_id)
        .first()
    )
    if robot is None:
        raise NotFound(f"robot {robot_id!r} not found", robot_id=robot_id)
    return robot


def _check_robot(*, name: str, model: str) -> None:
    if not name or not name.strip():
        raise Invalid("name: must not be blank", field="name")
    if model not in RobotModel.values:
        raise Invalid(
            f"model: {model!r} is not one of {', '.join(RobotModel.values)}",
            field="model",
        )


@transaction.atomic
def robot_register(*, robot_id: str, name: str, model: str) -> Robot:
    """Register a robot under a client-chosen id; an id that exists is refused (409)."""
    if not isinstance(robot_id, str) or not ROBOT_ID.fullmatch(robot_id):
        raise Invalid(f"robot_id: {robot_id!r} is not a valid id", field="robot_id")
    _check_robot(name=name, model=model)
    robot = Robot(robot_id=robot_id, name=name.strip(), model=model)
    try:
        with transaction.atomic():
            robot.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            f"robot {robot_id!r} already exists", robot_id=robot_id
        ) from None
    return robot


@transaction.atomic
def robot_update(*, robot_id: str, name: str, model: str) -> Robot:
    """Rename a robot or correct its model; its id never changes."""
    _check_robot(name=name, model=model)
    robot = _locked_robot(robot_id)
    robot.name, robot.model = name.strip(), model
    robot.save(update_fields=["name", "model"])
    return robot


@transaction.atomic
def robot_report_state(
    *,
    robot_id: str,
    battery_voltage: float,
    battery_percentage: float,
    motor_states: list[dict[str, Any]],
    imu_data: dict[str, Any],
    timestamp: datetime | None = None,
) -> tuple[Robot, RobotState]:
    """Store a state report and mark the robot seen now.

    The report becomes the robot's state unless an earlier-stored report has a newer
    ``timestamp`` (a robot flushing a backlog after a dropout).
    """
    for field, value, low, high in (
        ("battery_percentage", battery_percentage, 0, 100),
        ("battery_voltage", battery_voltage, 0, None),
    ):
        error = number_error(value, low=low, high=high)
        if error:
            raise Invalid(f"{field}: {error}", field=field)
    robot = _locked_robot(robot_id)
    now = timezone.now()
    state = RobotState(
        robot=robot,
        battery_voltage=float(battery_voltage),
        battery_percentage=float(battery_percentage),
        motor_states=motor_states,
        imu_data=imu_data,
        timestamp=timestamp or now,
        received_at=now,
    )
    state.save(force_insert=True)
    robot.last_seen = now
    update_fields = ["last_seen"]
    latest = robot.latest_state
    if latest is None or state.timestamp >= latest.timestamp:
        robot.latest_state = state
        update_fields.append("latest_state")
    robot.save(update_fields=update_fields)
    state_reported.send(sender=RobotState, robot=robot, state=state)
    return robot, state


def robot_state_query(*, robot_id: str) -> Robot:
    """The robot with its latest state; the read is announced (live-only)."""
    robot = selectors.robot_get(robot_id)
    state_queried.send(sender=Robot, robot=robot, queried_at=timezone.now())
    return robot


def hardware_info_query() -> dict[str, Any]:
    """The module's name, version, platforms and features; announced (live-only)."""
    info = selectors.hardware_info()
    info_queried.send(sender=Robot, version=info["version"], queried_at=timezone.now())
    return info


@transaction.atomic
def robot_command_send(
    *,
    robot_id: str,
    linear_x: float,
    linear_y: float,
    angular_z: float,
    sent_by: AbstractBaseUser | None = None,
) -> RobotCommand:
    """Store a movement command as ``sent``; the robot receives it over its socket."""
    velocity = {"linear_x": linear_x, "linear_y": linear_y, "angular_z": angular_z}
    for field, value in velocity.items():
        error = velocity_error(field, value)
        if error:
            raise Invalid(f"{field}: {error}", field=field)
    robot = _locked_robot(robot_id)
    if sent_by is not None and not sent_by.is_authenticated:
        sent_by = None
    command = RobotCommand(
        robot=robot,
        command_type=CommandType.MOVEMENT,
        sent_by=sent_by,
        **{field: float(value) for field, value in velocity.items()},
    )
    command.save(force_insert=True)
    robot.last_command = command
    robot.save(update_fields=["last_command"])
    command_sent.send(sender=RobotCommand, command=command)
    return command


@transaction.atomic
def command_acknowledge(
    *,
    command_id: uuid.UUID | str,
    status: str,
    detail: str = "",
    holder: str | None = None,
) -> RobotCommand:
    """Record what the robot reports about a command, in the allowed order only.

    ``detail`` is the robot's word on this report and replaces the previous one.
    ``holder``: the robot acting with its own token, which acknowledges only its own
    commands (403 otherwise); None for an operator.
    """
    if status not in REPORTABLE_STATUSES:
        raise Invalid(
            f"status: {status!r} is not one of {', '.join(REPORTABLE_STATUSES)}",
            field="status",
        )
    pk = selectors.parse_command_id(command_id)
    command = (
        RobotCommand.objects.select_for_update(of=("self",))
        .select_related("sent_by")
        .filter(pk=pk)
        .first()
    )
    if command is None:
        raise NotFound(f"command {command_id} not found", command_id=str(command_id))
    if holder is not None and command.robot_id != holder:
        raise Forbidden(
            f"command {command.id} is for robot {command.robot_id}; robot {holder} "
            "may only acknowledge its own commands",
            command_id=str(command.id),
        )
    old_status = command.status
    if status not in COMMAND_TRANSITIONS[old_status]:
        raise CommandTransitionRefused(
            command_id=command.id, current=old_status, requested=status
        )
    command.status = status
    command.detail = detail or ""
    command.save(update_fields=["status", "detail", "updated_at"])
    command_acknowledged.send(
        sender=RobotCommand, command=command, old_status=old_status
    )
    return command


# Robot tokens -------------------------------------------------------------------------

# What a robot's own token may do (brain.access.machines): report its own state,
# acknowledge its own commands, and receive its own commands on the socket.
ROBOT_TOKEN_PERMISSIONS = (
    "hardware.view_robot",
    "hardware.add_robotstate",
    "hardware.change_robotcommand",
)


def robot_token_issue(*, robot_id: str) -> str:
    """A token of the robot's own (201, shown once), replacing any earlier one."""
    robot = selectors.robot_get(robot_id)
    return machines.machine_token_issue(
        kind="robot",
        ident=robot.robot_id,
        permissions=ROBOT_TOKEN_PERMISSIONS,
        label=robot.name,
    )


def robot_token_revoke(*, robot_id: str) -> None:
    selectors.robot_get(robot_id)
    machines.machine_token_revoke(kind="robot", ident=robot_id)
