from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from brain.api.fields import StrictUUIDField
from credits.models import (
    AGENT_ID_PATTERN,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    REASON_MAX_LENGTH,
    ZERO,
    Account,
    LedgerEntry,
    TransactionKind,
    format_amount,
    parse_amount,
)
from credits.selectors import HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d{1,12}(\.\d{1,2})?$",
        "example": "12.50",
        "description": "Credits, 2 decimal places; a JSON number is accepted on input.",
    }
)
class AmountField(serializers.Field):
    """Credits in, as a JSON number or a string; ``"12.50"`` out."""

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, allow_zero: bool = False, **kwargs) -> None:
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_amount(data, allow_zero=self.allow_zero)
        except ValueError as exc:
            self.fail("invalid", message=str(exc))

    def to_representation(self, value):
        return format_amount(value)


def _agent_id_field(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(
        AGENT_ID_PATTERN,
        max_length=64,
        error_messages={"invalid": "1 to 64 letters, digits or the characters _ . : -"},
        **kwargs,
    )


class AccountCreateSerializer(serializers.Serializer):
    agent_id = _agent_id_field()
    initial_credits = AmountField(allow_zero=True, required=False, default=ZERO)


class AccountSerializer(serializers.ModelSerializer):
    balance = AmountField(read_only=True)

    class Meta:
        model = Account
        fields = ["agent_id", "balance", "created_at", "updated_at"]
        read_only_fields = fields


class BalanceSerializer(serializers.Serializer):
    agent_id = serializers.CharField()
    balance = AmountField()


class _MovementInputSerializer(serializers.Serializer):
    agent_id = _agent_id_field()
    amount = AmountField()
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    idempotency_key = serializers.CharField(
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH, required=False, allow_null=True
    )


class AllocateSerializer(_MovementInputSerializer):
    pass


class ConsumeSerializer(_MovementInputSerializer):
    mission_id = StrictUUIDField(required=False, allow_null=True)


class RefundSerializer(_MovementInputSerializer):
    mission_id = StrictUUIDField(required=False, allow_null=True)


class MovementSerializer(serializers.Serializer):
    agent_id = serializers.CharField()
    balance = AmountField()
    transaction_id = serializers.IntegerField()


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)
    balance_after = AmountField(read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "agent_id",
            "kind",
            "amount",
            "balance_after",
            "reason",
            "mission_id",
            "actor",
            "idempotency_key",
            "created_at",
        ]
        read_only_fields = fields


class HistoryQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=HISTORY_LIMIT_MAX, default=HISTORY_LIMIT_DEFAULT
    )
    kind = serializers.ChoiceField(TransactionKind.choices, required=False)


class HistorySerializer(serializers.Serializer):
    agent_id = serializers.CharField()
    balance = AmountField()
    transactions = LedgerEntrySerializer(many=True)


class CreditsHealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    timestamp = serializers.FloatField()


class CreditsInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    config = serializers.DictField()
