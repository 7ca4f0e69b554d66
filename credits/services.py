"""Every write to credit accounts and the ledger. Views, admin and commands call these.

Each movement locks the account row (``select_for_update``) before it reads the
balance, so concurrent consumptions of one account run one after the other and the
balance never goes below zero. The lock is taken before the first event is emitted,
as ``brain.events.publish`` requires.
"""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from brain.errors import Conflict, Invalid, NotFound
from brain.events.context import current_actor, current_correlation_id, event_context
from credits.models import (
    AGENT_ID_PATTERN,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    MAX_BALANCE,
    REASON_MAX_LENGTH,
    ZERO,
    Account,
    LedgerEntry,
    TransactionKind,
    format_amount,
    parse_amount,
)
from credits.signals import (
    credits_allocated,
    credits_consumed,
    credits_depleted,
    credits_health_checked,
    credits_refunded,
)
from missions.models import Mission

INITIAL_CREDITS_REASON = "initial credits"

_SIGNALS = {
    TransactionKind.ALLOCATION: credits_allocated,
    TransactionKind.CONSUMPTION: credits_consumed,
    TransactionKind.REFUND: credits_refunded,
}


@dataclass(frozen=True)
class Movement:
    """The result of an allocation, consumption or refund.

    ``replayed`` is true when an earlier request with the same idempotency key is
    answered again: nothing moved this time.
    """

    entry: LedgerEntry
    replayed: bool = False

    @property
    def agent_id(self) -> str:
        return self.entry.agent_id

    @property
    def balance(self) -> Decimal:
        return self.entry.balance_after

    @property
    def transaction_id(self) -> int:
        return self.entry.pk


# Input checks. Serializers and admin forms check the same rules first; these guard
# every other path (the shell, management commands, other apps).


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", **{field: [message]})


def _checked_agent_id(agent_id: str) -> str:
    if not isinstance(agent_id, str) or not re.fullmatch(AGENT_ID_PATTERN, agent_id):
        raise _invalid("agent_id", "1 to 64 letters, digits or the characters _ . : -")
    return agent_id


def _checked_amount(value: Any, *, field: str = "amount", **kwargs: Any) -> Decimal:
    try:
        return parse_amount(value, **kwargs)
    except ValueError as exc:
        raise _invalid(field, str(exc)) from None


def _checked_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise _invalid("reason", "required, and not blank")
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise _invalid("reason", f"at most {REASON_MAX_LENGTH} characters")
    return reason


def _checked_mission_id(mission_id: Any) -> uuid.UUID | None:
    if mission_id in (None, ""):
        return None
    if isinstance(mission_id, uuid.UUID):
        return mission_id
    try:
        return uuid.UUID(str(mission_id))
    except ValueError:
        raise _invalid("mission_id", "must be a mission's UUID") from None


def _checked_idempotency_key(key: Any) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or not key.isprintable():
        raise _invalid("idempotency_key", "must be a non-blank printable string")
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise _invalid(
            "idempotency_key", f"at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters"
        )
    return key


def _events_by(actor: str | None):
    """Name ``actor`` in the events' meta, keeping the request's correlation id."""
    return event_context(actor=actor, correlation_id=current_correlation_id())


def _locked_account(agent_id: str) -> Account:
    account = Account.objects.select_for_update().filter(pk=agent_id).first()
    if account is None:
        raise NotFound(f"no credit account for agent {agent_id}", agent_id=agent_id)
    return account


# Writes ---------------------------------------------------------------------------


@transaction.atomic
def account_create(
    *,
    agent_id: str,
    initial_credits: Decimal | str | int = ZERO,
    actor: str | None = None,
) -> Account:
    """Open an agent's account; initial credits are booked as an allocation.

    An agent that already has an account is refused (409).
    """
    agent_id = _checked_agent_id(agent_id)
    initial = _checked_amount(initial_credits, field="initial_credits", allow_zero=True)
    actor = actor if actor is not None else current_actor()
    now = timezone.now()
    account = Account(
        agent_id=agent_id, balance=initial, created_at=now, updated_at=now
    )
    try:
        with transaction.atomic():
            account.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            f"agent {agent_id} already has a credit account", agent_id=agent_id
        ) from None
    if initial > 0:
        entry = LedgerEntry(
            agent=account,
            kind=TransactionKind.ALLOCATION,
            amount=initial,
            balance_after=initial,
            reason=INITIAL_CREDITS_REASON,
            actor=actor,
            created_at=now,
        )
        entry.save(force_insert=True)
        with _events_by(actor):
            credits_allocated.send(sender=LedgerEntry, entry=entry)
    return account


@transaction.atomic
def credits_allocate(
    *,
    agent_id: str,
    amount: Decimal | str | int,
    reason: str,
    idempotency_key: str | None = None,
    actor: str | None = None,
) -> Movement:
    """Add credits to an agent's account."""
    return _move(
        TransactionKind.ALLOCATION,
        agent_id=agent_id,
        amount=amount,
        reason=reason,
        mission_id=None,
        idempotency_key=idempotency_key,
        actor=actor,
    )


