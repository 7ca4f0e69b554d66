"""``seq``: the log's one global order, drawn after commit, in commit order.

A writer inserts its events with ``seq`` null, inside its own transaction, and holds
no lock for it. After its COMMIT it hands the new rows' ids to this process's
numbering thread and goes on (it does not wait). The thread takes every id
handed over meanwhile, from every writer thread of the process, and numbers them in
one round trip: a transaction-level advisory lock, ``MAX(seq) + ROW_NUMBER()`` over
those rows in insertion order, the commit. The lock is held for that statement and
its commit, never across a writer's transaction, and one numbering covers the events
of many transactions (group commit), so the lock is taken a few hundred times a
second however many events are written.

Why every ``seq`` a reader sees below the highest it has seen is final: numberings
run one at a time (the lock), each sees every earlier numbering (a fresh snapshot
after the lock), numbers are dense, and a numbering is visible before its lock is
released. So once ``seq`` N is visible, every lower ``seq`` was assigned by a
committed numbering and is visible too. A rolled-back write never gets a number, so
the log has no holes.

A process that dies between a COMMIT and its numbering leaves rows without ``seq``:
every hub numbers such rows on its next poll (``sequence_stragglers``), so they are
delayed, never lost.

SQLite has one writer at a time, holding the database from its first write to its
COMMIT, so there the numbering runs inside the writer's transaction (``number``).
"""

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from django.db import connections

from brain.events.models import EventLog

logger = logging.getLogger(__name__)

# One advisory lock key ("brain").
LOCK_KEY = 0x6272_6169_6E
# Rows whose writer has not numbered them this long after they occurred are
# numbered by the hubs.
STRAGGLER_SECONDS = 5
# How long a numbering round waits for more writers' rows before it runs: a few
# milliseconds of delivery latency buy one round for many transactions.
LINGER_SECONDS = float(os.environ.get("EVENTS_NUMBERING_LINGER", "0.002"))
# After this long without work the thread gives its connection back to the pool
# (while busy it keeps it: a pool round trip per numbering cost more than the round).
IDLE_SECONDS = 0.5
# How long ``drain()`` waits by default.
WAIT_SECONDS = 10.0

_TABLE = EventLog._meta.db_table
# Table and column names come from the model; ids are formatted as integers.
_NUMBER = (
    f'UPDATE "{_TABLE}" SET seq = numbered.seq FROM ('  # noqa: S608  # nosec B608
    f'SELECT id, (SELECT COALESCE(MAX(seq), 0) FROM "{_TABLE}") '
    "+ ROW_NUMBER() OVER (ORDER BY id) AS seq FROM ({rows}) AS pending"
    f') AS numbered WHERE "{_TABLE}".id = numbered.id'
)
# PostgreSQL: numbers never go back, even if the log is emptied (a test's flush,
# ``manage.py flush``): a sequence keeps the highest number drawn, and the next
# numbering starts above both it and the log's MAX(seq). It is set inside the
# numbering's lock; a numbering that fails after it leaves a hole, which readers
# skip like any gap they have read through.
FLOOR = "events_eventlog_seq_floor"
_PG_NUMBER = (
    "WITH numbered AS ("  # noqa: S608  # nosec B608
    f"SELECT id, (SELECT GREATEST(COALESCE(MAX(seq), 0), "
    f'(SELECT last_value FROM {FLOOR})) FROM "{_TABLE}") '
    "+ ROW_NUMBER() OVER (ORDER BY ord) AS seq FROM ({rows}) AS pending), "
    f'done AS (UPDATE "{_TABLE}" SET seq = numbered.seq FROM numbered '
    f'WHERE "{_TABLE}".id = numbered.id RETURNING "{_TABLE}".seq) '
    f"SELECT setval('{FLOOR}', GREATEST((SELECT MAX(seq) FROM done), "
    f"(SELECT last_value FROM {FLOOR}))), (SELECT COUNT(*) FROM done)"
)
# The ids in the order handed over, so each transaction's events stay one block.
_THESE_IN_ORDER = (
    "SELECT pending.id, o.ord FROM unnest(ARRAY[{ids}]::bigint[]) "  # noqa: S608  # nosec B608
    f'WITH ORDINALITY AS o(id, ord) JOIN "{_TABLE}" AS pending ON pending.id = o.id '
    "WHERE pending.seq IS NULL"
)
_THESE = f'SELECT id FROM "{_TABLE}" WHERE id IN ({{ids}}) AND seq IS NULL'  # noqa: S608  # nosec B608
_SEQS = f'SELECT id, seq FROM "{_TABLE}" WHERE id IN ({{ids}})'  # noqa: S608  # nosec B608
_STRAGGLERS = (
    f'SELECT id, id AS ord FROM "{_TABLE}" WHERE seq IS NULL '  # noqa: S608  # nosec B608
    f"AND occurred_at < NOW() - INTERVAL '{STRAGGLER_SECONDS} seconds' "
    "ORDER BY id LIMIT 10000"
)


