"""Shared fixtures: users by role, API clients, captured events, real servers.

The suite runs against the services named by ``DATABASE_URL`` and ``REDIS_URL``
(``bin/test`` points them at the local PostgreSQL and Redis). A configured service
that does not answer fails the run at once with a clear message; nothing is skipped.
"""

import fcntl
import json
import os
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from brain.events.models import EventLog
from tests.servers import ServerProcess, free_port


def _reachable(url: str, default_port: int) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port} ({exc})"


def pytest_sessionstart(session):
    problems = []
    # bin/test's smoke run sets BRAIN_EMBEDDED_SMOKE on purpose: it tests the
    # service-free default. Anywhere else, CI without services is a failure.
    in_ci = os.environ.get("CI") and not os.environ.get("BRAIN_EMBEDDED_SMOKE")
    if settings.DATABASE_URL:
        ok, where = _reachable(settings.DATABASE_URL, 5432)
        if not ok:
            problems.append(f"PostgreSQL is not reachable at {where}")
    elif in_ci:
        problems.append(
            "CI=true but DATABASE_URL is not set: the suite needs PostgreSQL"
        )
    if settings.REDIS_URL:
        ok, where = _reachable(settings.REDIS_URL, 6379)
        if not ok:
            problems.append(f"Redis is not reachable at {where}")
    elif in_ci:
        problems.append("CI=true but REDIS_URL is not set: the suite needs Redis")
    if problems:
        raise pytest.UsageError("; ".join(problems) + " — start it, then rerun.")
    # Once per run, before any worker starts: under pytest-xdist this is the
    # controller. Workers (and any pytest a test starts in one) share the db and
    # keep to their own key prefix (tests/settings.py), so they never flush it.
    if settings.REDIS_URL and "PYTEST_XDIST_WORKER" not in os.environ:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


# pytest-xdist ---------------------------------------------------------------------
# ``bin/test`` runs the suite in worker processes (``-n 4 --dist loadgroup``). The
# tests of a group run on one worker, in order; every other test goes to whichever
# worker is free. By file:
XDIST_GROUPS = {
    # One Chromium at a time, and one dashboard server for all: their "within a
    # second" waits do not compete with each other.
    "tests/dashboard/test_board_browser.py": "browser",
    "tests/dashboard/test_charts_browser.py": "browser",
    "tests/dashboard/test_live_browser.py": "browser",
    "tests/dashboard/test_mission_browser.py": "browser",
    "tests/dashboard/test_pages_browser.py": "browser",
    "tests/events/test_sse_browser.py": "browser",
    # A module fixture with committed data, flushed at its end: set up once.
    "tests/security/test_fuzz_schema.py": "fuzz",
}

# How long each test took (set-up and teardown included), from a run of the whole
# suite: the longest start first, so that none starts late and keeps one worker
# busy while the others have nothing left to do. Only tests of 0.5 s or more; a
# test missing here counts as SLOW_TEST_SECONDS if marked ``slow``, else as quick.
# ``BRAIN_STORE_DURATIONS=1 bin/test`` rewrites the file from the run.
DURATIONS_FILE = Path(__file__).with_name("durations.json")
SLOW_TEST_SECONDS = 10.0
QUICK_TEST_SECONDS = 0.1
# A worker busy with this much queued work gets the shortest test left as its next
# one (xdist hands a worker its next test before the running one ends), not the
# longest, which another worker can start at once.
LONG_WORK_SECONDS = 15.0
# Where the workers tell the controller what they collected beyond the node ids.
_HINTS_FILE = "xdist-hints.json"
_SERIAL_SCOPE = "serial::"


