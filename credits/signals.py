"""Credits signals, sent by the services, and the receivers that emit Charter events.

Services send these after each change; the receivers below are the only producers of
the credits events, so every path that goes through the services (REST, admin,
management commands, the shell) emits the same events. Other apps (missions, the
supervisor) may listen to the same signals.
"""

from datetime import datetime

from django.dispatch import Signal, receiver

from brain.events import emit
from credits.events import (
    CREDITS_ALLOCATED,
    CREDITS_CONSUMED,
    CREDITS_DEPLETED,
    CREDITS_HEALTH_CHECKED,
    CREDITS_REFUNDED,
)
from credits.models import LedgerEntry, format_amount

# entry: LedgerEntry (kind allocation)
credits_allocated = Signal()
# entry: LedgerEntry (kind consumption)
credits_consumed = Signal()
# entry: LedgerEntry (kind refund)
credits_refunded = Signal()
# agent_id: str, depleted_at: datetime
credits_depleted = Signal()
# status: str, checked_at: datetime
credits_health_checked = Signal()


def _movement(entry: LedgerEntry) -> dict:
    return {
        "agent_id": entry.agent_id,
        "amount": format_amount(entry.amount),
        "balance": format_amount(entry.balance_after),
        "reason": entry.reason,
        "transaction_id": entry.pk,
    }


def _mission_id(entry: LedgerEntry) -> str | None:
    return str(entry.mission_id) if entry.mission_id else None


@receiver(credits_allocated, dispatch_uid="credits.emit_allocated")
def emit_credits_allocated(sender, entry: LedgerEntry, **kwargs) -> None:
    emit(
        CREDITS_ALLOCATED.name,
        {**_movement(entry), "allocated_at": entry.created_at.timestamp()},
    )


@receiver(credits_consumed, dispatch_uid="credits.emit_consumed")
def emit_credits_consumed(sender, entry: LedgerEntry, **kwargs) -> None:
    emit(
        CREDITS_CONSUMED.name,
        {
            **_movement(entry),
            "mission_id": _mission_id(entry),
            "consumed_at": entry.created_at.timestamp(),
        },
    )


@receiver(credits_refunded, dispatch_uid="credits.emit_refunded")
def emit_credits_refunded(sender, entry: LedgerEntry, **kwargs) -> None:
    emit(
        CREDITS_REFUNDED.name,
        {
            **_movement(entry),
            "mission_id": _mission_id(entry),
            "refunded_at": entry.created_at.timestamp(),
        },
    )


@receiver(credits_depleted, dispatch_uid="credits.emit_depleted")
def emit_credits_depleted(
    sender, agent_id: str, depleted_at: datetime, **kwargs
) -> None:
    emit(
        CREDITS_DEPLETED.name,
        {"agent_id": agent_id, "depleted_at": depleted_at.timestamp()},
    )


@receiver(credits_health_checked, dispatch_uid="credits.emit_health_checked")
def emit_credits_health_checked(
    sender, status: str, checked_at: datetime, **kwargs
) -> None:
    emit(
        CREDITS_HEALTH_CHECKED.name,
        {"status": status, "checked_at": checked_at.timestamp()},
    )
