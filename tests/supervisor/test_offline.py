"""The offline check: an agent that stops beating goes offline once, its RUNNING
mission is FAILED with a log line saying why, and beating again brings it back."""

import logging
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from brain.errors import Conflict
from missions import services as mission_services
from missions.models import Mission, MissionLog
from supervisor import services
from supervisor.management.commands import watch_agents
from tests.conftest import EventLogView, server_env
from tests.missions.factories import make_mission
from tests.servers import ROOT
from tests.supervisor.factories import (
    claim,
    current_mission,
    make_agent,
    silence,
    stored_state,
)

pytestmark = pytest.mark.django_db


def test_a_silent_agent_goes_offline_once(api):
    make_agent("agent-1")
    make_agent("agent-2")
    silence("agent-1", 90)
    events = EventLogView()

    first = services.agents_mark_offline()
    second = services.agents_mark_offline()

    assert first.marked_offline == ["agent-1"]
    assert second.marked_offline == []
    assert stored_state("agent-1") == "offline"
    assert stored_state("agent-2") == "healthy"
    (event,) = events.of_type("supervisor.agent_state_changed")
    assert event["payload"]["agent_id"] == "agent-1"
    assert (event["payload"]["old_state"], event["payload"]["new_state"]) == (
        "healthy",
        "offline",
    )


def test_its_running_mission_fails_with_a_log_line(api):
    mission = make_mission()
    claimed = claim("agent-1")
    assert claimed.id == mission.id
    assert current_mission("agent-1") == mission.id
    silence("agent-1", 90)
    events = EventLogView()

    result = services.agents_mark_offline()

    assert result.failed_missions == [str(mission.id)]
    mission.refresh_from_db()
    assert mission.status == "FAILED"
    status_line, why_line = MissionLog.objects.filter(mission=mission).order_by("id")[
        2:
    ]
    assert status_line.message == "Mission status changed"
    assert status_line.data["from"] == "RUNNING"
    assert status_line.data["to"] == "FAILED"
    assert status_line.data["reason"].startswith(
        "agent agent-1 went offline (no heartbeat for 9"
    )
    assert why_line.level == "error"
    assert why_line.message.startswith("Agent agent-1 went offline (no heartbeat for")
    assert why_line.data["agent_id"] == "agent-1"
    # Its current mission was the failed one: it has none now.
    assert current_mission("agent-1") is None
    agent = api.get("/api/supervisor/agents/agent-1").json()
    assert (agent["state"], agent["current_mission"]) == ("offline", None)
    # The agent event first, then the mission's.
    assert events.types() == [
        "supervisor.agent_state_changed",
        "mission.status_changed",
        "mission.log_appended",
        "mission.log_appended",
    ]
    # Over REST too.
    body = api.get(f"/api/missions/{mission.id}/log").json()
    assert body["log"][-1]["level"] == "error"
    assert "went offline" in body["log"][-1]["message"]
    # A second pass finds nothing more to do.
    assert services.agents_mark_offline().failed_missions == []


