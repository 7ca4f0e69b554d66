"""Client addresses come from the connection, unless a configured proxy forwards
them (issue 16, point 2). On a real uvicorn started as ``bin/run`` starts it.

Before the fix uvicorn believed ``X-Forwarded-For`` from 127.0.0.1, so any local
client (or anything a local proxy let through) chose its address per request: the
lockout and the anonymous throttle counted a new client each time.
"""

import random
import re
import time

import httpx
import pytest
from django.core.cache import cache

pytestmark = [pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def client_from(server, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=server.url, transport=transport, timeout=10)


def sign_in(http: httpx.Client, password: str, **headers) -> int:
    page = http.get("/login/", headers=headers)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    response = http.post(
        "/login/",
        data={
            "username": "carol",
            "password": password,
            "csrfmiddlewaretoken": token.group(1),
        },
        headers=headers,
    )
    return response.status_code


def forged() -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{random.randint(1, 254)}"}


@pytest.fixture
def carol(make_user):
    user = make_user("operator", name="carol")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def test_forged_forwarded_for_does_not_dodge_the_lockout(live, carol):
    with client_from(live) as http:
        statuses = [sign_in(http, "wrong") for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]  # locked at the fifth
        # Thirty more guesses, each "from" a new address: all refused unread.
        assert {sign_in(http, "wrong", **forged()) for _ in range(30)} == {429}
        assert sign_in(http, PASSWORD, **forged()) == 429
    # Failures count per username alone too: a really different address is
    # locked out as well.
    with client_from(live, "127.0.0.2") as http:
        assert sign_in(http, PASSWORD) == 429
    line = next(
        line
        for line in live.full_output().splitlines()
        if '"event": "lockout"' in line and '"user": "carol"' in line
    )
    assert '"client": "127.0.0.1"' in line and '"path": "/login/"' in line


def fresh_window() -> None:
    """The throttle counts per clock minute: start well inside one."""
    while time.time() % 60 > 50:
        time.sleep(1)


def test_forged_forwarded_for_does_not_dodge_the_anonymous_throttle(start_server):
    server = start_server(THROTTLE_ANON="3/min")
    fresh_window()
    # The server's own start-up probes counted against 127.0.0.1: start from zero.
    cache.delete(f"throttle_anon_127.0.0.1:{int(time.time() // 60)}")
    with client_from(server) as http:
        statuses = [
            http.get("/api/missions/health", headers=forged()).status_code
            for _ in range(6)
        ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_a_configured_proxy_is_believed(start_server):
    """Behind a proxy (``TRUSTED_PROXIES``) the forwarded address is the client's:
    two clients of the proxy are throttled apart, the proxy is not throttled as one.
    """
    server = start_server(THROTTLE_ANON="2/min", TRUSTED_PROXIES="127.0.0.1")
    clients = [f"203.0.113.{n}" for n in random.sample(range(1, 254), 2)]
    fresh_window()
    with client_from(server) as http:

        def get(address: str) -> int:
            headers = {"X-Forwarded-For": address}
            return http.get("/api/missions/health", headers=headers).status_code

        assert [get(clients[0]) for _ in range(3)] == [200, 200, 429]
        assert [get(clients[1]) for _ in range(2)] == [200, 200]
