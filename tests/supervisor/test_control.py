"""Control actions: each rule allowed and refused, the switches, and kills."""

import pytest
from django.test import override_settings

from missions.models import MissionLog
from supervisor import services
from supervisor.models import Agent
from tests.conftest import EventLogView
from tests.missions.factories import make_mission
from tests.supervisor.factories import (
    agent_in,
    claim,
    current_mission,
    silence,
    stored_state,
)

pytestmark = pytest.mark.django_db

STATES = ["healthy", "degraded", "unknown", "silent", "offline", "paused", "killed"]
# What each set-up counts as (the ``current_state`` of a refusal).
SHOWN = {"silent": "offline", "killed": "offline"}
ALLOWED = {
    "pause": {"healthy", "degraded", "unknown"},
    "resume": {"paused"},
    "kill": {"healthy", "degraded", "unknown", "silent", "offline", "paused"},
    "restart": set(STATES),
}
RESULT = {
    "pause": "paused",
    # ``agent_in("paused")`` is a healthy agent, paused: it resumes as it reported.
    "resume": "healthy",
    "kill": "offline",
    "restart": "unknown",
}
# What is stored after the action: the recorded state (``None``: as before) and the
# operator's hold.
STORED = {
    "pause": (None, "paused"),
    "resume": (None, ""),
    "kill": (None, "killed"),
    "restart": ("unknown", ""),
}
CASES = [(action, state) for action in ALLOWED for state in STATES]


def control(api, action, reason="because"):
    return api.post(
        "/api/supervisor/control",
        {"agent_id": "agent-1", "action": action, "reason": reason},
        format="json",
    )


@pytest.mark.parametrize(
    ("action", "state"), [c for c in CASES if c[1] in ALLOWED[c[0]]]
)
def test_allowed_action(api, action, state):
    before = agent_in(state)
    old_state = SHOWN.get(state, state)
    events = EventLogView()
    response = control(api, action)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["agent"]["state"] == RESULT[action]
    recorded, hold = STORED[action]
    after = Agent.objects.get(pk="agent-1")
    assert (after.state, after.hold) == (recorded or before.state, hold)
    # Every accepted action is recorded, and sent to the agent, first.
    (controlled, *changed) = events.all()
    assert controlled["type"] == "supervisor.agent_controlled"
    assert controlled["target"] == "agent_agent-1"
    payload = controlled["payload"]
    assert (payload["action"], payload["reason"], payload["actor"]) == (
        action,
        "because",
        "alice",
    )
    assert (payload["old_state"], payload["new_state"]) == (old_state, RESULT[action])
    # The state change follows only when what the agent counts as changed.
    if old_state == RESULT[action]:
        assert changed == []
    else:
        (event,) = changed
        assert event["type"] == "supervisor.agent_state_changed"
        assert event["payload"]["old_state"] == old_state
        assert event["payload"]["new_state"] == RESULT[action]
        assert event["payload"]["reason"] == f"{action}: because"


@pytest.mark.parametrize(
    ("action", "state"), [c for c in CASES if c[1] not in ALLOWED[c[0]]]
)
def test_refused_action(api, action, state):
    before = agent_in(state)
    events = EventLogView()
    response = control(api, action)
    assert response.status_code == 409
    shown = SHOWN.get(state, state)
    body = response.json()
    assert body["current_state"] == shown
    assert body["killed"] is (state == "killed")
    assert set(body) == {"detail", "current_state", "killed"}
    assert f"it is {shown}" in body["detail"]
    after = Agent.objects.get(pk="agent-1")
    assert (after.state, after.hold, after.updated_at) == (
        before.state,
        before.hold,
        before.updated_at,
    )
    assert events.all() == []


def test_resume_gives_back_the_state_the_agent_last_reported(api):
    agent_in("degraded")
    assert control(api, "pause").json()["agent"]["state"] == "paused"
    # A paused agent's heartbeats keep it paused, and record what it reports.
    response = api.post(
        "/api/supervisor/agents/agent-1/heartbeat", {"state": "healthy"}, format="json"
    )
    assert response.json()["state"] == "paused"
    assert control(api, "resume").json()["agent"]["state"] == "healthy"


