"""``GET /api/supervisor/status``: real counts, real component checks, the rules."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from missions import services as mission_services
from supervisor import services
from supervisor.selectors import COMPONENTS_CACHE_KEY
from tests.conftest import EventLogView
from tests.missions.factories import make_mission
from tests.supervisor.factories import (
    agent_in,
    claim,
    delivered_as_stored,
    make_agent,
    silence,
)

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"
STOPPED_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": CLOSED_PORT, "socket_connect_timeout": 1}]},
    }
}


def status(api) -> dict:
    response = api.get("/api/supervisor/status")
    assert response.status_code == 200
    return response.json()


def assert_counts_equal_the_mission_stats(api) -> dict:
    body = status(api)
    stats = api.get("/api/missions/stats").json()
    assert body["total_missions"] == stats["total"]
    for name in ("pending", "running", "completed", "failed", "cancelled"):
        assert body[f"{name}_missions"] == stats["by_status"][name.upper()], name
    return body


def test_mission_counts_equal_the_mission_stats(api, settings):
    """With the status cache on, as deployed: a poll right after each change
    already counts it."""
    assert settings.SUPERVISOR_STATUS_CACHE_SECONDS > 0
    assert_counts_equal_the_mission_stats(api)
    assert cache.get(COMPONENTS_CACHE_KEY) is not None  # the cache is warm
    for n in range(9):
        make_mission(name=f"m{n}")
        assert_counts_equal_the_mission_stats(api)
    make_agent("agent-1")
    make_agent("agent-2")
    completed = claim("agent-1")
    assert_counts_equal_the_mission_stats(api)
    mission_services.mission_set_status(mission_id=completed.id, status="COMPLETED")
    assert_counts_equal_the_mission_stats(api)
    failed = claim("agent-2")
    mission_services.mission_set_status(mission_id=failed.id, status="FAILED")
    assert_counts_equal_the_mission_stats(api)
    claim("agent-1")
    claim("agent-2")
    assert_counts_equal_the_mission_stats(api)
    api.post(f"/api/missions/{make_mission().id}/status", {"status": "CANCELLED"})
    assert_counts_equal_the_mission_stats(api)
    silence("agent-2", 90)
    services.agents_mark_offline()  # fails agent-2's RUNNING mission

    body = assert_counts_equal_the_mission_stats(api)

    assert body["total_missions"] == 10
    assert (body["running_missions"], body["failed_missions"]) == (1, 2)
    assert (body["completed_missions"], body["cancelled_missions"]) == (1, 1)


def test_agents_are_counted_by_the_state_they_count_as(api):
    agent_in("healthy", "a")
    agent_in("degraded", "b")
    agent_in("unknown", "c")
    agent_in("silent", "d")
    agent_in("offline", "e")
    agent_in("paused", "f")
    agent_in("killed", "g")
    body = status(api)
    assert body["agent_count"] == 7
    assert body["agents"] == {
        "healthy": 1,
        "degraded": 1,
        "paused": 1,
        "unknown": 1,
        "offline": 3,
    }


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], "healthy"),
        (["healthy", "unknown"], "healthy"),
        (["healthy", "degraded"], "degraded"),
        (["healthy", "silent"], "degraded"),
        (["offline", "silent"], "offline"),
        (["offline"], "offline"),
        # A pause is an operator's decision, not a fault; a killed agent is offline.
        (["healthy", "paused"], "healthy"),
        (["healthy", "killed"], "degraded"),
        (["offline", "killed"], "offline"),
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
    cache.delete(COMPONENTS_CACHE_KEY)  # check now, not after the window
    with override_settings(CHANNEL_LAYERS=STOPPED_LAYER):
        body = status(api)
    assert body["components"]["channel_layer"].startswith("down")
    assert body["components"]["cache"] == "ok"
    assert body["status"] == "degraded"


def test_only_the_component_checks_are_cached_and_every_call_is_an_event(
    api, settings, delivered, django_capture_on_commit_callbacks
):
    settings.SUPERVISOR_STATUS_CACHE_SECONDS = 30
    agent_in("healthy")
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        first = status(api)
        make_mission()
        agent_in("degraded", "agent-2")
        with override_settings(CHANNEL_LAYERS=STOPPED_LAYER):
            second = status(api)
            # Counts are current inside the window; the component checks are reused.
            assert second["total_missions"] == first["total_missions"] + 1
            assert second["agents"]["degraded"] == 1
            assert second["status"] == "degraded"
            assert second["components"] == first["components"]
            assert second["components"]["channel_layer"] == "ok"
            cache.delete(COMPONENTS_CACHE_KEY)  # the window ends
            third = status(api)
    assert third["components"]["channel_layer"].startswith("down")
    # One live-only event per call, with the counts that call returned; none stored.
    queried = [
        event
        for event in delivered_as_stored(delivered, events)
        if event["type"] == "supervisor.status_queried"
    ]
    assert [
        (event["payload"]["total_missions"], event["payload"]["agent_count"])
        for event in queried
    ] == [
        (body["total_missions"], body["agent_count"]) for body in (first, second, third)
    ]
    assert events.of_type("supervisor.status_queried") == []


@pytest.mark.parametrize("size", [3, 12])
def test_a_poll_with_the_cache_warm_costs_a_fixed_number_of_queries(
    api, size, django_assert_num_queries, settings
):
    """Polling every second stays cheap: however many missions and agents there
    are, a poll inside the cache window runs the same few queries and no component
    check."""
    # A window the set-up below cannot outlast on a busy machine (1 s by default:
    # making 12 missions and agents took longer there, and the poll missed it).
    settings.SUPERVISOR_STATUS_CACHE_SECONDS = 60
    status(api)
    for n in range(size):
        make_mission(name=f"m{n}")
        agent_in("healthy" if n % 2 else "degraded", f"agent-{n}")
    claim("agent-1")
    # The token, the user's permissions (its own and its groups'), the mission
    # counts, the agent counts. The event is live-only: no query, no transaction.
    with django_assert_num_queries(5) as captured:
        body = status(api)
    assert (body["total_missions"], body["running_missions"]) == (size, 1)
    assert body["agent_count"] == size
    sqls = [query["sql"] for query in captured.captured_queries]
    assert "SELECT 1" not in sqls  # the database check came from the cache
    assert sum('FROM "missions_mission"' in sql for sql in sqls) == 1
    assert not any(sql.startswith(("SAVEPOINT", "INSERT", "UPDATE")) for sql in sqls)
