"""``seq``: the log's one global order, drawn after commit, in commit order.

A writer inserts its events with ``seq`` null, inside its own transaction, and holds
no lock for it. After its COMMIT it runs ``sequence()``: one round trip that takes a
transaction-level advisory lock, numbers every committed row still without a ``seq``
(``MAX(seq) + ROW_NUMBER() OVER (ORDER BY id)``), commits, and returns the ``seq`` of
the writer's own rows. The lock is held for that one statement and its commit, never
across a writer's transaction, and one call numbers the rows of every writer that
committed before it (group commit): under load the lock is taken less than once per
transaction's worth of events.

Why every ``seq`` a reader sees below the highest it has seen is final: numbering
runs one at a time (the lock), each numbering transaction sees everything committed
before it (a fresh snapshot after the lock), numbers are dense, and a numbering is
visible before its lock is released. So once ``seq`` N is visible, every lower
``seq`` was assigned by a committed numbering and is visible too. A rolled-back
write never gets a number, so the log has no holes.

A writer that dies between its COMMIT and its numbering leaves rows without ``seq``:
every hub numbers such rows on its next poll (``sequence_stragglers``), so they are
delayed, never lost.

SQLite has one writer at a time, holding the database from its first write to its
COMMIT, so there the numbering runs inside the writer's transaction.
"""

from django.db import connections

from brain.events.models import EventLog

# Two int4 halves of one advisory lock key: "brain" "seq".
LOCK_KEY = 0x6272_6169_6E

_TABLE = EventLog._meta.db_table
_NUMBER = (
    # Table and column names come from the model; no value is interpolated.
    f'UPDATE "{_TABLE}" SET seq = numbered.seq FROM ('  # noqa: S608  # nosec B608
    f'SELECT id, (SELECT COALESCE(MAX(seq), 0) FROM "{_TABLE}") '
    f'+ ROW_NUMBER() OVER (ORDER BY id) AS seq FROM "{_TABLE}" WHERE seq IS NULL'
    f') AS numbered WHERE "{_TABLE}".id = numbered.id'
)
_OWN = f'SELECT id, seq FROM "{_TABLE}" WHERE id IN ({{ids}})'  # noqa: S608  # nosec B608


def sequence(using: str, ids: list[int]) -> dict[int, int]:
    """Number every committed row still without a ``seq``; return ``{id: seq}`` of
    ``ids`` (rows that were rolled back are absent)."""
    connection = connections[using]
    own = _OWN.format(ids=",".join(str(int(i)) for i in ids))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip, one implicit transaction: lock, number, read back.
            cursor.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY}); {_NUMBER}; {own}")
            cursor.nextset()
            cursor.nextset()
        else:
            cursor.execute(_NUMBER)
            cursor.execute(own)
        return dict(cursor.fetchall())


def sequence_stragglers(using: str = "default") -> bool:
    """Number committed rows left without a ``seq`` (their writer died before it
    numbered them). Cheap when there are none: one look at a partial index."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT 1 FROM "{_TABLE}" WHERE seq IS NULL LIMIT 1')  # noqa: S608  # nosec B608
        if cursor.fetchone() is None:
            return False
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY}); {_NUMBER}")
        else:
            cursor.execute(_NUMBER)
    return True
