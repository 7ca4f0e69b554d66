"""A browser's socket follows the rules of its session (issue 16, points 5 and 6),
on a real uvicorn.

- A password change ends the user's other sessions in Django; it ends their sockets
  too (4401) within the revocation interval, as a logout does.
- The socket's ``Origin`` check is Django's CSRF origin check: scheme, host and
  port of the site itself, or one of ``CSRF_TRUSTED_ORIGINS``. Before the fix any
  ``Origin`` whose host was in ``ALLOWED_HOSTS`` passed, whatever its scheme or
  port: a page on ``http://localhost:3000`` could read a signed-in user's events.
"""

import asyncio

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils.crypto import get_random_string

from tests.servers import next_frame, ws_connect

pytestmark = [pytest.mark.slow]


def browser_session(user) -> tuple[str, str]:
    """The session and CSRF cookies of a signed-in browser."""
    client = Client()
    client.force_login(user)
    # A CSRF secret as the cookie holds it; sent back unmasked in X-CSRFToken.
    return client.cookies["sessionid"].value, get_random_string(32)


async def test_a_password_change_closes_the_users_session_sockets(
    start_server, make_user
):
    server = start_server(EVENTS_AUTH_RECHECK_SECONDS="0.5")
    user = await sync_to_async(make_user)("viewer")
    bystander = await sync_to_async(make_user)("viewer")
    session, _ = await sync_to_async(browser_session)(user)
    other, _ = await sync_to_async(browser_session)(bystander)
    origin = server.url
    async with (
        await ws_connect(server, cookie=f"sessionid={session}", origin=origin) as ws,
        await ws_connect(server, cookie=f"sessionid={other}", origin=origin) as kept,
    ):
        assert (await next_frame(ws))["control"] == "subscribed"
        assert (await next_frame(kept))["control"] == "subscribed"

        def change_password():
            user.set_password("a new password 7781")
            user.save(update_fields=["password"])

        await sync_to_async(change_password)()
        revoked = await next_frame(ws, timeout=10)
        assert revoked == {
            "control": "error",
            "detail": "credentials revoked",
            "close": 4401,
        }
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4401
        # Another user's session is untouched.
        await kept.send('{"action": "ping"}')
        assert (await next_frame(kept))["control"] == "pong"
    line = next(
        line for line in server.full_output().splitlines() if "socket_revoked" in line
    )
    assert f'"user": "{user.username}"' in line and '"credential": "session"' in line


def rest_post_status(server, session: str, csrf: str, origin: str) -> int:
    """What REST's CSRF check says of a session POST from ``origin``."""
    response = httpx.post(
        server.url + "/api/missions",
        json={"name": "from " + origin},
        headers={
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Origin": origin,
        },
        timeout=10,
    )
    return response.status_code


async def socket_opens(server, session: str, origin: str) -> bool:
    try:
        ws = await ws_connect(server, cookie=f"sessionid={session}", origin=origin)
    except websockets.InvalidStatus as refused:
        assert refused.response.status_code == 403
        return False
    async with ws:
        assert (await next_frame(ws))["control"] == "subscribed"
    return True


ORIGINS = [
    "{site}",
    "http://127.0.0.1:9999",
    "http://localhost:3000",
    "https://localhost",
    "https://127.0.0.1:{port}",
    "http://localhost:{port}",
    "http://evil.example",
    "null",
]


async def test_the_socket_and_rest_agree_on_every_origin(start_server, make_user):
    server = start_server(CSRF_TRUSTED_ORIGINS="http://localhost:3000")
    user = await sync_to_async(make_user)("operator")
    session, csrf = await sync_to_async(browser_session)(user)
    verdicts = {}
    for template in ORIGINS:
        origin = template.format(site=server.url, port=server.port)
        rest = await sync_to_async(rest_post_status)(server, session, csrf, origin)
        assert rest in (201, 403), (origin, rest)
        verdicts[origin] = (rest == 201, await socket_opens(server, session, origin))
    assert verdicts == {
        server.url: (True, True),
        "http://127.0.0.1:9999": (False, False),
        # Trusted by configuration, for both.
        "http://localhost:3000": (True, True),
        "https://localhost": (False, False),
        f"https://127.0.0.1:{server.port}": (False, False),
        # Another host name of the same server: not the site's own origin.
        f"http://localhost:{server.port}": (False, False),
        "http://evil.example": (False, False),
        "null": (False, False),
    }
    refused = [
        line
        for line in server.full_output().splitlines()
        if '"event": "origin_refused"' in line
    ]
    assert len(refused) == 6
    assert any('"origin": "http://127.0.0.1:9999"' in line for line in refused)


@pytest.mark.parametrize("trusted", [[], ["https://*.example.com", "http://a.test:81"]])
@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize("host", ["brain.example.com", "brain.example.com:8443", "x"])
@pytest.mark.parametrize(
    "origin",
    [
        "https://brain.example.com",
        "http://brain.example.com",
        "https://brain.example.com:8443",
        "https://api.example.com",
        "https://example.com",
        "http://api.example.com",
        "http://a.test:81",
        "http://a.test",
        "null",
        "https://brain.example.com.evil.test",
    ],
)
def test_the_origin_rule_is_djangos_csrf_rule(settings, trusted, secure, host, origin):
    """Every combination of socket scheme, ``Host``, ``Origin`` and trusted
    origins, judged by the socket's rule and by Django's own CSRF middleware."""
    from django.middleware.csrf import CsrfViewMiddleware
    from django.test import RequestFactory

    from brain.events.auth import origin_allowed

    settings.ALLOWED_HOSTS = [".example.com"]
    settings.CSRF_TRUSTED_ORIGINS = trusted
    settings.SECURE_PROXY_SSL_HEADER = None
    scope = {
        "type": "websocket",
        "scheme": "wss" if secure else "ws",
        "headers": [(b"host", host.encode()), (b"origin", origin.encode())],
    }
    request = RequestFactory().post(
        "/", HTTP_HOST=host, HTTP_ORIGIN=origin, secure=secure
    )
    django_says = CsrfViewMiddleware(lambda r: None)._origin_verified(request)
    assert origin_allowed(scope, origin) == django_says
