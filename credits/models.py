"""Credit accounts, one per agent, and their append-only ledger.

Plain models: every write goes through ``credits.services``, which keeps the balance
the sum of the ledger and sends the signals. The database refuses an edited or
deleted ledger entry, whoever tries (a trigger in ``Meta.triggers``, PostgreSQL only).
"""

import re
from decimal import Decimal, InvalidOperation

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from brain.identifiers import IDENTIFIER_PATTERN, identifier_validator

# Credit accounts are per agent: the agent-id rule, from its one definition.
AGENT_ID_PATTERN = IDENTIFIER_PATTERN
agent_id_validator = identifier_validator

CENT = Decimal("0.01")
# An amount written as text: what the schema's ``^\d{1,12}(\.\d{1,2})?$`` allows, plus
# a sign and more decimals, which the checks below refuse with their own message.
AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
ZERO = Decimal("0.00")
# The largest value a DecimalField(max_digits=14, decimal_places=2) holds.
MAX_BALANCE = Decimal("999999999999.99")
REASON_MAX_LENGTH = 500
IDEMPOTENCY_KEY_MAX_LENGTH = 128


def format_amount(value: Decimal) -> str:
    """``Decimal("12.5")`` → ``"12.50"``: how amounts appear in payloads."""
    return f"{value.quantize(CENT):f}"


def max_amount() -> Decimal:
    """The largest amount one operation may move (``CREDITS_MAX_AMOUNT``).

    Never more than a balance can hold, whatever the setting says.
    """
    return min(Decimal(settings.CREDITS_MAX_AMOUNT).quantize(CENT), MAX_BALANCE)


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """A number of credits: positive (or zero), at most 2 decimals, at most the max.

    Raises ``ValueError`` with a message for the client. ``"1.50"``, ``1.5`` and
    ``"1.500"`` are all 1.50; ``"1.505"`` is refused rather than rounded.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("must be a number")
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value):
        # ``Decimal()`` would also read "1e2", "1_000", ".5", " 5" and digits of
        # any script; the schema's pattern allows ASCII digits and a point.
        raise ValueError(
            'must be written like "12.50": ASCII digits, at most 2 decimals'
        )
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not number.is_finite():
        raise ValueError("must be a number")
    if allow_zero and number < 0:
        raise ValueError("must not be negative")
    if not allow_zero and number <= 0:
        raise ValueError("must be greater than 0")
    limit = max_amount()
    if number > limit:
        raise ValueError(f"must be at most {format_amount(limit)}")
    if number != number.quantize(CENT):
        raise ValueError("must have at most 2 decimal places")
    return number.quantize(CENT)


class TransactionKind(models.TextChoices):
    ALLOCATION = "allocation"
    CONSUMPTION = "consumption"
    REFUND = "refund"


class Account(models.Model):
    """An agent's credit balance; always the sum of its ledger, never negative."""

    agent_id = models.CharField(
        primary_key=True, max_length=64, validators=[agent_id_validator]
    )
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agent_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="credits_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}: {format_amount(self.balance)}"


class LedgerEntry(models.Model):
    """One movement of credits; ``balance_after`` is the account's balance after it."""

    agent = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name="agent",
        # The history indexes below lead with the agent and cover its lookups.
        db_index=False,
    )
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.CharField(max_length=REASON_MAX_LENGTH)
    mission_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor = models.CharField(max_length=150, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH, null=True, blank=True
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        indexes = [
            # An agent's history, newest first, optionally of one kind.
            models.Index(fields=["agent", "-id"], name="credits_history"),
            models.Index(fields=["agent", "kind", "-id"], name="credits_history_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="credits_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0),
                name="credits_balance_after_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=TransactionKind.values),
                name="credits_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="credits_reason_not_empty"
            ),
            models.UniqueConstraint(
                fields=["agent", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="credits_idempotency_key_unique",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="ledger_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.agent_id} {self.kind} {format_amount(self.amount)}"

    @property
    def signed_amount(self) -> Decimal:
        """The change to the balance: negative for a consumption."""
        if self.kind == TransactionKind.CONSUMPTION:
            return -self.amount
        return self.amount
