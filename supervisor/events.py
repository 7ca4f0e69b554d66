"""The five supervisor events (see EVENTS.md)."""

from brain.events import declare

SOURCE = "supervisor_service"

HEALTH_CHECKED = declare(
    "supervisor.health_checked",
    source=SOURCE,
    payload=("status", "checked_at"),
    description="Someone asked whether the supervisor is up.",
)
STATUS_QUERIED = declare(
    "supervisor.status_queried",
    source=SOURCE,
    payload=(
        "total_missions",
        "running_missions",
        "pending_missions",
        "completed_missions",
        "failed_missions",
        "cancelled_missions",
        "agent_count",
        "queried_at",
    ),
    description="Someone read the system overview.",
)
AGENTS_LISTED = declare(
    "supervisor.agents_listed",
    source=SOURCE,
    payload=("agent_count", "queried_at"),
    description="Someone listed the agents.",
)
AGENT_REGISTERED = declare(
    "supervisor.agent_registered",
    source=SOURCE,
    target="agent_{agent_id}",
    payload=("agent_id", "name", "role", "registered_at"),
    description="A new agent was registered.",
)
AGENT_STATE_CHANGED = declare(
    "supervisor.agent_state_changed",
    source=SOURCE,
    target="agent_{agent_id}",
    payload=("agent_id", "old_state", "new_state", "reason", "changed_at"),
    description="An agent's state changed: a control action, a heartbeat, or the "
    "offline check.",
)
