"""Reads of accounts and the ledger: one balance, all balances, an agent's history."""

from django.db.models import QuerySet

from brain.errors import NotFound
from credits.models import Account, LedgerEntry

HISTORY_LIMIT_DEFAULT = 100
HISTORY_LIMIT_MAX = 1000


def account_get(agent_id: str) -> Account:
    account = Account.objects.filter(pk=agent_id).first()
    if account is None:
        raise NotFound(f"no credit account for agent {agent_id}", agent_id=agent_id)
    return account


def account_list() -> QuerySet[Account]:
    return Account.objects.order_by("agent_id")


def ledger_history(
    agent_id: str, *, limit: int = HISTORY_LIMIT_DEFAULT, kind: str | None = None
) -> tuple[Account, list[LedgerEntry]]:
    """The account and its latest ``limit`` entries, newest first (two queries)."""
    account = account_get(agent_id)
    entries = LedgerEntry.objects.filter(agent=account)
    if kind:
        entries = entries.filter(kind=kind)
    return account, list(entries.order_by("-id")[:limit])
