"""The five hardware events (see EVENTS.md)."""

from brain.events import declare

SOURCE = "hardware_service"

COMMAND_SENT = declare(
    "hardware.command_sent",
    source=SOURCE,
    target="robot_{robot_id}",
    payload=("robot_id", "command_id", "command_type", "command", "sent_at"),
    description="A movement command was sent to a robot.",
)
COMMAND_ACKNOWLEDGED = declare(
    "hardware.command_acknowledged",
    source=SOURCE,
    target="robot_{robot_id}",
    payload=("robot_id", "command_id", "status", "detail", "acknowledged_at"),
    description="A robot reported a command acknowledged, executed or failed.",
)
STATE_REPORTED = declare(
    "hardware.state_reported",
    source=SOURCE,
    target="robot_{robot_id}",
    payload=("robot_id", "battery_percentage", "online", "reported_at"),
    description="A robot reported its state.",
)
STATE_QUERIED = declare(
    "hardware.state_queried",
    source=SOURCE,
    target="robot_{robot_id}",
    payload=("robot_id", "queried_at"),
    description="Someone read a robot's latest state.",
)
INFO_QUERIED = declare(
    "hardware.info_queried",
    source=SOURCE,
    payload=("version", "queried_at"),
    description="Someone read the hardware module's info.",
)
