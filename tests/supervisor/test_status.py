"""``GET /api/supervisor/status``: real counts, real component checks, the rules."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from missions import services as mission_services
from supervisor import services
from supervisor.selectors import STATUS_CACHE_KEY
from tests.conftest import EventLogView
from tests.missions.factories import make_mission
from tests.supervisor.factories import agent_in, make_agent, silence

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"


def status(api) -> dict:
    response = api.get("/api/supervisor/status")
    assert response.status_code == 200
    return response.json()


def test_mission_counts_equal_the_mission_stats(api):
    for n in range(9):
        make_mission(name=f"m{n}")
    make_agent("agent-1")
    make_agent("agent-2")
    completed = mission_services.mission_claim(agent_id="agent-1")
    mission_services.mission_set_status(mission_id=completed.id, status="COMPLETED")
    failed = mission_services.mission_claim(agent_id="agent-2")
    mission_services.mission_set_status(mission_id=failed.id, status="FAILED")
    mission_services.mission_claim(agent_id="agent-1")
    mission_services.mission_claim(agent_id="agent-2")
    api.post(f"/api/missions/{make_mission().id}/status", {"status": "CANCELLED"})
    silence("agent-2", 90)
    services.agents_mark_offline()  # fails agent-2's RUNNING mission

    body = status(api)
    stats = api.get("/api/missions/stats").json()

    assert body["total_missions"] == stats["total"] == 10
    for name in ("pending", "running", "completed", "failed", "cancelled"):
        assert body[f"{name}_missions"] == stats["by_status"][name.upper()], name
    assert (body["running_missions"], body["failed_missions"]) == (1, 2)


def test_agents_are_counted_by_the_state_they_count_as(api):
    agent_in("healthy", "a")
    agent_in("degraded", "b")
    agent_in("unknown", "c")
    agent_in("silent", "d")
    agent_in("offline", "e")
    body = status(api)
    assert body["agent_count"] == 5
    assert body["agents"] == {"healthy": 1, "degraded": 1, "unknown": 1, "offline": 2}


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], "healthy"),
        (["healthy", "unknown"], "healthy"),
        (["healthy", "degraded"], "degraded"),
        (["healthy", "silent"], "degraded"),
        (["offline", "silent"], "offline"),
        (["offline"], "offline"),
    ],
)
def test_the_status_rules(api, states, expected):
    for n, state in enumerate(states):
        agent_in(state, f"agent-{n}")
    assert status(api)["status"] == expected


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CLOSED_PORT,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    },
    DJANGO_REDIS_IGNORE_EXCEPTIONS=True,
    SUPERVISOR_STATUS_CACHE_SECONDS=30,
)
def test_a_stopped_cache_shows_and_degrades(api):
    """The cache is down, so the status cache is bypassed on its own."""
    agent_in("healthy")
    body = status(api)
    assert body["components"]["cache"].startswith("down")
    assert body["components"]["database"] == "ok"
    assert body["status"] == "degraded"


def test_a_stopped_channel_layer_shows_and_degrades(api):
    agent_in("healthy")
    assert status(api)["status"] == "healthy"
    layer = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": CLOSED_PORT, "socket_connect_timeout": 1}]
            },
        }
    }
    with override_settings(CHANNEL_LAYERS=layer):
        body = status(api)
    assert body["components"]["channel_layer"].startswith("down")
    assert body["components"]["cache"] == "ok"
    assert body["status"] == "degraded"


def test_the_status_is_cached_briefly_and_every_call_is_an_event(api, settings):
    settings.SUPERVISOR_STATUS_CACHE_SECONDS = 30
    cache.delete(STATUS_CACHE_KEY)
    try:
        events = EventLogView()
        first = status(api)
        make_mission()
        second = status(api)
        assert second == first
        assert len(events.of_type("supervisor.status_queried")) == 2
        cache.delete(STATUS_CACHE_KEY)
        assert status(api)["total_missions"] == first["total_missions"] + 1
    finally:
        cache.delete(STATUS_CACHE_KEY)
