"""Reads of the event log, shared by the hub, the WebSocket replay and REST."""

from django.conf import settings
from django.db.models import Max, Min

from brain.events.filters import EventFilter
from brain.events.models import EventLog, PruneRecord
from brain.events.wire import WireEvent


def log_head() -> int:
    """The highest ``seq`` in the log, 0 when it is empty."""
    return EventLog.objects.aggregate(head=Max("seq"))["head"] or 0


def log_oldest() -> int | None:
    return EventLog.objects.aggregate(oldest=Min("seq"))["oldest"]


def events_after(
    after: int,
    *,
    upto: int | None = None,
    event_filter: EventFilter | None = None,
    limit: int | None = None,
) -> list[EventLog]:
    """Events with ``after < seq <= upto`` that match, in ``seq`` order."""
    limit = limit or settings.EVENTS_PAGE_LIMIT
    qs = EventLog.objects.filter(seq__gt=after)
    if upto is not None:
        qs = qs.filter(seq__lte=upto)
    if event_filter is not None:
        qs = qs.filter(event_filter.to_q())
    return list(qs.order_by("seq")[:limit])


def wire_events_after(
    after: int,
    *,
    upto: int | None = None,
    event_filter: EventFilter | None = None,
    limit: int | None = None,
) -> list[WireEvent]:
    rows = events_after(after, upto=upto, event_filter=event_filter, limit=limit)
    return [WireEvent.from_row(row) for row in rows]


def pruned_through() -> int:
    """The highest ``seq`` retention ever deleted, 0 when none."""
    return PruneRecord.objects.aggregate(through=Max("through_seq"))["through"] or 0


def needs_reset(since: int, head: int) -> bool:
    """True when events after ``since`` may have been pruned, or ``since`` is past
    ``head`` (the caller has already ruled out a ``since`` the log holds but its hub
    has not reached yet)."""
    return since > head or since < pruned_through()
