"""Per-type read permission: a reader sees the events and the lists its Django
permissions allow, on REST and on the socket alike, and nothing else."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from brain.asgi import application
from credits import services as credits
from missions import services as missions
from tests.conftest import number_pending, token_for


def user_with(*perms: str) -> User:
    user = User.objects.create_user(f"reader{User.objects.count()}", password="pw-x-1")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def write_some_events() -> None:
    missions.mission_create(name="visible to mission readers")
    credits.account_create(agent_id="agent-1", initial_credits="5.00")
    number_pending()


@pytest.mark.django_db
def test_a_mission_reader_reads_missions_only():
    write_some_events()
    api = client_for(user_with("missions.view_mission"))
    assert api.get("/api/missions").status_code == 200
    for path in (
        "/api/credits/balances",
        "/api/hardware/robots",
        "/api/hardware/info",
        "/api/supervisor/agents",
        "/api/supervisor/status",
    ):
        response = api.get(path)
        assert response.status_code == 403, path
        assert "permission" in response.json()["detail"]
    types = {
        event["type"] for event in api.get("/api/events?limit=1000").json()["results"]
    }
    assert types and all(t.startswith("mission.") for t in types), types


@pytest.mark.django_db
def test_a_user_with_no_permission_sees_nothing():
    write_some_events()
    api = client_for(user_with())
    assert api.get("/api/missions").status_code == 403
    page = api.get("/api/events?limit=1000").json()
    assert page["results"] == []


@pytest.mark.django_db
def test_viewers_and_operators_keep_seeing_everything(api_as):
    write_some_events()
    for role in ("viewer", "operator"):
        api = api_as(role)
        types = {e["type"] for e in api.get("/api/events?limit=1000").json()["results"]}
        assert {"mission.created", "credits.allocated"} <= types, role
        for path in ("/api/missions", "/api/credits/balances", "/api/hardware/robots"):
            assert api.get(path).status_code == 200, (role, path)


@pytest.mark.django_db(transaction=True)
async def test_the_socket_delivers_only_the_types_the_user_may_read():
    user = await sync_to_async(user_with)("missions.view_mission")
    token = await sync_to_async(token_for)(user)
    ws = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[(b"authorization", f"Token {token}".encode())],
    )
    connected, _ = await ws.connect(timeout=5)
    assert connected
    assert json.loads(await ws.receive_from(5))["control"] == "subscribed"
    await sync_to_async(credits.account_create)(agent_id="agent-2", initial_credits="1")
    await sync_to_async(missions.mission_create)(name="seen")
    frames = [json.loads(await ws.receive_from(5)) for _ in range(2)]
    assert [f["type"] for f in frames] == ["mission.created", "mission.log_appended"]
    assert await ws.receive_nothing(timeout=1.5)  # the credits events never come
    await ws.disconnect()
