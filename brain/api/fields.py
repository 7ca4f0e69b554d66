"""Strict input fields: what the OpenAPI schema says, nothing more lenient.

DRF's own fields are generous with what they accept: ``UUIDField`` takes an
integer, ``false`` (the all-zero UUID), ``urn:uuid:...``, braces, and digits of any
script (Python's ``int()`` reads fullwidth and Arabic-Indic digits); ``JSONField``
takes a document of any size, which every list then returns. These refuse what the
schema does not allow, with a 400 that names the field.
"""

import json
import re
import uuid

from django.conf import settings
from rest_framework import serializers

UUID_TEXT = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    re.ASCII | re.IGNORECASE,
)


def parse_uuid(value: object) -> uuid.UUID:
    """A UUID written as the schema's ``format: uuid`` says (36 characters, ASCII
    hex and hyphens). Raises ``ValueError`` for anything else."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not UUID_TEXT.fullmatch(value):
        raise ValueError(f"{value!r} is not a UUID")
    return uuid.UUID(value)


class StrictUUIDField(serializers.UUIDField):
    """A UUID as a string of the canonical form only."""

    def to_internal_value(self, data):
        try:
            return parse_uuid(data)
        except ValueError:
            self.fail("invalid", value=data)


def json_size(value: object) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: what storing it costs."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


class MaxJSONBytesValidator:
    """A JSON value of at most ``API_JSON_FIELD_MAX_BYTES`` (read when it runs)."""

    def __call__(self, value) -> None:
        limit = settings.API_JSON_FIELD_MAX_BYTES
        size = json_size(value)
        if size > limit:
            raise serializers.ValidationError(
                f"at most {limit} bytes of JSON; this is {size} bytes"
            )


class BoundedJSONField(serializers.JSONField):
    """``JSONField`` with a size limit (``API_JSON_FIELD_MAX_BYTES``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(MaxJSONBytesValidator())
