"""Scenario 5: idle WebSocket connections; the server's memory per connection.

A fresh server per count, warmed by one request and one socket opened and closed
(so code loaded on first use is not charged to the connections). Its ``VmRSS`` with
no socket is the baseline; then N sockets on ``/ws/events/`` (token auth, each
having received its ``subscribed`` frame) are held open in client processes, the
server is left to settle, and ``VmRSS`` is read again.
"""

import statistics
import time

import httpx

from bench.clients import HarnessError, SocketClients
from bench.scenarios import Context
from bench.servers import Server

TARGET_KB = 50.0


def _settled_rss(server: Server, seconds: float) -> int:
    time.sleep(seconds)
    samples = []
    for _ in range(5):
        samples.append(server.rss_kb())
        time.sleep(0.2)
    return int(statistics.median(samples))


def run_one(ctx: Context, sockets: int) -> dict:
    plan = ctx.plan
    with Server(args=ctx.uvicorn_args) as server:
        url = f"{server.ws_url}/ws/events/"
        httpx.get(
            server.url + "/api/missions?page_size=1",
            headers={"Authorization": f"Token {ctx.token}"},
        ).raise_for_status()
        with SocketClients(url, 1, procs=1, token=ctx.token) as warm:
            warm.open()
        rss_none = _settled_rss(server, plan.idle_settle_seconds)
        procs = max(1, min(4, sockets // 1000))
        with SocketClients(url, sockets, procs=procs, token=ctx.token) as clients:
            started = time.monotonic()
            clients.open(timeout=60 + sockets / 50)
            connect_seconds = time.monotonic() - started
            rss_open = _settled_rss(server, plan.idle_settle_seconds)
            response = httpx.get(server.url + "/api/missions/health", timeout=10)
            if response.status_code != 200:
                raise HarnessError("the server stopped answering with sockets open")
    per_connection = (rss_open - rss_none) / sockets
    return {
        "sockets": sockets,
        "rss_none_kb": rss_none,
        "rss_open_kb": rss_open,
        "kb_per_connection": round(per_connection, 2),
        "rss_ratio": round(rss_open / rss_none, 3),
        "connect_seconds": round(connect_seconds, 2),
        "target_kb": TARGET_KB,
        "met": per_connection <= TARGET_KB,
    }


def run(ctx: Context) -> dict:
    return {"runs": [run_one(ctx, n) for n in ctx.plan.idle_counts]}
