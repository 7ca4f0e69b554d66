"""``manage.py simulate``: demo agents and robots moving through the real services."""

import io

import pytest
from django.core.management import call_command

from brain.events.models import EventLog
from credits.models import LedgerEntry
from hardware import services as hardware
from hardware.models import Robot, RobotCommand
from missions.models import Mission, MissionLog
from supervisor.models import Agent

pytestmark = pytest.mark.smoke


@pytest.mark.serial  # what 3 s of ticks do: as many ticks with no other test's load
@pytest.mark.django_db
def test_simulate_plays_agents_and_robots_through_the_services():
    out = io.StringIO()
    call_command(
        "simulate",
        "--seconds=3",
        "--seed=7",
        "--interval=0.1",
        "--agents=2",
        "--robots=1",
        "--url=http://127.0.0.1:8000",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "http://127.0.0.1:8000" in out.getvalue()
    assert set(Agent.objects.values_list("agent_id", flat=True)) == {
        "sim-agent-1",
        "sim-agent-2",
    }
    assert Mission.objects.filter(
        assigned_agent__agent_id__startswith="sim-agent-"
    ).exists()
    assert Mission.objects.filter(status__in=["COMPLETED", "FAILED"]).exists()
    assert MissionLog.objects.exclude(message__startswith="Mission ").exists()
    assert LedgerEntry.objects.filter(kind="consumption").exists()
    robot = Robot.objects.get()
    assert robot.latest_state is not None
    assert RobotCommand.objects.filter(status="executed").exists()
    actors = set(EventLog.objects.values_list("meta__actor", flat=True))
    assert actors == {"simulator"}


@pytest.mark.django_db
def test_simulated_robots_acknowledge_a_stop_sent_from_the_dashboard():
    call_command(
        "simulate", "--seconds=0.3", "--interval=0.1", "--agents=0", "--robots=1"
    )
    stop = hardware.robot_command_send(
        robot_id="sim-robot-1", linear_x=0, linear_y=0, angular_z=0
    )
    call_command(
        "simulate", "--seconds=0.5", "--interval=0.1", "--agents=0", "--robots=1"
    )
    stop.refresh_from_db()
    assert stop.status == "executed"
