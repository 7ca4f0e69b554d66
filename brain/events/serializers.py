from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

LATEST = "latest"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "enum": [LATEST]},
        ],
        "description": "A `seq`: the events after it. `latest`: none, only the "
        "log's head as `last_seq`, to follow from now. A `seq` past the head is a "
        "409.",
    }
)
class CursorField(serializers.Field):
    """A non-negative ``seq``, or ``"latest"``."""

    default_error_messages = {
        "invalid": f'expected a non-negative integer or "{LATEST}"',
    }

    def to_internal_value(self, data):
        if data == LATEST:
            return LATEST
        if isinstance(data, bool):
            self.fail("invalid")
        text = str(data)
        if not (text.isascii() and text.isdigit()):
            self.fail("invalid")
        return int(text)

    def to_representation(self, value):
        return value


class EnvelopeMetaSerializer(serializers.Serializer):
    """The meta of a Charter v1.0 envelope (documentation only)."""

    schema_version = serializers.IntegerField(
        min_value=1, max_value=1, help_text="Always 1 (Charter v1.0)."
    )
    producer = serializers.CharField(
        help_text="The source service, e.g. `missions_service`."
    )
    source_module = serializers.CharField(
        help_text="The producing module, e.g. `missions`."
    )
    actor = serializers.CharField(
        allow_null=True,
        help_text="The signed-in user of the request; null for the system.",
    )
    correlation_id = serializers.CharField(
        help_text="The request's X-Request-ID, shared by every event of the request."
    )
    seq = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Position in the event log (the cursor of `after` and `since`). "
        "Durable events only: a live-only event has none.",
    )


class EnvelopeSerializer(serializers.Serializer):
    """A Charter v1.0 envelope (documentation only: envelopes are rendered as-is)."""

    id = serializers.UUIDField()
    type = serializers.CharField(
        help_text="A declared type: see `GET /api/events/types`."
    )
    source = serializers.CharField()
    target = serializers.CharField(allow_null=True)
    timestamp = serializers.FloatField(help_text="Unix seconds.")
    payload = serializers.DictField(
        help_text="The type's payload: its JSON Schema is in `GET /api/events/types`."
    )
    meta = EnvelopeMetaSerializer()


class EventPageSerializer(serializers.Serializer):
    results = EnvelopeSerializer(many=True)
    last_seq = serializers.IntegerField()


class EventQuerySerializer(serializers.Serializer):
    after = CursorField(default=0)
    types = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=100)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class EventTypeSerializer(serializers.Serializer):
    """One declared event type, as its declaration describes it."""

    name = serializers.CharField()
    source = serializers.CharField()
    source_module = serializers.CharField()
    description = serializers.CharField()
    trigger = serializers.CharField()
    durable = serializers.BooleanField(
        help_text="False: live-only, never stored, no `meta.seq`."
    )
    retention_days = serializers.IntegerField(
        allow_null=True, help_text="Days the log keeps it; null for a live-only type."
    )
    target = serializers.CharField(
        allow_null=True, help_text="The target rule, e.g. `mission_{mission_id}`."
    )
    subjects = serializers.ListField(
        child=serializers.CharField(),
        help_text="What a `subject=` filter matches: the target rule and the "
        "subject rules.",
    )
    read_permission = serializers.CharField(
        help_text="The Django permission a reader needs to receive it."
    )
    payload_schema = serializers.DictField(
        help_text="The payload's JSON Schema (draft 2020-12)."
    )


class CloudEventSerializer(serializers.Serializer):
    """A Charter event as a CloudEvent 1.0 (documentation only; the mapping is in
    ``brain/events/README.md``)."""

    specversion = serializers.CharField(help_text="Always 1.0.")
    id = serializers.UUIDField(help_text="The envelope's id.")
    source = serializers.CharField(help_text="`/brain/<source_module>`.")
    type = serializers.CharField(help_text="The Charter type.")
    subject = serializers.CharField(required=False, help_text="The target.")
    time = serializers.DateTimeField(help_text="RFC 3339, UTC.")
    datacontenttype = serializers.CharField(help_text="application/json")
    data = serializers.DictField(help_text="The payload.")
    seq = serializers.IntegerField(required=False, help_text="meta.seq")
    actor = serializers.CharField(required=False, help_text="meta.actor")
    correlationid = serializers.CharField(
        required=False, help_text="meta.correlation_id"
    )
    schemaversion = serializers.IntegerField(help_text="meta.schema_version")
