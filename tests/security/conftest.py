import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from tests.credits.factories import make_account
from tests.hardware.factories import make_robot, send_command
from tests.missions.factories import make_mission
from tests.supervisor.factories import make_agent


@pytest.fixture
def path_values(db) -> dict[str, str]:
    """Real objects for every kind of path parameter, by parameter name: a mission,
    an account and an agent (both ``agent-1``), a robot and a command sent to it."""
    mission = make_mission()
    make_account("agent-1", initial_credits="10")
    make_agent("agent-1")
    make_robot("go2-alpha")
    command = send_command("go2-alpha")
    return {
        "mission_id": str(mission.id),
        "agent_id": "agent-1",
        "robot_id": "go2-alpha",
        "command_id": str(command.id),
        "endpoint_id": str(_endpoint().id),
    }


def _endpoint():
    from webhooks.services import endpoint_create

    owner = User.objects.create_superuser("webhook-owner", password="pw-not-used-1")
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True):
        return endpoint_create(owner=owner, url="http://127.0.0.1:9/hook")
