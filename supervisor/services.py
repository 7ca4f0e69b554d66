"""Every write to agents. Views, admin and ``watch_agents`` call these.

Lock order, everywhere: the agent before its missions. Agent writes lock the agent
row ``FOR NO KEY UPDATE`` (which does not wait for the key-share locks a mission's
foreign key takes), then lock the missions they change. The missions services never
lock an agent, and a claim locks the agent before it looks for a mission with
``skip_locked``, so no two transactions wait on each other in a circle. ``emit()``
takes no lock inside a transaction.

The state rules are ``supervisor.transitions``; this module applies them.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from brain.access import machines
from brain.errors import Conflict, Forbidden, Invalid, NotFound
from brain.events.context import current_actor
from missions import services as mission_services
from missions.models import Mission, MissionStatus
from supervisor import selectors
from supervisor.models import Agent, AgentControl, AgentHold, AgentState
from supervisor.signals import (
    agent_controlled,
    agent_registered,
    agent_state_changed,
    agents_listed,
    health_checked,
    status_queried,
)
from supervisor.transitions import (
    CONTROL_ACTIONS,
    KILLED,
    WORKING,
    control_result,
    heartbeat_result,
)

logger = logging.getLogger(__name__)

UNCHANGED: Any = object()
HEARTBEAT_STATES = WORKING
# What an agent's own token may do (brain.access.machines): claim, beat, write the
# logs and statuses of the missions it holds, spend its own credits, and read what
# it needs. Its writes pass only views that allow machine writes, as itself.
AGENT_TOKEN_PERMISSIONS = (
    "supervisor.view_agent",
    "supervisor.change_agent",
    "missions.view_mission",
    "missions.change_mission",
    "missions.add_missionlog",
    "credits.view_account",
    "credits.add_ledgerentry",
)


# Registration -------------------------------------------------------------------------


@transaction.atomic
def agent_register(
    *,
    agent_id: str,
    name: str,
    role: str | None = None,
    capabilities: list[str] | None = None,
    meta: dict[str, str] | None = None,
) -> tuple[Agent, bool]:
    """Register a new agent (``unknown`` until it beats) or update a known one.

    Returns ``(agent, created)``. On update, fields left out (``None``) keep their
    value, and the state and heartbeat are untouched: only a heartbeat says an agent
    is alive.
    """
    agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
    if agent is None:
        now = timezone.now()
        agent = Agent(
            agent_id=agent_id,
            name=name,
            role=role or "",
            capabilities=capabilities if capabilities is not None else [],
            meta=meta if meta is not None else {},
            state=AgentState.UNKNOWN,
            started_at=now,
            created_at=now,
        )
        agent.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                agent.save(force_insert=True)
        except IntegrityError:
            # A concurrent registration of the same id won; update it instead.
            agent = Agent.objects.select_for_update().get(pk=agent_id)
        else:
            agent_registered.send(sender=Agent, agent=agent)
            return agent, True
    agent.name = name
    update_fields = ["name", "updated_at"]
    for field_name, value in (
        ("role", role),
        ("capabilities", capabilities),
        ("meta", meta),
    ):
        if value is not None:
            setattr(agent, field_name, value)
            update_fields.append(field_name)
    agent.full_clean(validate_unique=False, validate_constraints=False)
    agent.save(update_fields=update_fields)
    return agent, False


@transaction.atomic
def agent_delete(*, agent_id: str) -> None:
    """Forget an agent; its RUNNING missions are FAILED, as for a kill. The missions
    it finished keep their history (``MissionStatusChange.agent_id``); their holder
    becomes empty. Its own token is revoked: it would otherwise act for an agent
    registered later under the same id."""
    agent = _locked_agent(agent_id)
    _fail_missions(agent.agent_id, _lock_running_missions(agent_id), why="was deleted")
    if machines.machine_token_exists(kind="agent", ident=agent_id):
        machines.machine_token_revoke(kind="agent", ident=agent_id)
    agent.delete()


# Heartbeats and control ---------------------------------------------------------------


@transaction.atomic
def agent_heartbeat(
    *,
    agent_id: str,
    state: str | None = None,
    current_mission_id: uuid.UUID | str | None = UNCHANGED,
) -> Agent:
    """Mark the agent seen now, with the state it reports (healthy or degraded).

    What follows is ``transitions.heartbeat_result``: a paused agent stays paused, a
    killed one is refused (409) until an operator restarts it. ``current_mission_id``
    names the mission the agent believes it works on: it must be a RUNNING mission
    assigned to this agent (see ``_lock_reported_mission``); ``None`` or left out,
    nothing is checked. A refused heartbeat changes nothing, not even the time the
    agent was last seen, and emits nothing.
    """
    if state is not None and state not in HEARTBEAT_STATES:
        raise Invalid(
            f"a heartbeat reports the state healthy or degraded, not {state!r}",
            state=[f"must be one of: {', '.join(HEARTBEAT_STATES)}"],
        )
    agent = _locked_agent(agent_id)
    now = timezone.now()
    row = _row(agent, now)
    if heartbeat_result(row, state) is None:
        raise Conflict(
            f"agent {agent_id} was killed; its heartbeats are refused until an "
            "operator restarts it",
            current_state=AgentState.OFFLINE,
            killed=True,
        )
    if current_mission_id is not None and current_mission_id is not UNCHANGED:
        _lock_reported_mission(current_mission_id, agent_id=agent_id)
    old_state = agent.effective_state_at(now)
    if state is not None:
        agent.state = state
    elif agent.state not in WORKING:
        agent.state = AgentState.HEALTHY
    agent.last_heartbeat = now
    agent.save(update_fields=["state", "last_heartbeat", "updated_at"])
    new_state = agent.effective_state_at(now)
    if new_state != old_state:
        agent_state_changed.send(
            sender=Agent,
            agent=agent,
            old_state=old_state,
            new_state=new_state,
            reason="heartbeat",
            changed_at=now,
        )
    return agent


@transaction.atomic
def agent_control(*, agent_id: str, action: str, reason: str = "") -> tuple[Agent, str]:
    """Pause, resume, kill or restart an agent, by ``transitions.CONTROL_ACTIONS``.

    The rules apply to what the agent counts as (an agent past its heartbeat window
    is offline). A refused action is a 409 naming the current state; a disabled one
    a 403. Each accepted action is recorded (``AgentControl``, with who took it) and
    sent to the agent live (``supervisor.agent_controlled``, targeted at the agent);
    a kill fails the agent's RUNNING missions, each with a log line naming who
    killed it and why. Returns the agent and a message for the operator.
    """
    rule = CONTROL_ACTIONS.get(action)
    if rule is None:
        raise Invalid(
            f"unknown action {action!r}; one of: {', '.join(CONTROL_ACTIONS)}",
            action=action,
        )
    if rule.setting and not getattr(settings, rule.setting):
        raise Forbidden(
            f"the {action} action is disabled on this server ({rule.setting})",
            action=action,
        )
    agent = _locked_agent(agent_id)
    now = timezone.now()
    row = _row(agent, now)
    if control_result(action, row) is None:
        raise Conflict(
            f"cannot {action} agent {agent_id}: it is {row}; {action} needs "
            + " or ".join(rule.allowed_from),
            current_state=agent.effective_state_at(now),
            killed=agent.killed,
        )
    old_state = agent.effective_state_at(now)
    fields = ["hold", "updated_at"]
    if action == "pause":
        agent.hold = AgentHold.PAUSED
    elif action == "resume":
        agent.hold = AgentHold.NONE
    elif action == "kill":
        agent.hold = AgentHold.KILLED
    else:  # restart
        agent.hold = AgentHold.NONE
        agent.state = AgentState.UNKNOWN
        agent.started_at = now
        fields += ["state", "started_at"]
    agent.save(update_fields=fields)
    new_state = agent.effective_state_at(now)
    actor = current_actor() or ""
    why = reason.strip() or "no reason given"
    AgentControl.objects.create(
        agent=agent,
        action=action,
        reason=reason.strip()[:1000],
        actor=actor[:150],
        old_state=old_state,
        new_state=new_state,
        at=now,
    )
    agent_controlled.send(
        sender=Agent,
        agent=agent,
        action=action,
        reason=reason.strip(),
        actor=actor or None,
        old_state=old_state,
        new_state=new_state,
        controlled_at=now,
    )
    if new_state != old_state:
        agent_state_changed.send(
            sender=Agent,
            agent=agent,
            old_state=old_state,
            new_state=new_state,
            reason=f"{action}: {why}",
            changed_at=now,
        )
    if action == "kill":
        by = f" by {actor}" if actor else ""
        _fail_missions(
            agent.agent_id,
            _lock_running_missions(agent_id),
            why=f"was killed{by} ({why})",
        )
        agent.refresh_from_db(fields=["updated_at"])
    message = f"agent {agent_id} {rule.past_tense}: {old_state} → {new_state}"
    return agent, message


@transaction.atomic
def agent_claim_mission(*, agent_id: str) -> Mission | None:
    """Give a working agent its next mission: the highest-priority, oldest PENDING
    one, now RUNNING and held by the agent (None when there is none).

    Only a registered agent (404 otherwise) that counts as healthy or degraded may
    claim; paused, killed, offline and unknown agents get a 409 naming the state and
    nothing is assigned. The agent is locked first, so a pause or a kill committed
    before the claim is seen, and one racing it waits for the claim (a kill then
    fails the mission just claimed).
    """
    agent = _locked_agent(agent_id)
    state = agent.effective_state_at(timezone.now())
    if state not in WORKING:
        why = {
            AgentState.PAUSED: "an operator paused it; it claims again once resumed",
            AgentState.UNKNOWN: "it has not sent a heartbeat since it was registered "
            "or restarted",
            AgentState.OFFLINE: "it was killed; an operator must restart it"
            if agent.killed
            else "it sent no heartbeat within the window",
        }[state]
        raise Conflict(
            f"agent {agent_id} cannot claim a mission: it is {state} ({why})",
            agent_id=agent_id,
            current_state=state,
        )
    return mission_services.mission_assign_next(agent_id=agent_id)


# Agent tokens -------------------------------------------------------------------------


def agent_token_issue(*, agent_id: str) -> str:
    """A token of the agent's own (201, shown once), replacing any earlier one."""
    agent = selectors.agent_get(agent_id)
    return machines.machine_token_issue(
        kind="agent",
        ident=agent.agent_id,
        permissions=AGENT_TOKEN_PERMISSIONS,
        label=agent.name,
    )


