from rest_framework import serializers


class EnvelopeSerializer(serializers.Serializer):
    """A Charter v1.0 envelope (documentation only: envelopes are rendered as-is)."""

    id = serializers.UUIDField()
    type = serializers.CharField()
    source = serializers.CharField()
    target = serializers.CharField(allow_null=True)
    timestamp = serializers.FloatField()
    payload = serializers.DictField()
    meta = serializers.DictField()


class EventPageSerializer(serializers.Serializer):
    results = EnvelopeSerializer(many=True)
    last_seq = serializers.IntegerField()


class EventQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
    types = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=100)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