def test_an_agent_that_beats_before_the_check_keeps_its_mission(api):
    mission = make_mission()
    claim("agent-1")
    silence("agent-1", 90)
    shown = api.get("/api/supervisor/agents/agent-1").json()
    assert (shown["state"], shown["current_mission"]) == ("offline", str(mission.id))
    response = api.post(
        "/api/supervisor/agents/agent-1/heartbeat",
        {"current_mission_id": str(mission.id)},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "healthy"
    assert response.json()["current_mission"] == str(mission.id)
    assert services.agents_mark_offline().failed_missions == []
    assert Mission.objects.get(pk=mission.pk).status == "RUNNING"


def test_beating_again_brings_it_back(api):
    make_agent("agent-1")
    silence("agent-1", 90)
    services.agents_mark_offline()
    events = EventLogView()

    response = api.post("/api/supervisor/agents/agent-1/heartbeat")

    assert response.json()["state"] == "healthy"
    assert stored_state("agent-1") == "healthy"
    (event,) = events.of_type("supervisor.agent_state_changed")
    assert event["payload"]["old_state"] == "offline"
    assert event["payload"]["new_state"] == "healthy"
    assert event["payload"]["reason"] == "heartbeat"
    assert services.agents_mark_offline().marked_offline == []


def test_an_agent_that_never_beat_has_the_window_from_registration(api):
    make_agent("agent-1", beat=False)
    assert services.agents_mark_offline().marked_offline == []
    assert stored_state("agent-1") == "unknown"

    silence("agent-1", 90)
    events = EventLogView()
    assert services.agents_mark_offline().marked_offline == ["agent-1"]
    (event,) = events.all()
    assert event["payload"]["old_state"] == "unknown"
    assert event["payload"]["new_state"] == "offline"


def test_a_mission_assigned_to_an_offline_agent_is_failed_next_pass():
    """An offline agent's claims are refused; a mission given to it all the same
    (the low-level ``mission_assign_next``, which checks no agent) does not stay
    RUNNING behind it."""
    make_agent("agent-1")
    silence("agent-1", 90)
    services.agents_mark_offline()
    mission = make_mission()
    with pytest.raises(Conflict):
        services.agent_claim_mission(agent_id="agent-1")
    assert Mission.objects.get(pk=mission.pk).status == "PENDING"
    mission_services.mission_assign_next(agent_id="agent-1")
    events = EventLogView()

    result = services.agents_mark_offline()

    assert result.marked_offline == []
    assert result.failed_missions == [str(mission.id)]
    assert Mission.objects.get(pk=mission.pk).status == "FAILED"
    assert MissionLog.objects.filter(mission=mission).last().message == (
        "Agent agent-1 is offline; the mission was marked FAILED."
    )
    assert "supervisor.agent_state_changed" not in events.types()


def test_missions_of_other_agents_are_left_alone():
    make_agent("agent-1")
    make_agent("agent-2")
    first, second = make_mission(name="one"), make_mission(name="two")
    claim("agent-1")
    claim("agent-2")
    silence("agent-1", 90)
    services.agents_mark_offline()
    statuses = dict(Mission.objects.values_list("name", "status"))
    assert statuses == {"one": "FAILED", "two": "RUNNING"}
    assert {first.name, second.name} == set(statuses)


# The command --------------------------------------------------------------------------


def test_watch_agents_once(capsys):
    make_agent("agent-1")
    make_agent("agent-2")
    silence("agent-1", 90)
    call_command("watch_agents", "--once")
    assert "offline: agent-1" in capsys.readouterr().out
    assert stored_state("agent-1") == "offline"
    assert stored_state("agent-2") == "healthy"
    call_command("watch_agents", "--once")
    assert capsys.readouterr().out == ""


def test_a_pass_survives_a_database_error(monkeypatch, caplog):
    make_agent("agent-1")
    silence("agent-1", 90)
    calls = {"n": 0}
    real = watch_agents.agents_mark_offline

    def flaky():
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("connection refused")
        return real()

    monkeypatch.setattr(watch_agents, "agents_mark_offline", flaky)
    command = watch_agents.Command()
    with caplog.at_level(logging.WARNING):
        assert command.run_pass() is None
    assert "connection refused" in caplog.text
    assert command.run_pass().marked_offline == ["agent-1"]


def test_the_events_of_a_pass_have_no_actor():
    make_agent("agent-1")
    silence("agent-1", 90)
    events = EventLogView()
    call_command("watch_agents", "--once")
    (event,) = events.all()
    assert event["meta"]["actor"] is None


# Concurrency on PostgreSQL ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkers_record_each_change_once():
    assert connection.vendor == "postgresql"
    agent_ids = [f"agent-{n:02}" for n in range(12)]
    for agent_id in agent_ids:
        make_agent(agent_id)
    for agent_id in agent_ids[:4]:
        make_mission(name=agent_id)
        claim(agent_id)
    for agent_id in agent_ids:
        silence(agent_id, 90)
    events = EventLogView()
    barrier = threading.Barrier(3)
    results, errors = [], []

    def checker():
        try:
            barrier.wait(timeout=10)
            results.append(services.agents_mark_offline())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=checker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    marked = [a for result in results for a in result.marked_offline]
    assert sorted(marked) == agent_ids
    failed = [m for result in results for m in result.failed_missions]
    assert len(failed) == len(set(failed)) == 4
    changed = events.of_type("supervisor.agent_state_changed")
    assert sorted(e["payload"]["agent_id"] for e in changed) == agent_ids
    assert len(events.of_type("mission.status_changed")) == 4
    assert set(Mission.objects.values_list("status", flat=True)) == {"FAILED"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checker_skips_an_agent_another_checker_is_recording():
    """Checker A has recorded the change but not committed; checker B, running
    meanwhile, must neither wait for A nor record the change a second time."""
    from supervisor.signals import agent_state_changed

    make_agent("agent-1")
    silence("agent-1", 90)
    events = EventLogView()
    inside, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def hold(sender, **kwargs):
        if threading.current_thread().name == "A":
            inside.set()
            release.wait(10)

    def run(name):
        try:
            results[name] = services.agents_mark_offline()
        finally:
            connection.close()

    agent_state_changed.connect(hold, weak=False, dispatch_uid="test.hold")
    try:
        a = threading.Thread(target=run, args=("A",), name="A")
        a.start()
        assert inside.wait(10)
        b = threading.Thread(target=run, args=("B",), name="B")
        b.start()
        b.join(timeout=3)
        b_finished_first = not b.is_alive()
        release.set()
        a.join(timeout=10)
        b.join(timeout=10)
    finally:
        release.set()
        agent_state_changed.disconnect(dispatch_uid="test.hold")

    assert b_finished_first
    assert results["A"].marked_offline == ["agent-1"]
    assert results["B"].marked_offline == []
    assert len(events.of_type("supervisor.agent_state_changed")) == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_watcher_process_loops():
    """``manage.py watch_agents`` as ``bin/run`` starts it: a real process, passes
    every interval, one event for one change."""
    mission = make_mission()
    claim("agent-1")
    silence("agent-1", 90)
    events = EventLogView()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "watch_agents", "--interval", "0.2"],
        cwd=ROOT,
        env=server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while stored_state("agent-1") != "offline":
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the watcher did not mark the agent"
            time.sleep(0.1)
        time.sleep(1)  # several more passes
        assert process.poll() is None
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert "offline: agent-1" in output
    assert len(events.of_type("supervisor.agent_state_changed")) == 1
    assert Mission.objects.get(pk=mission.pk).status == "FAILED"
