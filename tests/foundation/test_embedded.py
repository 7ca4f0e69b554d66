"""The embedded default runs with no service at all: SQLite + in-memory layer."""

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from tests.servers import (
    ROOT,
    ServerProcess,
    bin_run,
    collect_events,
    free_port,
    next_frame,
    ws_connect,
)

pytestmark = [pytest.mark.smoke, pytest.mark.slow]


def embedded_env(data_dir) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["BRAIN_DATA_DIR"] = str(data_dir)
    return env


def manage(env, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_fresh_embedded_app_serves_api_admin_docs_and_live_events(tmp_path):
    env = embedded_env(tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    hello = manage(env, "ensure_admin")
    assert "admin_password" in hello
    token = manage(env, "drf_create_token", "admin").split()[2]
    server = ServerProcess(port=free_port(), env=env)
    server.start()
    try:
        health = httpx.get(f"{server.url}/api/health", timeout=10).json()
        assert health["components"] == {
            "database": "ok",
            "cache": "ok",
            "channel_layer": "ok",
        }
        assert httpx.get(f"{server.url}/admin/login/").status_code == 200
        assert httpx.get(f"{server.url}/api/docs/").status_code == 200

        async def create_and_watch():
            async with await ws_connect(server, token=token) as ws:
                await next_frame(ws)
                async with httpx.AsyncClient(base_url=server.url) as http:
                    response = await http.post(
                        "/api/missions",
                        json={"name": "embedded"},
                        headers={"Authorization": f"Token {token}"},
                    )
                assert response.status_code == 201
                return await collect_events(ws, 2)

        created, _ = asyncio.run(create_and_watch())
        assert created["type"] == "mission.created"
        assert created["meta"]["actor"] == "admin"
        assert (tmp_path / "db.sqlite3").exists()
    finally:
        server.stop()


def test_bin_run_itself_starts_the_app_on_a_bare_machine(tmp_path):
    """The README's run command, as a newcomer types it (with a free port)."""

    port = free_port()
    env = {**embedded_env(tmp_path), "PORT": str(port)}
    with bin_run(env, tmp_path, port=port) as (process, url, log):
        health = httpx.get(f"{url}/api/health", timeout=5)
        assert health.status_code == 200, health.text
        assert health.json()["components"]["database"] == "ok"
        assert httpx.get(f"{url}/admin/login/").status_code == 200
        assert httpx.get(f"{url}/api/docs/").status_code == 200
        assert httpx.get(f"{url}/login/").status_code == 200
        printed = log.read_text()
        # The sign-in hint: where to go, and the generated admin password's file.
        assert f"http://127.0.0.1:{port}" in printed, printed[-3000:]
        assert "admin_password" in printed, printed[-3000:]
        assert (tmp_path / "db.sqlite3").exists()
