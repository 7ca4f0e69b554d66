"""Supervisor events.

States are `healthy degraded paused offline unknown`: an agent reports `healthy` or
`degraded` in its heartbeats, an operator sets `paused`, `offline` means killed or
silent past the heartbeat window, `unknown` registered (or restarted) and not heard
from since. Only a `healthy` or `degraded` agent may claim a mission
(`POST /api/missions/claim`; 409 naming the state otherwise, 404 for an agent that
is not registered).

## Transitions

{table}

A refused step is a `409` naming `current_state` (and `killed`); nothing changes and
nothing is emitted.

## What is emitted

- Every accepted control action (REST `POST /api/supervisor/control` or an admin
  action) emits `supervisor.agent_controlled`, targeted at `agent_<id>`: the agent's
  own socket (its token follows only `agent_<id>`) receives it and obeys — a paused
  agent stops taking work, a killed one stops beating, a restarted one beats again.
  It records who did it (`actor`, as in `meta.actor`) and why.
- `supervisor.agent_state_changed` follows whenever what the agent counts as
  changes: a control action (`reason` `"<action>: <reason given>"`, or
  `"<action>: no reason given"`; admin actions give `"requested in admin by
  <user>"`), a heartbeat (`"heartbeat"`), or the offline check (`"no heartbeat for
  <N> s"`). `old_state` is what the agent counted as.
- Updating a known agent (`POST /api/supervisor/agents` answering 200, or an admin
  change) emits nothing: it is not a registration and changes no state. Reading the
  health, the status or the agent list emits a live-only event (never stored): a
  socket subscribed to `supervisor.*` sees who looks.

To follow one agent, subscribe with `subject=agent_<id>`.

## How an agent's state is decided

- **The heartbeat window** (`SUPERVISOR_HEARTBEAT_WINDOW_SECONDS`, 60) is counted from
  the agent's last sign of life: the later of its last heartbeat and its registration
  or last `restart`. An agent that registered and never beat therefore counts as
  `unknown` for one window and then as `offline`.
- **Counts as offline wherever shown.** Past the window, the API, admin and `/status`
  show the agent as `offline` at once (computed in SQL,
  `Agent.objects.with_effective_state()`), before anything is recorded. Control
  rules and the `current_state` of a refused action use this same effective state.
- **An operator's pause or kill is held** (`Agent.hold`) until an operator lifts it
  (`resume`, `restart`): a paused agent that goes silent counts as `offline`, and as
  `paused` again when it beats.
- **The offline check** (`manage.py watch_agents`, every
  `SUPERVISOR_CHECK_INTERVAL_SECONDS`, started by `bin/run`) records the change in
  the stored state and emits `agent_state_changed` exactly once per transition: each
  agent is locked with `skip_locked` and re-checked, so concurrent checkers never both
  record it. Each RUNNING mission assigned to the agent is then set FAILED
  (`mission.status_changed`, with `reason` "agent <id> went offline (no heartbeat for
  N s)" in the automatic log line's data) and gets an `error` log line saying why
  (`mission.log_appended`).
- **A kill** fails each RUNNING mission the agent holds, with an `error` log line
  "Agent <id> was killed by <operator> (<reason>); the mission was marked FAILED."
  FAILED, not back to PENDING: a killed agent may have left the work half done
  (a robot moved, a file half written), so running it again is a person's decision.
- **A heartbeat** marks the agent seen. It may report `healthy` or `degraded`;
  without a state, an agent that counted as `offline` or `unknown` becomes `healthy`
  and a working one keeps its state. An agent that beats after the window but
  before the check recorded it comes back and keeps its mission.
- **Current missions** are derived, never stored twice: the RUNNING missions whose
  holder (`Mission.assigned_agent`, a foreign key to the agent, set by a claim) is
  the agent. They change with the mission events, so they emit no supervisor event;
  no receiver of a mission signal writes an agent row.
- **A heartbeat's `current_mission_id`** says which mission the agent believes it
  works on; it is checked against the missions: it must name a RUNNING mission
  assigned to this agent. An unknown mission is `400` (`current_mission_id` in the
  body, as for other invalid input); a mission that is not RUNNING
  (`mission_status`) or is not this agent's (`assigned_agent`) is `409`. A refused
  heartbeat changes nothing — not the state, not `last_heartbeat` — and emits
  nothing; an agent whose mission ended should send `null` (or leave the field out).

## `GET /api/supervisor/status` and its cache

Mission counts and agent counts are counted afresh on every call (one aggregate
query each), so they always equal `/api/missions/stats` and the agent list. Only the
component checks (database, cache, channel layer: round trips to three services) are
reused for `SUPERVISOR_STATUS_CACHE_SECONDS` (1 s), so polling every second stays
cheap and a component that goes down shows within that window. With the cache itself
down, every call checks afresh.
"""

