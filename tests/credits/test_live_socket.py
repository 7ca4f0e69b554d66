"""The wire: a consumption over real HTTP reaches a real WebSocket subscribed to it."""

import httpx
import pytest
from asgiref.sync import sync_to_async

from tests.conftest import token_for
from tests.credits.factories import make_account
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_consumed_reaches_a_socket_subscribed_to_the_agent(live, make_user):
    user = await sync_to_async(make_user)("operator")
    token = await sync_to_async(token_for)(user)
    await sync_to_async(make_account)("rover-7", "10.00")
    await sync_to_async(make_account)("rover-8", "10.00")
    headers = {"Authorization": f"Token {token}"}
    async with await ws_connect(live, "subject=agent_rover-7", token=token) as ws:
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        async with httpx.AsyncClient(base_url=live.url, headers=headers) as http:
            other = await http.post(
                "/api/credits/consume",
                json={"agent_id": "rover-8", "amount": "1", "reason": "not mine"},
            )
            assert other.status_code == 200, other.text
            response = await http.post(
                "/api/credits/consume",
                json={"agent_id": "rover-7", "amount": "2.25", "reason": "drive"},
            )
        assert response.status_code == 200, response.text
        (event,) = await collect_events(ws, 1)
        assert event["type"] == "credits.consumed"
        assert event["source"] == "credits_service"
        assert event["target"] == "agent_rover-7"
        assert event["meta"]["actor"] == user.username
        payload = event["payload"]
        assert payload["agent_id"] == "rover-7"
        assert payload["amount"] == "2.25"
        assert payload["balance"] == "7.75"
        assert payload["reason"] == "drive"
        assert payload["mission_id"] is None
        assert payload["transaction_id"] == response.json()["transaction_id"]
        assert isinstance(payload["consumed_at"], float)
        # Nothing about rover-8 and no depletion follows.
        assert await quiet(ws) == []
