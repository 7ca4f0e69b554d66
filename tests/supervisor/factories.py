"""Agents for the tests, made through the services like everything else."""

import time
from datetime import timedelta

from django.utils import timezone

from supervisor import services
from supervisor.models import Agent


def make_agent(agent_id: str = "agent-1", *, beat: bool = True, **overrides) -> Agent:
    """A registered agent; healthy after one heartbeat unless ``beat=False``."""
    params = {"name": f"Agent {agent_id}", "role": "worker"}
    params.update(overrides)
    agent, _ = services.agent_register(agent_id=agent_id, **params)
    if beat:
        agent = services.agent_heartbeat(agent_id=agent_id)
    return agent


def silence(agent_id: str, seconds: float) -> None:
    """Make the agent's last sign of life ``seconds`` old, as if it stopped beating.

    Test set-up only: the services never move time backwards.
    """
    past = timezone.now() - timedelta(seconds=seconds)
    agent = Agent.objects.get(pk=agent_id)
    Agent.objects.filter(pk=agent_id).update(
        started_at=past,
        created_at=past,
        last_heartbeat=past if agent.last_heartbeat else None,
    )


def stored_state(agent_id: str) -> str:
    return Agent.objects.values_list("state", flat=True).get(pk=agent_id)


ANY_TIME = object()


def assert_envelope(event: dict, *, type_: str, target: str | None, payload: dict):
    """Type, source, target and payload exactly; ``ANY_TIME`` stands for a recent
    Unix timestamp."""
    assert event["type"] == type_
    assert event["source"] == "supervisor_service"
    assert event["target"] == target
    assert set(event["payload"]) == set(payload)
    for key, expected in payload.items():
        value = event["payload"][key]
        if expected is ANY_TIME:
            assert isinstance(value, float), (key, value)
            assert abs(value - time.time()) < 60, (key, value)
        else:
            assert value == expected, key


def agent_in(state: str, agent_id: str = "agent-1") -> Agent:
    """An agent that counts as ``state``. ``silent`` is offline by the heartbeat
    window but not yet recorded so; ``offline`` is recorded by the offline check."""
    if state == "unknown":
        return make_agent(agent_id, beat=False)
    agent = make_agent(agent_id)
    if state == "degraded":
        agent = services.agent_heartbeat(agent_id=agent_id, state="degraded")
    elif state in ("silent", "offline"):
        silence(agent_id, 120)
        if state == "offline":
            services.agents_mark_offline()
    agent.refresh_from_db()
    return agent
