"""Who may call what, for every route the project serves.

The routes come from the URL configuration itself (``brain.urls``, the test-only
widgets left out), so a new endpoint or a new method fails here until it is given
an expectation below: anonymous, a signed-in user in no group, ``viewers``,
``operators`` and a superuser, each against every method the view allows.
"""

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from tests.conftest import token_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "plain", "viewer", "operator", "superuser")
SAFE = ("GET", "HEAD", "OPTIONS")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Api:
    """An API route: the methods its view has, and who may call them.

    ``public`` routes answer anyone. Otherwise reads need a signed-in user holding
    ``read_permissions`` (a user in no group holds none: 403), and the ``writes``
    need ``write_permissions`` (``None``: superusers only); the ``operators`` group
    holds them unless ``operators_write`` says not.
    """

    reads: tuple[str, ...] = ("GET",)
    read_permissions: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    write_permissions: tuple[str, ...] | None = None
    public: bool = False
    options: bool = True
    operators_write: bool = True

    @property
    def methods(self) -> tuple[str, ...]:
        head = ("HEAD",) if "GET" in self.reads else ()
        options = ("OPTIONS",) if self.options else ()
        return (*self.reads, *head, *options, *self.writes)


@dataclass(frozen=True)
class Page:
    """A dashboard route: a page behind sign-in, the sign-in page, or sign-out."""

    kind: str = "page"
    methods: tuple[str, ...] = field(default=("GET", "HEAD"))


MISSIONS = ("missions.view_mission",)
CREDITS = ("credits.view_account",)
HARDWARE = ("hardware.view_robot",)
SUPERVISOR = ("supervisor.view_agent",)
MISSION_ADD = ("missions.add_mission",)
MISSION_CHANGE = ("missions.change_mission",)
LEDGER = ("credits.add_ledgerentry",)
AGENT_CHANGE = ("supervisor.change_agent",)
WEBHOOKS = ("webhooks.view_endpoint",)
WEBHOOK_CHANGE = ("webhooks.change_endpoint",)

API_ROUTES: dict[str, Api] = {
    # Probes: public by design, for load balancers and monitors.
    "health": Api(public=True),
    "missions-health": Api(public=True),
    "credits-health": Api(public=True),
    "supervisor-health": Api(public=True),
    # The schema and its viewer are public too: they describe, they hold no data.
    "schema": Api(public=True),
    # Swagger UI: no OPTIONS (DRF's answer to it has no HTML form).
    "docs": Api(public=True, options=False),
    "events": Api(),
    "event-types": Api(),
    "asyncapi": Api(public=True),
    "mission-history": Api(read_permissions=MISSIONS),
    "mission-list": Api(
        read_permissions=MISSIONS, writes=("POST",), write_permissions=MISSION_ADD
    ),
    "mission-stats": Api(read_permissions=MISSIONS),
    "mission-claim": Api(
        read_permissions=MISSIONS,
        reads=(),
        writes=("POST",),
        write_permissions=MISSION_CHANGE,
    ),
    "mission-detail": Api(read_permissions=MISSIONS),
    "mission-status": Api(
        read_permissions=MISSIONS,
        reads=(),
        writes=("POST",),
        write_permissions=MISSION_CHANGE,
    ),
    "mission-log": Api(
        read_permissions=MISSIONS,
        writes=("POST",),
        write_permissions=("missions.add_missionlog",),
    ),
    "credits-info": Api(read_permissions=CREDITS),
    "credits-accounts": Api(
        read_permissions=CREDITS,
        reads=(),
        writes=("POST",),
        write_permissions=("credits.add_account", "credits.add_ledgerentry"),
    ),
    "credits-allocate": Api(
        read_permissions=CREDITS, reads=(), writes=("POST",), write_permissions=LEDGER
    ),
    "credits-consume": Api(
        read_permissions=CREDITS, reads=(), writes=("POST",), write_permissions=LEDGER
    ),
    "credits-refund": Api(
        read_permissions=CREDITS, reads=(), writes=("POST",), write_permissions=LEDGER
    ),
    "credits-balance": Api(read_permissions=CREDITS),
    "credits-balances": Api(read_permissions=CREDITS),
    "credits-history": Api(read_permissions=CREDITS),
    "hardware-info": Api(read_permissions=HARDWARE),
    "hardware-robot-list": Api(
        read_permissions=HARDWARE,
        writes=("POST",),
        write_permissions=("hardware.add_robot",),
    ),
    "hardware-robot-detail": Api(read_permissions=HARDWARE),
    "hardware-robot-state": Api(
        read_permissions=HARDWARE,
        writes=("POST",),
        write_permissions=("hardware.add_robotstate",),
    ),
    "hardware-robot-command": Api(
        read_permissions=HARDWARE,
        reads=(),
        writes=("POST",),
        write_permissions=("hardware.add_robotcommand",),
    ),
    "hardware-robot-commands": Api(read_permissions=HARDWARE),
    # An operator issues a robot its own token (201, shown once) or revokes it.
    "hardware-robot-token": Api(
        read_permissions=HARDWARE,
        reads=(),
        writes=("POST", "DELETE"),
        write_permissions=("hardware.change_robot",),
    ),
    "hardware-command-ack": Api(
        read_permissions=HARDWARE,
        reads=(),
        writes=("POST",),
        write_permissions=("hardware.change_robotcommand",),
    ),
    "supervisor-status": Api(read_permissions=SUPERVISOR),
    "supervisor-agent-list": Api(
        read_permissions=SUPERVISOR,
        writes=("POST",),
        write_permissions=("supervisor.add_agent", "supervisor.change_agent"),
    ),
    "supervisor-agent-detail": Api(read_permissions=SUPERVISOR),
    # An operator issues an agent its own token (201, shown once) or revokes it.
    "supervisor-agent-token": Api(
        read_permissions=SUPERVISOR,
        reads=(),
        writes=("POST", "DELETE"),
        write_permissions=AGENT_CHANGE,
    ),
    "supervisor-agent-heartbeat": Api(
        read_permissions=SUPERVISOR,
        reads=(),
        writes=("POST",),
        write_permissions=AGENT_CHANGE,
    ),
    "supervisor-control": Api(
        read_permissions=SUPERVISOR,
        reads=(),
        writes=("POST",),
        write_permissions=AGENT_CHANGE,
    ),
}