def agent_token_revoke(*, agent_id: str) -> None:
    selectors.agent_get(agent_id)
    machines.machine_token_revoke(kind="agent", ident=agent_id)


# The offline check --------------------------------------------------------------------


@dataclass
class OfflineCheck:
    """What one pass of the offline check did."""

    marked_offline: list[str] = field(default_factory=list)
    failed_missions: list[str] = field(default_factory=list)


def agents_mark_offline(*, now: datetime | None = None) -> OfflineCheck:
    """Record as offline every agent past its heartbeat window, once, and fail the
    RUNNING missions of offline agents.

    Each agent is handled in its own transaction under ``skip_locked``, re-checked
    after the lock, so concurrent checkers never record the same change twice, and
    one agent's trouble does not hold up the others. Agents already recorded offline
    that hold a RUNNING mission (claimed after they went offline) have it failed too.
    """
    now = now or timezone.now()
    stale = Agent.objects.stale(now).exclude(state=AgentState.OFFLINE)
    holding = Agent.objects.filter(
        state=AgentState.OFFLINE,
        pk__in=Mission.objects.filter(status=MissionStatus.RUNNING).values(
            "assigned_agent_id"
        ),
    )
    agent_ids = set(stale.values_list("pk", flat=True))
    agent_ids |= set(holding.values_list("pk", flat=True))
    result = OfflineCheck()
    for agent_id in sorted(agent_ids):
        try:
            marked, failed = _check_agent(agent_id, now=now)
        except Exception:  # noqa: BLE001 - one agent must not stop the others
            logger.exception("offline check of agent %s failed", agent_id)
            continue
        if marked:
            result.marked_offline.append(agent_id)
        result.failed_missions.extend(failed)
    return result


