"""``GET /api/health`` gives back the channel its check makes (issue 16, point 3).

The endpoint is public; before the fix each call left a Redis pub/sub subscription
behind in the server process for good (2,000 calls: 2,044 channels, +7 MB).
"""

import httpx
import pytest
import redis
from django.conf import settings

CALLS = 200


def health_channels() -> int:
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return len(client.pubsub_channels(f"{prefix}health.*"))
    finally:
        client.close()


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis channel layer's leak")
def test_health_checks_leave_no_subscription_behind(live):
    with httpx.Client(base_url=live.url, timeout=10) as http:
        for _ in range(CALLS):
            response = http.get("/api/health")
            assert response.status_code == 200
            assert response.json()["components"]["channel_layer"] == "ok"
    # The server process's one health channel, reused by every check.
    assert health_channels() == 1
