"""Hostile WebSocket clients on a real uvicorn server: each gets an error frame or a
close, the server never crashes, and a well-behaved client beside them receives
every event, in order, once, while the abuse goes on."""

import asyncio
import json

import httpx
import pytest
from asgiref.sync import sync_to_async
from websockets.exceptions import ConnectionClosed

from tests.conftest import token_for
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)

ONE_MEGABYTE = "x" * (1024 * 1024)


@pytest.fixture
async def tokens(make_user):
    viewer = await sync_to_async(make_user)("viewer", "vera")
    operator = await sync_to_async(make_user)("operator", "otto")
    return (
        await sync_to_async(token_for)(viewer),
        await sync_to_async(token_for)(operator),
    )


async def replies_until_quiet(ws, seconds: float = 1.0) -> list[dict]:
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), seconds)))
    except TimeoutError:
        return frames


@pytest.mark.parametrize(
    "frame, expected",
    [
        ("not json", "not valid JSON"),
        (b"\x00\x01\x02", "binary frames"),
        ('{"action": "explode"}', "unknown action"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        (ONE_MEGABYTE, "frame too large"),
        ('"just a string"', "JSON object"),
        ('{"action": "subscribe", "types": "BAD TYPE!"}', "types"),
    ],
    ids=["not-json", "binary", "unknown", "deep", "huge", "scalar", "bad-filter"],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_still_works(
    live, tokens, frame, expected
):
    viewer, _ = tokens
    async with await ws_connect(live, token=viewer) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
        await ws.send(frame)
        error = await next_frame(ws)
        assert error["control"] == "error" and expected in error["detail"], error
        await ws.send(json.dumps({"action": "ping"}))
        assert (await next_frame(ws))["control"] == "pong"


async def test_a_frame_over_the_server_limit_closes_that_socket_only(live, tokens):
    viewer, _ = tokens
    async with await ws_connect(live, token=viewer) as bystander:
        await next_frame(bystander)
        abuser = await ws_connect(live, token=viewer)
        await next_frame(abuser)
        with pytest.raises(ConnectionClosed) as closed:
            await abuser.send("x" * (17 * 1024 * 1024))  # uvicorn's limit: 16 MiB
            await abuser.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await bystander.send(json.dumps({"action": "ping"}))
        assert (await next_frame(bystander))["control"] == "pong"


async def abuse(live, token: str) -> dict:
    """Every kind of bad frame, then floods, from a socket that never reads."""
    outcome = {"sent": 0, "closed": None}
    ws = await ws_connect(live, token=token)
    try:
        await next_frame(ws)
        bad = ["not json", b"\xff" * 100, '{"action": 1}', "[" * 3000 + "]" * 3000]
        for _ in range(50):
            for frame in bad:
                await ws.send(frame)
                outcome["sent"] += 1
        for _ in range(500):
            await ws.send(json.dumps({"action": "subscribe", "types": "mission.*"}))
            outcome["sent"] += 1
        for _ in range(3000):
            await ws.send('{"action": "ping"}')
            outcome["sent"] += 1
        await asyncio.sleep(0.5)
    except ConnectionClosed as exc:
        outcome["closed"] = exc.rcvd.code if exc.rcvd else None
    finally:
        await ws.close()
    return outcome


async def test_abusive_sockets_leave_other_clients_whole(live, tokens):
    viewer, operator = tokens
    log_before = len(live.full_output())
    async with await ws_connect(live, token=viewer) as bystander:
        start = (await next_frame(bystander))["last_seq"]
        abusers = [asyncio.create_task(abuse(live, viewer)) for _ in range(4)]
        created = []
        async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
            for number in range(20):
                response = await http.post(
                    "/api/missions",
                    json={"name": f"during abuse {number}"},
                    headers={"Authorization": f"Token {operator}"},
                )
                assert response.status_code == 201, response.text
                created.append(response.json()["id"])
                await asyncio.sleep(0.02)
            outcomes = await asyncio.gather(*abusers)
            # Two events per mission: mission.created and its "Mission created" line.
            events = await collect_events(bystander, 2 * len(created), timeout=20)
            assert await quiet(bystander) == []
            seqs = [event["meta"]["seq"] for event in events]
            assert seqs == sorted(set(seqs)) and seqs[0] > start
            assert [
                e["payload"]["mission_id"]
                for e in events
                if e["type"] == "mission.created"
            ] == created
            health = await http.get("/api/health")
            assert health.status_code == 200
        # Each abuser sent everything or was cut off as too slow; none was served
        # past its queue limit.
        for outcome in outcomes:
            assert outcome["closed"] in (None, 4408), outcome
    assert live.process.poll() is None, "the server process died"
    written = live.full_output()[log_before:]
    assert "Traceback" not in written and "ERROR" not in written, written[-3000:]
