"""Sequence numbers commit in order (PostgreSQL): a writer that draws ``seq`` N + 1
waits for the transaction holding N to end, so a reader that sees N + 1 can trust
that N is visible too or was rolled back. The hub relies on it to treat a gap as
final."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from brain.events.models import EventLog
from tests.eventsapp import services as widgets

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        try:
            result["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.parametrize("first_outcome", ["commit", "rollback"])
def test_a_later_writer_waits_for_the_open_transaction(first_outcome):
    if connection.vendor != "postgresql":
        pytest.fail("this guarantee is PostgreSQL's (SQLite has one writer anyway)")
    holding, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            widgets.widget_create(name="first")
            seq = EventLog.objects.latest("seq").seq
            holding.set()
            release.wait(10)
            if first_outcome == "rollback":
                transaction.set_rollback(True)
        return seq

    def second():
        holding.wait(10)
        widgets.widget_create(name="second")
        return EventLog.objects.filter(payload__name="second").get().seq

    thread_a, a = in_thread(first)
    assert holding.wait(10)
    thread_b, b = in_thread(second)
    time.sleep(0.5)
    # B has drawn nothing yet: it waits for A's transaction, not for a row lock.
    assert thread_b.is_alive() and "value" not in b
    assert EventLog.objects.filter(payload__name="second").count() == 0
    release.set()
    thread_a.join(10)
    thread_b.join(10)
    assert "error" not in a and "error" not in b, (a, b)
    assert b["value"] > a["value"]
    names = list(
        EventLog.objects.order_by("seq").values_list("payload__name", flat=True)
    )
    expected = ["first", "second"] if first_outcome == "commit" else ["second"]
    assert names == expected
