"""The embedded default (``bin/run`` with no service: SQLite, in-memory layer) starts
its webhook worker, and a webhook arrives."""

import httpx
import pytest

from tests.foundation.test_embedded import embedded_env, manage
from tests.servers import bin_run, free_port

pytestmark = pytest.mark.slow


def test_bin_run_delivers_webhooks_on_the_embedded_default(tmp_path, receiver):
    port = free_port()
    env = {
        **embedded_env(tmp_path),
        "PORT": str(port),
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
    }
    with bin_run(env, tmp_path, port=port) as (process, url, log):
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
