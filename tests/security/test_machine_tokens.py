"""Tokens of an agent's or a robot's own act only as that agent or robot.

An operator issues them (``POST .../token``, shown once) and revokes them
(``DELETE``); with one, an agent claims, beats, writes to the missions it holds and
spends its own credits, a robot reports its own state and acknowledges and receives
its own commands — and acting for another is a 403, while operators keep acting on
behalf of anyone (``agent_id`` in the body, as old clients do).
"""

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from credits import services as credits
from credits.models import LedgerEntry
from hardware.models import RobotCommand
from missions.models import Mission, MissionLog
from supervisor import services as supervisor
from tests.conftest import token_for
from tests.hardware.factories import make_robot, state_body
from tests.missions.factories import make_mission
from tests.servers import collect_events, next_frame, quiet, ws_connect
from tests.supervisor.factories import make_agent


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def issue(api, kind: str, ident: str) -> str:
    url = (
        f"/api/supervisor/agents/{ident}/token"
        if kind == "agent"
        else f"/api/hardware/robots/{ident}/token"
    )
    response = api.post(url)
    assert response.status_code == 201, response.content
    assert set(response.json()) == {"token"}
    return response.json()["token"]


@pytest.fixture
def two_agents(db, api):
    """Agents A and B, each holding a mission, each with 100 credits and a token."""
    held = {}
    for agent_id in ("agent-a", "agent-b"):
        make_agent(agent_id)
        credits.account_create(agent_id=agent_id, initial_credits="100.00")
        make_mission(name=f"for {agent_id}")
        held[agent_id] = supervisor.agent_claim_mission(agent_id=agent_id).pk
    tokens = {agent_id: issue(api, "agent", agent_id) for agent_id in held}
    return held, tokens


@pytest.mark.django_db
def test_an_agent_token_acts_as_its_agent(two_agents):
    held, tokens = two_agents
    a = client_with(tokens["agent-a"])
    make_mission(name="next")
    claimed = a.post("/api/missions/claim", {}, format="json")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["assigned_agent"] == "agent-a"
    assert a.post("/api/missions/claim", {"agent_id": "agent-a"}).status_code == 204
    beat = a.post("/api/supervisor/agents/agent-a/heartbeat", {}, format="json")
    assert beat.status_code == 200, beat.content
    mission = held["agent-a"]
    log = a.post(f"/api/missions/{mission}/log", {"message": "mine"}, format="json")
    assert log.status_code == 201, log.content
    spent = a.post(
        "/api/credits/consume",
        {"agent_id": "agent-a", "amount": "5", "reason": "compute"},
        format="json",
    )
    assert spent.status_code == 200, spent.content
    done = a.post(f"/api/missions/{mission}/status", {"status": "COMPLETED"})
    assert done.status_code == 200, done.content
    assert MissionLog.objects.filter(mission_id=mission, message="mine").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "attempt",
    ["claim", "heartbeat", "log", "status", "consume"],
)
def test_an_agent_token_cannot_act_as_another_agent(two_agents, attempt):
    held, tokens = two_agents
    a = client_with(tokens["agent-a"])
    theirs = held["agent-b"]
    make_mission(name="unclaimed")
    requests = {
        "claim": ("/api/missions/claim", {"agent_id": "agent-b"}),
        "heartbeat": ("/api/supervisor/agents/agent-b/heartbeat", {}),
        "log": (f"/api/missions/{theirs}/log", {"message": "not mine"}),
        "status": (f"/api/missions/{theirs}/status", {"status": "COMPLETED"}),
        "consume": (
            "/api/credits/consume",
            {"agent_id": "agent-b", "amount": "5", "reason": "theft"},
        ),
    }
    url, body = requests[attempt]

    def state():
        return (
            list(
                Mission.objects.order_by("pk").values_list("status", "assigned_agent")
            ),
            MissionLog.objects.count(),
            list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        )

    before = state()
    response = a.post(url, body, format="json")
    assert response.status_code == 403, (attempt, response.content)
    assert "agent-a" in response.json()["detail"]
    assert state() == before