@transaction.atomic
def _check_agent(agent_id: str, *, now: datetime) -> tuple[bool, list[str]]:
    agent = (
        Agent.objects.select_for_update(skip_locked=True, no_key=True)
        .filter(pk=agent_id)
        .first()
    )
    if agent is None:
        # Deleted, or another checker (or a heartbeat) holds it right now.
        return False, []
    marked = False
    if agent.state != AgentState.OFFLINE and not agent.killed:
        if not agent.is_stale(now):
            return False, []  # it beat after the pass began
        silent = int((now - agent.last_sign_of_life).total_seconds())
        old_state = AgentState.PAUSED if agent.hold == AgentHold.PAUSED else agent.state
        agent.state = AgentState.OFFLINE
        agent.save(update_fields=["state", "updated_at"])
        agent_state_changed.send(
            sender=Agent,
            agent=agent,
            old_state=old_state,
            new_state=AgentState.OFFLINE,
            reason=f"no heartbeat for {silent} s",
            changed_at=now,
        )
        marked = True
        why = f"went offline (no heartbeat for {silent} s)"
    else:
        why = "was killed" if agent.killed else "is offline"
    return marked, _fail_missions(
        agent.agent_id, _lock_running_missions(agent_id), why=why
    )


# Reads that are events ----------------------------------------------------------------


