"""The wire: real uvicorn processes, real Redis, real WebSocket clients."""

import asyncio

import httpx
import pytest
import redis
import websockets
from asgiref.sync import sync_to_async
from django.test import Client
from websockets.exceptions import InvalidStatus

from tests.conftest import token_for
from tests.servers import collect_events, next_frame, quiet, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def operator_token(make_user):
    user = await sync_to_async(make_user)("operator", "olivia")
    return await sync_to_async(token_for)(user)


async def create_mission(server, token: str, name: str) -> dict:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.post(
            "/api/missions",
            json={"name": name},
            headers={"Authorization": f"Token {token}"},
        )
    assert response.status_code == 201, response.text
    return response.json()


async def test_committed_change_reaches_a_connected_socket(live, operator_token):
    async with await ws_connect(live, token=operator_token) as ws:
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed"
        mission = await create_mission(live, operator_token, "Survey")
        created, log_line = await collect_events(ws, 2)
        assert created["type"] == "mission.created"
        assert created["payload"]["mission_id"] == mission["id"]
        assert created["meta"]["actor"] == "olivia"
        assert log_line["type"] == "mission.log_appended"
        assert log_line["meta"]["seq"] == created["meta"]["seq"] + 1
        assert await quiet(ws) == []


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def test_token_session_and_origin_rules(live, make_user):
    user = await sync_to_async(make_user)("viewer")
    cookie = await sync_to_async(session_cookie)(user)
    token = await sync_to_async(token_for)(user)
    # A token, no Origin: allowed.
    async with await ws_connect(live, token=token) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
    # A browser session from the site's own origin: allowed.
    async with await ws_connect(live, cookie=cookie, origin=live.url) as ws:
        assert (await next_frame(ws))["control"] == "subscribed"
    # The same session from another site (cross-site WebSocket hijacking): refused.
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(live, cookie=cookie, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    # A session without Origin, nobody, a bad token: refused before any event.
    for kwargs in ({"cookie": cookie}, {}, {"token": "0" * 40}):
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(live, **kwargs)
        assert refused.value.response.status_code == 403


async def test_rest_history_pages_through_what_the_socket_gave(live, operator_token):
    async with await ws_connect(live, token=operator_token) as ws:
        start = (await next_frame(ws))["last_seq"]
        for i in range(7):
            await create_mission(live, operator_token, f"m{i}")
        from_socket = await collect_events(ws, 14)
    from_rest, cursor = [], start
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
        while True:
            page = (
                await http.get(
                    "/api/events",
                    params={"after": cursor, "limit": 3},
                    headers={"Authorization": f"Token {operator_token}"},
                )
            ).json()
            if not page["results"]:
                assert page["last_seq"] == cursor
                break
            from_rest.extend(page["results"])
            cursor = page["last_seq"]
    assert from_rest == from_socket


async def test_two_server_processes_deliver_to_each_others_sockets(
    start_server, operator_token
):
    one, two = start_server(), start_server()
    async with await ws_connect(two, token=operator_token) as ws:
        await next_frame(ws)
        mission = await create_mission(one, operator_token, "cross-process")
        created, _ = await collect_events(ws, 2)
    assert created["payload"]["mission_id"] == mission["id"]


async def test_a_layer_message_lost_between_processes_is_healed(
    start_server, private_redis, operator_token
):
    """Cut the hub's subscription in Redis: messages published meanwhile are lost."""
    server = start_server(REDIS_URL=private_redis.url)
    async with await ws_connect(server, token=operator_token) as ws:
        await next_frame(ws)
        admin = redis.Redis.from_url(private_redis.url)
        assert admin.client_kill_filter(_type="pubsub") >= 1
        mission = await create_mission(server, operator_token, "lost in transit")
        created, log_line = await collect_events(ws, 2, timeout=5)
        assert created["payload"]["mission_id"] == mission["id"]
        assert log_line["meta"]["seq"] == created["meta"]["seq"] + 1
        assert await quiet(ws, 1.5) == []


async def test_sockets_stay_complete_across_a_redis_outage(
    start_server, private_redis, operator_token
):
    """Redis stops, REST changes go on, Redis returns: nothing lost or doubled."""
    one = start_server(REDIS_URL=private_redis.url)
    two = start_server(REDIS_URL=private_redis.url)
    async with (
        await ws_connect(one, token=operator_token) as ws_one,
        await ws_connect(two, token=operator_token) as ws_two,
    ):
        await next_frame(ws_one), await next_frame(ws_two)
        await create_mission(one, operator_token, "before")
        private_redis.stop()
        during = [
            await create_mission(two, operator_token, f"during{i}") for i in range(3)
        ]
        await asyncio.sleep(0.5)
        private_redis.start()
        await create_mission(one, operator_token, "after")
        for ws in (ws_one, ws_two):
            received = await collect_events(ws, 10, timeout=15)
            names = [
                e["payload"]["name"] for e in received if e["type"] == "mission.created"
            ]
            assert names == ["before", "during0", "during1", "during2", "after"]
            seqs = [e["meta"]["seq"] for e in received]
            assert seqs == sorted(set(seqs))
            assert await quiet(ws, 1.5) == []
    assert len(during) == 3


async def test_deleting_a_token_stops_its_socket(start_server, make_user):
    from rest_framework.authtoken.models import Token

    server = start_server(EVENTS_AUTH_RECHECK_SECONDS="0.5")
    doomed_user = await sync_to_async(make_user)("viewer")
    doomed = await sync_to_async(token_for)(doomed_user)
    writer = await sync_to_async(make_user)("operator")
    writer_token = await sync_to_async(token_for)(writer)
    async with await ws_connect(server, token=doomed) as ws:
        await next_frame(ws)
        await create_mission(server, writer_token, "seen")
        await collect_events(ws, 2)
        await sync_to_async(Token.objects.filter(key=doomed).delete)()
        revoked = await next_frame(ws, timeout=10)
        assert revoked == {
            "control": "error",
            "detail": "credentials revoked",
            "close": 4401,
        }
        await create_mission(server, writer_token, "not seen")
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await next_frame(ws, timeout=5)
        assert closed.value.rcvd.code == 4401


async def test_logging_out_stops_a_browser_socket(start_server, make_user):
    from django.contrib.sessions.models import Session

    server = start_server(EVENTS_AUTH_RECHECK_SECONDS="0.5")
    user = await sync_to_async(make_user)("viewer")
    cookie = await sync_to_async(session_cookie)(user)
    async with await ws_connect(server, cookie=cookie, origin=server.url) as ws:
        await next_frame(ws)
        await sync_to_async(Session.objects.all().delete)()
        revoked = await next_frame(ws, timeout=10)
        assert revoked["detail"] == "credentials revoked"
