import pytest

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
    }
