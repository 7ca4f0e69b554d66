"""What the database itself refuses: the triggers each model declares in
``Meta.triggers`` (django-pgtrigger), installed by migrations on PostgreSQL."""

from contextlib import contextmanager

import pytest
from django.db import ProgrammingError, connection, transaction


@contextmanager
def refused_by_the_database(match: str = "pgtrigger"):
    """The block's statement is refused by a trigger; the test's transaction goes on.

    A trigger's ``RAISE EXCEPTION`` (SQLSTATE P0001) reaches Django, through psycopg 3,
    as ``ProgrammingError``.
    """
    if connection.vendor != "postgresql":
        pytest.fail("the triggers exist on PostgreSQL only (SQLite gets none)")
    with pytest.raises(ProgrammingError, match=match), transaction.atomic():
        yield
