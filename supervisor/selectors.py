"""Reads of agents and the system overview."""

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.utils import timezone

from brain.errors import NotFound
from brain.health import OK, check_components
from missions.models import Mission, MissionStatus
from missions.selectors import mission_counts_by_status
from supervisor.models import Agent, AgentControl, AgentQuerySet, AgentState

COMPONENTS_CACHE_KEY = "supervisor:components"


def agent_list() -> AgentQuerySet:
    """Every agent with ``effective_state`` annotated: one query for any page."""
    return Agent.objects.with_effective_state()


def agent_get(agent_id: str) -> Agent:
    agent = Agent.objects.with_effective_state().filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(f"agent {agent_id} not found", agent_id=agent_id)
    return agent


def agent_detail(agent_id: str) -> Agent:
    """One agent with ``held_missions`` (its RUNNING missions, newest change first)
    and ``last_control`` (the last control action taken on it, or None): three
    queries."""
    agent = (
        Agent.objects.with_effective_state()
        .filter(pk=agent_id)
        .prefetch_related(
            Prefetch(
                "missions",
                queryset=Mission.objects.filter(status=MissionStatus.RUNNING).order_by(
                    "-updated_at"
                ),
                to_attr="held_missions",
            )
        )
        .first()
    )
    if agent is None:
        raise NotFound(f"agent {agent_id} not found", agent_id=agent_id)
    agent.last_control = AgentControl.objects.filter(agent_id=agent.pk).first()
    return agent


def agent_state_counts() -> dict[str, int]:
    """Agents by effective state, every state present, in one query."""
    rows = (
        Agent.objects.with_effective_state()
        .order_by()
        .values("effective_state")
        .annotate(n=Count("pk"))
    )
    counts = {state: 0 for state in AgentState.values}
    for row in rows:
        counts[row["effective_state"]] = row["n"]
    return counts


def overall_status(agents: dict[str, int], components: dict[str, str]) -> str:
    """``offline`` if every agent is (and there is one); ``degraded`` if an agent is
    degraded or offline or a component is down; else ``healthy``."""
    total = sum(agents.values())
    if total and agents[AgentState.OFFLINE] == total:
        return "offline"
    if agents[AgentState.DEGRADED] or agents[AgentState.OFFLINE]:
        return "degraded"
    if any(state != OK for state in components.values()):
        return "degraded"
    return "healthy"


def component_checks() -> dict[str, str]:
    """The component checks, reused for ``SUPERVISOR_STATUS_CACHE_SECONDS`` so that
    polling every second stays cheap. Only these are cached: they cost round trips
    to three services, while the counts are single queries and must be current.
    With the cache down (its errors are ignored in settings) every call checks
    afresh."""
    seconds = settings.SUPERVISOR_STATUS_CACHE_SECONDS
    if seconds <= 0:
        return check_components()
    components = cache.get(COMPONENTS_CACHE_KEY)
    if components is None:
        components = check_components()
        cache.set(COMPONENTS_CACHE_KEY, components, timeout=seconds)
    return components


def supervisor_overview() -> dict[str, Any]:
    """Missions by status and agents by effective state, counted afresh on every call
    (so they always equal ``/api/missions/stats`` and ``/agents``), and the state of
    each component, checked at most once per cache window."""
    by_status = mission_counts_by_status()
    agents = agent_state_counts()
    components = component_checks()
    return {
        "status": overall_status(agents, components),
        "timestamp": timezone.now().timestamp(),
        "total_missions": sum(by_status.values()),
        "pending_missions": by_status[MissionStatus.PENDING],
        "running_missions": by_status[MissionStatus.RUNNING],
        "completed_missions": by_status[MissionStatus.COMPLETED],
        "failed_missions": by_status[MissionStatus.FAILED],
        "cancelled_missions": by_status[MissionStatus.CANCELLED],
        "agent_count": sum(agents.values()),
        "agents": agents,
        "components": components,
    }