def _ids(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def number(using: str, ids: list[int]) -> dict[int, int]:
    """Number ``ids`` (those still without a ``seq``) on the caller's connection;
    return ``{id: seq}`` of ``ids``. Rows that were rolled back are absent.

    On PostgreSQL, outside a transaction: one round trip, one implicit transaction
    (lock, number, read back). Inside one (SQLite's writer, or a test that runs
    commit hooks inside its transaction) the lock is held to its end.
    """
    if not ids:
        return {}
    db = connections[using]
    listed = _ids(ids)
    seqs = _SEQS.format(ids=listed)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            rows = _THESE_IN_ORDER.format(ids=listed)
            cursor.execute(
                f"SELECT pg_advisory_xact_lock({LOCK_KEY}); "
                f"{_PG_NUMBER.format(rows=rows)}; {seqs}"
            )
            cursor.nextset()
            cursor.nextset()
        else:
            # One writer at a time: the pending rows are this transaction's.
            cursor.execute(_NUMBER.format(rows=_THESE.format(ids=listed)))
            cursor.execute(seqs)
        return dict(cursor.fetchall())


def sequence_stragglers(using: str = "default") -> int:
    """Number committed rows their writer left without a ``seq`` (it died between
    its COMMIT and its numbering). Cheap when there are none: one index probe."""
    db = connections[using]
    if db.vendor != "postgresql":
        return 0  # numbered inside the writer's transaction
    with db.cursor() as cursor:
        cursor.execute(_STRAGGLERS.replace("LIMIT 10000", "LIMIT 1"))
        if cursor.fetchone() is None:
            return 0
        cursor.execute(
            f"SELECT pg_advisory_xact_lock({LOCK_KEY}); "
            f"{_PG_NUMBER.format(rows=_STRAGGLERS)}"
        )
        cursor.nextset()
        count = cursor.fetchone()[1]
    logger.warning("numbered %s events their writer left without a seq", count)
    return count


class Request:
    """Ids waiting for their numbers, and what to do with them once numbered."""

    __slots__ = ("ids", "done", "seqs", "then")

    def __init__(self, ids: list[int], then: Callable[[dict[int, int]], list]):
        self.ids = ids
        self.then = then
        self.seqs: dict[int, int] = {}
        self.done = threading.Event()


class NumberingThread:
    """This process's one numberer: batches every writer's ids into one round trip."""

    def __init__(self, deliver: Callable[[list], None], using: str = "default"):
        self.deliver = deliver
        self.using = using
        self.requests: queue.SimpleQueue[Request] = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=self._run, name="brain-events-numbering", daemon=True
        )
        self.thread.start()

    def submit(self, request: Request) -> None:
        self.requests.put(request)

    def _run(self) -> None:
        while True:
            try:
                first = self.requests.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                # Idle: the connection goes back to the pool for requests to use.
                connections[self.using].close()
                first = self.requests.get()
            batch = [first]
            # Group commit: whatever else arrives within LINGER_SECONDS shares this
            # round (one statement, one commit, one channel-layer message).
            deadline = time.monotonic() + LINGER_SECONDS
            while True:
                try:
                    timeout = deadline - time.monotonic()
                    if timeout > 0:
                        batch.append(self.requests.get(timeout=timeout))
                    else:
                        batch.append(self.requests.get_nowait())
                except queue.Empty:
                    break
            self._number(batch)

    def _number(self, batch: list[Request]) -> None:
        ids = [i for request in batch for i in request.ids]
        try:
            # Not close_old_connections(): with CONN_MAX_AGE = 0 it would hand the
            # connection back to the pool every round. A failed round closes it.
            seqs = number(self.using, ids)
        except Exception as exc:  # noqa: BLE001 - committed rows: the hubs number them
            logger.warning("event numbering deferred to the hubs: %r", exc)
            connections[self.using].close()
            seqs = {}
        numbered = []
        for request in batch:
            request.seqs = {i: seqs[i] for i in request.ids if i in seqs}
            try:
                numbered.extend(request.then(request.seqs))
            except Exception:  # noqa: BLE001 - one batch must not stop the thread
                logger.exception("events could not be prepared for delivery")
            request.done.set()
        if numbered:
            # One channel-layer message for the whole group, in seq order.
            numbered.sort(key=lambda event: event.seq)
            self.deliver(numbered)


_thread: NumberingThread | None = None
_thread_lock = threading.Lock()


def number_after_commit(
    using: str,
    ids: list[int],
    then: Callable[[dict[int, int]], list],
    deliver: Callable[[list], None],
) -> Request:
    """Hand committed rows to this process's numbering thread, without waiting.

    ``then`` turns ``{id: seq}`` into the events to deliver; the thread delivers
    those of every writer it numbered at once. ``Request.done`` is set when done.
    """
    global _thread
    with _thread_lock:
        if _thread is None or _thread.using != using or not _thread.thread.is_alive():
            _thread = NumberingThread(deliver, using)
        numberer = _thread
    request = Request(ids, then)
    numberer.submit(request)
    watched = getattr(_watched, "requests", None)
    if watched is not None:
        watched.append(request)
    return request


# The numberings a thread handed over while it watches (an HTTP request's).
_watched = threading.local()


def watch_numbering() -> None:
    """Remember the numberings this thread hands over from now on."""
    _watched.requests = []


def wait_for_numbering(timeout: float) -> bool:
    """Wait (at most ``timeout`` seconds) until every numbering this thread handed
    over since ``watch_numbering`` is done, and stop watching. False on timeout:
    the events are committed and get their numbers later, nothing is lost."""
    requests = _watched.__dict__.pop("requests", None)
    if not requests or all(request.done.is_set() for request in requests):
        return True
    # The numbering thread may need a connection of the pool: give this thread's
    # back while it waits (a request that kept it would starve the numbering when
    # every connection is held by a request waiting for it).
    for db in connections.all(initialized_only=True):
        if not db.in_atomic_block:
            db.close()
    deadline = time.monotonic() + timeout
    return all(
        request.done.wait(max(0.0, deadline - time.monotonic())) for request in requests
    )


def drain(timeout: float = WAIT_SECONDS) -> bool:
    """Wait until every id handed over so far is numbered (at exit, in tests)."""
    numberer = _thread
    if numberer is None or not numberer.thread.is_alive():
        return True
    marker = Request([], lambda seqs: [])
    numberer.submit(marker)
    return marker.done.wait(timeout)


atexit.register(drain, 2.0)
