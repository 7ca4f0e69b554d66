"""Retention: old events are pruned, the newest kept; slow sockets are told."""

from collections import deque
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from brain.events.consumers import CLOSE_TOO_SLOW, EventStreamConsumer
from brain.events.models import EventLog
from brain.events.selectors import needs_reset
from tests.eventsapp import services as widgets


@pytest.mark.django_db
@pytest.mark.smoke
def test_prune_deletes_old_events_and_keeps_the_newest(capsys):
    for i in range(4):
        widgets.widget_create(name=f"w{i}")
    seqs = list(EventLog.objects.values_list("seq", flat=True))
    EventLog.objects.filter(seq__in=seqs[:2]).update(
        occurred_at=timezone.now() - timedelta(days=40)
    )
    call_command("prune_events", "--days", "30")
    assert list(EventLog.objects.values_list("seq", flat=True)) == seqs[2:]
    assert f"oldest seq kept: {seqs[2]}" in capsys.readouterr().out
    # A client that last saw the first event missed a pruned one: reset.
    assert needs_reset(seqs[0], seqs[-1])
    assert not needs_reset(seqs[1], seqs[-1])
    # Everything old: the newest event survives, so the log never empties.
    EventLog.objects.update(occurred_at=timezone.now() - timedelta(days=400))
    call_command("prune_events")
    assert list(EventLog.objects.values_list("seq", flat=True)) == [seqs[-1]]


def test_a_socket_too_slow_to_read_is_told_and_closed_not_silently_skipped():
    consumer = EventStreamConsumer()
    consumer.outbox = deque()
    consumer.queue_limit = 3
    consumer.closing = False

    class Wakeup:
        def set(self):
            pass

    consumer.wakeup = Wakeup()
    for i in range(5):
        consumer._enqueue(f"event {i}")
    assert list(consumer.outbox) == [
        '{"control":"error","detail":"too slow: reconnect with since=<your last seq>",'
        f'"close":{CLOSE_TOO_SLOW}}}',
        CLOSE_TOO_SLOW,
    ]
