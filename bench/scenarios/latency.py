"""Scenario 2: ``POST /api/missions/{id}/log`` -> the event on a subscriber's socket.

An open-loop sender (``bench/sender.py``, a process of its own: pre-built HTTP/1.1
requests on a few keep-alive asyncio connections, a constant cost per request) fires
requests on a fixed schedule (R per second, never waiting for an answer before the
next one is due), and one subscriber socket watches the mission. Latency is from the
request's *scheduled* time to its event's arrival, so a server that falls behind
shows up as latency rather than hiding it. Nothing acknowledged may be lost. The
sender's own CPU per request and the server's (every process of it) are reported.
The baseline: a Redis ``PUBLISH`` -> subscriber round trip (redis-py asyncio), on the
same schedule, same payload size.
"""

import asyncio
import json
import statistics
import subprocess
import sys
import time

import redis.asyncio as aioredis
import websockets
from websockets.asyncio.client import connect

from bench import config
from bench.clients import HarnessError
from bench.scenarios import Context, create_mission

TARGET_P99_MS = 50.0
TARGET_RATE = 200
SETTLE_SECONDS = 10.0


def percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 2),
        "p95": round(cuts[94], 2),
        "p99": round(cuts[98], 2),
        "max": round(max(samples_ms), 2),
        "count": len(samples_ms),
    }


