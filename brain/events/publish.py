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

A large batch on PostgreSQL (``COPY_MIN_EVENTS`` or more) is written with ``COPY``
instead of an INSERT: its seqs are drawn from the sequence first (under the same
lock, so the order rule holds), and each payload is JSON-encoded once, for the row
and for the wire.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
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
# From this many events in one call, PostgreSQL gets them by COPY.
COPY_MIN_EVENTS = 64
_COPY_COLUMNS = (
    "seq",
    "event_id",
    "type",
    "source",
    "target",
    "occurred_at",
    "payload",
    "meta",
    "mission_id",
    "robot_id",
    "agent_id",
)
_COMPACT = (",", ":")

_UNSET = object()


def _lock_sequence(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCE_LOCK_KEY])


# Every column but ``seq``, which the insert draws once the lock is held (the lock's
# row is read before the new row's defaults are evaluated).
_INSERT_LOCKED = (
    # Table and column names come from the model, values are parameters.
    f'INSERT INTO "{EventLog._meta.db_table}" ({", ".join(_COPY_COLUMNS[1:])}) '  # noqa: S608  # nosec B608
    f"SELECT {', '.join(['%s'] * (len(_COPY_COLUMNS) - 1))} "
    "FROM (SELECT pg_advisory_xact_lock(%s)) AS sequence_lock RETURNING seq"
)


def _insert_locked(row: EventLog, using: str) -> None:
    """Take the sequence lock and insert ``row`` in one statement.

    The lock is held until commit, and every step between taking it and committing
    (here: one round trip fewer) is time other writers wait; under load that wait,
    not the database, caps how many events per second a server stores.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            _INSERT_LOCKED,
            [
                row.event_id,
                row.type,
                row.source,
                row.target,
                row.occurred_at,
                json.dumps(row.payload),
                json.dumps(row.meta),
                row.mission_id,
                row.robot_id,
                row.agent_id,
                SEQUENCE_LOCK_KEY,
            ],
        )
        row.seq = cursor.fetchone()[0]
    row._state.adding = False
    row._state.db = using


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
        meta=_meta(spec),
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
) -> Sequence[EventLog]:
    """Store several events with one INSERT, in order, delivered on commit together."""
    items = list(items)
    if len(items) >= COPY_MIN_EVENTS and connections[using].vendor == "postgresql":
        return _emit_copied(items, target, using)
    rows = [_build(type_, payload, target) for type_, payload in items]
    if not rows:
        return rows
    with transaction.atomic(using=using, savepoint=False):
        if len(rows) == 1 and connections[using].vendor == "postgresql":
            _insert_locked(rows[0], using)
        else:
            _lock_sequence(using)
            if len(rows) == 1:
                rows[0].save(using=using, force_insert=True)
            else:
                EventLog.objects.using(using).bulk_create(rows, batch_size=1000)
        wire = [WireEvent.from_row(row) for row in rows]
        transaction.on_commit(partial(deliver, wire), using=using)
    return rows


def _emit_copied(
    items: list[tuple[str, dict[str, Any]]], target: Any, using: str
) -> "StoredRows":
    """``emit_many`` for a large batch on PostgreSQL: one ``COPY``, seqs drawn first.

    The same checks, rows and envelopes as ``_build`` and an INSERT; only the path
    differs. What every event of a type or a target shares is encoded once.
    """
    heads: dict[str, str] = {}
    metas: dict[str, tuple[dict, str]] = {}
    targets: dict[Any, str] = {}
    built = []
    for type_, payload in items:
        spec = registry.get(type_)
        spec.check(payload)
        meta = _meta(spec)
        known = metas.get(type_)
        if known is None or known[0] != meta:
            # In a request every event of a type has the same meta: encode it once.
            known = metas[type_] = (meta, json.dumps(meta, separators=_COMPACT))
        if type_ not in heads:
            heads[type_] = (
                f'"type":{json.dumps(spec.name)},"source":{json.dumps(spec.source)},'
            )
        event_target = spec.target_for(payload) if target is _UNSET else target
        if event_target not in targets:
            targets[event_target] = json.dumps(event_target)
        built.append(
            (
                spec,
                event_target,
                uuid.uuid4(),
                timezone.now(),
                payload,
                json.dumps(payload, separators=_COMPACT),
                meta,
                known[1],
            )
        )
    connection = connections[using]
    table = connection.ops.quote_name(EventLog._meta.db_table)
    columns = ", ".join(_COPY_COLUMNS)
    values: list[tuple] = []
    wire: list[WireEvent] = []
    subjects: dict[tuple, frozenset[str]] = {}
    with transaction.atomic(using=using, savepoint=False):
        _lock_sequence(using)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'seq')) "
                "FROM generate_series(1, %s)",
                [EventLog._meta.db_table, len(built)],
            )
            seqs = sorted(row[0] for row in cursor.fetchall())
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for seq, built_event in zip(seqs, built, strict=True):
                    spec, event_target, event_id, at, payload, text = built_event[:6]
                    meta, meta_json = built_event[6:]
                    ids = (
                        _str_or_none(payload.get("mission_id")),
                        _str_or_none(payload.get("robot_id")),
                        _str_or_none(payload.get("agent_id")),
                    )
                    copy.write_row(
                        (seq, event_id, spec.name, spec.source, event_target, at)
                        + (text, meta_json)
                        + ids
                    )
                    row = (seq, event_id, spec.name, spec.source, event_target, at)
                    values.append(row + (payload, meta) + ids)
                    key = (event_target, *ids)
                    if key not in subjects:
                        subjects[key] = frozenset(
                            registry.subjects_of(event_target, payload)
                        )
                    wire.append(
                        WireEvent(
                            seq=seq,
                            type=spec.name,
                            subjects=subjects[key],
                            text=(
                                f'{{"id":"{event_id}",{heads[spec.name]}'
                                f'"target":{targets[event_target]},'
                                f'"timestamp":{at.timestamp()!r},"payload":{text},'
                                f'"meta":{meta_json[:-1]},"seq":{seq}}}}}'
                            ),
                        )
                    )
        transaction.on_commit(partial(deliver, wire), using=using)
    return StoredRows(using, values)


class StoredRows(Sequence):
    """The ``EventLog`` rows of a copied batch, made on first access.

    Callers of ``emit_many`` rarely read them, and 10,000 model instances cost more
    than the ``COPY`` that stored them.
    """

    def __init__(self, using: str, values: list[tuple]) -> None:
        self._using = using
        self._values = values
        self._rows: list[EventLog] | None = None

    def _all(self) -> list[EventLog]:
        if self._rows is None:
            self._rows = [
                EventLog.from_db(self._using, None, values) for values in self._values
            ]
        return self._rows

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index):
        return self._all()[index]

    def __iter__(self) -> Iterator[EventLog]:
        return iter(self._all())


def _meta(spec: registry.EventType) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "producer": spec.source,
        "source_module": spec.source_module,
        "actor": current_actor(),
        "correlation_id": current_correlation_id(),
    }


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
