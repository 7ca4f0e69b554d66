"""Reads of the webhooks app: endpoints, their filters, attempts, backlogs."""

import threading
import time
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from brain.access.machines import confined_subject
from brain.events.filters import EventFilter
from brain.events.registry import readable_types
from brain.events.selectors import events_after
from webhooks.models import Attempt, Endpoint, EndpointState


def filter_of_values(types, subject) -> EventFilter:
    """The socket's filter for an endpoint's ``types`` and ``subject`` (raises
    ``FilterError``)."""
    return EventFilter.parse(list(types or []), subject or None)


def endpoint_filter(endpoint: Endpoint) -> EventFilter:
    """What the endpoint receives: its filter, narrowed to what its owner may read
    now (the socket's permission rule)."""
    return EventFilter.parse(
        list(endpoint.types or []),
        endpoint.subject or None,
        readable_types(endpoint.owner),
        confined=confined_subject(endpoint.owner),
    )


def endpoint_list() -> QuerySet[Endpoint]:
    return Endpoint.objects.select_related("owner").order_by("created_at")


def endpoint_get(endpoint_id) -> Endpoint | None:
    try:
        return endpoint_list().filter(id=endpoint_id).first()
    except (ValueError, TypeError):
        return None


def attempt_list(endpoint: Endpoint) -> QuerySet[Attempt]:
    return Attempt.objects.filter(endpoint=endpoint).order_by("-started_at", "-id")


def _live() -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(enabled=True, state=EndpointState.ACTIVE)


# Live endpoints' filters, per process, for the wake-up after every numbering round:
# reading them from the database each round cost a query per round on every writer.
# This process's own endpoint saves and deletes clear it at once; another process's
# show within WAKE_CANDIDATES_SECONDS (until then the next event, or the sweep, wakes
# a new endpoint; its cursor loses nothing). Retry waits and disabling are checked
# by ``services.wake`` in the database, so a stale entry never wakes one early.
WAKE_CANDIDATES_SECONDS = 1.0
_candidates: tuple[float, list[tuple]] | None = None
_candidates_lock = threading.Lock()


def wake_candidates() -> list[tuple]:
    """``(endpoint_id, EventFilter)`` of every live endpoint (cached, see above)."""
    global _candidates
    cached = _candidates
    if cached is not None and time.monotonic() - cached[0] < WAKE_CANDIDATES_SECONDS:
        return cached[1]
    with _candidates_lock:
        rows = [
            (endpoint.id, filter_of_values(endpoint.types, endpoint.subject))
            for endpoint in _live().only("id", "types", "subject")
        ]
        _candidates = (time.monotonic(), rows)
    return rows


def forget_wake_candidates(**kwargs) -> None:
    global _candidates
    _candidates = None


def endpoints_idle(now: datetime) -> QuerySet[Endpoint]:
    """Live endpoints no worker holds and no retry is waiting for."""
    return (
        _live()
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def retries_pending() -> int:
    return _live().filter(next_attempt_at__gt=timezone.now()).count()


def oldest_undelivered(endpoint: Endpoint) -> datetime | None:
    """When the oldest event the endpoint has not acknowledged occurred."""
    rows = events_after(
        endpoint.cursor, event_filter=endpoint_filter(endpoint), limit=1
    )
    return rows[0].occurred_at if rows else None


def backlog_ages(now: datetime | None = None) -> dict[str, float]:
    """Seconds since the oldest undelivered event, per live endpoint with one."""
    now = now or timezone.now()
    ages = {}
    for endpoint in _live().select_related("owner"):
        oldest = oldest_undelivered(endpoint)
        if oldest is not None:
            ages[str(endpoint.id)] = max((now - oldest).total_seconds(), 0.0)
    return ages
