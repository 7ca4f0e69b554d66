"""Accounts, balances and ledger entries are written by credits.services only: the
balance stays the sum of the ledger and every movement has its event, whatever a
shell or a script tries."""

from decimal import Decimal

import pytest

from brain.events.models import EventLog
from credits import services
from credits.models import Account, LedgerEntry
from tests.credits.factories import balance_of, ledger_sum, make_account

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int]:
    return (
        Account.objects.count(),
        LedgerEntry.objects.count(),
        EventLog.objects.count(),
    )


def test_an_account_opened_directly_is_refused():
    before = stored()
    with pytest.raises(TypeError, match="account_create"):
        Account.objects.create(agent_id="rogue", balance=Decimal("100"))
    with pytest.raises(TypeError, match="account_create"):
        Account(agent_id="rogue").save()
    assert stored() == before


def test_a_balance_changed_directly_is_refused():
    make_account("agent-1", "10")
    account = Account.objects.get(pk="agent-1")
    account.balance = Decimal("1000")
    with pytest.raises(TypeError, match="credits.services"):
        account.save()
    with pytest.raises(TypeError, match="credits.services"):
        account.save(update_fields=["balance"])
    assert balance_of("agent-1") == ledger_sum("agent-1") == Decimal("10")


def test_an_account_returned_by_a_service_cannot_then_be_changed_directly():
    account = make_account("agent-1", "10")
    account.balance = Decimal("0")
    with pytest.raises(TypeError, match="credits.services"):
        account.save()
    assert balance_of("agent-1") == Decimal("10")


def test_other_fields_of_an_account_may_be_saved():
    make_account("agent-1", "10")
    account = Account.objects.get(pk="agent-1")
    account.save()  # unchanged balance: nothing to hide
    assert balance_of("agent-1") == Decimal("10")


def test_ledger_entries_written_directly_are_refused():
    account = make_account("agent-1", "10")
    before = stored()
    row = {"kind": "allocation", "amount": Decimal("5"), "balance_after": Decimal("15")}
    with pytest.raises(TypeError, match="credits.services"):
        LedgerEntry.objects.create(agent=account, reason="r", **row)
    with pytest.raises(TypeError, match="credits.services"):
        LedgerEntry.objects.bulk_create([LedgerEntry(agent=account, reason="r", **row)])
    assert stored() == before
    assert balance_of("agent-1") == ledger_sum("agent-1")


def test_the_services_still_move_credits():
    make_account("agent-1", "10")
    services.credits_consume(agent_id="agent-1", amount="4", reason="work")
    services.credits_refund(agent_id="agent-1", amount="1", reason="back")
    assert balance_of("agent-1") == ledger_sum("agent-1") == Decimal("7")