def _recorded_durations() -> dict[str, float]:
    try:
        return json.loads(DURATIONS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _estimate(item, recorded: dict[str, float]) -> float:
    if item.nodeid in recorded:
        return recorded[item.nodeid]
    if item.get_closest_marker("slow") is not None:
        return SLOW_TEST_SECONDS
    return QUICK_TEST_SECONDS


def _run_folder(config) -> Path:
    """The run's temporary folder, which holds each worker's (popen-gw0, ...)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        basetemp = config.option.basetemp
        return Path(basetemp).parent if basetemp else Path(tempfile.gettempdir())
    return config._tmp_path_factory.getbasetemp()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` with the groups above, named by file, longest first.

    (pytest-xdist 3.8 names a test's ``xdist_group`` in ``item._nodeid``, which
    pytest 9 no longer reads: its own loadgroup spreads a group over the workers.)
    Groups and single tests are handed out by their expected time, longest first;
    the ``serial`` tests are units of their own, handed out last, so that none
    waits for a long test on another worker while every other worker waits for it.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileGroupScheduling(LoadScopeScheduling):
        serial: frozenset[str] = frozenset()
        seconds: dict[str, float] = {}  # noqa: RUF012 (replaced, never changed)

        def _split_scope(self, nodeid: str) -> str:
            if nodeid in self.serial:
                return _SERIAL_SCOPE + nodeid
            path = nodeid.split("::")[0]
            if path in XDIST_GROUPS:
                return XDIST_GROUPS[path]
            # The other browser files one by one: a file's tests share one Chromium
            # (a module fixture), which tests handed out one at a time would not.
            return path if path.endswith("_browser.py") else nodeid

        def _unit_seconds(self, unit) -> float:
            return sum(self.seconds.get(nodeid, QUICK_TEST_SECONDS) for nodeid in unit)

        def schedule(self) -> None:
            """``LoadScopeScheduling.schedule`` with the work queue in our order."""
            if self.collection is not None or not self.collection_is_completed:
                return super().schedule()
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return None
            self.collection = list(next(iter(self.registered_collections.values())))
            if not self.collection:
                return None
            # Every worker has collected, so each has written the hints.
            hints = json.loads((_run_folder(config) / _HINTS_FILE).read_text())
            self.serial = frozenset(hints["serial"])
            self.seconds = hints["seconds"]
            units: dict[str, dict[str, bool]] = {}
            for nodeid in self.collection:
                units.setdefault(self._split_scope(nodeid), {})[nodeid] = False
            position = {scope: n for n, scope in enumerate(units)}
            for scope in sorted(
                units,
                key=lambda scope: (
                    scope.startswith(_SERIAL_SCOPE),
                    -self._unit_seconds(units[scope]),
                    position[scope],
                ),
            ):
                self.workqueue[scope] = units[scope]
            for _ in range(len(self.nodes) - len(self.workqueue)):
                unused_node, _assigned = self.assigned_work.popitem()
                unused_node.shutdown()
            for node in self.nodes:
                self._assign_work_unit(node)
            for node in self.nodes:
                self._reschedule(node)
            if not self.workqueue:
                for node in self.nodes:
                    node.shutdown()
            return None

        def _assign_work_unit(self, node) -> None:
            queued = sum(
                self.seconds.get(nodeid, QUICK_TEST_SECONDS)
                for unit in self.assigned_work.get(node, {}).values()
                for nodeid, done in unit.items()
                if not done
            )
            if queued >= LONG_WORK_SECONDS:
                shortest = next(
                    (
                        s
                        for s in reversed(self.workqueue)
                        if not s.startswith(_SERIAL_SCOPE)
                    ),
                    None,
                )
                if shortest is not None:
                    self.workqueue.move_to_end(shortest, last=False)
            super()._assign_work_unit(node)

    return FileGroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """On an xdist worker: the longest tests first, so that no long test starts last
    while the other workers have nothing left to do; the ``serial`` tests last
    (of their group, if they are in one), when little else is left to wait for.
    The worker also writes what the controller's scheduler needs to know of them."""
    if not hasattr(config, "workerinput"):
        return
    recorded = _recorded_durations()
    seconds = {item.nodeid: _estimate(item, recorded) for item in items}
    items.sort(
        key=lambda item: (
            item.get_closest_marker("serial") is not None,
            -seconds[item.nodeid],
        )
    )
    hints = {
        "serial": [i.nodeid for i in items if i.get_closest_marker("serial")],
        "seconds": {k: v for k, v in seconds.items() if v != QUICK_TEST_SECONDS},
    }
    # Every worker writes the same; a rename is atomic, so the controller reads one.
    folder = _run_folder(config)
    worker = config.workerinput["workerid"]
    partial = folder / f"{_HINTS_FILE}.{worker}"
    partial.write_text(json.dumps(hints))
    partial.replace(folder / _HINTS_FILE)


_durations: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """With ``BRAIN_STORE_DURATIONS=1``, each test's set-up, call and teardown added
    up, for ``pytest_sessionfinish``."""
    if os.environ.get("BRAIN_STORE_DURATIONS") == "1":
        _durations[report.nodeid] = _durations.get(report.nodeid, 0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    """The controller of a parallel run updates ``DURATIONS_FILE`` with the tests it
    ran (a run in one process, like the smoke run on SQLite, is no measure of one)."""
    config = session.config
    if not _durations or hasattr(config, "workerinput"):
        return
    if config.getvalue("dist") in (None, "no"):
        return
    recorded = _recorded_durations()
    for nodeid, seconds in _durations.items():
        if seconds >= 0.5:
            recorded[nodeid] = round(seconds, 1)
        else:
            recorded.pop(nodeid, None)
    text = json.dumps(dict(sorted(recorded.items())), indent=0, ensure_ascii=False)
    DURATIONS_FILE.write_text(text + "\n")


class RunLock:
    """A readers-writer lock shared by the workers of one run (``flock``).

    Every test holds it shared; a ``serial`` test holds it alone. A serial test
    first closes the gate, so no test starts on another worker while it waits for
    the running ones to end, then takes the room.
    """

    def __init__(self, folder: Path, run_id: str) -> None:
        # Open for the whole run.
        self.gate = open(folder / f"brain-tests-{run_id}.gate", "a+")
        self.room = open(folder / f"brain-tests-{run_id}.room", "a+")

    @contextmanager
    def held(self, *, alone: bool):
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.room, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)


_run_lock: RunLock | None = None


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outside pytest-timeout's timer
def pytest_runtest_protocol(item, nextitem):
    """On an xdist worker, a ``serial`` test runs with no test running elsewhere.

    Only workers take part: a pytest that a test starts (``test_ci_guard``) is
    none, so it never waits for the test that started it.
    """
    global _run_lock
    workerinput = getattr(item.config, "workerinput", None)
    if workerinput is None:
        return (yield)
    if _run_lock is None:
        _run_lock = RunLock(_run_folder(item.config), workerinput["testrunuid"])
    with _run_lock.held(alone=item.get_closest_marker("serial") is not None):
        return (yield)


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup, django_db_blocker):
    """Close other connections to the test database so it can be dropped at the end.

    Only if there is one: pytest-django makes none when no selected test uses the
    database, and the configured database is nobody's to disconnect.
    """
    yield
    if connection.vendor != "postgresql":
        return
    configured = urlparse(settings.DATABASE_URL).path.lstrip("/")
    if connection.settings_dict["NAME"] == configured:
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def plain_static_files(settings):
    """Admin pages link static files; without ``collectstatic`` there is no manifest,
    so the admin tests serve them plainly."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test runs its own event loop; channels-redis layers belong to one loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


# Users and clients ---------------------------------------------------------------


@pytest.fixture
def make_user(db):
    """``make_user("viewer" | "operator" | "superuser" | "plain", name=...)``."""
    counter = {"n": 0}

    def make(role: str = "operator", name: str | None = None) -> User:
        counter["n"] += 1
        username = name or f"{role}{counter['n']}"
        if role == "superuser":
            user = User.objects.create_superuser(username, password="pw-not-used-123")
        else:
            user = User.objects.create_user(username, password="pw-not-used-123")
        if role in ("viewer", "operator"):
            user.groups.add(Group.objects.get(name=f"{role}s"))
            # The test-only widget events are read with this app's permission.
            user.user_permissions.add(
                Permission.objects.get(
                    content_type__app_label="eventsapp", codename="view_widget"
                )
            )
        return user

    return make


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def api_as(make_user):
    """``api_as("operator")``: an APIClient authenticated with that role's token."""

    def client_for(role: str = "operator", name: str | None = None) -> APIClient:
        user = make_user(role, name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        client.user = user
        return client

    return client_for


@pytest.fixture
def api(api_as) -> APIClient:
    """An operator's API client: may read and write everything."""
    return api_as("operator", "alice")


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


# Events --------------------------------------------------------------------------


class EventLogView:
    """The events the test caused, read back from the log in insertion order.

    By row id, not ``seq``: inside a test's transaction nothing commits, so the
    events are stored but not yet numbered (their envelopes have no ``meta.seq``).
    """

    def __init__(self) -> None:
        self.start = EventLog.objects.order_by("-id").values_list("id", flat=True)
        self.start = self.start.first() or 0

    def rows(self) -> list[EventLog]:
        return list(EventLog.objects.filter(id__gt=self.start).order_by("id"))

    def all(self) -> list[dict]:
        return [row.envelope() for row in self.rows()]

    def skip_seen(self) -> None:
        """Count only the events stored from now on."""
        rows = self.rows()
        if rows:
            self.start = rows[-1].id

    def types(self) -> list[str]:
        return [event["type"] for event in self.all()]

    def of_type(self, type_: str) -> list[dict]:
        return [event for event in self.all() if event["type"] == type_]


def number_pending() -> None:
    """Number the events stored in this test's transaction, as a commit would.

    Tests on ``db`` never commit, so their events keep a null ``seq`` unless
    numbered here (inside the transaction, like SQLite's writer).
    """
    from brain.events import sequencer

    pending = EventLog.objects.filter(seq__isnull=True).order_by("id")
    sequencer.number("default", list(pending.values_list("id", flat=True)))


def settle() -> None:
    """Number what the test wrote so far and forget its commit hooks, as a commit
    would: a capture block after it sees only the events of its own changes (they
    share one hook per transaction, registered by the first ``emit()``)."""
    number_pending()
    connection.run_on_commit.clear()


@pytest.fixture
def delivered(monkeypatch):
    """What ``emit()`` hands to the channel layer after commit, call by call: each
    call a list of ``WireEvent`` (``seq``, ``type``, ``subjects``, ``text``, the
    envelope as sent). Use with ``django_capture_on_commit_callbacks(execute=True)``."""
    from brain.events import publish

    calls: list[list] = []
    monkeypatch.setattr(publish, "deliver", lambda events: calls.append(events))
    return calls


def sent(delivered: list[list]) -> list[dict]:
    """The envelopes of ``delivered``, in order."""
    import json

    return [json.loads(event.text) for call in delivered for event in call]


@pytest.fixture
def events(db) -> EventLogView:
    return EventLogView()


# Real servers --------------------------------------------------------------------


def server_env() -> dict[str, str]:
    """The environment a server subprocess needs to share the test database."""
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        )
    else:
        env.pop("DATABASE_URL", None)
        env["BRAIN_DATA_DIR"] = str(settings.DATA_DIR)
    env["SECRET_KEY"] = settings.SECRET_KEY
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    return env


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, django_db_blocker):
    """One uvicorn server for the session, on the test database."""
    if connection.vendor == "sqlite":
        pytest.fail(
            "the live server tests need PostgreSQL (the SQLite test db is in memory)"
        )
    server = ServerProcess(port=free_port(), env=server_env())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(live_server_process, transactional_db):
    """The session's uvicorn server; the test's data is committed, so it sees it."""
    return live_server_process


@pytest.fixture
def start_server(transactional_db):
    """Start extra uvicorn processes (stopped at the end of the test)."""
    started: list[ServerProcess] = []

    def start(**env_overrides: str) -> ServerProcess:
        server = ServerProcess(port=free_port(), env={**server_env(), **env_overrides})
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def private_redis():
    """A Redis of the test's own, so stopping it disturbs nothing else."""
    from tests.servers import RedisProcess

    redis_process = RedisProcess()
    redis_process.start()
    yield redis_process
    redis_process.stop()
