"""Every cell of the agent transition table, through the services, and the table
``EVENTS.md`` shows.

The expected table is written out here, by hand, from the issue's rules; the
services must follow it and the generated docs must show the same.
"""

import pytest

from brain.errors import Conflict
from supervisor import services
from supervisor.models import Agent, AgentControl
from supervisor.transitions import transition_table
from tests.supervisor.factories import make_agent, settle, silence

pytestmark = pytest.mark.django_db

ROWS = ("unknown", "healthy", "degraded", "paused", "offline", "killed")
ACTIONS = ("pause", "resume", "kill", "restart")
REFUSED = None

# (row, action) -> what the agent counts as afterwards; REFUSED: a 409.
EXPECTED = {
    ("unknown", "pause"): "paused",
    ("unknown", "resume"): REFUSED,
    ("unknown", "kill"): "offline",
    ("unknown", "restart"): "unknown",
    ("healthy", "pause"): "paused",
    ("healthy", "resume"): REFUSED,
    ("healthy", "kill"): "offline",
    ("healthy", "restart"): "unknown",
    ("degraded", "pause"): "paused",
    ("degraded", "resume"): REFUSED,
    ("degraded", "kill"): "offline",
    ("degraded", "restart"): "unknown",
    ("paused", "pause"): REFUSED,
    ("paused", "resume"): "degraded",  # the state it last reported (see make_row)
    ("paused", "kill"): "offline",
    ("paused", "restart"): "unknown",
    ("offline", "pause"): REFUSED,
    ("offline", "resume"): REFUSED,
    ("offline", "kill"): "offline",
    ("offline", "restart"): "unknown",
    ("killed", "pause"): REFUSED,
    ("killed", "resume"): REFUSED,
    ("killed", "kill"): REFUSED,
    ("killed", "restart"): "unknown",
}
# row -> what a heartbeat without a state leads to; REFUSED: a 409.
HEARTBEAT = {
    "unknown": "healthy",
    "healthy": "healthy",
    "degraded": "degraded",
    "paused": "paused",
    "offline": "healthy",
    "killed": REFUSED,
}


def make_row(row: str, agent_id: str = "agent-1") -> Agent:
    """An agent that counts as ``row`` (``killed``: offline by a kill)."""
    make_agent(agent_id, beat=row != "unknown")
    if row in ("degraded", "paused"):
        services.agent_heartbeat(agent_id=agent_id, state="degraded")
    if row == "paused":
        services.agent_control(agent_id=agent_id, action="pause")
    elif row == "offline":
        silence(agent_id, 3600)
    elif row == "killed":
        services.agent_control(agent_id=agent_id, action="kill")
    agent = Agent.objects.with_effective_state().get(pk=agent_id)
    assert agent.effective_state == ("offline" if row == "killed" else row)
    return agent


def snapshot(agent_id: str) -> tuple:
    agent = Agent.objects.with_effective_state().get(pk=agent_id)
    return (
        agent.state,
        agent.hold,
        agent.last_heartbeat,
        agent.started_at,
        agent.effective_state,
        AgentControl.objects.filter(agent_id=agent_id).count(),
    )


def test_the_expected_table_covers_every_row_and_action():
    assert set(EXPECTED) == {(row, action) for row in ROWS for action in ACTIONS}


@pytest.mark.parametrize(("row", "action"), sorted(EXPECTED))
def test_each_control_action_from_each_state(row, action, events, settings):
    settings.SUPERVISOR_ALLOW_KILL = True
    settings.SUPERVISOR_ALLOW_RESTART = True
    make_row(row)
    settle()
    events.skip_seen()
    before = snapshot("agent-1")
    expected = EXPECTED[(row, action)]
    if expected is REFUSED:
        with pytest.raises(Conflict) as refused:
            services.agent_control(agent_id="agent-1", action=action, reason="x")
        current = "offline" if row == "killed" else row
        assert refused.value.extra["current_state"] == current
        assert f"it is {'offline (killed)' if row == 'killed' else row}" in (
            refused.value.detail
        )
        assert snapshot("agent-1") == before
        assert events.rows() == []
        return
    agent, message = services.agent_control(
        agent_id="agent-1", action=action, reason="because"
    )
    after = Agent.objects.with_effective_state().get(pk="agent-1")
    assert after.effective_state == expected
    assert after.killed == (action == "kill")
    control = AgentControl.objects.filter(agent_id="agent-1").first()
    assert (control.action, control.reason, control.new_state) == (
        action,
        "because",
        expected,
    )
    types = [row.type for row in events.rows()]
    assert types[0] == "supervisor.agent_controlled"
    old = before[4]
    if expected != old:
        assert types == [
            "supervisor.agent_controlled",
            "supervisor.agent_state_changed",
        ]
    else:
        assert types == ["supervisor.agent_controlled"]
    assert f"{old} → {expected}" in message


