"""Races on PostgreSQL: row locks decide, and the loser gets a 409, not a second win."""

import threading

import pytest
from django.db import connection

from brain.errors import Conflict
from hardware import services
from hardware.models import Robot, RobotCommand
from tests.hardware.factories import make_robot, send_command

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls) -> list:
    """Run each call in its own thread and connection, all at once."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_final_reports_for_one_command_cannot_both_win(events):
    make_robot("racer")
    command = send_command("racer")
    outcomes = race(
        lambda: services.command_acknowledge(command_id=command.id, status="executed"),
        lambda: services.command_acknowledge(command_id=command.id, status="failed"),
    )
    winners = [o for o in outcomes if isinstance(o, RobotCommand)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    command.refresh_from_db()
    assert command.status == winners[0].status
    acks = events.of_type("hardware.command_acknowledged")
    assert [e["payload"]["status"] for e in acks] == [winners[0].status]


def test_registering_one_id_twice_at_once_gives_one_robot_and_one_409():
    outcomes = race(
        lambda: services.robot_register(robot_id="twin", name="A", model="unitree_go1"),
        lambda: services.robot_register(robot_id="twin", name="B", model="unitree_go2"),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Robot"]
    assert Robot.objects.filter(pk="twin").count() == 1
