"""Accounts and ledger entries are plain models written by ``credits.services``,
which keep the balance the sum of the ledger and send the signals; what must never
happen, whoever writes (an ORM call, raw SQL, another client), the database refuses:
a ledger entry is never edited or deleted.

That the project's own code writes these models only through the services is
``tests/foundation/test_service_writes.py``."""

from decimal import Decimal

import pytest
from django.db import connection

from brain.events.models import EventLog
from credits import services
from credits.models import LedgerEntry
from tests.credits.factories import balance_of, ledger_sum, make_account
from tests.triggers import refused_by_the_database

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LEDGER_TABLE = LedgerEntry._meta.db_table


def ledger() -> list[tuple]:
    return list(
        LedgerEntry.objects.order_by("pk").values_list(
            "pk", "kind", "amount", "balance_after", "reason"
        )
    )


def test_an_entry_cannot_be_edited_or_deleted_through_the_orm():
    make_account("agent-1", "5")
    before = ledger()
    events = EventLog.objects.count()
    entry = LedgerEntry.objects.get()
    entry.amount = Decimal("500")
    with refused_by_the_database(
        "Cannot update or delete rows from credits_ledgerentry table"
    ):
        entry.save()
    with refused_by_the_database():
        entry.save(update_fields=["amount"])
    with refused_by_the_database():
        entry.delete()
    with refused_by_the_database():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("500"))
    with refused_by_the_database():
        LedgerEntry.objects.all().delete()
    assert ledger() == before
    assert EventLog.objects.count() == events
    assert balance_of("agent-1") == ledger_sum("agent-1") == Decimal("5.00")


def test_an_entry_cannot_be_edited_or_deleted_in_sql():
    make_account("agent-1", "5")
    before = ledger()
    ((entry_id, *_),) = before
    with refused_by_the_database(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LEDGER_TABLE} SET amount = 500, balance_after = 500 "
            "WHERE id = %s",
            [entry_id],
        )
    with refused_by_the_database(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LEDGER_TABLE} WHERE agent_id = %s", ["agent-1"])
    assert ledger() == before


def test_the_services_still_move_credits():
    make_account("agent-1", "10")
    services.credits_consume(agent_id="agent-1", amount="4", reason="work")
    services.credits_refund(agent_id="agent-1", amount="1", reason="back")
    assert balance_of("agent-1") == ledger_sum("agent-1") == Decimal("7")
    assert [kind for _, kind, *_ in ledger()] == ["allocation", "consumption", "refund"]
