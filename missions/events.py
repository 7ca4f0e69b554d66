"""Missions events.

Order within one change:

- create: `mission.created`, then the `mission.log_appended` of "Mission created";
- status change: `mission.status_changed`, then the `mission.log_appended` of
  "Mission status changed";
- a batch of log lines: one `mission.log_appended` per line, in the order posted.

A refused transition, invalid input or a rolled-back transaction emits nothing.

To follow one mission, subscribe with `subject=mission_<id>`: every mission event
is about its mission.
"""

from pydantic import Field

from brain.events import Payload, declare, declare_subject

SOURCE = "missions_service"
READ = "missions.view_mission"
MISSION = ("mission_{mission_id}",)
declare_subject(
    "mission",
    pattern=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    rule="a mission's id is a UUID, lowercase, with hyphens",
    example="3f2b8c1e-0d4a-4c6e-9b7a-5e1f2d3c4b5a",
)


class MissionCreated(Payload):
    mission_id: str = Field(description="UUID of the mission")
    name: str
    description: str = Field(description='"" if none')
    status: str = Field(description="PENDING")
    created_at: float = Field(description="Unix seconds")


class MissionStatusChanged(Payload):
    mission_id: str = Field(description="UUID of the mission")
    old_status: str
    new_status: str
    changed_at: float = Field(description="Unix seconds")


class MissionLogAppended(Payload):
    mission_id: str = Field(description="UUID of the mission")
    log_level: str = Field(description="debug, info, warning or error")
    message: str
    appended_at: float = Field(description="Unix seconds")


MISSION_CREATED = declare(
    "mission.created",
    source=SOURCE,
    payload=MissionCreated,
    subjects=MISSION,
    retention_days=365,
    read_permission=READ,
    description="A mission was created.",
    trigger="a mission was created (REST, admin, the shell)",
)
MISSION_STATUS_CHANGED = declare(
    "mission.status_changed",
    source=SOURCE,
    payload=MissionStatusChanged,
    target="mission_{mission_id}",
    subjects=MISSION,
    retention_days=365,
    read_permission=READ,
    description="A mission moved from one status to another.",
    trigger="after each status change (REST, claim, admin form or action, "
    "the supervisor failing a dead agent's mission)",
)
MISSION_LOG_APPENDED = declare(
    "mission.log_appended",
    source=SOURCE,
    payload=MissionLogAppended,
    subjects=MISSION,
    retention_days=30,
    read_permission=READ,
    description="A line was appended to a mission's log.",
    trigger="after each log entry, automatic ones included",
)
