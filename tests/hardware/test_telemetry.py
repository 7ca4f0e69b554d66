"""Robot telemetry: state frames on the socket, acknowledged once stored, errors as
error frames (the socket stays open), batches over REST, coalesced events, and
nothing acknowledged lost when the server is killed mid-stream."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from brain.events.models import EventLog
from hardware.models import RobotState
from tests.conftest import number_pending, token_for
from tests.hardware.factories import make_robot, state_body
from tests.servers import next_frame, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


def robot_token(operator_token: str, robot_id: str) -> str:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {operator_token}")
    response = client.post(f"/api/hardware/robots/{robot_id}/token")
    assert response.status_code == 201, response.content
    return response.json()["token"]


def frame(n: int, robot_id: str = "go2-one", **state) -> str:
    body = state_body(**{"battery_percentage": 50 + n % 50, **state})
    return json.dumps(
        {"action": "state", "robot_id": robot_id, "ref": f"r{n}", "state": body}
    )


async def answers(ws, count: int, timeout: float = 20.0, unreferenced=None) -> dict:
    """``ref`` -> the answer, for ``count`` answered frames; control frames with no
    ``ref`` go to ``unreferenced``, events are skipped."""
    got = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < count:
        message = await next_frame(ws, deadline - loop.time())
        if "ref" in message:
            got[message["ref"]] = message
        elif "control" in message and unreferenced is not None:
            unreferenced.append(message)
    return got


@pytest.fixture
def tokens(make_user):
    operator = token_for(make_user("operator"))
    for robot_id in ("go2-one", "go2-two"):
        make_robot(robot_id)
    return {"operator": operator, "go2-one": robot_token(operator, "go2-one")}


async def test_state_frames_are_acknowledged_once_stored(live, tokens):
    async with await ws_connect(
        live, "types=hardware.command_sent", token=tokens["go2-one"]
    ) as ws:
        await next_frame(ws)
        for n in range(60):
            await ws.send(frame(n))
        got = await answers(ws, 60)
    assert {a["control"] for a in got.values()} == {"state_ack"}
    ids = [got[f"r{n}"]["id"] for n in range(60)]
    stored = await sync_to_async(
        lambda: dict(
            RobotState.objects.filter(pk__in=ids).values_list(
                "pk", "battery_percentage"
            )
        )
    )()
    assert len(stored) == 60
    assert [stored[i] for i in ids] == [50 + n % 50 for n in range(60)]

    def announced():
        number_pending()
        rows = EventLog.objects.filter(type="hardware.state_reported").exclude(seq=None)
        return [(row.payload["reports"], row.meta["actor"]) for row in rows]

    for _ in range(40):  # the last interval's reports are announced when it ends
        events = await sync_to_async(announced)()
        if sum(count for count, _ in events) == 60:
            break
        await asyncio.sleep(0.1)
    assert sum(count for count, _ in events) == 60
    assert len(events) <= 3, events  # coalesced, not one per report
    assert {actor for _, actor in events} == {"robot:go2-one"}


async def test_a_bad_frame_is_an_error_frame_and_the_socket_stays_open(live, tokens):
    async with await ws_connect(live, token=tokens["go2-one"]) as ws:
        await next_frame(ws)
        await ws.send(frame(1, battery_percentage=150))
        await ws.send(frame(2, robot_id="go2-two"))
        await ws.send(
            json.dumps({"action": "state", "ref": "r3", "robot_id": "go2-one"})
        )
        await ws.send(frame(4, robot_id="nobody"))
        await ws.send(json.dumps({"action": "state", "ref": ["x"], "state": {}}))
        await ws.send(frame(5))
        others: list[dict] = []
        got = await answers(ws, 5, unreferenced=others)
    (unreferenced,) = others
    assert got["r1"]["control"] == "error"
    assert got["r1"]["detail"].startswith("state.battery_percentage:")
    assert "battery_percentage" in got["r1"]["errors"]
    assert got["r2"]["control"] == "error"
    assert "cannot act as robot go2-two" in got["r2"]["detail"]
    assert got["r3"]["detail"].startswith("state: required")
    assert got["r4"]["control"] == "error"
    assert got["r5"]["control"] == "state_ack"
    assert unreferenced["control"] == "error" and "ref" in unreferenced["detail"]
    count = await sync_to_async(RobotState.objects.count)()
    assert count == 1


async def test_a_viewer_may_not_report(live, make_user, tokens):
    viewer = await sync_to_async(token_for)(await sync_to_async(make_user)("viewer"))
    async with await ws_connect(live, token=viewer) as ws:
        await next_frame(ws)
        await ws.send(frame(1))
        (answer,) = (await answers(ws, 1)).values()
    assert answer["control"] == "error"
    assert "hardware.add_robotstate" in answer["detail"]


def test_a_rest_batch_is_stored_all_or_none(tokens):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['go2-one']}")
    url = "/api/hardware/robots/go2-one/state"
    bad = [state_body(), state_body(battery_percentage=101), state_body()]
    refused = client.post(url, bad, format="json")
    assert refused.status_code == 400, refused.content
    assert list(refused.json()["reports"]) == ["1"]
    assert not RobotState.objects.exists()
    good = [state_body(battery_percentage=p) for p in (90, 80, 70)]
    stored = client.post(url, good, format="json")
    assert stored.status_code == 201, stored.content
    body = stored.json()
    assert body["stored"] == 3 and len(body["ids"]) == 3
    number_pending()
    (event,) = EventLog.objects.filter(type="hardware.state_reported")
    assert event.payload["reports"] == 3
    assert event.payload["battery_percentage"] == 70
    single = client.post(url, state_body(), format="json")
    assert single.status_code == 201 and single.json()["state"] is not None
    other = client.post("/api/hardware/robots/go2-two/state", good, format="json")
    assert other.status_code == 403


async def test_nothing_acknowledged_is_lost_when_the_server_is_killed(
    start_server, tokens
):
    server = await sync_to_async(start_server)()
    acked: dict[str, int] = {}

    async def stream(ws):
        for n in range(5000):
            await ws.send(frame(n))
            if n % 50 == 0:
                await asyncio.sleep(0)

    async def read(ws):
        while True:
            message = json.loads(await ws.recv())
            if message.get("control") == "state_ack":
                acked[message["ref"]] = message["id"]
                if len(acked) == 300:
                    await asyncio.to_thread(server.kill)

    async with await ws_connect(server, token=tokens["go2-one"]) as ws:
        await next_frame(ws)
        sender = asyncio.create_task(stream(ws))
        try:
            await asyncio.wait_for(read(ws), 60)
        except Exception:  # noqa: BLE001 - the connection dies with the server
            pass
        sender.cancel()
    assert len(acked) >= 300
    ids = set(acked.values())
    stored = await sync_to_async(
        lambda: set(RobotState.objects.filter(pk__in=ids).values_list("pk", flat=True))
    )()
    assert stored == ids
