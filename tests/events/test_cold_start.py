"""A socket's start is its handshake, on a cold server process too: an event
committed right after the handshake completes is delivered to it."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from missions import services as missions
from tests.conftest import token_for
from tests.servers import collect_events, next_frame, ws_connect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROUNDS = 10


async def test_an_event_written_50_ms_after_the_handshake_of_a_cold_process_arrives(
    start_server, make_user
):
    user = await sync_to_async(make_user)("viewer")
    token = await sync_to_async(token_for)(user)
    for round_ in range(ROUNDS):
        server = await sync_to_async(start_server)()
        ws = await ws_connect(server, "types=mission.created", token=token)
        # Written within 50 ms of the handshake, before any frame is read.
        await asyncio.sleep(0.03)
        mission = await sync_to_async(missions.mission_create)(name=f"cold {round_}")
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        (event,) = await collect_events(ws, 1, timeout=5)
        assert event["payload"]["mission_id"] == str(mission.id), round_
        await ws.close()
        await sync_to_async(server.stop)()
