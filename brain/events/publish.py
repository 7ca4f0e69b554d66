"""``emit()``: store an event with the change that caused it, deliver it after commit.

The log row is written in the caller's transaction, so a rolled-back change leaves no
event. Delivery to the channel layer runs in ``transaction.on_commit`` and never
fails the operation: if Redis is down the event is still in the log, and every server
process's hub picks it up from there within a poll interval.

Sequence numbers commit in order: on PostgreSQL each emitting transaction takes one
advisory lock, held until it ends, before it draws a ``seq``. So once ``seq`` N is
visible, every lower ``seq`` is either visible too or was rolled back, and readers
can trust the log up to the highest ``seq`` they see. (SQLite allows one writer at a
time, which gives the same order.) Take row locks before the first ``emit()`` of a
transaction, so the advisory lock is always the last one taken.
"""

import asyncio
import logging
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections, transaction
from django.utils import timezone

from brain.events import registry
from brain.events.context import current_actor, current_correlation_id
from brain.events.models import SCHEMA_VERSION, EventLog
from brain.events.wire import BATCH_SIZE, GROUP, MESSAGE_TYPE, WireEvent

logger = logging.getLogger(__name__)

SEQUENCE_LOCK_KEY = 0x6272_6169_6E  # "brain"

_UNSET = object()


def _lock_sequence(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCE_LOCK_KEY])


def _build(type: str, payload: dict[str, Any], target: Any) -> EventLog:
    spec = registry.get(type)
    spec.check(payload)
    if target is _UNSET:
        target = spec.target_for(payload)
    return EventLog(
        event_id=uuid.uuid4(),
        type=type,
        source=spec.source,
        target=target,
        occurred_at=timezone.now(),
        payload=payload,
        meta={
            "schema_version": SCHEMA_VERSION,
            "producer": spec.source,
            "source_module": spec.source_module,
            "actor": current_actor(),
            "correlation_id": current_correlation_id(),
        },
        mission_id=_str_or_none(payload.get("mission_id")),
        robot_id=_str_or_none(payload.get("robot_id")),
        agent_id=_str_or_none(payload.get("agent_id")),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def emit(
    type: str, payload: dict[str, Any], *, target: Any = _UNSET, using: str = "default"
) -> EventLog:
    """Store one event in the current transaction and deliver it on commit.

    ``target`` defaults to the declared rule applied to the payload.
    """
    return emit_many([(type, payload)], target=target, using=using)[0]


def emit_many(
    items: Iterable[tuple[str, dict[str, Any]]],
    *,
    target: Any = _UNSET,
    using: str = "default",
) -> list[EventLog]:
    """Store several events with one INSERT, in order, delivered on commit together."""
    rows = [_build(type_, payload, target) for type_, payload in items]
    if not rows:
        return rows
    with transaction.atomic(using=using, savepoint=False):
        _lock_sequence(using)
        if len(rows) == 1:
            rows[0].save(using=using, force_insert=True)
        else:
            EventLog.objects.using(using).bulk_create(rows, batch_size=1000)
        wire = [WireEvent.from_row(row) for row in rows]
        transaction.on_commit(partial(deliver, wire), using=using)
    return rows


def deliver(events: list[WireEvent]) -> None:
    """Hand committed events to every server process's hub; a failure is only logged."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        async_to_sync(_send)(layer, events)
    else:
        # Sync code running on an event loop's thread cannot block on the loop.
        task = loop.create_task(_send(layer, events))
        _pending.add(task)
        task.add_done_callback(_pending.discard)


_pending: set[asyncio.Task] = set()


async def _send(layer, events: list[WireEvent]) -> None:
    try:
        for start in range(0, len(events), BATCH_SIZE):
            chunk = events[start : start + BATCH_SIZE]
            await layer.group_send(
                GROUP,
                {"type": MESSAGE_TYPE, "events": [e.to_message() for e in chunk]},
            )
    except Exception as exc:  # noqa: BLE001 - delivery must never fail the change
        logger.warning(
            "event delivery deferred to the log poll (seq %s-%s): %r",
            events[0].seq,
            events[-1].seq,
            exc,
        )
