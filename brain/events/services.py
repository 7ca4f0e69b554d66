"""Writes to the event log other than ``emit()``: retention only."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q

from brain.events.models import EventLog, PruneRecord
from brain.events.registry import registered_types
from brain.events.selectors import log_head


@transaction.atomic
def events_prune(*, now: datetime, default_days: int) -> PruneRecord:
    """Delete each durable type's events older than its retention, keeping the
    newest event of the log.

    A type keeps its events ``retention_days`` (``default_days`` when it declares
    none, and for types no longer declared). The highest ``seq`` deleted is
    recorded: a client resuming from below it may have missed pruned events, so it
    gets a ``reset`` instead of a silent gap.
    """
    head = log_head()
    declared = {
        name: spec.retention_days or default_days
        for name, spec in registered_types().items()
        if spec.durable
    }
    expired = Q()
    for name, days in declared.items():
        expired |= Q(type=name, occurred_at__lt=now - timedelta(days=days))
    expired |= Q(occurred_at__lt=now - timedelta(days=default_days)) & ~Q(
        type__in=list(declared)
    )
    doomed = EventLog.objects.filter(expired, seq__isnull=False).exclude(seq=head)
    through = doomed.aggregate(through=Max("seq"))["through"]
    deleted, _ = doomed.delete()
    return PruneRecord.objects.create(
        pruned_at=now, deleted=deleted, through_seq=through
    )
