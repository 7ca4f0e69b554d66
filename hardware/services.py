"""Every write to robots, state reports and commands; views and admin call these.

Two reads live here too, ``hardware_info_query`` and ``robot_state_query``: the spec
announces each of them with an event, a live-only one that writes nothing.
"""

import contextlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from brain.access import machines
from brain.db import copy_with_ids, mark_saved
from brain.errors import Conflict, Forbidden, Invalid, NotFound
from brain.events.context import event_context
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


@dataclass(frozen=True)
class StateReport:
    """One state report, as the REST body and the socket's ``state`` frame give it."""

    robot_id: str
    battery_voltage: float
    battery_percentage: float
    motor_states: list[dict[str, Any]]
    imu_data: dict[str, Any]
    timestamp: datetime | None = None


def robot_report_state(
    *,
    robot_id: str,
    battery_voltage: float,
    battery_percentage: float,
    motor_states: list[dict[str, Any]],
    imu_data: dict[str, Any],
    timestamp: datetime | None = None,
) -> tuple[Robot, RobotState]:
    """Store a state report and mark the robot seen now (see
    ``robot_report_states``)."""
    report = StateReport(
        robot_id=robot_id,
        battery_voltage=battery_voltage,
        battery_percentage=battery_percentage,
        motor_states=motor_states,
        imu_data=imu_data,
        timestamp=timestamp,
    )
    (state,) = robot_report_states([report])
    return state.robot, state


# From this many reports in one batch, PostgreSQL gets them by COPY.
COPY_MIN_REPORTS = 8
_STATE_COLUMNS = (
    "robot_id",
    "battery_voltage",
    "battery_percentage",
    "motor_states",
    "imu_data",
    "timestamp",
    "received_at",
)


@transaction.atomic
def robot_report_states(
    reports: list[StateReport],
    *,
    announce: bool = True,
    actors: dict[str, str] | None = None,
) -> list[RobotState]:
    """Store state reports, of one robot or several, all or none, in one
    multi-row INSERT; each robot is marked seen now.

    A report becomes its robot's state unless a stored report has a newer
    ``timestamp`` (a robot flushing a backlog after a dropout). Each robot gets one
    ``hardware.state_reported`` event for the batch: its latest report's values and
    how many reports it stands for (``reports``); the full series is in the state
    table. An unknown robot is a 404 and nothing is stored. Robots are locked in id
    order, so concurrent batches never wait on each other in a circle.

    ``announce=False`` stores without events (the socket's telemetry coalesces them,
    see ``hardware.telemetry`` and ``robot_states_announce``); ``actors`` names who
    reported for each robot (``meta.actor``) when there is no request to say it.
    """
    if not reports:
        return []
    for number, report in enumerate(reports):
        for field, value, low, high in (
            ("battery_percentage", report.battery_percentage, 0, 100),
            ("battery_voltage", report.battery_voltage, 0, None),
        ):
            error = number_error(value, low=low, high=high)
            if error:
                where = field if len(reports) == 1 else f"{number}.{field}"
                raise Invalid(f"{where}: {error}", field=where)
    wanted = sorted({report.robot_id for report in reports})
    # The robots locked, each with its stored latest report's time (one query).
    robots = {
        robot.pk: robot
        for robot in Robot.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=wanted)
        .annotate(latest_stored_at=F("latest_state__timestamp"))
        .order_by("pk")
    }
    missing = [robot_id for robot_id in wanted if robot_id not in robots]
    if missing:
        raise NotFound(f"robot {missing[0]!r} not found", robot_id=missing[0])
    now = timezone.now()
    states = [
        RobotState(
            robot=robots[report.robot_id],
            battery_voltage=float(report.battery_voltage),
            battery_percentage=float(report.battery_percentage),
            motor_states=report.motor_states,
            imu_data=report.imu_data,
            timestamp=report.timestamp or now,
            received_at=now,
        )
        for report in reports
    ]
    if connection.vendor == "postgresql" and len(states) >= COPY_MIN_REPORTS:
        ids = copy_with_ids(
            connection,
            RobotState._meta.db_table,
            _STATE_COLUMNS,
            (
                (
                    s.robot_id,
                    s.battery_voltage,
                    s.battery_percentage,
                    json.dumps(s.motor_states),
                    json.dumps(s.imu_data),
                    s.timestamp,
                    s.received_at,
                )
                for s in states
            ),
        )
        mark_saved(states, ids, connection.alias)
    else:
        RobotState.objects.bulk_create(states)
    by_robot: dict[str, list[RobotState]] = {}
    for state in states:
        by_robot.setdefault(state.robot_id, []).append(state)
    for robot_id, robot_states in by_robot.items():
        robot = robots[robot_id]
        newest = max(robot_states, key=lambda state: (state.timestamp, state.pk))
        robot.last_seen = now
        update_fields = ["last_seen"]
        stored = robot.latest_stored_at
        if stored is None or newest.timestamp >= stored:
            robot.latest_state = newest
            update_fields.append("latest_state")
        robot.save(update_fields=update_fields)
        if announce:
            with _acting(actors, robot_id):
                state_reported.send(
                    sender=RobotState,
                    robot=robot,
                    state=newest,
                    reports=len(robot_states),
                )
    return states


@transaction.atomic
def robot_states_announce(
    latest: dict[str, tuple[int, int]], *, actors: dict[str, str] | None = None
) -> None:
    """Emit ``hardware.state_reported`` for reports already stored: for each robot,
    ``(id of its latest stored report, how many reports the event stands for)``."""
    states = (
        RobotState.objects.select_related("robot")
        .filter(pk__in=[state_id for state_id, _ in latest.values()])
        .order_by("robot_id")
    )
    for state in states:
        _, count = latest[state.robot_id]
        with _acting(actors, state.robot_id):
            state_reported.send(
                sender=RobotState, robot=state.robot, state=state, reports=count
            )


def _acting(actors: dict[str, str] | None, robot_id: str):
    if actors and robot_id in actors:
        return event_context(actor=actors[robot_id])
    return contextlib.nullcontext()


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
