"""Hardware events.

Refused input (400), an unknown robot or command (404), an illegal status order
(409) or a rolled-back transaction emits nothing. Registering a robot and `GET` of
the robot list, one robot or its command history emit nothing; reading a robot's
state or the module info emits a live-only event (never stored).

`online` is never stored: a robot is online while its last state report arrived
less than `HARDWARE_OFFLINE_AFTER_SECONDS` (default 30) ago. Going offline is the
absence of reports, so no event marks it; read `online` from the robot, or watch for
`hardware.state_reported` to stop.

## Receiving commands on a robot

A robot's control program opens `/ws/events/?subject=robot_<id>` with
`Authorization: Token <key>`. It receives every event about `robot_<id>` (the
commands sent to it, its acks, its state reports and queries) and no other robot's.
To take only the commands, add `&types=hardware.command_sent`. After a reconnect,
resume with `since=<last seq seen>` so no command sent meanwhile is missed, then
report each one with `POST /api/hardware/commands/<command_id>/ack`.

## Reporting state

- **REST**: `POST /api/hardware/robots/<id>/state` with one report (an object) or a
  batch (a JSON array of at most `HARDWARE_STATE_BATCH_MAX` reports, stored all or
  none in one multi-row INSERT). One `hardware.state_reported` per request: the
  latest report's values, and `reports`, how many it stands for.
- **On the socket** (for a robot that streams, e.g. at 10 Hz): send
  `{"action": "state", "robot_id": "<id>", "ref": "<your id>", "state": {<the same
  fields>}}`. The server stores the frames of all its sockets together every
  `HARDWARE_TELEMETRY_FLUSH_SECONDS` (20 ms) in one transaction and answers each
  `{"control": "state_ack", "ref": ..., "id": <stored id>}` once it committed — an
  acknowledged report survives a crash — or `{"control": "error", "ref": ...,
  "detail": ...}` naming the problem (nothing stored for that frame; the socket
  stays open). Send again what was not acknowledged when a socket drops.
  These reports are announced coalesced: at most one `hardware.state_reported` per
  robot per `HARDWARE_STATE_EVENT_SECONDS` (1 s) with the latest values and the
  count, and the last interval's when it ends. Dashboards want the current state,
  not ten events a second per robot; the full series is in the state table. A
  report acknowledged in the last interval before a crash is stored but may miss
  its announcement.

Status order for acks: `sent → acknowledged → executed | failed`, and
`sent → executed | failed` directly; `executed` and `failed` are final. Anything
else, including repeating the current status, is refused with 409 and
`current_status`.
"""

from pydantic import Field

from brain.events import Payload, declare, declare_subject
from hardware.models import ROBOT_ID_PATTERN

SOURCE = "hardware_service"
READ = "hardware.view_robot"
ROBOT_TARGET = "robot_{robot_id}"
declare_subject(
    "robot",
    pattern=ROBOT_ID_PATTERN.strip("^$"),
    rule="a robot's id is 1 to 64 lowercase letters, digits, _ or -",
    example="go2-alpha",
)
ROBOT = ("robot_{robot_id}",)


class CommandSent(Payload):
    robot_id: str
    command_id: str = Field(description="UUID string")
    command_type: str = Field(description="movement")
    command: dict[str, float] = Field(
        description="{linear_x, linear_y, angular_z}, floats"
    )
    sent_at: float = Field(description="Unix seconds")


class CommandAcknowledged(Payload):
    robot_id: str
    command_id: str = Field(description="UUID string")
    status: str = Field(description="acknowledged, executed or failed")
    detail: str = Field(description='"" if none')
    acknowledged_at: float = Field(description="Unix seconds")


class StateReported(Payload):
    robot_id: str
    battery_percentage: float = Field(description="0-100")
    online: bool = Field(description="the robot's liveness after the report")
    reported_at: float = Field(
        description="the report's timestamp: the robot's clock if it sent one, "
        "else arrival time"
    )
    reports: int = Field(
        description="how many reports of this robot the event stands for: 1 for a "
        "single REST report, more for a batch or the socket's flush window; the "
        "values are the latest report's"
    )


class StateQueried(Payload):
    robot_id: str
    queried_at: float = Field(description="Unix seconds")


class InfoQueried(Payload):
    version: str
    queried_at: float = Field(description="Unix seconds")


COMMAND_SENT = declare(
    "hardware.command_sent",
    source=SOURCE,
    payload=CommandSent,
    target=ROBOT_TARGET,
    subjects=ROBOT,
    retention_days=90,
    read_permission=READ,
    description="A movement command was sent to a robot.",
    trigger="a movement command was stored as sent (POST "
    "/api/hardware/robots/{id}/command, admin Stop)",
)
COMMAND_ACKNOWLEDGED = declare(
    "hardware.command_acknowledged",
    source=SOURCE,
    payload=CommandAcknowledged,
    target=ROBOT_TARGET,
    subjects=ROBOT,
    retention_days=90,
    read_permission=READ,
    description="A robot reported a command acknowledged, executed or failed.",
    trigger="POST /api/hardware/commands/{id}/ack, once per accepted report",
)
STATE_REPORTED = declare(
    "hardware.state_reported",
    source=SOURCE,
    payload=StateReported,
    target=ROBOT_TARGET,
    subjects=ROBOT,
    retention_days=7,
    read_permission=READ,
    description="A robot reported its state: one event per robot per stored batch, "
    "with the latest values.",
    trigger="state reports were stored (POST /api/hardware/robots/{id}/state, one "
    "report or a batch; the socket's state frames, flushed together)",
)
STATE_QUERIED = declare(
    "hardware.state_queried",
    source=SOURCE,
    payload=StateQueried,
    target=ROBOT_TARGET,
    subjects=ROBOT,
    live_only=True,
    read_permission=READ,
    description="Someone read a robot's latest state.",
    trigger="GET /api/hardware/robots/{id}/state",
)
INFO_QUERIED = declare(
    "hardware.info_queried",
    source=SOURCE,
    payload=InfoQueried,
    live_only=True,
    read_permission=READ,
    description="Someone read the hardware module's info.",
    trigger="GET /api/hardware/info",
)
