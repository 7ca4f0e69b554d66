from decimal import Decimal

from credits import services
from credits.models import Account, LedgerEntry


def make_account(agent_id: str = "agent-1", initial_credits: str = "0") -> Account:
    return services.account_create(agent_id=agent_id, initial_credits=initial_credits)


def balance_of(agent_id: str) -> Decimal:
    return Account.objects.get(pk=agent_id).balance


def ledger_sum(agent_id: str) -> Decimal:
    """The balance the ledger says the agent has."""
    entries = LedgerEntry.objects.filter(agent_id=agent_id)
    return sum((entry.signed_amount for entry in entries), Decimal("0.00"))
