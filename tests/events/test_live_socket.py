"""The wire: a real uvicorn process and a real WebSocket client."""

import httpx
import pytest

from tests.conftest import token_for
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_committed_change_reaches_a_connected_socket(live, make_user):
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    async with await ws_connect(live, token=token) as ws:
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        async with httpx.AsyncClient(base_url=live.url) as http:
            response = await http.post(
                "/api/missions",
                json={"name": "Survey"},
                headers={"Authorization": f"Token {token}"},
            )
        assert response.status_code == 201, response.text
        created, log_line = await collect_events(ws, 2)
        assert created["type"] == "mission.created"
        assert created["payload"]["mission_id"] == response.json()["id"]
        assert created["meta"]["actor"] == user.username
        assert log_line["type"] == "mission.log_appended"
        assert log_line["meta"]["seq"] == created["meta"]["seq"] + 1
        assert await quiet(ws) == []
