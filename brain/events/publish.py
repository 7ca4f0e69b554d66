"""``emit()``: store an event with the change that caused it, deliver it after commit.

A durable event's log row is written in the caller's transaction, so a rolled-back
change leaves no event; its ``seq`` is drawn after COMMIT (``sequencer.py``), so no
writer holds a global lock across its transaction. Every durable event of one
transaction is delivered by one ``on_commit`` callback, as one channel-layer message
(batches of ``BATCH_SIZE``). Delivery never fails the operation: if Redis is down the
event is still in the log, and every server process's hub picks it up from there
within a poll interval.

A live-only event is never stored: it has no ``meta.seq`` and goes, after commit (at
once outside a transaction), to the sockets subscribed at that moment.

A large batch on PostgreSQL (``COPY_MIN_EVENTS`` or more) is written with ``COPY``
instead of an INSERT; each payload is JSON-encoded once, for the row and the wire.
"""

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.db import connections, transaction
from django.utils import timezone

from brain import metrics
from brain.db import bound_cursor, copy_with_ids, mark_saved
from brain.events import registry, sequencer
from brain.events.context import current_actor, current_correlation_id
from brain.events.models import SCHEMA_VERSION, EventLog
from brain.events.signals import events_numbered
from brain.events.wire import BATCH_SIZE, GROUP, MESSAGE_TYPE, WireEvent

logger = logging.getLogger(__name__)

# From this many events in one call, PostgreSQL gets them by COPY.
COPY_MIN_EVENTS = 64
_COLUMNS = (
    "id",
    "event_id",
    "type",
    "source",
    "target",
    "occurred_at",
    "payload",
    "meta",
    "subjects",
)
_COMPACT = (",", ":")
_UNSET = object()
_TABLE = EventLog._meta.db_table
# Names come from the model; values are parameters.
_INSERT_ONE = (
    f'INSERT INTO "{_TABLE}" ({", ".join(_COLUMNS[1:])}) '  # noqa: S608  # nosec B608
    f"VALUES ({', '.join(['%s'] * (len(_COLUMNS) - 1))}) RETURNING id"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=_COMPACT)


class Draft:
    """One event on its way: the row's values and the envelope text, encoded once."""

    __slots__ = ("spec", "row", "subjects", "payload_json", "meta_json", "_head")

    def __init__(
        self, spec: registry.EventType, payload: dict, target: Any, metas: dict
    ) -> None:
        spec.check(payload)
        if target is _UNSET:
            target = spec.target_for(payload)
        # One emit call's events of one type share their meta (same actor, same
        # correlation id): built and encoded once.
        cached = metas.get(spec.name)
        if cached is None:
            meta = _meta(spec)
            cached = metas[spec.name] = (meta, _dumps(meta))
        meta, self.meta_json = cached
        self.spec = spec
        self.subjects = spec.subjects_for(target, payload)
        self.payload_json = _dumps(payload)
        self.row = EventLog(
            event_id=uuid.uuid4(),
            type=spec.name,
            source=spec.source,
            target=target,
            occurred_at=timezone.now(),
            payload=payload,
            meta=meta,
            subjects=self.subjects,
        )
        self._head = (
            f'{{"id":"{self.row.event_id}","type":{_dumps(spec.name)},'
            f'"source":{_dumps(spec.source)},"target":{_dumps(target)},'
            f'"timestamp":{self.row.occurred_at.timestamp()!r},'
            f'"payload":{self.payload_json},"meta":'
        )

    def wire(self, seq: int | None) -> WireEvent:
        if seq is None:
            meta = self.meta_json
        else:
            meta = f'{self.meta_json[:-1]},"seq":{seq}}}'
        return WireEvent(
            seq=seq,
            type=self.spec.name,
            subjects=frozenset(self.subjects),
            text=f"{self._head}{meta}}}",
        )


