"""What a committed transaction delivered, checked against what it stored.

With ``django_capture_on_commit_callbacks(execute=True)`` and the ``delivered``
fixture: the test's transaction is one transaction, so every durable event it stored
goes out in one delivery, numbered, as the envelope the log holds.
"""

import json

from brain.events.models import EventLog


def assert_delivered_as_stored(delivered: list[list], rows: list[EventLog]) -> None:
    """One delivery, carrying exactly ``rows`` in log order: each with its ``seq``,
    its subjects and, as its text, the envelope its log row gives."""
    assert rows, "the transaction stored no event"
    assert len(delivered) == 1, f"{len(delivered)} deliveries for one transaction"
    (batch,) = delivered
    assert all(row.seq is not None for row in rows), "stored but never numbered"
    assert [event.seq for event in batch] == [row.seq for row in rows]
    assert [event.type for event in batch] == [row.type for row in rows]
    assert [event.subjects for event in batch] == [
        frozenset(row.subjects) for row in rows
    ]
    assert [json.loads(event.text) for event in batch] == [
        row.envelope() for row in rows
    ]