async def _paced(rate: int, count: int, fire) -> list[float]:
    """Call ``fire(i)`` at ``start + i / rate``; return the scheduled times."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    scheduled = [start + i / rate for i in range(count)]
    tasks = []
    for i, at in enumerate(scheduled):
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(fire(i)))
    await asyncio.gather(*tasks)
    # loop.time() is time.monotonic() on both asyncio and uvloop loops.
    return scheduled


def _start_sender(ctx: Context, mission_id: str, rate: int, count: int, marker: str):
    """``bench.sender`` in a process of its own; it starts sending at ``start_at``."""
    command = [
        sys.executable,
        "-m",
        "bench.sender",
        "--url",
        ctx.server.url,
        "--path",
        f"/api/missions/{mission_id}/log",
        "--body",
        json.dumps({"message": f"{marker}{{i}}", "data": {"n": 0}}).replace(
            '"n": 0', '"i": {i}'
        ),
        "--token",
        ctx.token,
        "--rate",
        str(rate),
        "--count",
        str(count),
        "--connections",
        str(ctx.plan.latency_connections),
        "--warm-path",
        "/api/missions/health",
    ]
    return subprocess.Popen(
        command,
        cwd=config.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _app_run(ctx: Context, mission_id: str, rate: int, count: int) -> dict:
    received: dict[int, float] = {}
    duplicates = 0
    url = (
        f"{ctx.server.ws_url}/ws/events/?types=mission.log_appended"
        f"&subject=mission_{mission_id}"
    )
    headers = {"Authorization": f"Token {ctx.token}"}
    marker = f"lat{rate}-"
    cpu0 = ctx.server.cpu_seconds()
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if first.get("control") != "subscribed":
            raise HarnessError(f"unexpected first frame {first}")

        async def listen() -> None:
            nonlocal duplicates
            try:
                async for text in ws:
                    now = time.monotonic()
                    frame = json.loads(text)
                    message = frame.get("payload", {}).get("message", "")
                    if not message.startswith(marker):
                        continue
                    i = int(message[len(marker) :])
                    if i in received:
                        duplicates += 1
                    else:
                        received[i] = now
                    if len(received) == count:
                        return
            except websockets.ConnectionClosed:
                return

        listener = asyncio.ensure_future(listen())
        sender = _start_sender(ctx, mission_id, rate, count, marker)
        out, err = await asyncio.to_thread(
            sender.communicate, timeout=count / rate + 300
        )
        if sender.returncode != 0 or not out.strip():
            raise HarnessError(f"the sender failed: {err[-2000:]}")
        sent = json.loads(out.strip().splitlines()[-1])
        scheduled, answered = sent["scheduled"], sent["answered"]
        acknowledged = {i for i, code in enumerate(sent["statuses"]) if code == 201}
        refused = [code for code in sent["statuses"] if 300 <= code < 500]
        failed = sent["error_count"] + sum(code >= 500 for code in sent["statuses"])
        # Every acknowledged append's event must arrive; a request that failed (an
        # overloaded server's 5xx, a dropped connection) may or may not have one.
        deadline = time.monotonic() + SETTLE_SECONDS
        while not acknowledged <= received.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
    server_cpu = ctx.server.cpu_seconds() - cpu0
    if refused:
        raise HarnessError(
            f"{len(refused)} log appends refused: {sent['refusals'][:3]}"
        )
    if failed > count * 0.1:
        raise HarnessError(
            f"{failed} of {count} log appends failed: {sent['errors'][:3]}"
        )
    latencies = [(received[i] - scheduled[i]) * 1000 for i in sorted(received)]
    answers = [(a - s) * 1000 for s, a in zip(scheduled, answered, strict=True) if a]
    # Above the server's capacity requests queue up: the rate it actually answered.
    done = [a for a in answered if a]
    answered_rate = len(done) / (max(done) - scheduled[0]) if done else None
    return {
        "requests": count,
        "answered_per_second": round(answered_rate, 1) if answered_rate else None,
        "acknowledged": len(acknowledged),
        "failed_requests": failed,
        "failures": sent["errors"][:5],
        "delivered": len(received),
        "lost": len(acknowledged - received.keys()),
        "duplicates": duplicates,
        **percentiles(latencies),
        "response_ms": percentiles(answers),
        "samples_ms": [round(x, 2) for x in latencies],
        "server_cpu_seconds": round(server_cpu, 3),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / count, 3),
        "sender": {
            key: sent[key]
            for key in (
                "connections",
                "reconnects",
                "cpu_seconds",
                "wall_seconds",
                "cpu_ms_per_request",
            )
        },
    }


async def _redis_run(rate: int, count: int, size: int) -> dict:
    received: dict[int, float] = {}
    channel = f"{config.CHANNEL_LAYER_PREFIX}:latency:{rate}"
    padding = "x" * max(size - 40, 0)
    client = aioredis.Redis.from_url(config.REDIS_URL)
    # A publish waits for a free connection rather than failing when a loaded
    # machine makes Redis slow and the paced sends pile up (redis-py's plain pool
    # raises MaxConnectionsError).
    publisher = aioredis.Redis(
        connection_pool=aioredis.BlockingConnectionPool.from_url(
            config.REDIS_URL, max_connections=64, timeout=30
        )
    )
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    while (await pubsub.get_message(timeout=1.0)) is None:
        pass  # the subscribe confirmation

    async def listen() -> None:
        while len(received) < count:
            message = await pubsub.get_message(timeout=1.0)
            if message is None or message["type"] != "message":
                continue
            now = time.monotonic()
            i = json.loads(message["data"])["i"]
            received.setdefault(i, now)

    listener = asyncio.ensure_future(listen())

    async def fire(i: int) -> None:
        await publisher.publish(channel, json.dumps({"i": i, "pad": padding}))

    await publisher.ping()
    scheduled = await _paced(rate, count, fire)
    try:
        await asyncio.wait_for(listener, SETTLE_SECONDS)
    except TimeoutError:
        pass
    await pubsub.aclose()
    await client.aclose()
    await publisher.aclose()
    latencies = [(received[i] - scheduled[i]) * 1000 for i in sorted(received)]
    return {
        "messages": count,
        "delivered": len(received),
        "lost": count - len(received),
        **percentiles(latencies),
        "samples_ms": [round(x, 2) for x in latencies],
    }


async def _run(ctx: Context) -> dict:
    with ctx.api() as api:
        mission_id = create_mission(api, "latency")
    runs = []
    for rate in ctx.plan.latency_rates:
        count = int(rate * ctx.plan.latency_seconds)
        app = await _app_run(ctx, mission_id, rate, count)
        baseline = await _redis_run(rate, count, size=460)
        runs.append(
            {
                "rate": rate,
                "seconds": ctx.plan.latency_seconds,
                "app": app,
                "baseline": baseline,
                "ratio_p99": round(app["p99"] / baseline["p99"], 2)
                if app["p99"] and baseline["p99"]
                else None,
                "target_p99_ms": TARGET_P99_MS if rate == TARGET_RATE else None,
                "met": (app["p99"] is not None and app["p99"] <= TARGET_P99_MS)
                if rate == TARGET_RATE
                else None,
            }
        )
    return {
        "runs": runs,
        "lost": sum(r["app"]["lost"] for r in runs),
        "duplicates": sum(r["app"]["duplicates"] for r in runs),
    }


def run(ctx: Context) -> dict:
    return asyncio.run(_run(ctx))
