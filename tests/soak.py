"""Soak: many sockets, steady writes, then every socket checked against the log.

    bin/soak                       # 200 sockets, 50 writes/s, 300 s, two servers
    bin/soak --sockets 50 --rate 20 --seconds 60

Starts two uvicorn processes on PostgreSQL + Redis (database ``brain_soak``, Redis db
10), opens ``--sockets`` resuming WebSocket clients spread over both, appends mission
log lines through REST at ``--rate`` per second for ``--seconds``, then waits for the
sockets to drain and compares what each received with the event log: lost and
duplicated events per socket, and server memory sampled every 10 s. Bounded in count
and time; loopback only. Not run in CI (it takes minutes); figures go to
docs/guarantees.md.
"""

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time

import httpx
import psycopg

from tests.clients import ResumingClient
from tests.servers import ROOT, ServerProcess, free_port

DB_NAME = "brain_soak"


def prepare(env: dict) -> str:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        conn.autocommit = True
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    for args in (["migrate", "--noinput", "-v", "0"], ["ensure_admin"]):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    out = subprocess.run(
        [sys.executable, "manage.py", "drf_create_token", "admin"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[2]


def log_seqs(after: int) -> list[int]:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}") as conn:
        rows = conn.execute(
            "SELECT seq FROM events_eventlog WHERE seq > %s AND type = "
            "'mission.log_appended' ORDER BY seq",
            [after],
        ).fetchall()
    return [row[0] for row in rows]


async def writer(server, token: str, mission_id: str, rate: float, seconds: float):
    sent = failed = 0
    interval = 1.0 / rate
    start = time.monotonic()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Token {token}"}, timeout=10
    ) as http:
        while time.monotonic() - start < seconds:
            response = await http.post(
                f"/api/missions/{mission_id}/log",
                json={"message": f"soak line {sent}"},
            )
            if response.status_code == 201:
                sent += 1
            else:
                failed += 1
            next_at = (sent + failed) * interval
            await asyncio.sleep(max(0.0, next_at - (time.monotonic() - start)))
    return sent, failed


async def soak(args) -> dict:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/10",
        "CHANNEL_LAYER_PREFIX": "brain-soak",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "BRAIN_DATA_DIR": "/tmp/brain-soak",
        "THROTTLE_ANON": "1000000/min",
        "THROTTLE_USER_WRITE": "1000000/min",
        # Every socket is the same user's.
        "EVENTS_MAX_SOCKETS_PER_USER": "0",
        "DJANGO_SETTINGS_MODULE": "brain.settings",
    }
    token = prepare(env)
    servers = [ServerProcess(port=free_port(), env=env) for _ in range(2)]
    for server in servers:
        server.start()
    try:
        async with httpx.AsyncClient(base_url=servers[0].url, timeout=10) as http:
            mission = (
                await http.post(
                    "/api/missions",
                    json={"name": "soak"},
                    headers={"Authorization": f"Token {token}"},
                )
            ).json()
        start_seq = max(log_seqs(0) or [0])
        clients = [
            ResumingClient(servers[i % 2].ws_url, token, "types=mission.log_appended")
            for i in range(args.sockets)
        ]
        for client in clients:
            client.start()
        await asyncio.gather(*(c.connected(timeout=60) for c in clients))
        print(f"{len(clients)} sockets connected; writing", file=sys.stderr)
        rss: list[list[int]] = []

        async def sample():
            while True:
                rss.append([s.rss_kb() for s in servers])
                await asyncio.sleep(10)

        sampler = asyncio.create_task(sample())
        began = time.monotonic()
        half = args.rate / 2
        results = await asyncio.gather(
            *(writer(s, token, mission["id"], half, args.seconds) for s in servers)
        )
        expected = log_seqs(start_seq)
        print(
            f"wrote {sum(r[0] for r in results)} lines ({sum(r[1] for r in results)} "
            f"failed); waiting for {len(clients)} sockets to drain",
            file=sys.stderr,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            len(c.events) < len(expected) for c in clients
        ):
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        sampler.cancel()
        rss.append([s.rss_kb() for s in servers])
        lost = [
            len(set(expected) - {e["meta"]["seq"] for e in c.events}) for c in clients
        ]
        extra = [
            len([e for e in c.events if e["meta"]["seq"] not in set(expected)])
            for c in clients
        ]
        for client in clients:
            await client.stop()
        warm = rss[1:] if len(rss) > 2 else rss
        return {
            "sockets": args.sockets,
            "rate_per_s": args.rate,
            "seconds": round(time.monotonic() - began, 1),
            "writes_ok": sum(r[0] for r in results),
            "writes_failed": sum(r[1] for r in results),
            "events_in_log": len(expected),
            "events_delivered": sum(len(c.events) for c in clients),
            "lost_total": sum(lost),
            "sockets_with_loss": sum(1 for n in lost if n),
            "duplicates_total": sum(c.duplicates for c in clients) + sum(extra),
            "reconnects_total": sum(c.reconnects for c in clients),
            "rss_kb_per_server_first_warm": warm[0],
            "rss_kb_per_server_last": rss[-1],
            "rss_kb_median_per_server": [
                statistics.median(r[i] for r in warm) for i in range(2)
            ],
        }
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="writes per second")
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    if not 1 <= args.sockets <= 2000 or not 0 < args.rate <= 500:
        parser.error("keep the soak bounded: 1-2000 sockets, at most 500 writes/s")
    if args.seconds > 1800:
        parser.error("at most 1800 seconds")
    figures = asyncio.run(soak(args))
    print(json.dumps(figures, indent=2))
    ok = figures["lost_total"] == 0 and figures["duplicates_total"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
