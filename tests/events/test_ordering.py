"""``seq`` is drawn after commit, in commit order (PostgreSQL): a writer never waits
for another's open transaction, and a reader that sees ``seq`` N can trust every
lower ``seq`` is already visible. The hub relies on it to treat a gap as final."""

import threading

import pytest
from django.db import connection, connections, transaction

from brain.events import sequencer
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


def seq_of(name: str) -> int | None:
    return EventLog.objects.filter(payload__name=name).values_list("seq", flat=True)[0]


@pytest.mark.parametrize("first_outcome", ["commit", "rollback"])
def test_a_later_writer_does_not_wait_and_numbers_follow_commit_order(first_outcome):
    if connection.vendor != "postgresql":
        pytest.fail("this guarantee is PostgreSQL's (SQLite has one writer anyway)")
    holding, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            widgets.widget_create(name="first")
            holding.set()
            release.wait(10)
            if first_outcome == "rollback":
                transaction.set_rollback(True)

    thread_a, a = in_thread(first)
    assert holding.wait(10)
    # B writes, commits and is numbered while A's transaction is still open.
    thread_b, b = in_thread(lambda: widgets.widget_create(name="second"))
    thread_b.join(10)
    assert not thread_b.is_alive() and "error" not in b, b
    assert sequencer.drain(10)
    second = seq_of("second")
    assert second is not None
    assert thread_a.is_alive()  # A has not committed, yet B was not held up
    release.set()
    thread_a.join(10)
    assert sequencer.drain(10)
    assert "error" not in a, a
    rows = list(EventLog.objects.order_by("seq").values_list("payload__name", "seq"))
    if first_outcome == "commit":
        # A committed later, so it is numbered later, though it wrote first.
        assert [name for name, _ in rows] == ["second", "first"]
        assert seq_of("first") == second + 1
    else:
        assert rows == [("second", second)]
    # Dense: no hole for a rollback to leave.
    seqs = [seq for _, seq in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_a_writer_that_dies_before_numbering_is_numbered_by_the_hubs():
    """Rows committed but never numbered (the process died in between) are numbered
    by ``sequence_stragglers``, which every hub runs on its poll."""
    from datetime import timedelta

    from django.utils import timezone

    with transaction.atomic():
        # What a writer leaves if it dies right after COMMIT: rows with no seq.
        EventLog.objects.bulk_create(
            [
                EventLog(
                    event_id=f"00000000-0000-4000-8000-00000000000{i}",
                    type="widget.created",
                    source="widgets_service",
                    occurred_at=timezone.now() - timedelta(seconds=30),
                    payload={"widget_id": i, "name": f"orphan{i}"},
                    meta={},
                    subjects=[f"widget_{i}"],
                )
                for i in range(3)
            ]
        )
    head = EventLog.objects.exclude(seq=None).order_by("-seq").first()
    assert sequencer.sequence_stragglers() == 3
    seqs = list(
        EventLog.objects.filter(payload__name__startswith="orphan")
        .order_by("id")
        .values_list("seq", flat=True)
    )
    # Consecutive, above everything numbered before (the floor may be higher
    # than the log's head when a test emptied the log).
    assert seqs[0] > (head.seq if head else 0)
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    assert sequencer.sequence_stragglers() == 0


def test_a_transactions_events_get_consecutive_seqs_in_one_numbering():
    """Rows are numbered in the order they were handed over, transaction by
    transaction: interleaved inserts of two transactions numbered in one round still
    give each transaction one block (e.g. credits.consumed then credits.depleted)."""
    from django.utils import timezone

    def row(name: str) -> EventLog:
        return EventLog(
            event_id=f"00000000-0000-4000-9000-{abs(hash(name)) % 10**12:012d}",
            type="widget.created",
            source="widgets_service",
            occurred_at=timezone.now(),
            payload={"widget_id": 1, "name": name},
            meta={},
            subjects=["widget_1"],
        )

    with transaction.atomic():
        a1, b1, a2 = EventLog.objects.bulk_create([row("a1"), row("b1"), row("a2")])
    seqs = sequencer.number("default", [a1.id, a2.id, b1.id])
    assert seqs[a2.id] == seqs[a1.id] + 1
    assert seqs[b1.id] == seqs[a2.id] + 1
