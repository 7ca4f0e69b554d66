from django.conf import settings
from rest_framework import serializers

from missions.models import (
    LogLevel,
    Mission,
    MissionLog,
    MissionPriority,
    MissionStatus,
)


def _json_object(value):
    if not isinstance(value, dict):
        raise serializers.ValidationError("must be a JSON object")
    return value


class MissionSerializer(serializers.ModelSerializer):
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(MissionStatus.choices), read_only=True
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
    id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10000
    )
    data = serializers.JSONField(
        required=False, default=dict, validators=[_json_object]
    )
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
    data = serializers.JSONField(
        required=False, default=dict, validators=[_json_object]
    )


class LogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = MissionLog
        fields = ["id", "timestamp", "level", "message", "data"]
        read_only_fields = fields


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


class ClaimSerializer(serializers.Serializer):
    agent_id = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,64}$", max_length=64)


def max_log_batch() -> int:
    return settings.MISSIONS_LOG_BATCH_MAX
