"""Admin: the agent list and the control actions, through the same services."""

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from missions import services as mission_services
from missions.models import Mission
from supervisor import services
from supervisor.models import Agent
from tests.conftest import EventLogView
from tests.missions.factories import make_mission
from tests.supervisor.factories import (
    agent_in,
    claim,
    effective_state,
    stored_hold,
    stored_state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

CHANGELIST = "/admin/supervisor/agent/"
# The change form's inline of control actions (read only, none added), as a browser
# sends it.
CONTROLS_INLINE = {"controls-TOTAL_FORMS": "0", "controls-INITIAL_FORMS": "0"}


@pytest.fixture
def staff(make_user) -> Client:
    client = Client()
    client.force_login(make_user("superuser", name="root"))
    return client


def act(staff: Client, action: str, *agent_ids: str, **extra: str):
    """Run an admin action; ``confirm="Kill"`` answers Kill's confirmation page."""
    return staff.post(
        CHANGELIST,
        {"action": f"agent_{action}", "_selected_action": list(agent_ids), **extra},
        follow=True,
    )


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_the_list_shows_state_heartbeat_and_mission(staff):
    agent_in("healthy", "busy")
    mission = make_mission(name="Survey the field")
    claim("busy")
    agent_in("silent", "quiet")
    response = staff.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert str(mission.id) in page
    assert "healthy" in page and "offline" in page
    rows = {agent.agent_id: agent for agent in response.context["cl"].result_list}
    assert rows["busy"].current_mission_id == mission.id
    assert rows["quiet"].current_mission_id is None
    response = staff.get(CHANGELIST + "?state=offline")
    rows = list(response.context["cl"].result_list)
    assert [agent.agent_id for agent in rows] == ["quiet"]
    response = staff.get(f"{CHANGELIST}busy/change/")
    assert response.status_code == 200
    assert str(mission.id) in response.content.decode()
    # Once the mission ends, the agent has none.
    mission_services.mission_set_status(mission_id=mission.id, status="COMPLETED")
    for page in (CHANGELIST, f"{CHANGELIST}busy/change/"):
        assert str(mission.id) not in staff.get(page).content.decode(), page


def test_an_action_emits_the_same_event_as_rest(staff):
    agent_in("healthy")
    events = EventLogView()
    response = act(staff, "pause", "agent-1")
    assert messages_of(response) == [("success", "Pause: 1 agent(s).")]
    assert (stored_state("agent-1"), stored_hold("agent-1")) == ("healthy", "paused")
    assert effective_state("agent-1") == "paused"
    controlled, event = events.all()
    assert controlled["type"] == "supervisor.agent_controlled"
    assert controlled["target"] == "agent_agent-1"
    assert controlled["payload"]["action"] == "pause"
    assert controlled["payload"]["actor"] == "root"
    assert controlled["payload"]["reason"] == "requested in admin by root"
    assert controlled["meta"]["actor"] == "root"
    assert event["type"] == "supervisor.agent_state_changed"
    assert event["target"] == "agent_agent-1"
    assert event["payload"]["old_state"] == "healthy"
    assert event["payload"]["new_state"] == "paused"
    assert event["payload"]["reason"] == "pause: requested in admin by root"
    assert event["meta"]["actor"] == "root"


def test_a_refused_action_shows_an_error_and_changes_nothing(staff):
    agent_in("healthy", "a")
    agent_in("paused", "b")
    before = Agent.objects.get(pk="a")
    events = EventLogView()
    response = act(staff, "resume", "a", "b")
    assert ("success", "Resume: 1 agent(s).") in messages_of(response)
    errors = [text for level, text in messages_of(response) if level == "error"]
    assert len(errors) == 1
    assert "cannot resume agent a: it is healthy" in errors[0]
    after = Agent.objects.get(pk="a")
    assert (after.state, after.hold, after.updated_at) == (
        before.state,
        before.hold,
        before.updated_at,
    )
    assert (effective_state("a"), effective_state("b")) == ("healthy", "healthy")
    # Only b's resume is recorded: its control and its state change.
    assert [e["payload"]["agent_id"] for e in events.all()] == ["b", "b"]


def test_kill_and_restart_in_admin(staff):
    agent_in("healthy")
    mission = make_mission()
    claim("agent-1")
    assert str(mission.id) in staff.get(CHANGELIST).content.decode()
    # Kill asks first, and nothing happens until it is confirmed.
    asked = act(staff, "kill", "agent-1")
    assert asked.templates[0].name == "admin/supervisor/agent/confirm_kill.html"
    assert stored_hold("agent-1") == ""
    assert Mission.objects.get().status == "RUNNING"
    act(staff, "kill", "agent-1", confirm="Kill")
    assert stored_hold("agent-1") == "killed"
    assert effective_state("agent-1") == "offline"
    assert Mission.objects.get().status == "FAILED"
    assert str(mission.id) not in staff.get(CHANGELIST).content.decode()
    # The change page lists who killed it.
    page = staff.get(f"{CHANGELIST}agent-1/change/").content.decode()
    assert "kill" in page and "requested in admin by root" in page
    act(staff, "restart", "agent-1")
    assert (stored_state("agent-1"), stored_hold("agent-1")) == ("unknown", "")
    assert effective_state("agent-1") == "unknown"


def test_a_disabled_action_is_refused_in_admin(staff):
    agent_in("healthy")
    with override_settings(SUPERVISOR_ALLOW_KILL=False):
        response = act(staff, "kill", "agent-1", confirm="Kill")
    assert (stored_state("agent-1"), stored_hold("agent-1")) == ("healthy", "")
    assert "disabled" in messages_of(response)[0][1]


def test_add_and_change_go_through_registration(staff):
    events = EventLogView()
    response = staff.post(
        "/admin/supervisor/agent/add/",
        {
            "agent_id": "worker-9",
            "name": "Nine",
            "role": "",
            "capabilities": '["scan"]',
            "meta": "{}",
            **CONTROLS_INLINE,
        },
    )
    assert response.status_code == 302, response.content
    assert events.types() == ["supervisor.agent_registered"]
    response = staff.post(
        "/admin/supervisor/agent/worker-9/change/",
        {
            "name": "Nine!",
            "role": "scout",
            "capabilities": "[1]",
            "meta": "{}",
            **CONTROLS_INLINE,
        },
    )
    assert response.status_code == 200  # the form shows the error
    assert Agent.objects.get().capabilities == ["scan"]
    response = staff.post(
        "/admin/supervisor/agent/worker-9/change/",
        {
            "name": "Nine!",
            "role": "scout",
            "capabilities": "[]",
            "meta": "{}",
            **CONTROLS_INLINE,
        },
    )
    assert response.status_code == 302
    agent = Agent.objects.get()
    assert (agent.name, agent.role, agent.state) == ("Nine!", "scout", "unknown")
    assert events.types() == ["supervisor.agent_registered"]


def test_delete_fails_the_running_mission(staff):
    agent_in("healthy")
    make_mission()
    claim("agent-1")
    token = services.agent_token_issue(agent_id="agent-1")
    response = staff.post(
        "/admin/supervisor/agent/agent-1/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not Agent.objects.exists()
    assert Mission.objects.get().status == "FAILED"
    assert User.objects.filter(username="root").exists()
    # Its token goes with it: an agent registered later under the same id is not
    # the holder of the old token.
    assert not Token.objects.filter(key=token).exists()
    agent_in("healthy")
    beat = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert beat.post("/api/supervisor/agents/agent-1/heartbeat").status_code == 401