def supervisor_health_check() -> dict[str, Any]:
    """The supervisor answers: ``{"status": "ok", "timestamp": ...}``."""
    now = timezone.now()
    health_checked.send(sender=Agent, status="ok", checked_at=now)
    return {"status": "ok", "timestamp": now.timestamp()}


def supervisor_status_query() -> dict[str, Any]:
    """The system overview (current counts, briefly cached component checks); every
    call sends a live-only event (nothing is written)."""
    overview = selectors.supervisor_overview()
    status_queried.send(sender=Agent, overview=overview, queried_at=timezone.now())
    return overview


def agents_list_record(*, agent_count: int) -> None:
    agents_listed.send(sender=Agent, agent_count=agent_count, queried_at=timezone.now())


# Helpers ------------------------------------------------------------------------------


def _row(agent: Agent, now: datetime) -> str:
    """The agent's row in the transition table."""
    return KILLED if agent.killed else agent.effective_state_at(now)


def _locked_agent(agent_id: str) -> Agent:
    agent = Agent.objects.select_for_update(no_key=True).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(f"agent {agent_id} not found", agent_id=agent_id)
    return agent


def _lock_running_missions(agent_id: str) -> list[Mission]:
    return list(
        Mission.objects.select_for_update()
        .filter(assigned_agent=agent_id, status=MissionStatus.RUNNING)
        .order_by("pk")
    )


def _lock_reported_mission(mission_id: uuid.UUID | str, *, agent_id: str) -> None:
    """Check the mission a heartbeat names is a RUNNING one this agent holds,
    locked after the agent (the lock order) so it cannot change until the heartbeat
    commits.

    An unknown mission is invalid input (400); a mission the agent does not hold is
    a conflict with the mission's state (409).
    """
    try:
        pk = mission_id if isinstance(mission_id, uuid.UUID) else uuid.UUID(mission_id)
    except (TypeError, ValueError):
        pk = None
    mission = (
        Mission.objects.select_for_update(no_key=True)
        .filter(pk=pk)
        .values("pk", "status", "assigned_agent_id")
        .first()
        if pk
        else None
    )
    if mission is None:
        raise Invalid(
            f"current_mission_id: mission {mission_id} not found",
            current_mission_id=[f"mission {mission_id} not found"],
        )
    pk, status, owner = mission["pk"], mission["status"], mission["assigned_agent_id"]
    if status != MissionStatus.RUNNING:
        raise Conflict(
            f"current_mission_id: mission {pk} is {status}; an agent can only work "
            "on a RUNNING mission",
            current_mission_id=str(pk),
            mission_status=status,
        )
    if owner != agent_id:
        raise Conflict(
            f"current_mission_id: mission {pk} is "
            + (f"assigned to agent {owner}" if owner else "assigned to no agent")
            + "; an agent holds a mission by claiming it (POST /api/missions/claim)",
            current_mission_id=str(pk),
            assigned_agent=owner,
        )


def _fail_missions(agent_id: str, missions: list[Mission], *, why: str) -> list[str]:
    """FAIL the (locked, RUNNING) missions of an agent, each with a log line saying
    why, so no mission stays RUNNING behind a dead agent."""
    failed = []
    for mission in missions:
        reason = f"agent {agent_id} {why}"
        mission_services.mission_set_status(
            mission_id=mission.pk, status=MissionStatus.FAILED, reason=reason
        )
        mission_services.mission_log_append(
            mission_id=mission.pk,
            lines=[
                mission_services.LogLine(
                    message=f"Agent {agent_id} {why}; the mission was marked FAILED.",
                    level="error",
                    data={"agent_id": agent_id, "reason": reason},
                )
            ],
        )
        failed.append(str(mission.pk))
    return failed
