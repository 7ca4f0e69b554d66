"""A socket whose client stops reading is aborted, and a user's sockets are capped
(issue 16, point 4). On a real uvicorn started with ``bin/run``'s flags.

Before the fix a client with a 4 KB receive buffer that read nothing while 15,000
events flowed kept its connection established for minutes, with megabytes queued
for it and its place among the hub's subscribers: the "too slow" close frame and
uvicorn's keepalive ping both wait behind the full buffer.
"""

import asyncio
import json
import time

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async

from tests.conftest import token_for
from tests.security.rawhttp import (
    TCP_CLOSE,
    TCP_ESTABLISHED,
    tcp_state,
    websocket_handshake,
)
from tests.servers import next_frame, ws_connect

pytestmark = [pytest.mark.slow]

SEND_TIMEOUT = 2.0


def flood(server, token: str, lines: int = 20000) -> None:
    """``lines`` events (one per log line), in batches through REST."""
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        mission = http.post("/api/missions", json={"name": "flood"}).json()
        for _ in range(lines // 5000):
            batch = [{"message": "x" * 200} for _ in range(5000)]
            response = http.post(f"/api/missions/{mission['id']}/log", json=batch)
            assert response.status_code == 201, response.text


def test_a_socket_that_never_reads_is_aborted_and_unregistered(start_server, make_user):
    server = start_server(EVENTS_SOCKET_SEND_TIMEOUT=str(SEND_TIMEOUT))
    token = token_for(make_user("operator"))
    sock = websocket_handshake(server, "/ws/events/", token, rcvbuf=4096)
    try:
        flood(server, token)
        deadline = time.monotonic() + SEND_TIMEOUT + 20
        while tcp_state(sock) == TCP_ESTABLISHED and time.monotonic() < deadline:
            time.sleep(0.2)
        # Reset by the server: the client never read, so nothing else ends it.
        assert tcp_state(sock) == TCP_CLOSE
    finally:
        sock.close()
    output = server.full_output()
    aborted = [line for line in output.splitlines() if "socket_aborted" in line]
    assert aborted, output[-3000:]
    record = json.loads(aborted[0][aborted[0].index("{") :])
    assert record["reason"] == "send_timeout" and record["path"] == "/ws/events/"
    assert "Traceback" not in output


async def test_sockets_per_user_are_capped(start_server, make_user):
    server = start_server(EVENTS_MAX_SOCKETS_PER_USER="2")
    user = await sync_to_async(make_user)("viewer")
    token = await sync_to_async(token_for)(user)
    other = await sync_to_async(token_for)(await sync_to_async(make_user)("viewer"))
    first = await ws_connect(server, token=token)
    second = await ws_connect(server, token=token)
    for ws in (first, second):
        assert (await next_frame(ws))["control"] == "subscribed"
    third = await ws_connect(server, token=token)
    refused = await next_frame(third)
    assert refused["control"] == "error" and refused["close"] == 4429
    assert "at most 2" in refused["detail"]
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(third.recv(), 5)
    assert closed.value.rcvd.code == 4429
    # Another user is not affected, and a closed socket frees its place.
    async with await ws_connect(server, token=other) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
    await first.close()
    await asyncio.sleep(0.3)
    async with await ws_connect(server, token=token) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
    await second.close()