API_ROUTES |= {
    "webhook-endpoint-list": Api(
        read_permissions=WEBHOOKS,
        writes=("POST",),
        write_permissions=("webhooks.add_endpoint",),
    ),
    "webhook-endpoint-detail": Api(
        read_permissions=WEBHOOKS,
        writes=("PATCH", "DELETE"),
        write_permissions=WEBHOOK_CHANGE,
    ),
    "webhook-endpoint-rotate-secret": Api(
        read_permissions=WEBHOOKS,
        reads=(),
        writes=("POST",),
        write_permissions=WEBHOOK_CHANGE,
    ),
    "webhook-endpoint-replay": Api(
        read_permissions=WEBHOOKS,
        reads=(),
        writes=("POST",),
        write_permissions=WEBHOOK_CHANGE,
    ),
    "webhook-endpoint-attempts": Api(read_permissions=WEBHOOKS),
}

PAGE_ROUTES: dict[str, Page] = {
    "dashboard:login": Page(kind="login"),
    "dashboard:logout": Page(kind="logout", methods=("POST",)),
    "dashboard:board": Page(),
    "dashboard:mission": Page(),
    "dashboard:events": Page(),
    "dashboard:agents": Page(),
    "dashboard:robots": Page(),
    "dashboard:robot": Page(),
    "dashboard:credits": Page(),
    # JSON for the dashboard's charts and tables: signed-in users, like its pages.
    "dashboard:events-per-minute": Page(),
    "dashboard:credit-transactions": Page(),
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # e.g. "api/missions/<str:mission_id>/status"
    view: object  # the view class, or the function for function views


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, pattern, inner)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None) or getattr(
                entry.callback, "cls", entry.callback
            )
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(name=name, pattern=pattern, view=view)


def project_routes() -> tuple[list[Route], list[Route]]:
    """The API routes (``api/...``) and the dashboard's, from ``brain.urls``."""
    routes = list(_walk(get_resolver("brain.urls")))
    api = [r for r in routes if r.pattern.startswith("api/")]
    # Everything else but Django's admin and the metrics (their own access rule:
    # tests/foundation/test_metrics.py) is the dashboard's.
    pages = [
        r for r in routes if not r.pattern.startswith(("api/", "admin/", "metrics"))
    ]
    return api, pages


def named(routes: list[Route]) -> dict[str, Route]:
    return {route.name: route for route in routes if route.name}


API, PAGES = project_routes()


def test_every_route_has_an_expectation():
    api_names = set(named(API))
    assert api_names == set(API_ROUTES), (
        f"routes without an expectation: {sorted(api_names - set(API_ROUTES))}; "
        f"expectations without a route: {sorted(set(API_ROUTES) - api_names)}"
    )
    unnamed = [route.pattern for route in PAGES if route.name is None]
    assert not unnamed, f"pages without a name (and so an expectation): {unnamed}"
    page_names = set(named(PAGES))
    assert page_names == set(PAGE_ROUTES), (
        f"pages without an expectation: {sorted(page_names - set(PAGE_ROUTES))}; "
        f"expectations without a page: {sorted(set(PAGE_ROUTES) - page_names)}"
    )
    # An unnamed API route must be the trailing-slash twin of a named one (route()).
    by_pattern = {r.pattern: r for r in API if r.name}
    for route in API:
        if route.name is None:
            twin = by_pattern.get(route.pattern.rstrip("/"))
            assert twin is not None and twin.view is route.view, (
                f"{route.pattern} has no name: give it one and an expectation"
            )


