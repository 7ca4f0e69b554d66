"""``bin/run`` with PostgreSQL and Redis: the production layout (issue 15, point 3).

One server process per core (``WEB_CONCURRENCY`` here, so the test does not depend
on the machine) behind one port; sockets on different processes each receive every
event, whichever process served the write. Which process holds a socket is read
from ``/proc`` (the connection's inode among each worker's file descriptors).
"""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings

from tests.servers import (
    ROOT,
    bin_run,
    collect_events,
    free_port,
    next_frame,
    ws_connect,
)

pytestmark = pytest.mark.slow

WORKERS = 2


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def spawned(pid: int) -> list[int]:
    return [
        child
        for child in children(pid)
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if (
            int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
        ):
            return inode
    return None


@pytest.fixture
def layout_database():
    name = f"brain_layout_{uuid.uuid4().hex[:10]}"
    admin = dict(settings.DATABASES["default"])
    dsn = f"host={admin['HOST']} port={admin['PORT'] or 5432} user={admin['USER']}"
    with psycopg.connect(f"{dsn} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    user = admin["USER"]
    yield f"postgres://{user}@{admin['HOST']}:{admin['PORT'] or 5432}/{name}"
    with psycopg.connect(f"{dsn} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_bin_run_serves_http_and_sockets_from_one_process_per_core(
    tmp_path, layout_database
):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": layout_database,
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_LAYER_PREFIX": f"brain-layout-{uuid.uuid4().hex[:6]}",
        "BRAIN_DATA_DIR": str(tmp_path),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WORKERS),
    }
    with bin_run(env, tmp_path, port=port, timeout=240) as (process, url, log):
        assert httpx.get(f"{url}/api/health", timeout=5).status_code == 200
        supervisor = next(
            pid
            for pid in [process.pid, *children(process.pid)]
            if b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
        )
        # uvicorn's supervisor and its workers (spawned Python processes; the
        # supervisor's multiprocessing resource tracker is not one).
        deadline = time.monotonic() + 60
        while len(workers := spawned(supervisor)) < WORKERS:
            assert time.monotonic() < deadline, workers
            time.sleep(0.5)
        assert len(workers) == WORKERS, workers
        token = subprocess.run(
            [sys.executable, "manage.py", "drf_create_token", "admin"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()[2]
        server = type("Live", (), {"ws_url": f"ws://127.0.0.1:{port}"})()

        async def scenario():
            sockets, owners = [], {}
            # Open sockets until each worker holds one (the kernel spreads them).
            for _ in range(40):
                ws = await ws_connect(server, "types=mission.*", token=token)
                hello = await next_frame(ws)
                assert hello["control"] == "subscribed"
                client_port = ws.transport.get_extra_info("sockname")[1]
                inode = server_side_inode(port, client_port)
                owner = next(
                    (pid for pid in workers if inode in socket_inodes(pid)), None
                )
                sockets.append(ws)
                owners.setdefault(owner, ws)
                if all(pid in owners for pid in workers):
                    break
            assert set(workers) <= set(owners), owners
            # Writes on fresh connections, spread over the workers too.
            for n in range(10):
                async with httpx.AsyncClient(base_url=url) as http:
                    response = await http.post(
                        "/api/missions",
                        json={"name": f"layout {n}"},
                        headers={"Authorization": f"Token {token}"},
                    )
                assert response.status_code == 201, response.text
            received = {}
            for pid in workers:
                frames = await collect_events(owners[pid], 20, timeout=20)
                received[pid] = [f["meta"]["seq"] for f in frames]
            for ws in sockets:
                await ws.close()
            return received

        received = asyncio.run(scenario())
        first, second = (received[pid] for pid in workers)
        assert first == second == sorted(first)
        assert len(set(first)) == 20