@pytest.mark.django_db
def test_a_balance_is_not_spent_by_another_agents_token(two_agents, api):
    _, tokens = two_agents
    a = client_with(tokens["agent-a"])
    a.post(
        "/api/credits/consume",
        {"agent_id": "agent-b", "amount": "5", "reason": "theft"},
        format="json",
    )
    balance = api.get("/api/credits/balance/agent-b")
    assert balance.status_code == 200, balance.content
    assert balance.json()["balance"] == "100.00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/supervisor/control", {"agent_id": "agent-a", "action": "kill"}),
        ("post", "/api/supervisor/agents/agent-a/token", None),
        ("delete", "/api/supervisor/agents/agent-a/token", None),
        ("post", "/api/missions", {"name": "self-assigned"}),
        ("post", "/api/credits/allocate", {"agent_id": "agent-a", "amount": "9"}),
        (
            "post",
            "/api/credits/refund",
            {"agent_id": "agent-a", "amount": "1", "reason": "x"},
        ),
        ("post", "/api/supervisor/agents", {"agent_id": "agent-c", "name": "C"}),
    ],
)
def test_an_agent_token_cannot_do_an_operators_work(two_agents, method, url, body):
    _, tokens = two_agents
    response = getattr(client_with(tokens["agent-a"]), method)(url, body, format="json")
    assert response.status_code == 403, (url, response.content)
    assert "machine token" in response.json()["detail"]


@pytest.mark.django_db
def test_operators_keep_acting_for_any_agent(two_agents, api):
    make_mission(name="for an operator's agent")
    claimed = api.post("/api/missions/claim", {"agent_id": "agent-b"}, format="json")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["assigned_agent"] == "agent-b"
    beat = api.post("/api/supervisor/agents/agent-b/heartbeat", {}, format="json")
    assert beat.status_code == 200
    missing = api.post("/api/missions/claim", {}, format="json")
    assert missing.status_code == 400
    assert "agent_id" in missing.json()


@pytest.mark.django_db
def test_the_token_is_shown_once_and_a_new_one_revokes_the_old(two_agents, api):
    _, tokens = two_agents
    old = tokens["agent-a"]
    new = issue(api, "agent", "agent-a")
    assert new != old
    assert client_with(old).post("/api/missions/claim", {}).status_code == 401
    assert client_with(new).post("/api/missions/claim", {}).status_code == 204
    assert "token" not in api.get("/api/supervisor/agents/agent-a").json()
    assert api.delete("/api/supervisor/agents/agent-a/token").status_code == 204
    assert client_with(new).post("/api/missions/claim", {}).status_code == 401
    assert api.delete("/api/supervisor/agents/agent-a/token").status_code == 404
    assert api.post("/api/supervisor/agents/nobody/token").status_code == 404


@pytest.mark.django_db
def test_actions_by_an_agent_token_record_the_agent_as_actor(two_agents, events):
    held, tokens = two_agents
    events.skip_seen()
    a = client_with(tokens["agent-a"])
    assert (
        a.post(
            f"/api/missions/{held['agent-a']}/log", {"message": "x"}, format="json"
        ).status_code
        == 201
    )
    (row,) = [r for r in events.rows() if r.type == "mission.log_appended"]
    assert row.meta["actor"] == "agent:agent-a"


@pytest.fixture
def two_robots(db, api):
    for robot_id in ("go2-one", "go2-two"):
        make_robot(robot_id)
    return {
        robot_id: issue(api, "robot", robot_id) for robot_id in ("go2-one", "go2-two")
    }


@pytest.mark.django_db
def test_a_robot_token_reports_and_acknowledges_only_for_its_robot(two_robots, api):
    one = client_with(two_robots["go2-one"])
    own = one.post("/api/hardware/robots/go2-one/state", state_body(), format="json")
    assert own.status_code == 201, own.content
    other = one.post("/api/hardware/robots/go2-two/state", state_body(), format="json")
    assert other.status_code == 403, other.content
    commands = {}
    for robot_id in ("go2-one", "go2-two"):
        sent = api.post(
            f"/api/hardware/robots/{robot_id}/command",
            {"linear_x": 0.1, "linear_y": 0, "angular_z": 0},
            format="json",
        )
        assert sent.status_code == 202, sent.content
        commands[robot_id] = sent.json()["command_id"]
    theirs = one.post(
        f"/api/hardware/commands/{commands['go2-two']}/ack",
        {"status": "acknowledged"},
        format="json",
    )
    assert theirs.status_code == 403, theirs.content
    assert RobotCommand.objects.get(pk=commands["go2-two"]).status == "sent"
    mine = one.post(
        f"/api/hardware/commands/{commands['go2-one']}/ack",
        {"status": "acknowledged"},
        format="json",
    )
    assert mine.status_code == 200, mine.content
    # A robot's token is no agent's.
    assert one.post("/api/missions/claim", {}).status_code == 403
    sends = one.post(
        "/api/hardware/robots/go2-one/command",
        {"linear_x": 0.1, "linear_y": 0, "angular_z": 0},
        format="json",
    )
    assert sends.status_code == 403


