from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from brain.api.fields import StrictUUIDField
from missions.serializers import MissionSerializer
from supervisor.models import (
    AGENT_ID_PATTERN,
    Agent,
    AgentControl,
    AgentState,
    validate_capabilities,
    validate_meta,
)
from supervisor.services import HEARTBEAT_STATES
from supervisor.transitions import CONTROL_ACTIONS


def _django_validator(validator):
    """A model validator as a DRF one, so both layers share the rules."""

    def validate(value):
        try:
            validator(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    return validate


class AgentSerializer(serializers.ModelSerializer):
    """An agent as shown: ``state`` is what it counts as now (offline once its
    heartbeat window has passed, even before the offline check recorded it)."""

    state = serializers.SerializerMethodField()
    current_mission = serializers.UUIDField(
        source="current_mission_id",
        read_only=True,
        allow_null=True,
        help_text="the RUNNING mission assigned to the agent (by a claim), or null",
    )

    class Meta:
        model = Agent
        fields = [
            "agent_id",
            "name",
            "role",
            "capabilities",
            "state",
            "last_heartbeat",
            "current_mission",
            "meta",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(AgentState.choices))
    def get_state(self, agent: Agent) -> str:
        annotated = agent.__dict__.get("effective_state")
        return annotated or agent.effective_state_at(timezone.now())


class AgentControlRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentControl
        fields = ["action", "reason", "actor", "old_state", "new_state", "at"]
        read_only_fields = fields


class AgentDetailSerializer(AgentSerializer):
    """One agent, with the missions it holds and the last control action taken."""

    missions = MissionSerializer(
        source="held_missions",
        many=True,
        read_only=True,
        help_text="the RUNNING missions it holds",
    )
    last_control = AgentControlRecordSerializer(read_only=True, allow_null=True)

    class Meta(AgentSerializer.Meta):
        fields = [*AgentSerializer.Meta.fields, "missions", "last_control"]
        read_only_fields = fields


class ClaimSerializer(serializers.Serializer):
    agent_id = serializers.RegexField(
        AGENT_ID_PATTERN,
        max_length=64,
        required=False,
        help_text="the claiming agent; may be left out with the agent's own token",
    )


class AgentTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="send as Authorization: Token <token>; shown only now"
    )


class AgentRegisterSerializer(serializers.Serializer):
    agent_id = serializers.RegexField(AGENT_ID_PATTERN, max_length=64)
    name = serializers.CharField(max_length=200)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    capabilities = serializers.JSONField(
        required=False, validators=[_django_validator(validate_capabilities)]
    )
    meta = serializers.JSONField(
        required=False, validators=[_django_validator(validate_meta)]
    )


class AgentHeartbeatSerializer(serializers.Serializer):
    state = serializers.ChoiceField(HEARTBEAT_STATES, required=False)
    current_mission_id = StrictUUIDField(required=False, allow_null=True)


class AgentControlSerializer(serializers.Serializer):
    agent_id = serializers.RegexField(AGENT_ID_PATTERN, max_length=64)
    action = serializers.ChoiceField(list(CONTROL_ACTIONS))
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000
    )


class AgentControlResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    agent = AgentSerializer()


class SupervisorHealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    timestamp = serializers.FloatField()


class SupervisorStatusSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="healthy, degraded or offline")
    timestamp = serializers.FloatField()
    total_missions = serializers.IntegerField()
    pending_missions = serializers.IntegerField()
    running_missions = serializers.IntegerField()
    completed_missions = serializers.IntegerField()
    failed_missions = serializers.IntegerField()
    cancelled_missions = serializers.IntegerField()
    agent_count = serializers.IntegerField()
    agents = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"by state: {AgentState.values}"
    )
    components = serializers.DictField(
        child=serializers.CharField(),
        help_text='database, cache, channel_layer: "ok" or "down: <why>"',
    )