@pytest.mark.parametrize(
    ("setting", "action"),
    [("SUPERVISOR_ALLOW_KILL", "kill"), ("SUPERVISOR_ALLOW_RESTART", "restart")],
)
def test_disabled_action_is_403(api, setting, action):
    agent_in("healthy")
    events = EventLogView()
    with override_settings(**{setting: False}):
        response = control(api, action)
        assert response.status_code == 403
        assert setting in response.json()["detail"]
        assert stored_state("agent-1") == "healthy"
        assert events.all() == []
        # The other actions stay available.
        assert control(api, "pause").status_code == 200


def test_a_reason_is_optional(api):
    agent_in("healthy")
    events = EventLogView()
    response = api.post(
        "/api/supervisor/control",
        {"agent_id": "agent-1", "action": "pause"},
        format="json",
    )
    assert response.status_code == 200
    (event,) = events.of_type("supervisor.agent_state_changed")
    assert event["payload"]["reason"] == "pause: no reason given"
    (controlled,) = events.of_type("supervisor.agent_controlled")
    assert controlled["payload"]["reason"] == ""


def test_kill_fails_the_running_mission(api):
    mission = make_mission()
    claim("agent-1")
    assert current_mission("agent-1") == mission.id
    events = EventLogView()

    response = control(api, "kill", reason="runaway")

    assert response.status_code == 200
    assert response.json()["agent"]["current_mission"] is None
    assert current_mission("agent-1") is None
    agent = api.get("/api/supervisor/agents/agent-1").json()
    assert (agent["state"], agent["current_mission"]) == ("offline", None)
    mission.refresh_from_db()
    assert mission.status == "FAILED"
    lines = list(MissionLog.objects.filter(mission=mission).order_by("id"))
    assert lines[-2].data == {
        "from": "RUNNING",
        "to": "FAILED",
        "reason": "agent agent-1 was killed by alice (runaway)",
    }
    assert lines[-1].level == "error"
    assert lines[-1].message == (
        "Agent agent-1 was killed by alice (runaway); the mission was marked FAILED."
    )
    assert events.types() == [
        "supervisor.agent_controlled",
        "supervisor.agent_state_changed",
        "mission.status_changed",
        "mission.log_appended",
        "mission.log_appended",
    ]


def test_restart_gives_a_fresh_heartbeat_window(api):
    agent_in("silent")
    assert control(api, "restart").json()["agent"]["state"] == "unknown"
    assert services.agents_mark_offline().marked_offline == []
    assert api.get("/api/supervisor/agents/agent-1").json()["state"] == "unknown"
    # A restarted agent that then stays silent goes offline again.
    silence("agent-1", 120)
    assert services.agents_mark_offline().marked_offline == ["agent-1"]


def test_a_killed_agent_is_refused_its_heartbeats_until_restarted(api):
    agent_in("healthy")
    control(api, "kill")
    before = Agent.objects.get(pk="agent-1")
    events = EventLogView()
    response = api.post("/api/supervisor/agents/agent-1/heartbeat", format="json")
    assert response.status_code == 409
    assert response.json()["current_state"] == "offline"
    after = Agent.objects.get(pk="agent-1")
    assert (after.last_heartbeat, after.updated_at) == (
        before.last_heartbeat,
        before.updated_at,
    )
    assert events.all() == []
    # Restarted, it is unknown until it beats, and then back.
    assert control(api, "restart").json()["agent"]["state"] == "unknown"
    response = api.post("/api/supervisor/agents/agent-1/heartbeat", format="json")
    assert response.json()["state"] == "healthy"


def test_unknown_action_in_the_service_is_invalid():
    agent_in("healthy")
    from brain.errors import Invalid

    with pytest.raises(Invalid):
        services.agent_control(agent_id="agent-1", action="explode")
