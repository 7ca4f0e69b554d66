"""Security headers, on a real server started with production settings.

``DEBUG=0 HTTPS=1 BEHIND_PROXY=1``: the proxy terminates TLS and says so with
``X-Forwarded-Proto: https``. Every answer then carries HSTS, no-sniff, frame
denial and a referrer policy; HTML pages carry a Content-Security-Policy whose
``script-src`` allows no inline script, and the dashboard's pages keep to it.
"""

import re
from html.parser import HTMLParser

import httpx
import pytest
from django.test import Client

from tests.conftest import token_for
from tests.missions.factories import make_mission

pytestmark = [pytest.mark.slow]

PRODUCTION = {"DEBUG": "0", "HTTPS": "1", "BEHIND_PROXY": "1"}
VIA_TLS_PROXY = {"X-Forwarded-Proto": "https"}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_common_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    headers = response.headers
    hsts = headers.get("Strict-Transport-Security", "")
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts), where
    assert int(hsts.split(";")[0].split("=")[1]) >= 31536000, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", where


def assert_strict_csp(response: httpx.Response) -> None:
    where = response.request.url.path
    assert "text/html" in response.headers["Content-Type"], where
    csp = csp_directives(response.headers["Content-Security-Policy"])
    script_src = csp.get("script-src", csp["default-src"])
    assert script_src == ["'self'"], (where, script_src)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert csp["default-src"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["base-uri"] == ["'self'"], where
    assert csp["form-action"] == ["'self'"], where
    # Sockets and fetches to this site only: not ``ws:``/``wss:`` to any host.
    assert csp["connect-src"] == ["'self'"], where


@pytest.mark.django_db(transaction=True)
def test_production_settings_send_the_security_headers(start_server, make_user):
    server = start_server(**PRODUCTION)
    operator = make_user("operator")
    browser = Client()
    browser.force_login(operator)
    session = browser.cookies["sessionid"].value
    api = {**VIA_TLS_PROXY, "Authorization": f"Token {token_for(operator)}"}
    dashboard = {**VIA_TLS_PROXY, "Cookie": f"sessionid={session}"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answers = {
            "api read": http.get("/api/missions", headers=api),
            "api write": http.post("/api/missions", json={"name": "h"}, headers=api),
            "api error": http.get("/api/missions/nope", headers=api),
            "api 401": http.get("/api/missions", headers=VIA_TLS_PROXY),
            "health": http.get("/api/health", headers=VIA_TLS_PROXY),
            "sign-in page": http.get("/login/", headers=VIA_TLS_PROXY),
            "board": http.get("/", headers=dashboard),
            "agents page": http.get("/agents/", headers=dashboard),
            "admin sign-in": http.get("/admin/login/", headers=VIA_TLS_PROXY),
            "api docs": http.get("/api/docs/", headers=VIA_TLS_PROXY),
        }
        expected = {"api write": 201, "api error": 404, "api 401": 401}
        for name, response in answers.items():
            assert response.status_code == expected.get(name, 200), name
            assert_common_headers(response)
        for name in ("sign-in page", "board", "agents page", "admin sign-in"):
            assert_strict_csp(answers[name])
        assert_strict_csp(answers["api docs"])
        # Cookies set over HTTPS are Secure; the session's is also HttpOnly.
        csrf_cookie = answers["sign-in page"].headers["Set-Cookie"]
        assert "csrftoken=" in csrf_cookie and "Secure" in csrf_cookie
        plain = http.get("/api/missions/health")
        assert plain.status_code == 301
        assert plain.headers["Location"].startswith("https://")


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        self.handlers += [name for name in attributes if name.startswith("on")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/login/",
        "/",
        "/missions/{id}/",
        "/events/",
        "/agents/",
        "/robots/",
        "/credits/",
    ],
)
def test_dashboard_pages_keep_to_their_policy(make_user, path):
    """No inline script or inline event handler, which the policy would block: every
    script is a file from this site, or JSON data."""
    browser = Client()
    if path != "/login/":
        browser.force_login(make_user("operator"))
    path = path.format(id=make_mission().id)
    response = browser.get(path)
    assert response.status_code == 200
    page = _Scripts()
    page.feed(response.content.decode())
    assert page.scripts or path == "/login/", path
    for script in page.scripts:
        if "src" in script:
            assert script["src"].startswith("/static/"), (path, script)
        else:
            assert script.get("type") == "application/json", (path, script)
    assert page.handlers == [], path
