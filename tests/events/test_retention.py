"""Retention: old events are pruned, the newest kept; slow sockets are told."""

from collections import deque
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from brain.events.consumers import CLOSE_TOO_SLOW, EventStreamConsumer
from brain.events.models import EventLog
from brain.events.selectors import needs_reset
from tests.conftest import number_pending
from tests.eventsapp import services as widgets


@pytest.mark.django_db
@pytest.mark.smoke
def test_prune_deletes_old_events_and_keeps_the_newest(capsys):
    now = timezone.now()
    for days_ago in (40, 40, 0, 0):
        with time_machine.travel(now - timedelta(days=days_ago)):
            widgets.widget_create(name=f"w{days_ago}")
    number_pending()
    seqs = list(EventLog.objects.order_by("seq").values_list("seq", flat=True))
    call_command("prune_events", "--days", "30")
    assert (
        list(EventLog.objects.order_by("seq").values_list("seq", flat=True))
        == (seqs[2:])
    )
    assert f"oldest seq kept: {seqs[2]}" in capsys.readouterr().out
    # A client that last saw the first event missed a pruned one: reset.
    assert needs_reset(seqs[0], seqs[-1])
    assert not needs_reset(seqs[1], seqs[-1])
    # Everything old: the newest event survives, so the log never empties.
    with time_machine.travel(now + timedelta(days=400)):
        call_command("prune_events")
    assert list(EventLog.objects.values_list("seq", flat=True)) == [seqs[-1]]


@pytest.mark.django_db
def test_each_type_keeps_its_declared_retention():
    """``widget.state_changed`` declares 2 days; ``widget.created`` none (the
    default, here 30): a 3-day-old change goes, a 3-day-old creation stays."""
    from brain.events.services import events_prune

    now = timezone.now()
    with time_machine.travel(now - timedelta(days=3)):
        widget = widgets.widget_create(name="kept")
        widgets.widget_set_state(widget_id=widget.pk, state="gone")
    widgets.widget_create(name="today")
    number_pending()
    record = events_prune(now=now, default_days=30)
    kept = EventLog.objects.order_by("seq").values_list("type", "payload__name")
    assert list(kept) == [("widget.created", "kept"), ("widget.created", "today")]
    assert record.deleted == 1 and record.through_seq is not None
    # What the domain shows as history is the domain's: the widget kept its state.
    widget.refresh_from_db()
    assert widget.state == "gone"


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
