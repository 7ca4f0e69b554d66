import functools
import re
from collections.abc import Iterable

from django.conf import settings
from rest_framework import serializers

from brain.api.fields import BoundedJSONField, StrictUUIDField
from missions.models import (
    LogLevel,
    Mission,
    MissionLog,
    MissionPriority,
    MissionStatus,
    MissionStatusChange,
)


def _json_object(value):
    if not isinstance(value, dict):
        raise serializers.ValidationError("must be a JSON object")
    return value


class MissionSerializer(serializers.ModelSerializer):
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(MissionStatus.choices), read_only=True
    )
    assigned_agent = serializers.CharField(
        source="assigned_agent_id",
        read_only=True,
        allow_null=True,
        help_text="the agent holding the mission (set by its claim), or null",
    )

    class Meta:
        model = Mission
        fields = [
            "id",
            "name",
            "description",
            "data",
            "status",
            "priority",
            "assigned_agent",
            "created_at",
            "updated_at",
            "allowed_transitions",
        ]
        read_only_fields = fields


class MissionCreateSerializer(serializers.Serializer):
    id = StrictUUIDField(required=False)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10000
    )
    data = BoundedJSONField(required=False, default=dict, validators=[_json_object])
    priority = serializers.ChoiceField(
        MissionPriority.choices, required=False, default=MissionPriority.NORMAL
    )


class MissionStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(MissionStatus.choices)


class LogEntryInputSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        LogLevel.choices, required=False, default=LogLevel.INFO
    )
    message = serializers.CharField(max_length=10000)
    data = BoundedJSONField(required=False, default=dict, validators=[_json_object])


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MissionStatusChange
        fields = [
            "id",
            "old_status",
            "new_status",
            "changed_at",
            "actor",
            "agent_id",
            "reason",
        ]
        read_only_fields = fields


class LogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = MissionLog
        fields = ["id", "timestamp", "level", "message", "data"]
        read_only_fields = fields


# A log batch may hold 10,000 entries: the two functions below give what the
# serializers above give, without their per-field cost, for the plain case.
_LEVELS = frozenset(LogLevel.values)
_MESSAGE_MAX = 10000
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def log_entries_input(batch: list) -> list[dict] | None:
    """``LogEntryInputSerializer(data=batch, many=True).validated_data``, or ``None``.

    ``None`` means some entry is not plainly valid (wrong type, blank, too long,
    unknown level, ...): run the serializer, which decides and words the errors.
    """
    validated = []
    for item in batch:
        if type(item) is not dict:
            return None
        message = item.get("message")
        if type(message) is not str:
            return None
        message = message.strip()
        if (
            not message
            or len(message) > _MESSAGE_MAX
            or "\x00" in message
            or (not message.isascii() and _SURROGATE.search(message))
        ):
            return None
        if "level" in item:
            level = item["level"]
            if type(level) is not str or level not in _LEVELS:
                return None
        else:
            level = LogLevel.INFO
        if "data" in item:
            data = item["data"]
            if type(data) is not dict:
                return None
        else:
            data = {}
        validated.append({"level": level, "message": message, "data": data})
    return validated


@functools.cache
def _entry_fields() -> tuple[serializers.Field, serializers.Field]:
    """The serializer's own timestamp and level fields, built once (they keep no
    state between calls)."""
    fields = LogEntrySerializer().fields
    return fields["timestamp"], fields["level"]


def log_entries_data(entries: Iterable[MissionLog]) -> list[dict]:
    """``LogEntrySerializer(entries, many=True).data``, built directly.

    The timestamp goes through the serializer's own field, once per distinct value
    (a batch shares one).
    """
    timestamp_field, level_field = _entry_fields()
    timestamps: dict = {}
    out = []
    for entry in entries:
        stamp = entry.timestamp
        text = timestamps.get(stamp)
        if text is None:
            text = timestamps[stamp] = timestamp_field.to_representation(stamp)
        out.append(
            {
                "id": entry.id,
                "timestamp": text,
                "level": level_field.to_representation(entry.level),
                "message": str(entry.message),
                "data": entry.data,
            }
        )
    return out


class MissionLogPageSerializer(serializers.Serializer):
    mission_id = serializers.UUIDField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    log = LogEntrySerializer(many=True)


class MissionLogQuerySerializer(serializers.Serializer):
    level = serializers.ChoiceField(LogLevel.choices, required=False)
    after = serializers.IntegerField(min_value=0, required=False)


class MissionStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    last_updated = serializers.DateTimeField(allow_null=True)


def max_log_batch() -> int:
    return settings.MISSIONS_LOG_BATCH_MAX
