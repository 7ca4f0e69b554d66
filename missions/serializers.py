import functools
import re
from collections.abc import Iterable

from django.conf import settings
from rest_framework import serializers

from brain.api.fields import BoundedJSONField, StrictUUIDField, json_size
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


def _too_large(data: dict) -> bool:
    return json_size(data) > settings.API_JSON_FIELD_MAX_BYTES


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
            if type(data) is not dict or (data and _too_large(data)):
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


def log_entries_data(
    entries: Iterable[MissionLog], *, q: str | None = None
) -> list[dict]:
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
        item = {
            "id": entry.id,
            "timestamp": text,
            "level": level_field.to_representation(entry.level),
            "message": str(entry.message),
            "data": entry.data,
        }
        if q:
            item["matches"] = find_matches(item["message"], q)
        out.append(item)
    return out


class FoundLogEntrySerializer(LogEntrySerializer):
    matches = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        required=False,
        help_text="with ``q``: where the text occurs in ``message``, as "
        "[start, end) character offsets",
    )

    class Meta(LogEntrySerializer.Meta):
        fields = [*LogEntrySerializer.Meta.fields, "matches"]
        read_only_fields = fields


class MissionLogPageSerializer(serializers.Serializer):
    mission_id = serializers.UUIDField()
    count = serializers.IntegerField(help_text="lines matching the filters, in all")
    next = serializers.URLField(
        allow_null=True, help_text="the next page, or the lines after this one"
    )
    previous = serializers.URLField(
        allow_null=True, help_text="the previous page, or the older lines"
    )
    log = FoundLogEntrySerializer(many=True)


class LevelsField(serializers.CharField):
    """``level=warning`` or ``level=warning,error``: any of these levels."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        levels = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [level for level in levels if level not in LogLevel.values]
        if unknown or not levels:
            raise serializers.ValidationError(
                f"one or more of {', '.join(LogLevel.values)}, comma-separated"
            )
        return levels


class MissionLogQuerySerializer(serializers.Serializer):
    level = LevelsField(
        required=False,
        help_text="only these levels: one, or several comma-separated "
        "(debug, info, warning, error)",
    )
    after = serializers.IntegerField(
        min_value=0, required=False, help_text="only lines with a larger id"
    )
    before = serializers.IntegerField(
        min_value=1, required=False, help_text="only lines with a smaller id"
    )
    q = serializers.CharField(
        required=False,
        max_length=200,
        trim_whitespace=False,
        help_text="only lines whose message contains this text (any case); each "
        "line then says where (`matches`)",
    )
    last = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        help_text="the newest N lines (of those before `before`), oldest first; "
        "`previous` links to the older ones. Without it, the log is paged from "
        "its start with `page` and `page_size`",
    )


def find_matches(message: str, q: str) -> list[list[int]]:
    """Where ``q`` occurs in ``message``, ignoring case: [start, end) pairs."""
    haystack, needle = message.casefold(), q.casefold()
    if len(haystack) != len(message) or not needle:
        # Case folding changed the length (e.g. "ß"): fall back to lower().
        haystack, needle = message.lower(), q.lower()
    found, start = [], haystack.find(needle)
    while start != -1 and needle:
        found.append([start, start + len(needle)])
        start = haystack.find(needle, start + len(needle))
    return found


class MissionStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    last_updated = serializers.DateTimeField(allow_null=True)


def max_log_batch() -> int:
    return settings.MISSIONS_LOG_BATCH_MAX
