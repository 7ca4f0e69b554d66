"""Rate limits: anonymous calls by address, writes by user, sign-in by lockout.

The suite runs with huge rates (``THROTTLE_*`` in bin/test); each test here sets
small ones. DRF reads the rates into ``SimpleRateThrottle.THROTTLE_RATES`` once, at
import, so that is what is patched; the counters live in the cache, and each test
starts and ends with its own counters gone. The throttles' clock is held in the
middle of a one-minute window, so no test straddles two windows.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta

import axes.utils
import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from brain.api.throttling import AnonBurstThrottle
from missions.models import Mission
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

ADDRESS = "127.0.0.1"  # the test client's REMOTE_ADDR


@pytest.fixture
def rates(monkeypatch):
    """``rates(anon="3/min")``: set rates for this test, with fresh counters."""
    used_keys: list[str] = []
    now = (time.time() // 60) * 60 + 30
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: now))

    def set_rates(**new: str) -> None:
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {"anon": "100000/min", "user_write": "100000/min", **new},
        )

    def forget(key: str, at: float = now) -> None:
        key = f"{key}:{int(at // 60)}"  # the window's counter
        used_keys.append(key)
        cache.delete(key)

    set_rates.forget = forget
    forget(f"throttle_anon_{ADDRESS}")
    yield set_rates
    for key in used_keys:
        cache.delete(key)


def user_key(client) -> str:
    return f"throttle_user_write_{client.user.pk}"


def test_anonymous_calls_are_throttled_by_address(rates, anon):
    rates(anon="3/min")
    for _ in range(3):
        assert anon.get("/api/missions/health").status_code == 200
    response = anon.get("/api/missions/health")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    assert int(response["Retry-After"]) == 30  # the window's end
    # The limit is per address, and every public endpoint shares it.
    assert anon.get("/api/health").status_code == 429
    other = APIClient(REMOTE_ADDR="10.0.0.7")
    rates.forget("throttle_anon_10.0.0.7")
    assert other.get("/api/missions/health").status_code == 200


def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(rates, anon):
    rates(anon="3/min")
    statuses = [
        anon.get(
            "/api/missions/health", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_signed_in_users_are_not_held_to_the_anonymous_limit(rates, api_as):
    rates(anon="2/min")
    viewer = api_as("viewer")
    for _ in range(5):
        assert viewer.get("/api/missions").status_code == 200


def test_writes_are_throttled_per_user_and_reads_are_not(rates, api_as):
    rates(user_write="3/min")
    alice, bob = api_as("operator", "alice"), api_as("operator", "bob")
    rates.forget(user_key(alice))
    rates.forget(user_key(bob))
    for i in range(3):
        response = alice.post("/api/missions", {"name": f"m{i}"})
        assert response.status_code == 201
    refused = alice.post("/api/missions", {"name": "one too many"})
    assert refused.status_code == 429
    assert "throttled" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert Mission.objects.count() == 3
    # Reads by the same user go on; another user still writes.
    for _ in range(5):
        assert alice.get("/api/missions").status_code == 200
    assert bob.post("/api/missions", {"name": "bob's"}).status_code == 201
    # Any write counts against the same budget, whichever the endpoint.
    assert alice.post("/api/credits/accounts", {"agent_id": "a-1"}).status_code == 429


def test_the_default_rates_are_set_and_sane(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("THROTTLE_")
    }
    env.update(DJANGO_SETTINGS_MODULE="brain.settings", BRAIN_DATA_DIR=str(tmp_path))
    code = (
        "import django; django.setup();"
        "from django.conf import settings as s; r = s.REST_FRAMEWORK;"
        "print(r['DEFAULT_THROTTLE_RATES']['anon'],"
        " r['DEFAULT_THROTTLE_RATES']['user_write'], *r['DEFAULT_THROTTLE_CLASSES'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    anon, user_write, *classes = result.stdout.split()
    assert classes == [
        "brain.api.throttling.AnonBurstThrottle",
        "brain.api.throttling.UserWriteThrottle",
    ]
    per_minute = {
        name: AnonBurstThrottle().parse_rate(rate)
        for name, rate in (("anon", anon), ("user_write", user_write))
    }
    # Enough for a dashboard and an integrator; a flood is cut off within a minute.
    assert per_minute["anon"] == (120, 60)
    assert per_minute["user_write"] == (6000, 60)


# Sign-in lockout (django-axes) --------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture
def lockout(settings, make_user):
    """Three failures lock a user out (from that address) for a second."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    user = make_user("operator", name="carol")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    axes.utils.reset()
    yield user
    axes.utils.reset()


def sign_in(client, password: str, *, path: str = "/login/", username="carol"):
    return client.post(path, {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_failed_sign_ins_lock_the_user_out(lockout, client):
    for _ in range(2):
        response = sign_in(client, "wrong")
        assert response.status_code == 200  # the form again, with an error
        assert not signed_in(client)
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    # Locked: the right password is refused too, on every sign-in page.
    assert sign_in(client, PASSWORD).status_code == 429
    assert sign_in(client, PASSWORD, path="/admin/login/").status_code == 429
    assert not signed_in(client)
    # Another user signing in from the same address is not locked out.
    other = lockout.__class__.objects.create_user("dave", password=PASSWORD)
    assert sign_in(client, PASSWORD, username=other.username).status_code == 302
    assert signed_in(client)


def test_the_lockout_lasts_for_the_cool_off_only(lockout, client, time_machine):
    time_machine.move_to(timezone.now())
    for _ in range(3):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 429
    time_machine.shift(1.2)
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client)


def test_a_reset_lifts_the_lockout(lockout, client):
    for _ in range(3):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 429
    axes.utils.reset(username="carol")
    assert sign_in(client, PASSWORD).status_code == 302


def test_a_new_window_starts_a_new_count(rates, anon, monkeypatch):
    rates(anon="2/min")
    assert [anon.get("/api/health").status_code for _ in range(3)] == [200, 200, 429]
    later = SimpleRateThrottle.timer() + 60
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: later))
    rates.forget(f"throttle_anon_{ADDRESS}", at=later)
    assert anon.get("/api/health").status_code == 200


def test_a_cache_outage_lets_requests_through(rates, anon, monkeypatch):
    """The cache is a real django-redis client whose Redis is not there."""
    from django_redis.cache import RedisCache

    from tests.servers import free_port

    dead = RedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,  # as settings.py sets for the real cache
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            }
        },
    )
    monkeypatch.setattr(AnonBurstThrottle, "cache", dead)
    rates(anon="1/min")
    assert [anon.get("/api/health").status_code for _ in range(3)] == [200] * 3
