"""``/api/health`` checks the real dependencies and names the one that is down."""

import httpx
import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

CLOSED = "redis://127.0.0.1:1/0"


def test_all_components_ok(anon):
    body = anon.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["components"] == {
        "database": "ok",
        "cache": "ok",
        "channel_layer": "ok",
    }


@pytest.mark.parametrize(
    "layer_backend",
    [
        "channels_redis.pubsub.RedisPubSubChannelLayer",  # what settings.py uses
        "channels_redis.core.RedisChannelLayer",
    ],
)
def test_a_stopped_cache_and_channel_layer_are_reported(anon, layer_backend):
    closed = {"address": CLOSED, "socket_connect_timeout": 0.5}
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": CLOSED,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5},
            }
        },
        CHANNEL_LAYERS={
            "default": {"BACKEND": layer_backend, "CONFIG": {"hosts": [closed]}}
        },
    ):
        response = anon.get("/api/health")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["database"] == "ok"
    assert components["cache"].startswith("down")
    assert components["channel_layer"].startswith("down")
    assert response.json()["status"] == "degraded"


@pytest.mark.slow
def test_a_stopped_database_is_reported_and_answered_with_503(start_server):
    server = start_server(DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing")
    response = httpx.get(f"{server.url}/api/health", timeout=10)
    assert response.status_code == 503
    assert response.json()["components"]["database"].startswith("down")
    response = httpx.get(
        f"{server.url}/api/missions",
        headers={"Authorization": "Token abc"},
        timeout=10,
    )
    assert response.status_code == 503
    assert response.json() == {"detail": "database unavailable, retry shortly"}