def view_methods(view) -> set[str]:
    """The methods an API view class answers (HEAD comes with GET)."""
    assert isinstance(view, type) and issubclass(view, APIView), view
    methods = {m.upper() for m in view.http_method_names if hasattr(view, m)}
    if "GET" in methods:
        methods.add("HEAD")
    return methods


@pytest.mark.parametrize("name", sorted(API_ROUTES))
def test_api_views_have_exactly_the_expected_methods_and_permissions(name):
    expected = API_ROUTES[name]
    view = named(API)[name].view
    assert view_methods(view) == set(expected.methods)
    if expected.writes:
        assert getattr(view, "write_permissions", None) == expected.write_permissions
    if expected.reads and not expected.public:
        assert getattr(view, "read_permissions", ()) == expected.read_permissions


# Requests ------------------------------------------------------------------------


def fill(pattern: str, values: dict[str, str]) -> str:
    path = "/" + pattern
    for key, value in values.items():
        for converter in ("str", "uuid", "int", "slug"):
            path = path.replace(f"<{converter}:{key}>", value)
    assert "<" not in path, f"no value for a parameter of {pattern}"
    return path


@pytest.fixture
def clients(make_user) -> dict[str, APIClient]:
    """One API client per role, signed in with a token."""
    made = {"anonymous": APIClient()}
    for role in ROLES[1:]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(make_user(role))}")
        made[role] = client
    return made


def call(client, method: str, path: str):
    if method in SAFE:
        return client.generic(method, path)
    return client.generic(method, path, "{}", content_type="application/json")


def api_outcome(route: Api, role: str, method: str) -> str:
    """``ok`` (2xx), ``allowed`` (past the permission check: not 401/403, not 5xx),
    ``401`` or ``403``."""
    if route.public:
        return "ok"
    if role == "anonymous":
        return "401"
    if method in SAFE:
        if role == "plain" and route.read_permissions:
            return "403"
        return "ok"
    operator_may = route.operators_write and route.write_permissions is not None
    if role == "superuser" or (role == "operator" and operator_may):
        return "allowed"
    return "403"


def matches(outcome: str, response) -> bool:
    status = response.status_code
    if outcome == "ok":
        return 200 <= status < 300
    if outcome == "allowed":
        return status not in (401, 403) and status < 500
    return str(status) == outcome


@pytest.mark.parametrize("name", sorted(API_ROUTES))
def test_api_route_answers_each_role_as_expected(name, clients, path_values):
    expected = API_ROUTES[name]
    path = fill(named(API)[name].pattern, path_values)
    wrong = []
    # Every role's reads before any write: a DELETE must not take the object away
    # from the roles that read after it.
    calls = [(r, m) for r in ROLES for m in expected.methods if m in SAFE]
    calls += [(r, m) for r in ROLES for m in expected.methods if m not in SAFE]
    for role, method in calls:
        outcome = api_outcome(expected, role, method)
        response = call(clients[role], method, path)
        if not matches(outcome, response):
            wrong.append(f"{role} {method} {path}: {response.status_code}")
            continue
        if outcome == "401":
            assert response["WWW-Authenticate"] == "Token"
        if outcome in ("401", "403") and method != "HEAD":
            detail = response.json()["detail"]
            assert ("credentials" if outcome == "401" else "permission") in detail
    assert not wrong, "expected " + name + ":\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(API_ROUTES))
def test_methods_a_view_lacks_are_405_for_a_superuser(name, clients, path_values):
    expected = API_ROUTES[name]
    path = fill(named(API)[name].pattern, path_values)
    for method in (*UNSAFE, "OPTIONS"):
        if method not in expected.methods:
            response = call(clients["superuser"], method, path)
            assert response.status_code == 405, (method, path)


# Dashboard -----------------------------------------------------------------------


@pytest.fixture
def browsers(make_user) -> dict[str, Client]:
    made = {"anonymous": Client()}
    for role in ROLES[1:]:
        client = Client()
        client.force_login(make_user(role))
        made[role] = client
    return made


@pytest.mark.parametrize("name", sorted(PAGE_ROUTES))
def test_dashboard_route_answers_each_role_as_expected(name, browsers, path_values):
    expected = PAGE_ROUTES[name]
    path = fill(named(PAGES)[name].pattern, path_values)
    for role in ROLES:
        for method in expected.methods:
            response = browsers[role].generic(method, path)
            where = f"{role} {method} {path}"
            if expected.kind == "page":
                if role == "anonymous":
                    assert response.status_code == 302, where
                    assert response["Location"] == f"/login/?next={path}", where
                else:
                    assert response.status_code == 200, where
            elif expected.kind == "login":
                assert response.status_code == (200 if role == "anonymous" else 302), (
                    where
                )
            else:  # logout: POST signs out and redirects to the sign-in page
                assert response.status_code == 302, where
                assert response["Location"] == "/login/", where
    if expected.kind == "logout":
        assert browsers["anonymous"].get(path).status_code == 405
