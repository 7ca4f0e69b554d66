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
