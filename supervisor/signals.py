"""Supervisor signals, sent by the services, and the receivers that emit events.

The receivers here are the only producers of the supervisor events, and do nothing
else. An agent's current mission is derived from the missions (see
``models.running_missions``), so nothing here listens to mission signals.
"""

from django.dispatch import Signal, receiver

from brain.events import emit
from supervisor.events import (
    AGENT_CONTROLLED,
    AGENT_REGISTERED,
    AGENT_STATE_CHANGED,
    AGENTS_LISTED,
    HEALTH_CHECKED,
    STATUS_QUERIED,
)

# status: str, checked_at: datetime
health_checked = Signal()
# overview: dict (see selectors.supervisor_overview), queried_at: datetime
status_queried = Signal()
# agent_count: int, queried_at: datetime
agents_listed = Signal()
# agent: Agent
agent_registered = Signal()
# agent: Agent, old_state: str, new_state: str, reason: str, changed_at: datetime
agent_state_changed = Signal()
# agent: Agent, action: str, reason: str, actor: str | None, old_state: str,
# new_state: str, controlled_at: datetime
agent_controlled = Signal()


@receiver(health_checked, dispatch_uid="supervisor.emit_health_checked")
def emit_health_checked(sender, status, checked_at, **kwargs) -> None:
    emit(
        HEALTH_CHECKED.name,
        {"status": status, "checked_at": checked_at.timestamp()},
    )


@receiver(status_queried, dispatch_uid="supervisor.emit_status_queried")
def emit_status_queried(sender, overview, queried_at, **kwargs) -> None:
    emit(
        STATUS_QUERIED.name,
        {
            "total_missions": overview["total_missions"],
            "running_missions": overview["running_missions"],
            "pending_missions": overview["pending_missions"],
            "completed_missions": overview["completed_missions"],
            "failed_missions": overview["failed_missions"],
            "cancelled_missions": overview["cancelled_missions"],
            "agent_count": overview["agent_count"],
            "queried_at": queried_at.timestamp(),
        },
    )


@receiver(agents_listed, dispatch_uid="supervisor.emit_agents_listed")
def emit_agents_listed(sender, agent_count, queried_at, **kwargs) -> None:
    emit(
        AGENTS_LISTED.name,
        {"agent_count": agent_count, "queried_at": queried_at.timestamp()},
    )


@receiver(agent_registered, dispatch_uid="supervisor.emit_agent_registered")
def emit_agent_registered(sender, agent, **kwargs) -> None:
    emit(
        AGENT_REGISTERED.name,
        {
            "agent_id": agent.agent_id,
            "name": agent.name,
            "role": agent.role,
            "registered_at": agent.created_at.timestamp(),
        },
    )


@receiver(agent_state_changed, dispatch_uid="supervisor.emit_agent_state_changed")
def emit_agent_state_changed(
    sender, agent, old_state, new_state, reason, changed_at, **kwargs
) -> None:
    emit(
        AGENT_STATE_CHANGED.name,
        {
            "agent_id": agent.agent_id,
            "old_state": old_state,
            "new_state": new_state,
            "reason": reason,
            "changed_at": changed_at.timestamp(),
        },
    )


@receiver(agent_controlled, dispatch_uid="supervisor.emit_agent_controlled")
def emit_agent_controlled(
    sender, agent, action, reason, actor, old_state, new_state, controlled_at, **kwargs
) -> None:
    emit(
        AGENT_CONTROLLED.name,
        {
            "agent_id": agent.agent_id,
            "action": action,
            "reason": reason,
            "actor": actor,
            "old_state": old_state,
            "new_state": new_state,
            "controlled_at": controlled_at.timestamp(),
        },
    )
