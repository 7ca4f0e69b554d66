"""The embedded default (``bin/run`` with no service: SQLite, in-memory layer) starts
its webhook worker, and a webhook arrives."""

import os
import signal
import subprocess
import time

import httpx
import pytest

from tests.foundation.test_embedded import embedded_env, manage
from tests.servers import ROOT, free_port

pytestmark = pytest.mark.slow


def test_bin_run_delivers_webhooks_on_the_embedded_default(tmp_path, receiver):
    port = free_port()
    env = {
        **embedded_env(tmp_path),
        "PORT": str(port),
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
    }
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bin/run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                httpx.get(f"{url}/api/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = manage(env, "drf_create_token", "admin").split()[2]
        headers = {"Authorization": f"Token {token}"}
        hook = httpx.post(
            f"{url}/api/webhooks/endpoints",
            json={"url": receiver.url(), "types": ["mission.created"]},
            headers=headers,
        )
        assert hook.status_code == 201, hook.text
        mission = httpx.post(
            f"{url}/api/missions", json={"name": "embedded"}, headers=headers
        )
        assert mission.status_code == 201, mission.text
        (request,) = receiver.wait_for(lambda got: len(got) >= 1, timeout=30)
        assert request.json["payload"]["mission_id"] == mission.json()["id"]
        assert "webhooks worker" in log.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
