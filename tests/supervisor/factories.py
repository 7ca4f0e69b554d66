"""Agents for the tests, made through the services like everything else."""

import time
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from missions.models import Mission
from supervisor import services
from supervisor.models import WORKING_STATES, Agent
from tests.conftest import number_pending, sent


def make_agent(agent_id: str = "agent-1", *, beat: bool = True, **overrides) -> Agent:
    """A registered agent; healthy after one heartbeat unless ``beat=False``."""
    params = {"name": f"Agent {agent_id}", "role": "worker"}
    params.update(overrides)
    agent, _ = services.agent_register(agent_id=agent_id, **params)
    if beat:
        agent = services.agent_heartbeat(agent_id=agent_id)
    return agent


def working_agent(agent_id: str = "agent-1", **overrides) -> Agent:
    """A registered agent that has sent a heartbeat, so it may claim missions.

    An agent that already counts as healthy or degraded is left as it is (no extra
    heartbeat, no event); any other is registered (or updated) and beats once. A
    paused agent stays paused and a killed one is refused: this never lifts an
    operator's decision.
    """
    agent = Agent.objects.with_effective_state().filter(pk=agent_id).first()
    if agent is not None and agent.effective_state in WORKING_STATES:
        return agent
    return make_agent(agent_id, **overrides)


def claim(agent_id: str = "agent-1") -> Mission | None:
    """The agent's claim of the next mission, as ``POST /api/missions/claim`` makes
    it (``supervisor.services.agent_claim_mission``), by a working agent
    (``working_agent``)."""
    working_agent(agent_id)
    return services.agent_claim_mission(agent_id=agent_id)


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


def stored_hold(agent_id: str) -> str:
    """The operator's decision kept on the agent: "", "paused" or "killed"."""
    return Agent.objects.values_list("hold", flat=True).get(pk=agent_id)


def effective_state(agent_id: str) -> str:
    """What the agent counts as now, as the API and admin show it."""
    return Agent.objects.with_effective_state().get(pk=agent_id).effective_state


def current_mission(agent_id: str):
    """The agent's current mission (derived from the missions), read both ways the
    app reads it: annotated by ``with_effective_state()`` and on a plain row."""
    annotated = Agent.objects.with_effective_state().get(pk=agent_id)
    plain = Agent.objects.get(pk=agent_id)
    assert annotated.current_mission_id == plain.current_mission_id
    return annotated.current_mission_id


def settle() -> None:
    """End the set-up as its commit would: number its events, drop its commit hooks.

    A test on ``db`` never commits. The commit hook ``emit()`` registers for the
    set-up's durable events stays registered, and every later durable event of the
    test joins it, so a ``django_capture_on_commit_callbacks`` block opened after
    the set-up would capture (and deliver) nothing. After ``settle()`` the next
    event registers a hook of its own, as in a fresh transaction.
    """
    number_pending()
    connection.run_on_commit = []


def delivered_as_stored(delivered: list[list], events) -> list[dict]:
    """What was delivered, checked against the log: one delivery, each durable
    event numbered and equal to its stored row's envelope, each live-only event
    without a ``seq`` and stored nowhere. Returns the delivered envelopes."""
    envelopes = sent(delivered)
    rows = {str(row.event_id): row for row in events.rows()}
    for call in delivered:
        for wire in call:
            envelope = sent([[wire]])[0]
            row = rows.get(envelope["id"])
            if wire.seq is None:
                assert row is None, envelope["type"]
                assert "seq" not in envelope["meta"]
            else:
                assert row is not None, envelope["type"]
                assert envelope == row.envelope()
                assert wire.seq == row.seq == envelope["meta"]["seq"]
                assert wire.subjects == frozenset(row.subjects)
            assert wire.type == envelope["type"]
    return envelopes


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
    window but not yet recorded so; ``offline`` is recorded by the offline check;
    ``paused`` is a healthy agent an operator paused; ``killed`` a healthy agent an
    operator killed (it counts as offline)."""
    if state == "unknown":
        return make_agent(agent_id, beat=False)
    agent = make_agent(agent_id)
    if state == "degraded":
        agent = services.agent_heartbeat(agent_id=agent_id, state="degraded")
    elif state in ("silent", "offline"):
        silence(agent_id, 120)
        if state == "offline":
            services.agents_mark_offline()
    elif state in ("paused", "killed"):
        action = "pause" if state == "paused" else "kill"
        agent, _ = services.agent_control(agent_id=agent_id, action=action)
    agent.refresh_from_db()
    return agent