from pydantic import Field

from brain.events import Payload, declare, declare_subject
from brain.identifiers import IDENTIFIER_CHARS, IDENTIFIER_RULE
from supervisor.transitions import transition_table

__doc__ = __doc__.replace("{table}", transition_table())

SOURCE = "supervisor_service"
READ = "supervisor.view_agent"
AGENT_TARGET = "agent_{agent_id}"
declare_subject(
    "agent",
    pattern=IDENTIFIER_CHARS,
    rule=f"an agent's id is {IDENTIFIER_RULE}",
    example="rover-7",
)
AGENT = ("agent_{agent_id}",)


class HealthChecked(Payload):
    status: str = Field(description='"ok"')
    checked_at: float = Field(description="Unix seconds")


class StatusQueried(Payload):
    total_missions: int
    running_missions: int
    pending_missions: int
    completed_missions: int
    failed_missions: int
    cancelled_missions: int
    agent_count: int
    queried_at: float = Field(description="Unix seconds")


class AgentsListed(Payload):
    agent_count: int = Field(description="agents matching the filters, all pages")
    queried_at: float = Field(description="Unix seconds")


class AgentRegistered(Payload):
    agent_id: str
    name: str
    role: str = Field(description='"" if none')
    registered_at: float = Field(description="Unix seconds")


class AgentStateChanged(Payload):
    agent_id: str
    old_state: str
    new_state: str
    reason: str = Field(description="what caused the change (see above)")
    changed_at: float = Field(description="Unix seconds")


class AgentControlled(Payload):
    agent_id: str
    action: str = Field(description="pause, resume, kill or restart")
    reason: str = Field(description='what the operator gave; "" if none')
    actor: str | None = Field(description="who took the action (the operator)")
    old_state: str
    new_state: str
    controlled_at: float = Field(description="Unix seconds")


HEALTH_CHECKED = declare(
    "supervisor.health_checked",
    source=SOURCE,
    payload=HealthChecked,
    live_only=True,
    read_permission=READ,
    description="Someone asked whether the supervisor is up.",
    trigger="GET /api/supervisor/health",
)
STATUS_QUERIED = declare(
    "supervisor.status_queried",
    source=SOURCE,
    payload=StatusQueried,
    live_only=True,
    read_permission=READ,
    description="Someone read the system overview.",
    trigger="each GET /api/supervisor/status; the counts are the ones that call "
    "returned",
)
AGENTS_LISTED = declare(
    "supervisor.agents_listed",
    source=SOURCE,
    payload=AgentsListed,
    live_only=True,
    read_permission=READ,
    description="Someone listed the agents.",
    trigger="each GET /api/supervisor/agents",
)
AGENT_REGISTERED = declare(
    "supervisor.agent_registered",
    source=SOURCE,
    payload=AgentRegistered,
    target=AGENT_TARGET,
    subjects=AGENT,
    retention_days=365,
    read_permission=READ,
    description="A new agent was registered.",
    trigger="a new agent was registered (REST POST /api/supervisor/agents "
    "answering 201, or admin add)",
)
AGENT_STATE_CHANGED = declare(
    "supervisor.agent_state_changed",
    source=SOURCE,
    payload=AgentStateChanged,
    target=AGENT_TARGET,
    subjects=AGENT,
    retention_days=365,
    read_permission=READ,
    description="An agent's state changed: a control action, a heartbeat, or the "
    "offline check.",
    trigger="a control action, a heartbeat or the offline check changed the state",
)
AGENT_CONTROLLED = declare(
    "supervisor.agent_controlled",
    source=SOURCE,
    payload=AgentControlled,
    target=AGENT_TARGET,
    subjects=AGENT,
    retention_days=365,
    read_permission=READ,
    description="An operator paused, resumed, killed or restarted an agent; the "
    "agent's own socket receives it and obeys.",
    trigger="an accepted control action (REST POST /api/supervisor/control or admin)",
)
