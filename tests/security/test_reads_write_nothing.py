"""Reads write nothing: every GET of the API, 50 times each, on a real server,
leaves the event log as it was, while the reads that are announced (health, status,
agent list, robot state, module info) reach a subscribed socket as live-only events,
without ``meta.seq``."""

import asyncio
import contextlib
from collections import Counter

import httpx
import pytest
from asgiref.sync import sync_to_async

from brain.events.models import EventLog
from tests.conftest import token_for
from tests.security.test_permission_matrix import API, API_ROUTES, fill
from tests.servers import next_frame, ws_connect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TIMES = 50
ANNOUNCED = {
    "supervisor-health": "supervisor.health_checked",
    "supervisor-status": "supervisor.status_queried",
    "supervisor-agent-list": "supervisor.agents_listed",
    "credits-health": "credits.health_checked",
    "hardware-robot-state": "hardware.state_queried",
    "hardware-info": "hardware.info_queried",
}


def log_state() -> tuple[int, int]:
    return EventLog.objects.count(), EventLog.objects.exclude(seq=None).count()


async def test_every_read_leaves_the_log_unchanged_and_announced_reads_arrive(
    live, make_user, path_values
):
    user = await sync_to_async(make_user)("viewer")
    token = await sync_to_async(token_for)(user)
    reads = sorted(
        name
        for name, route in API_ROUTES.items()
        if "GET" in route.reads and name not in ("docs", "schema", "asyncapi")
    )
    assert set(ANNOUNCED) <= set(reads)
    paths = {route.name: fill(route.pattern, path_values) for route in API}
    ws = await ws_connect(live, "types=supervisor.*,credits.*,hardware.*", token=token)
    assert (await next_frame(ws))["control"] == "subscribed"
    before = await sync_to_async(log_state)()
    expected = TIMES * len(ANNOUNCED)
    seen: Counter = Counter()

    async def read_frames():
        # Read while the GETs run: a socket left unread fills its queue, and its
        # keepalive pong then waits behind the frames until the ping times out.
        while sum(seen.values()) < expected:
            frame = await next_frame(ws, 60)
            assert "seq" not in frame["meta"], frame
            seen[frame["type"]] += 1

    reader = asyncio.create_task(read_frames())
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Token {token}"}, timeout=30
    ) as client:
        for name in reads:
            for _ in range(TIMES):
                response = await client.get(paths[name])
                assert response.status_code == 200, (name, response.text[:300])
    try:
        await asyncio.wait_for(reader, 10)
    except TimeoutError:
        pass
    # Nothing more than announced arrives: give a stray extra frame time to show.
    with contextlib.suppress(TimeoutError):
        extra = await next_frame(ws, 0.5)
        seen[extra["type"]] += 1
    await ws.close()
    assert seen == Counter({t: TIMES for t in ANNOUNCED.values()})
    assert await sync_to_async(log_state)() == before
