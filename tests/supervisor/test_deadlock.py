"""Completing a mission while its agent is paused, at the same time, many times.

This used to deadlock on PostgreSQL: the missions receiver chain took the event
lock and then updated the agent row, while ``agent_control`` locked the agent and
then emitted. Now no receiver writes another app's rows and ``emit()`` takes no lock
inside a transaction, so the two only ever wait on rows in one order.
"""

import threading

import pytest
from django.db import connection, connections

from brain.errors import Conflict
from missions import services as missions
from missions.models import MissionStatus
from supervisor import services as supervisor
from tests.supervisor.factories import claim, make_agent

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 200


def test_mission_completion_against_agent_pause_never_deadlocks():
    if connection.vendor != "postgresql":
        pytest.fail("row-lock order is PostgreSQL's to prove")
    make_agent("racer")
    errors: list[BaseException] = []
    outcomes = {"completed": 0, "paused": 0}

    def run(fn, start: threading.Barrier) -> None:
        try:
            start.wait(10)
            fn()
        except Conflict:
            pass  # a refused transition is an answer, not a failure
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    for _ in range(ROUNDS):
        missions.mission_create(name="race")
        claimed = claim("racer")
        assert claimed is not None
        start = threading.Barrier(2)

        def complete(mission_id=claimed.pk) -> None:
            missions.mission_set_status(
                mission_id=mission_id, status=MissionStatus.COMPLETED
            )
            outcomes["completed"] += 1

        def pause() -> None:
            supervisor.agent_control(agent_id="racer", action="pause")
            outcomes["paused"] += 1

        threads = [
            threading.Thread(target=run, args=(fn, start)) for fn in (complete, pause)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(t.is_alive() for t in threads), "a writer hung"
        supervisor.agent_control(agent_id="racer", action="resume")
    assert errors == [], errors[:3]
    assert outcomes == {"completed": ROUNDS, "paused": ROUNDS}
