"""Writes to the event log other than ``emit()``: retention only."""

from datetime import datetime

from django.db import transaction

from brain.events.models import EventLog
from brain.events.selectors import log_head, log_oldest


@transaction.atomic
def events_prune(*, before: datetime) -> tuple[int, int | None]:
    """Delete events older than ``before``, always keeping the newest one.

    The oldest retained ``seq`` is what tells a resuming client it missed pruned
    events (it gets a ``reset``), so the log is never emptied by pruning.
    """
    head = log_head()
    deleted, _ = (
        EventLog.objects.filter(occurred_at__lt=before).exclude(seq=head).delete()
    )
    return deleted, log_oldest()
