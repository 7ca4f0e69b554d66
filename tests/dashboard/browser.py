"""Helpers for the browser tests: signed-in pages, JavaScript errors, screenshots."""

import os
import re
from pathlib import Path

from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
# "Updates in place within a second of any change" (the issue): how long a test
# waits for a live change to show, counted from the moment the change committed.
WITHIN_A_SECOND = 1000
# What Chromium itself logs while a server is deliberately down: not page errors.
NETWORK_NOISE = re.compile(
    r"ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|"
    r"WebSocket connection to .* failed"
)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Pages:
    """Browser pages signed in as given users; JavaScript errors are collected."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.contexts = []
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def open(
        self, server, user, path: str = "/", *, wait_live: bool = True, fixed_time=None
    ):
        """``fixed_time``: what the page's ``Date`` says, always (its timers run)."""
        context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(10_000)
        if fixed_time is not None:
            context.clock.set_fixed_time(fixed_time)
        self.contexts.append(context)
        if user is not None:
            context.add_cookies(
                [
                    {
                        "name": "sessionid",
                        "value": session_cookie(user),
                        "url": server.url,
                    }
                ]
            )
        page = context.new_page()
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.goto(server.url + path)
        if wait_live:
            wait_live_state(page)
        return page

    def _console(self, page, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(pattern.search(text) for pattern in self.allowed):
            return
        self.errors.append(f"{page.url}: console error: {text}")

    def allow(self, pattern: str | re.Pattern) -> None:
        """Expected browser messages: refused connections while a server is down."""
        self.allowed.append(
            re.compile(pattern) if isinstance(pattern, str) else pattern
        )

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def wait_live_state(page, timeout: float = 10_000) -> None:
    page.wait_for_selector('#conn-state[data-state="live"]', timeout=timeout)


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    """Keep a picture of the page for the README when ``BRAIN_SCREENSHOTS=1``."""
    if os.environ.get("BRAIN_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def off_loop(fn, *args, **kwargs):
    """Call ``fn`` in another thread, away from Playwright's event loop.

    The services deliver events on commit through the channel layer's sync bridge,
    which refuses to run in a thread with a running event loop (it would fall back
    to the slower log poll). The thread has its own database connection.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