@pytest.mark.parametrize("row", ROWS)
def test_a_heartbeat_from_each_state(row, events):
    make_row(row)
    settle()
    events.skip_seen()
    before = snapshot("agent-1")
    expected = HEARTBEAT[row]
    if expected is REFUSED:
        with pytest.raises(Conflict) as refused:
            services.agent_heartbeat(agent_id="agent-1")
        assert "restart" in refused.value.detail
        assert refused.value.extra == {"current_state": "offline", "killed": True}
        assert snapshot("agent-1") == before
        assert events.rows() == []
        return
    services.agent_heartbeat(agent_id="agent-1")
    after = Agent.objects.with_effective_state().get(pk="agent-1")
    assert after.effective_state == expected
    assert after.last_heartbeat > (before[2] or before[3])
    changed = [r for r in events.rows() if r.type == "supervisor.agent_state_changed"]
    assert len(changed) == (expected != before[4])


def test_a_paused_agent_reporting_degraded_stays_paused_and_resumes_degraded():
    make_row("paused")
    services.agent_heartbeat(agent_id="agent-1", state="healthy")
    services.agent_heartbeat(agent_id="agent-1", state="degraded")
    agent = Agent.objects.with_effective_state().get(pk="agent-1")
    assert agent.effective_state == "paused"
    services.agent_control(agent_id="agent-1", action="resume")
    agent = Agent.objects.with_effective_state().get(pk="agent-1")
    assert agent.effective_state == "degraded"


def test_a_pause_outlives_silence():
    make_row("paused")
    silence("agent-1", 3600)
    assert Agent.objects.with_effective_state().get(pk="agent-1").effective_state == (
        "offline"
    )
    services.agents_mark_offline()
    services.agent_heartbeat(agent_id="agent-1", state="healthy")
    agent = Agent.objects.with_effective_state().get(pk="agent-1")
    assert (agent.effective_state, agent.state) == ("paused", "healthy")


def test_after_a_restart_the_agent_is_unknown_until_it_beats():
    make_row("killed")
    services.agent_control(agent_id="agent-1", action="restart")
    agent = Agent.objects.with_effective_state().get(pk="agent-1")
    assert (agent.effective_state, agent.hold) == ("unknown", "")
    services.agent_heartbeat(agent_id="agent-1")
    agent = Agent.objects.with_effective_state().get(pk="agent-1")
    assert agent.effective_state == "healthy"


def test_a_refused_action_over_rest_is_a_409_naming_the_state(api):
    make_row("paused")
    response = api.post(
        "/api/supervisor/control",
        {"agent_id": "agent-1", "action": "pause"},
        format="json",
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["current_state"] == "paused"
    assert "cannot pause agent agent-1: it is paused" in body["detail"]


def test_events_md_shows_the_table_the_services_apply():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "supervisor" / "EVENTS.md").read_text()
    assert transition_table() in text
    for (row, action), expected in EXPECTED.items():
        if row == "killed":
            row = "offline (killed)"
        line = next(line for line in text.splitlines() if line.startswith(f"| {row} |"))
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        column = 1 + ACTIONS.index(action) + 1
        shown = cells[column]
        if expected is REFUSED:
            assert shown == "refused (409)", (row, action, shown)
        elif action == "resume":
            assert shown == "last reported", (row, action, shown)
        else:
            assert shown == expected, (row, action, shown)