@transaction.atomic
def credits_consume(
    *,
    agent_id: str,
    amount: Decimal | str | int,
    reason: str,
    mission_id: uuid.UUID | str | None = None,
    idempotency_key: str | None = None,
    actor: str | None = None,
) -> Movement:
    """Spend an agent's credits; more than the balance is refused (409).

    A consumption that leaves the balance at exactly zero is followed by
    ``credits.depleted``.
    """
    return _move(
        TransactionKind.CONSUMPTION,
        agent_id=agent_id,
        amount=amount,
        reason=reason,
        mission_id=mission_id,
        idempotency_key=idempotency_key,
        actor=actor,
    )


@transaction.atomic
def credits_refund(
    *,
    agent_id: str,
    amount: Decimal | str | int,
    reason: str,
    mission_id: uuid.UUID | str | None = None,
    idempotency_key: str | None = None,
    actor: str | None = None,
) -> Movement:
    """Give credits back to an agent, e.g. for a mission that failed."""
    return _move(
        TransactionKind.REFUND,
        agent_id=agent_id,
        amount=amount,
        reason=reason,
        mission_id=mission_id,
        idempotency_key=idempotency_key,
        actor=actor,
    )


def credits_health_check() -> dict[str, Any]:
    """Answer the health probe; each probe is announced (live-only, nothing stored)."""
    checked_at = timezone.now()
    credits_health_checked.send(sender=Account, status="ok", checked_at=checked_at)
    return {"status": "ok", "timestamp": checked_at.timestamp()}


def _move(
    kind: str,
    *,
    agent_id: str,
    amount: Any,
    reason: Any,
    mission_id: Any,
    idempotency_key: Any,
    actor: str | None,
) -> Movement:
    amount = _checked_amount(amount)
    reason = _checked_reason(reason)
    mission_id = _checked_mission_id(mission_id)
    idempotency_key = _checked_idempotency_key(idempotency_key)
    actor = actor if actor is not None else current_actor()
    account = _locked_account(_checked_agent_id(agent_id))
    if idempotency_key is not None:
        # Under the account lock: an earlier request with this key has committed.
        earlier = LedgerEntry.objects.filter(
            agent=account, idempotency_key=idempotency_key
        ).first()
        if earlier is not None:
            return _replay(earlier, kind=kind, amount=amount)
    if mission_id is not None:
        _check_mission(kind, account, mission_id, amount)
    if kind == TransactionKind.CONSUMPTION:
        if amount > account.balance:
            raise Conflict(
                "insufficient credits", balance=format_amount(account.balance)
            )
        balance = account.balance - amount
    else:
        balance = account.balance + amount
        if balance > MAX_BALANCE:
            raise Conflict(
                "the balance would exceed its maximum",
                balance=format_amount(account.balance),
                max_balance=format_amount(MAX_BALANCE),
            )
    now = timezone.now()
    account.balance = balance
    account.updated_at = now
    account.save(update_fields=["balance", "updated_at"])
    entry = LedgerEntry(
        agent=account,
        kind=kind,
        amount=amount,
        balance_after=balance,
        reason=reason,
        mission_id=mission_id,
        actor=actor,
        created_at=now,
        idempotency_key=idempotency_key,
    )
    entry.save(force_insert=True)
    with _events_by(actor):
        _SIGNALS[kind].send(sender=LedgerEntry, entry=entry)
        if kind == TransactionKind.CONSUMPTION and balance == 0:
            credits_depleted.send(
                sender=Account, agent_id=account.agent_id, depleted_at=now
            )
    return Movement(entry)


def _check_mission(
    kind: str, account: Account, mission_id: uuid.UUID, amount: Decimal
) -> None:
    """A movement's mission must exist (404); a refund for a mission returns at most
    what the agent consumed for it, less what was refunded for it already (409).
    Under the account lock, so concurrent refunds cannot both pass."""
    if not Mission.objects.filter(pk=mission_id).exists():
        raise NotFound(f"mission {mission_id} not found", mission_id=str(mission_id))
    if kind != TransactionKind.REFUND:
        return
    totals = dict(
        LedgerEntry.objects.filter(agent=account, mission_id=mission_id)
        .filter(kind__in=(TransactionKind.CONSUMPTION, TransactionKind.REFUND))
        .values("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    consumed = totals.get(TransactionKind.CONSUMPTION) or ZERO
    refunded = totals.get(TransactionKind.REFUND) or ZERO
    refundable = consumed - refunded
    if amount > refundable:
        raise Conflict(
            f"a refund for mission {mission_id} may return at most what agent "
            f"{account.agent_id} consumed for it ({format_amount(consumed)}) less "
            f"what was refunded ({format_amount(refunded)}): "
            f"{format_amount(refundable)}",
            mission_id=str(mission_id),
            consumed=format_amount(consumed),
            refunded=format_amount(refunded),
            refundable=format_amount(refundable),
        )


def _replay(earlier: LedgerEntry, *, kind: str, amount: Decimal) -> Movement:
    """The first answer again, if the request is the same; else 409 naming the clash."""
    conflicts = []
    if earlier.kind != kind:
        conflicts.append("kind")
    if earlier.amount != amount:
        conflicts.append("amount")
    if conflicts:
        raise Conflict(
            f"idempotency_key {earlier.idempotency_key!r} was already used for a "
            f"{earlier.kind} of {format_amount(earlier.amount)}; this request differs "
            f"in {' and '.join(conflicts)}",
            idempotency_key=earlier.idempotency_key,
            conflicts=conflicts,
            transaction_id=earlier.pk,
        )
    return Movement(earlier, replayed=True)
