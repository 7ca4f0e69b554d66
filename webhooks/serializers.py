"""Shapes of the webhooks API: endpoints (the secret only when it is new), attempts,
replays."""

from rest_framework import serializers

from webhooks.models import Attempt, Endpoint, EndpointFormat


class EndpointSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "description",
            "types",
            "subject",
            "format",
            "enabled",
            "state",
            "owner",
            "cursor",
            "failures",
            "failing_seq",
            "first_failure_at",
            "next_attempt_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="whsec_...: shown in full only when created or rotated.",
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True
    )
    types = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=20,
        help_text="Patterns as on the socket (`mission.*`); every durable type the "
        "owner may read when empty or absent.",
    )
    subject = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    format = serializers.ChoiceField(choices=EndpointFormat.choices, required=False)
    enabled = serializers.BooleanField(required=False)


class ReplayInputSerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0)
    until = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        if attrs["until"] <= attrs["after"]:
            raise serializers.ValidationError({"until": ["must be greater than after"]})
        return attrs


class ReplaySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.UUIDField(source="endpoint_id")
    after = serializers.IntegerField()
    until = serializers.IntegerField()


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = [
            "id",
            "started_at",
            "event_id",
            "seq",
            "event_type",
            "number",
            "replay",
            "status_code",
            "outcome",
            "latency_ms",
            "error",
            "response_excerpt",
            "next_attempt_at",
        ]
        read_only_fields = fields
