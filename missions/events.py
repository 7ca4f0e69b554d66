"""The three mission events (see EVENTS.md)."""

from brain.events import declare

SOURCE = "missions_service"

MISSION_CREATED = declare(
    "mission.created",
    source=SOURCE,
    payload=("mission_id", "name", "description", "status", "created_at"),
    description="A mission was created.",
)
MISSION_STATUS_CHANGED = declare(
    "mission.status_changed",
    source=SOURCE,
    target="mission_{mission_id}",
    payload=("mission_id", "old_status", "new_status", "changed_at"),
    description="A mission moved from one status to another.",
)
MISSION_LOG_APPENDED = declare(
    "mission.log_appended",
    source=SOURCE,
    payload=("mission_id", "log_level", "message", "appended_at"),
    description="A line was appended to a mission's log.",
)
