"""The effective state: SQL and Python agree, and the validators."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from supervisor.models import Agent, validate_capabilities, validate_meta
from tests.supervisor.factories import agent_in, silence

pytestmark = pytest.mark.django_db


def test_sql_and_python_agree_on_the_effective_state():
    states = ["healthy", "degraded", "unknown", "silent", "offline", "paused", "killed"]
    for n, state in enumerate(states):
        agent_in(state, f"agent-{n}")
    # Paused, then silent past the window: offline, its pause kept.
    agent_in("paused", "paused-silent")
    silence("paused-silent", 120)
    # A restart after the last heartbeat: the window counts from the restart.
    agent = agent_in("healthy", "restarted")
    Agent.objects.filter(pk=agent.pk).update(
        last_heartbeat=timezone.now() - timedelta(seconds=600)
    )
    now = timezone.now()
    for agent in Agent.objects.with_effective_state(now):
        assert agent.effective_state == agent.effective_state_at(now), agent.agent_id
    shown = dict(
        Agent.objects.with_effective_state(now).values_list(
            "agent_id", "effective_state"
        )
    )
    assert shown == {
        "agent-0": "healthy",
        "agent-1": "degraded",
        "agent-2": "unknown",
        "agent-3": "offline",
        "agent-4": "offline",
        "agent-5": "paused",
        "agent-6": "offline",
        "paused-silent": "offline",
        "restarted": "healthy",
    }
    later = now + timedelta(seconds=61)
    assert {a.effective_state for a in Agent.objects.with_effective_state(later)} == {
        "offline"
    }


@pytest.mark.parametrize(
    "value", ["scan", [1], [""], ["  "], ["x" * 101], ["a"] * 101, None]
)
def test_bad_capabilities(value):
    with pytest.raises(ValidationError):
        validate_capabilities(value)


@pytest.mark.parametrize(
    "value",
    [[], {"k": 1}, {"k": None}, {"": "v"}, {"k" * 101: "v"}, {"k": "v" * 1001}],
)
def test_bad_meta(value):
    with pytest.raises(ValidationError):
        validate_meta(value)


def test_good_values():
    validate_capabilities(["scan", "plan"])
    validate_meta({"host": "node-1", "zone": ""})
