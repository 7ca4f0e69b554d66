"""Prepared statements for the few statements every write runs.

Django's PostgreSQL cursors bind parameters on the client (``ClientCursor``) and never
prepare. ``bound_cursor`` is a Django cursor (wrapped as usual, so query logging
and ``CaptureQueriesContext`` see it) with server-side binding: psycopg prepares a
statement on the connection once it has run ``prepare_threshold`` times
(``DB_PREPARED_STATEMENTS``, brain/settings.py), so neither psycopg (interpolation)
nor PostgreSQL (parse and plan) redoes that work per request. Used by the event
INSERT (brain/events/publish.py) and the one-line log append (missions/services.py).
Such a statement names every parameter's type (``CAST(%s AS uuid)``): the server,
not the client, types the values.
"""


def bound_cursor(connection):
    """A cursor with server-side binding on ``connection`` (PostgreSQL only)."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(connection.connection))


def copy_with_ids(connection, table: str, columns, rows) -> list[int]:
    """What ``bulk_create`` does, by ``COPY`` (PostgreSQL): ids drawn from the
    table's sequence first, in order, so each row gets its id as with an INSERT.
    ``rows`` are tuples in ``columns`` order (JSON already encoded); returns the
    ids, row for row. Many rows cost a fraction of a multi-row INSERT, whose
    client-side quoting of every value was most of a big batch's CPU."""
    rows = list(rows)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
            "FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        names = ", ".join(quote(column) for column in ("id", *columns))
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
        ):
            for row_id, row in zip(ids, rows, strict=True):
                copy.write_row((row_id, *row))
    return ids


def mark_saved(instances, ids, using: str) -> None:
    """Give unsaved model instances the ids their rows got, as a save would."""
    for instance, row_id in zip(instances, ids, strict=True):
        instance.pk = row_id
        instance._state.adding = False
        instance._state.db = using
