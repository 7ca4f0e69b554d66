"""Dashboard fixtures: collected static files, a server for them, a real browser.

Browser tests drive Debian's Chromium through Playwright (its own browser download
cannot work on these machines). Set ``BRAIN_SCREENSHOTS=1`` to refresh the pictures
in ``docs/screenshots/``.
"""

import fcntl
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import server_env
from tests.dashboard.browser import Pages
from tests.servers import ServerProcess, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


MANIFEST_STORAGE = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}


@pytest.fixture(scope="session")
def static_root(request, tmp_path_factory) -> str:
    """``collectstatic`` once per run, as production does before it serves.

    Once for all pytest-xdist workers too: in the run's temporary folder (the one
    that holds each worker's), the first worker to need the files collects them
    while the others wait, then all serve the same ones.
    """
    run_dir = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):
        run_dir = run_dir.parent
    root = run_dir / "static"
    with open(run_dir / "static.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "staticfiles.json").exists():
            with override_settings(
                STATIC_ROOT=str(root),
                STORAGES={**django_settings.STORAGES, "staticfiles": MANIFEST_STORAGE},
            ):
                call_command("collectstatic", interactive=False, verbosity=0)
    return str(root)


@pytest.fixture(autouse=True)
def _collected_static(settings, static_root):
    """Pages rendered in this process use this run's files, whatever else exists."""
    settings.STATIC_ROOT = static_root
    settings.STORAGES = {**settings.STORAGES, "staticfiles": MANIFEST_STORAGE}


def dashboard_env(static_root: str) -> dict[str, str]:
    return {
        **server_env(),
        "DJANGO_SETTINGS_MODULE": "tests.dashboard.settings",
        "DASHBOARD_STATIC_ROOT": static_root,
    }


@pytest.fixture(scope="session")
def dash_server(static_root, django_db_setup):
    """One uvicorn server for the run, serving the dashboard on the test database."""
    server = ServerProcess(port=free_port(), env=dashboard_env(static_root))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_dash_server(static_root, transactional_db):
    """Extra dashboard servers a test may stop and start again on the same port."""
    started: list[ServerProcess] = []

    def start() -> ServerProcess:
        server = ServerProcess(port=free_port(), env=dashboard_env(static_root))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# The browser --------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bin/install-browser (apt-get)")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the
    # tests make between browser steps are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def pages(browser):
    """Open signed-in pages; the test fails on any JavaScript error they logged."""
    opened = Pages(browser)
    yield opened
    opened.close()
    assert opened.errors == [], "JavaScript errors:\n" + "\n".join(opened.errors)
