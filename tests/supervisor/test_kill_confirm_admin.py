"""Kill in admin asks first: the action shows a confirmation page (nothing
changes), and only its Kill button kills, with the reason given there."""

import pytest

from missions.models import Mission, MissionLog
from supervisor import services
from supervisor.models import Agent
from tests.missions.factories import make_mission
from tests.supervisor.factories import make_agent

pytestmark = pytest.mark.django_db

URL = "/admin/supervisor/agent/"


def test_kill_asks_then_kills_with_the_reason(client, make_user, plain_static_files):
    make_agent("agent-1")
    make_mission(name="held")
    services.agent_claim_mission(agent_id="agent-1")
    client.force_login(make_user("superuser", name="root"))
    asked = client.post(URL, {"action": "agent_kill", "_selected_action": ["agent-1"]})
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Kill these agents?" in page and "holds 1 running mission" in page
    assert Agent.objects.get(pk="agent-1").hold == ""
    done = client.post(
        URL,
        {
            "action": "agent_kill",
            "_selected_action": ["agent-1"],
            "confirm": "Kill",
            "reason": "runaway",
        },
        follow=True,
    )
    assert done.status_code == 200
    assert Agent.objects.get(pk="agent-1").hold == "killed"
    mission = Mission.objects.get(name="held")
    assert mission.status == "FAILED"
    last = MissionLog.objects.filter(mission=mission).order_by("-id").first()
    assert last.message == (
        "Agent agent-1 was killed by root (runaway); the mission was marked FAILED."
    )


def test_pause_needs_no_confirmation(client, make_user, plain_static_files):
    make_agent("agent-1")
    client.force_login(make_user("superuser"))
    client.post(URL, {"action": "agent_pause", "_selected_action": ["agent-1"]})
    assert Agent.objects.get(pk="agent-1").hold == "paused"