def emit(
    type: str, payload: dict[str, Any], *, target: Any = _UNSET, using: str = "default"
) -> EventLog:
    """Store one event in the current transaction and deliver it on commit.

    ``target`` defaults to the declared rule applied to the payload. Returns the
    (unsaved, for a live-only type) ``EventLog`` row; its ``seq`` is set once the
    transaction has committed and the event has been numbered.
    """
    return emit_many([(type, payload)], target=target, using=using)[0]


def emit_many(
    items: Iterable[tuple[str, dict[str, Any]]],
    *,
    target: Any = _UNSET,
    using: str = "default",
) -> list[EventLog]:
    """Store several events, in order, delivered on commit with the transaction's
    other events."""
    metas: dict = {}
    drafts = [
        Draft(registry.get(type_), payload, target, metas) for type_, payload in items
    ]
    live = [d for d in drafts if not d.spec.durable]
    durable = [d for d in drafts if d.spec.durable]
    if live:
        # Per call, so a rolled-back savepoint drops its live events too.
        wire = [d.wire(None) for d in live]
        transaction.on_commit(partial(deliver, wire), using=using)
    if durable:
        with transaction.atomic(using=using, savepoint=False):
            _insert(durable, using)
            batch = _transaction_batch(using)
            if connections[using].vendor != "postgresql":
                # One writer at a time holds SQLite until COMMIT: number now.
                batch.number(durable)
            batch.drafts.extend(durable)
    return [d.row for d in drafts]