# On the socket ---------------------------------------------------------------------


async def _post(server, token: str, url: str, body=None) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Token {token}"}
    ) as http:
        return await http.post(url, json=body)


@pytest.mark.django_db(transaction=True)
async def test_a_robot_socket_receives_only_its_own_robots_commands(live, make_user):
    operator = await sync_to_async(make_user)("operator")
    op_token = await sync_to_async(token_for)(operator)

    def set_up():
        for robot_id in ("go2-one", "go2-two"):
            make_robot(robot_id)
        client = client_with(op_token)
        return issue(client, "robot", "go2-one")

    robot_token = await sync_to_async(set_up)()
    async with await ws_connect(live, "types=hardware.*", token=robot_token) as ws:
        subscribed = await next_frame(ws)
        assert subscribed["control"] == "subscribed"
        assert subscribed["subject"] == "robot_go2-one"
        for robot_id in ("go2-two", "go2-one"):
            response = await _post(
                live,
                op_token,
                f"/api/hardware/robots/{robot_id}/command",
                {"linear_x": 0.2, "linear_y": 0, "angular_z": 0},
            )
            assert response.status_code == 202, response.text
        (command,) = await collect_events(ws, 1)
        assert command["type"] == "hardware.command_sent"
        assert command["target"] == "robot_go2-one"
        assert await quiet(ws, 1.0) == []
    async with await ws_connect(live, "subject=robot_go2-two", token=robot_token) as ws:
        refused = await next_frame(ws)
        assert refused["control"] == "error"
        assert "may only follow robot_go2-one" in refused["detail"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await next_frame(ws)
        assert closed.value.rcvd.code == 4400


@pytest.mark.django_db(transaction=True)
async def test_an_agent_socket_receives_its_control_actions_live(live, make_user):
    operator = await sync_to_async(make_user)("operator", "oscar")
    op_token = await sync_to_async(token_for)(operator)

    def set_up():
        make_agent("agent-a")
        make_agent("agent-b")
        return issue(client_with(op_token), "agent", "agent-a")

    agent_token = await sync_to_async(set_up)()
    async with await ws_connect(live, token=agent_token) as ws:
        assert (await next_frame(ws))["subject"] == "agent_agent-a"
        for agent_id in ("agent-b", "agent-a"):
            response = await _post(
                live,
                op_token,
                "/api/supervisor/control",
                {"agent_id": agent_id, "action": "pause", "reason": "maintenance"},
            )
            assert response.status_code == 200, response.text
        controlled, changed = await collect_events(ws, 2)
        assert controlled["type"] == "supervisor.agent_controlled"
        assert controlled["target"] == "agent_agent-a"
        assert controlled["payload"]["action"] == "pause"
        assert controlled["payload"]["actor"] == "oscar"
        assert controlled["payload"]["reason"] == "maintenance"
        assert controlled["meta"]["actor"] == "oscar"
        assert changed["type"] == "supervisor.agent_state_changed"
        assert changed["payload"]["new_state"] == "paused"
        assert await quiet(ws, 1.0) == []
        # Paused, the agent's own claim is refused.
        refused = await _post(live, agent_token, "/api/missions/claim", {})
        assert refused.status_code == 409, refused.text
        assert refused.json()["current_state"] == "paused"


@pytest.mark.django_db(transaction=True)
async def test_revoking_a_token_closes_its_open_sockets(start_server, make_user):
    server = start_server(EVENTS_AUTH_RECHECK_SECONDS="0.5")
    operator = await sync_to_async(make_user)("operator")
    op_token = await sync_to_async(token_for)(operator)

    def set_up():
        make_robot("go2-one")
        return issue(client_with(op_token), "robot", "go2-one")

    robot_token = await sync_to_async(set_up)()
    async with await ws_connect(server, token=robot_token) as ws:
        await next_frame(ws)
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Token {op_token}"}
        ) as http:
            response = await http.delete("/api/hardware/robots/go2-one/token")
            assert response.status_code == 204, response.text
        revoked = await next_frame(ws, timeout=10)
        assert revoked["detail"] == "credentials revoked"
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await next_frame(ws, timeout=5)
        assert closed.value.rcvd.code == 4401
    late = await _post(server, robot_token, "/api/hardware/robots/go2-one/state", {})
    assert late.status_code == 401
