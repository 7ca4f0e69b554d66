"""Reads of robots, their state and their commands."""

import uuid
from typing import Any

from django.db.models import QuerySet

from brain.api.fields import parse_uuid
from brain.errors import NotFound
from hardware import __version__
from hardware.models import Robot, RobotCommand, RobotModel

FEATURES = (
    "robot_registry",
    "state_reporting",
    "state_history",
    "online_detection",
    "movement_commands",
    "command_acknowledgement",
    "live_commands_over_websocket",
)


def hardware_info() -> dict[str, Any]:
    return {
        "name": "BRAiN Hardware",
        "version": __version__,
        "supported_platforms": list(RobotModel.values),
        "features": list(FEATURES),
    }


def robot_list() -> QuerySet[Robot]:
    """Robots with ``is_online``, their latest state and last command: one query."""
    return Robot.objects.with_online().select_related("latest_state", "last_command")


def robot_get(robot_id: str) -> Robot:
    robot = robot_list().filter(pk=robot_id).first()
    if robot is None:
        raise NotFound(f"robot {robot_id!r} not found", robot_id=robot_id)
    return robot


def robot_commands(robot_id: str) -> QuerySet[RobotCommand]:
    """A robot's command history, newest first."""
    if not Robot.objects.filter(pk=robot_id).exists():
        raise NotFound(f"robot {robot_id!r} not found", robot_id=robot_id)
    return (
        RobotCommand.objects.filter(robot_id=robot_id)
        .select_related("sent_by")
        .order_by("-created_at", "-id")
    )


def parse_command_id(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return parse_uuid(value)
    except ValueError:
        raise NotFound(f"command {value!r} not found: not a UUID") from None
