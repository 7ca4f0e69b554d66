"""The simulator's agents obey their operators: they read their own control events
(``supervisor.agent_controlled``) as a real agent reads them on its socket. A paused
agent keeps beating but does no work; a killed one falls silent; a restarted one
beats and works again."""

import io
import random

import pytest

from brain.events.context import event_context
from credits.models import LedgerEntry
from dashboard.management.commands.simulate import CHATTER, Command
from missions.models import MissionLog
from supervisor import services as supervisor
from supervisor.models import Agent
from tests.conftest import number_pending

pytestmark = pytest.mark.django_db

CHATTER_LINES = [line for lines in CHATTER.values() for line in lines]


def work_done(agent_id: str) -> tuple[int, int]:
    """Chatter lines on the agent's missions and credits it spent."""
    lines = MissionLog.objects.filter(
        mission__assigned_agent_id=agent_id, message__in=CHATTER_LINES
    ).count()
    spent = LedgerEntry.objects.filter(agent_id=agent_id, kind="consumption").count()
    return lines, spent


def last_heartbeat(agent_id: str):
    return Agent.objects.get(pk=agent_id).last_heartbeat


@pytest.fixture
def sim():
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    command.random = random.Random(11)
    with event_context(actor="simulator"):
        agents = [command.start_agent(1), command.start_agent(2)]

    def ticks(count: int) -> None:
        for n in range(count):
            with event_context(actor="simulator"):
                command.tick(agents, [], n)
            number_pending()  # what the numbering thread does after each commit

    ticks.command = command
    return ticks


def operator(action: str, agent_id: str = "sim-agent-1") -> None:
    with event_context(actor="olga"):
        supervisor.agent_control(agent_id=agent_id, action=action, reason="test")
    number_pending()


def test_a_paused_agent_keeps_beating_and_stops_working(sim):
    sim(6)
    assert work_done("sim-agent-1") != (0, 0)
    operator("pause")
    paused_at = last_heartbeat("sim-agent-1")
    done = work_done("sim-agent-1")
    other = work_done("sim-agent-2")
    sim(8)
    assert work_done("sim-agent-1") == done
    assert work_done("sim-agent-2") != other  # the other agent went on
    assert last_heartbeat("sim-agent-1") > paused_at
    assert Agent.objects.with_effective_state().get(
        pk="sim-agent-1"
    ).effective_state == ("paused")
    operator("resume")
    sim(8)
    assert work_done("sim-agent-1") != done


def test_a_killed_agent_falls_silent_until_restarted(sim):
    sim(4)
    operator("kill")
    silent_since = last_heartbeat("sim-agent-1")
    done = work_done("sim-agent-1")
    sim(6)
    assert last_heartbeat("sim-agent-1") == silent_since
    assert work_done("sim-agent-1")[1] == done[1]
    # It did not even try: no refused heartbeat or claim was reported.
    assert "sim-agent-1" not in sim.command.stderr.getvalue()
    operator("restart")
    sim(6)
    assert last_heartbeat("sim-agent-1") > silent_since
    agent = Agent.objects.with_effective_state().get(pk="sim-agent-1")
    assert agent.effective_state in ("healthy", "degraded")
