"""A browser's ``EventSource`` on ``/api/events/stream`` (Debian's Chromium): it signs
in with its session, and after the server dies it reconnects by itself with
``Last-Event-ID`` and gets exactly what it missed."""

import os
import time

import pytest

from brain.events import sequencer
from brain.events.models import EventLog
from tests.dashboard.browser import session_cookie
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.eventsapp.services import widget_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LISTEN = """
() => {
  window.received = [];
  window.opened = 0;
  const source = new EventSource("/api/events/stream?types=widget.*");
  source.onopen = () => { window.opened += 1; };
  source.addEventListener("widget.created", (event) => {
    window.received.push({id: event.lastEventId, seq: JSON.parse(event.data).meta.seq});
  });
  window.source = source;
}
"""


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def widgets(count: int, prefix: str) -> list[int]:
    start = EventLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for n in range(count):
        widget_create(name=f"{prefix}{n}")
    assert sequencer.drain()
    return list(
        EventLog.objects.filter(id__gt=start, type="widget.created")
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def wait_until(page, expression: str, timeout: float = 20.0):
    """Poll ``expression`` in the page (the page's CSP forbids eval, so no
    ``wait_for_function``) until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => {expression}")
        if value:
            return value
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.05)


def wait_received(page, count: int) -> list[dict]:
    wait_until(page, f"window.received.length >= {count}")
    return page.evaluate("() => window.received")


def test_event_source_resumes_with_last_event_id_after_a_server_restart(
    browser, start_server, make_user
):
    server = start_server()
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": session_cookie(make_user("operator")),
                "url": server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(server.url + "/api/health")
    page.evaluate(LISTEN)
    wait_until(page, "window.opened === 1")
    first = widgets(3, "first")
    assert [r["seq"] for r in wait_received(page, 3)] == first
    server.kill()
    # Written while the browser cannot reach the server.
    missed = widgets(4, "missed")
    server.start()
    wait_until(page, "window.opened === 2")
    later = widgets(2, "later")
    received = wait_received(page, 9)
    time.sleep(0.5)
    received = page.evaluate("() => window.received")
    assert [r["seq"] for r in received] == first + missed + later
    assert [r["id"] for r in received] == [str(seq) for seq in first + missed + later]
    context.close()