def _insert(drafts: list[Draft], using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql" and len(drafts) >= COPY_MIN_EVENTS:
        _copy(drafts, using)
    elif connection.vendor == "postgresql" and len(drafts) == 1:
        row = drafts[0].row
        with bound_cursor(connection) as cursor:
            cursor.execute(
                _INSERT_ONE,
                [
                    row.event_id,
                    row.type,
                    row.source,
                    row.target,
                    row.occurred_at,
                    drafts[0].payload_json,
                    drafts[0].meta_json,
                    row.subjects,
                ],
            )
            row.id = cursor.fetchone()[0]
        row._state.adding = False
        row._state.db = using
    else:
        EventLog.objects.using(using).bulk_create(
            [d.row for d in drafts], batch_size=1000
        )


def _copy(drafts: list[Draft], using: str) -> None:
    """``bulk_create`` by ``COPY``: ids drawn from the sequence first, in order."""
    ids = copy_with_ids(
        connections[using],
        _TABLE,
        _COLUMNS[1:],
        (
            (
                d.row.event_id,
                d.row.type,
                d.row.source,
                d.row.target,
                d.row.occurred_at,
                d.payload_json,
                d.meta_json,
                d.row.subjects,
            )
            for d in drafts
        ),
    )
    mark_saved([d.row for d in drafts], ids, using)


class TransactionBatch:
    """The durable events of one transaction, delivered by one ``on_commit``."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.drafts: list[Draft] = []

    def number(self, drafts: list[Draft]) -> None:
        """Number now, inside the transaction (SQLite's one writer)."""
        self._numbered(drafts, sequencer.number(self.using, [d.row.id for d in drafts]))

    @staticmethod
    def _numbered(drafts: list[Draft], seqs: dict[int, int]) -> list[WireEvent]:
        for draft in drafts:
            draft.row.seq = seqs.get(draft.row.id)
        # A row absent after numbering was rolled back with a savepoint.
        return [d.wire(d.row.seq) for d in drafts if d.row.seq is not None]

    def __call__(self) -> None:
        drafts, self.drafts = self.drafts, []
        if not drafts:
            return
        ids = [d.row.id for d in drafts]
        db = connections[self.using]
        if db.vendor == "postgresql" and not db.in_atomic_block:
            sequencer.number_after_commit(
                self.using, ids, partial(self._numbered, drafts), _deliver
            )
            return
        try:
            # SQLite (numbered already: this reads the seqs back), or commit hooks
            # run inside an outer transaction (a test's).
            wire = self._numbered(drafts, sequencer.number(self.using, ids))
        except Exception as exc:  # noqa: BLE001 - committed; the hubs number it
            logger.warning("event numbering deferred to the hubs: %r", exc)
            return
        if wire:
            deliver(wire)


def _deliver(events: list[WireEvent]) -> None:
    deliver(events)


def _transaction_batch(using: str) -> TransactionBatch:
    """This transaction's batch, registered with ``on_commit`` on first use."""
    connection = connections[using]
    batch = getattr(connection, "_brain_events_batch", None)
    if batch is not None and any(
        callback is batch for _, callback, _ in connection.run_on_commit
    ):
        return batch
    batch = TransactionBatch(using)
    connection._brain_events_batch = batch
    transaction.on_commit(batch, using=using)
    return batch


def _meta(spec: registry.EventType) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "producer": spec.source,
        "source_module": spec.source_module,
        "actor": current_actor(),
        "correlation_id": current_correlation_id(),
    }


def deliver(events: list[WireEvent]) -> None:
    """Hand committed events to every server process's hub, without waiting.

    A failure is only logged: the events are in the log, and every hub reads it.
    Then the durable ones are counted and announced (``signals.events_numbered``).
    """
    _hand_over(events)
    durable = [event for event in events if event.seq is not None]
    if durable:
        metrics.count_stored(durable)
        for receiver, result in events_numbered.send_robust(None, events=durable):
            if isinstance(result, Exception):
                logger.warning("%s failed on numbered events: %r", receiver, result)


def _hand_over(events: list[WireEvent]) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    publisher = _publisher
    if loop is not None and (publisher is None or publisher.loop is not loop):
        # Sync code running on an event loop's thread cannot block on the loop.
        task = loop.create_task(_send(events))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        return
    if publisher is None or publisher.loop.is_closed():
        publisher = _own_publisher()
    publisher.submit(events)


class Publisher:
    """Sends events from one event loop, in the order handed over, coalescing
    whatever queued up meanwhile into one channel-layer message.

    The server process's loop when there is one (``set_home_loop``: the sockets'
    hub lives there, and so does an in-memory layer); otherwise a daemon thread of
    its own with a long-lived loop, so a management command or a script keeps one
    Redis connection instead of opening one per transaction.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue | None = None
        self.drainer: asyncio.Task | None = None

    def submit(self, events: list[WireEvent]) -> None:
        self.loop.call_soon_threadsafe(self._put, events)

    def _put(self, events: list[WireEvent]) -> None:
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.drainer = self.loop.create_task(self._drain())
        self.queue.put_nowait(events)

    async def _drain(self) -> None:
        while True:
            events = list(await self.queue.get())
            while not self.queue.empty():
                events.extend(self.queue.get_nowait())
            await _send(events)


_publisher: Publisher | None = None
_publisher_lock = threading.Lock()
_tasks: set[asyncio.Task] = set()


# Publishers replaced by the server's: kept, so that their drainer (a task on their
# own thread's loop) finishes what was handed to it instead of being destroyed
# pending when the last reference goes (a write committed before the process's
# first socket started a publisher of its own).
_retired: list[Publisher] = []


def set_home_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Deliver from this (the server's) event loop from now on."""
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.loop is not loop:
            if _publisher is not None and not _publisher.loop.is_closed():
                _retired.append(_publisher)
            _publisher = Publisher(loop)


def _own_publisher() -> Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name="brain-events-publisher", daemon=True
            ).start()
            _publisher = Publisher(loop)
        return _publisher


async def _send(events: list[WireEvent]) -> None:
    layer = get_channel_layer()
    if layer is None or not events:
        return
    try:
        for start in range(0, len(events), BATCH_SIZE):
            chunk = events[start : start + BATCH_SIZE]
            await layer.group_send(
                GROUP,
                {"type": MESSAGE_TYPE, "events": [e.to_message() for e in chunk]},
            )
    except Exception as exc:  # noqa: BLE001 - delivery must never fail the change
        seqs = [e.seq for e in events if e.seq is not None]
        logger.warning(
            "event delivery deferred to the log poll (seq %s-%s): %r",
            seqs[0] if seqs else None,
            seqs[-1] if seqs else None,
            exc,
        )
