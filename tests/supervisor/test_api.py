"""The REST API: each endpoint, its input checks and who may call it."""

import uuid

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from supervisor.models import Agent
from tests.missions.factories import make_mission
from tests.supervisor.factories import claim, make_agent, silence

pytestmark = pytest.mark.django_db


# Health -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/supervisor/health", "/api/supervisor/health/"])
def test_health_is_public(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert abs(body["timestamp"] - timezone.now().timestamp()) < 5


# Register -----------------------------------------------------------------------------


def test_register_creates_an_unknown_agent(api):
    response = api.post(
        "/api/supervisor/agents",
        {
            "agent_id": "worker-7",
            "name": "Worker 7",
            "role": "planner",
            "capabilities": ["plan", "deploy"],
            "meta": {"host": "node-3"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["agent_id"] == "worker-7"
    assert body["name"] == "Worker 7"
    assert body["role"] == "planner"
    assert body["capabilities"] == ["plan", "deploy"]
    assert body["meta"] == {"host": "node-3"}
    assert body["state"] == "unknown"
    assert body["last_heartbeat"] is None
    assert body["current_mission"] is None
    assert Agent.objects.get(pk="worker-7").state == "unknown"


def test_register_again_updates_and_keeps_what_is_left_out(api):
    make_agent("worker-7", capabilities=["plan"], meta={"host": "a"})
    response = api.post(
        "/api/supervisor/agents/",
        {"agent_id": "worker-7", "name": "Renamed", "meta": {"host": "b"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["meta"] == {"host": "b"}
    assert body["capabilities"] == ["plan"]
    assert body["role"] == "worker"
    assert body["state"] == "healthy"
    assert Agent.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "No id"}, "agent_id"),
        ({"agent_id": "has space", "name": "x"}, "agent_id"),
        ({"agent_id": "a" * 65, "name": "x"}, "agent_id"),
        ({"agent_id": "ok"}, "name"),
        ({"agent_id": "ok", "name": "x", "capabilities": "plan"}, "capabilities"),
        ({"agent_id": "ok", "name": "x", "capabilities": [1, 2]}, "capabilities"),
        ({"agent_id": "ok", "name": "x", "capabilities": [""]}, "capabilities"),
        ({"agent_id": "ok", "name": "x", "meta": ["a"]}, "meta"),
        ({"agent_id": "ok", "name": "x", "meta": {"k": 1}}, "meta"),
    ],
)
def test_register_refuses_bad_input(api, data, field):
    response = api.post("/api/supervisor/agents", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Agent.objects.exists()


# List and detail ----------------------------------------------------------------------


def test_list_shows_state_heartbeat_and_mission(api):
    mission = make_mission()
    claim("a-busy")
    make_agent("b-new", beat=False)
    make_agent("c-silent")
    silence("c-silent", 120)

    response = api.get("/api/supervisor/agents")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    rows = {row["agent_id"]: row for row in body["results"]}
    assert [row["agent_id"] for row in body["results"]] == [
        "a-busy",
        "b-new",
        "c-silent",
    ]
    assert rows["a-busy"]["state"] == "healthy"
    assert rows["a-busy"]["current_mission"] == str(mission.id)
    assert rows["a-busy"]["last_heartbeat"] is not None
    assert rows["b-new"]["state"] == "unknown"
    # Past the heartbeat window it counts as offline, before any check recorded it.
    assert rows["c-silent"]["state"] == "offline"
    assert Agent.objects.get(pk="c-silent").state == "healthy"


def test_list_filters_by_effective_state(api):
    make_agent("fresh")
    make_agent("silent")
    silence("silent", 120)
    response = api.get("/api/supervisor/agents?state=offline")
    assert [row["agent_id"] for row in response.json()["results"]] == ["silent"]
    response = api.get("/api/supervisor/agents?state=healthy")
    assert [row["agent_id"] for row in response.json()["results"]] == ["fresh"]


@pytest.mark.parametrize("size", [2, 25])
def test_list_runs_a_constant_number_of_queries(api, size, django_assert_num_queries):
    for n in range(size):
        make_agent(f"agent-{n:02}")
    # Every other agent holds a mission.
    held = {}
    for n in range(0, size, 2):
        make_mission(name=f"m{n}")
        held[f"agent-{n:02}"] = str(claim(f"agent-{n:02}").id)
    # The token, the user's permissions (its own and its groups'), the count, the
    # page (the effective state and the current mission are annotations of that
    # one query). The agents_listed event is live-only: it costs no query.
    with django_assert_num_queries(5) as captured:
        response = api.get("/api/supervisor/agents?page_size=100")
    rows = response.json()["results"]
    assert len(rows) == size
    assert {row["agent_id"]: row["current_mission"] for row in rows} == {
        f"agent-{n:02}": held.get(f"agent-{n:02}") for n in range(size)
    }
    sqls = [query["sql"] for query in captured.captured_queries]
    assert not any(sql.startswith(("SAVEPOINT", "INSERT", "UPDATE")) for sql in sqls)


def test_detail(api):
    make_agent("worker-1")
    response = api.get("/api/supervisor/agents/worker-1")
    assert response.status_code == 200
    assert response.json()["agent_id"] == "worker-1"
    assert response.json()["state"] == "healthy"
    assert response.json()["missions"] == []
    assert response.json()["last_control"] is None
    assert api.get("/api/supervisor/agents/nobody").status_code == 404


def test_detail_lists_the_missions_held_and_the_last_control(api):
    make_mission(name="held")
    mission = claim("worker-1")
    make_mission(name="waiting")
    api.post(
        "/api/supervisor/control",
        {"agent_id": "worker-1", "action": "pause", "reason": "maintenance"},
        format="json",
    )
    body = api.get("/api/supervisor/agents/worker-1").json()
    assert body["state"] == "paused"
    # Paused, it keeps the mission it holds.
    assert [(m["id"], m["status"], m["assigned_agent"]) for m in body["missions"]] == [
        (str(mission.id), "RUNNING", "worker-1")
    ]
    control = body["last_control"]
    assert {k: control[k] for k in ("action", "reason", "actor")} == {
        "action": "pause",
        "reason": "maintenance",
        "actor": "alice",
    }
    assert (control["old_state"], control["new_state"]) == ("healthy", "paused")


# Heartbeat ----------------------------------------------------------------------------


def test_heartbeat_marks_the_agent_seen(api):
    make_agent("worker-1", beat=False)
    before = timezone.now()
    response = api.post("/api/supervisor/agents/worker-1/heartbeat", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "healthy"
    agent = Agent.objects.get(pk="worker-1")
    assert agent.state == "healthy"
    assert agent.last_heartbeat >= before


def test_heartbeat_reports_a_state_and_a_mission(api):
    make_agent("worker-1")
    mission = make_mission()
    api.post("/api/missions/claim", {"agent_id": "worker-1"}, format="json")
    response = api.post(
        "/api/supervisor/agents/worker-1/heartbeat/",
        {"state": "degraded", "current_mission_id": str(mission.id)},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "degraded"
    assert response.json()["current_mission"] == str(mission.id)

    # Null checks nothing and clears nothing: the agent holds its claim.
    response = api.post(
        "/api/supervisor/agents/worker-1/heartbeat",
        {"current_mission_id": None},
        format="json",
    )
    assert response.json()["current_mission"] == str(mission.id)
    # Without a state, a degraded agent stays degraded.
    assert response.json()["state"] == "degraded"

    # The mission's end ends it.
    api.post(f"/api/missions/{mission.id}/status", {"status": "COMPLETED"})
    response = api.post("/api/supervisor/agents/worker-1/heartbeat", format="json")
    assert response.json()["current_mission"] is None


def test_heartbeat_brings_an_offline_agent_back(api):
    make_agent("worker-1")
    silence("worker-1", 120)
    assert api.get("/api/supervisor/agents/worker-1").json()["state"] == "offline"
    response = api.post("/api/supervisor/agents/worker-1/heartbeat", format="json")
    assert response.json()["state"] == "healthy"


@pytest.mark.parametrize("state", ["offline", "unknown", "sleepy"])
def test_heartbeat_refuses_other_states(api, state):
    make_agent("worker-1")
    response = api.post(
        "/api/supervisor/agents/worker-1/heartbeat", {"state": state}, format="json"
    )
    assert response.status_code == 400
    assert "state" in response.json()
    assert Agent.objects.get(pk="worker-1").state == "healthy"


@pytest.mark.parametrize(
    "mission_id", [pytest.param(str(uuid.uuid4()), id="unknown-uuid"), "not-a-uuid"]
)
def test_heartbeat_refuses_an_unknown_mission(api, mission_id):
    make_agent("worker-1", beat=False)
    response = api.post(
        "/api/supervisor/agents/worker-1/heartbeat",
        {"current_mission_id": mission_id},
        format="json",
    )
    assert response.status_code == 400
    assert "current_mission_id" in response.json()
    agent = Agent.objects.get(pk="worker-1")
    assert (agent.state, agent.last_heartbeat) == ("unknown", None)


def test_heartbeat_of_an_unknown_agent_is_404(api):
    response = api.post("/api/supervisor/agents/nobody/heartbeat", {}, format="json")
    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


# Control ------------------------------------------------------------------------------


def test_control_answers_with_the_agent(api):
    make_agent("worker-1")
    response = api.post(
        "/api/supervisor/control",
        {"agent_id": "worker-1", "action": "pause", "reason": "maintenance"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert "worker-1" in body["message"]
    assert body["agent"]["agent_id"] == "worker-1"
    assert body["agent"]["state"] == "paused"


def test_control_of_an_unknown_agent_is_404(api):
    response = api.post(
        "/api/supervisor/control/",
        {"agent_id": "nobody", "action": "pause"},
        format="json",
    )
    assert response.status_code == 404


def test_control_with_an_unknown_action_is_400(api):
    make_agent("worker-1")
    response = api.post(
        "/api/supervisor/control",
        {"agent_id": "worker-1", "action": "explode"},
        format="json",
    )
    assert response.status_code == 400
    assert "action" in response.json()


# Status -------------------------------------------------------------------------------


def test_status_shape(api):
    response = api.get("/api/supervisor/status/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "status",
        "timestamp",
        "total_missions",
        "pending_missions",
        "running_missions",
        "completed_missions",
        "failed_missions",
        "cancelled_missions",
        "agent_count",
        "agents",
        "components",
    }
    assert body["components"] == {
        "database": "ok",
        "cache": "ok",
        "channel_layer": "ok",
    }
    assert body["agents"] == {
        "healthy": 0,
        "degraded": 0,
        "paused": 0,
        "offline": 0,
        "unknown": 0,
    }
    assert body["status"] == "healthy"


# Who may call -------------------------------------------------------------------------

READS = [
    "/api/supervisor/status",
    "/api/supervisor/agents",
    "/api/supervisor/agents/worker-1",
]
WRITES = [
    ("/api/supervisor/agents", {"agent_id": "worker-2", "name": "Two"}),
    ("/api/supervisor/agents/worker-1/heartbeat", {}),
    ("/api/supervisor/control", {"agent_id": "worker-1", "action": "pause"}),
    ("/api/supervisor/agents/worker-1/token", {}),
]


@pytest.mark.parametrize("path", READS)
def test_reads_need_sign_in(anon, api_as, path):
    make_agent("worker-1")
    assert anon.get(path).status_code == 401
    assert api_as("viewer").get(path).status_code == 200


@pytest.mark.parametrize(("path", "data"), WRITES)
def test_viewers_may_not_write(anon, api_as, path, data):
    make_agent("worker-1")
    before = Agent.objects.get(pk="worker-1")
    assert anon.post(path, data, format="json").status_code == 401
    assert api_as("viewer").post(path, data, format="json").status_code == 403
    after = Agent.objects.get(pk="worker-1")
    assert (after.state, after.hold, after.last_heartbeat) == (
        before.state,
        before.hold,
        before.last_heartbeat,
    )
    assert not Agent.objects.filter(pk="worker-2").exists()
    assert not Token.objects.filter(user__username="agent:worker-1").exists()


@pytest.mark.parametrize(("path", "data"), WRITES)
def test_operators_may_write(api, path, data):
    make_agent("worker-1")
    assert api.post(path, data, format="json").status_code in (200, 201)


def test_the_heartbeat_window_is_a_setting(api, settings):
    make_agent("worker-1")
    silence("worker-1", 5)
    assert api.get("/api/supervisor/agents/worker-1").json()["state"] == "healthy"
    settings.SUPERVISOR_HEARTBEAT_WINDOW_SECONDS = 2
    assert api.get("/api/supervisor/agents/worker-1").json()["state"] == "offline"
