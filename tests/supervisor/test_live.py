"""The wire: supervisor events reach a real WebSocket client of a real server."""

import httpx
import pytest
from asgiref.sync import sync_to_async

from tests.conftest import token_for
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_agent_page_follows_its_agent(live, make_user):
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    headers = {"Authorization": f"Token {token}"}
    async with await ws_connect(live, "subject=agent_worker-1", token=token) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
        async with httpx.AsyncClient(base_url=live.url, headers=headers) as http:
            for agent_id in ("worker-1", "worker-2"):
                response = await http.post(
                    "/api/supervisor/agents", json={"agent_id": agent_id, "name": "W"}
                )
                assert response.status_code == 201, response.text
            response = await http.post("/api/supervisor/agents/worker-1/heartbeat")
            assert response.status_code == 200, response.text
        registered, changed = await collect_events(ws, 2)
        assert registered["type"] == "supervisor.agent_registered"
        assert registered["target"] == "agent_worker-1"
        assert changed["type"] == "supervisor.agent_state_changed"
        assert changed["payload"]["old_state"] == "unknown"
        assert changed["payload"]["new_state"] == "healthy"
        assert changed["meta"]["actor"] == user.username
        assert await quiet(ws) == []
