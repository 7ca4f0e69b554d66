"""Reads the dashboard needs that the REST API does not answer in one call.

Each is one query, whatever the size of the log or the ledger.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncMinute

from brain.events.filters import EventFilter
from brain.events.models import EventLog
from credits.models import LedgerEntry

MINUTE = timedelta(minutes=1)


def events_per_minute(
    *,
    now: datetime,
    minutes: int,
    event_filter: EventFilter,
    through_seq: int | None = None,
) -> tuple[datetime, list[int]]:
    """How many events occurred in each of the last ``minutes`` minutes up to ``now``.

    Returns the start of the first minute and one count per minute, oldest first,
    the current (partial) minute last. ``through_seq`` leaves out events after it,
    so a page can add the ones its socket delivers without counting them twice.
    """
    current = now.astimezone(UTC).replace(second=0, microsecond=0)
    start = current - (minutes - 1) * MINUTE
    rows = EventLog.objects.filter(
        event_filter.to_q(), occurred_at__gte=start, occurred_at__lt=current + MINUTE
    )
    if through_seq is not None:
        rows = rows.filter(seq__lte=through_seq)
    per_minute = (
        rows.annotate(minute=TruncMinute("occurred_at", tzinfo=UTC))
        .values("minute")
        .annotate(count=Count("seq"))
        .order_by("minute")
    )
    counts = [0] * minutes
    for row in per_minute:
        counts[int((row["minute"] - start) / MINUTE)] = row["count"]
    return start, counts


def ledger_latest(*, limit: int) -> list[LedgerEntry]:
    """The newest ``limit`` ledger entries of every account, newest first."""
    return list(LedgerEntry.objects.order_by("-id")[:limit])
