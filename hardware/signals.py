"""Hardware signals, sent by the services, and the receivers that emit Charter events.

The services send these after each change (or query the spec asks to record); the
receivers below are the only producers of the hardware events, so REST, admin, the
shell and management commands all emit the same events.
"""

from datetime import datetime

from django.dispatch import Signal, receiver

from brain.events import emit
from hardware.events import (
    COMMAND_ACKNOWLEDGED,
    COMMAND_SENT,
    INFO_QUERIED,
    STATE_QUERIED,
    STATE_REPORTED,
)
from hardware.models import seen_recently

# command: RobotCommand
command_sent = Signal()
# command: RobotCommand, old_status: str
command_acknowledged = Signal()
# robot: Robot, state: RobotState (the latest of the batch), reports: int
state_reported = Signal()
# robot: Robot, queried_at: datetime
state_queried = Signal()
# version: str, queried_at: datetime
info_queried = Signal()


@receiver(command_sent, dispatch_uid="hardware.emit_command_sent")
def emit_command_sent(sender, command, **kwargs) -> None:
    emit(
        COMMAND_SENT.name,
        {
            "robot_id": command.robot_id,
            "command_id": str(command.id),
            "command_type": command.command_type,
            "command": command.velocity,
            "sent_at": command.created_at.timestamp(),
        },
    )


@receiver(command_acknowledged, dispatch_uid="hardware.emit_command_acknowledged")
def emit_command_acknowledged(sender, command, **kwargs) -> None:
    emit(
        COMMAND_ACKNOWLEDGED.name,
        {
            "robot_id": command.robot_id,
            "command_id": str(command.id),
            "status": command.status,
            "detail": command.detail,
            "acknowledged_at": command.updated_at.timestamp(),
        },
    )


@receiver(state_reported, dispatch_uid="hardware.emit_state_reported")
def emit_state_reported(sender, robot, state, reports=1, **kwargs) -> None:
    emit(
        STATE_REPORTED.name,
        {
            "robot_id": robot.robot_id,
            "battery_percentage": state.battery_percentage,
            "online": seen_recently(robot.last_seen),
            "reported_at": state.timestamp.timestamp(),
            "reports": reports,
        },
    )


@receiver(state_queried, dispatch_uid="hardware.emit_state_queried")
def emit_state_queried(sender, robot, queried_at: datetime, **kwargs) -> None:
    emit(
        STATE_QUERIED.name,
        {"robot_id": robot.robot_id, "queried_at": queried_at.timestamp()},
    )


@receiver(info_queried, dispatch_uid="hardware.emit_info_queried")
def emit_info_queried(sender, version: str, queried_at: datetime, **kwargs) -> None:
    emit(INFO_QUERIED.name, {"version": version, "queried_at": queried_at.timestamp()})
