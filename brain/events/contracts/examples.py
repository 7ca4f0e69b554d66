"""Example payloads and envelopes, from each payload model's fields.

Examples are deterministic, so a generated document only changes with a declaration.
"""

import re
import uuid
from typing import Any

from brain.events.contracts.schemas import payload_schema
from brain.events.models import SCHEMA_VERSION
from brain.events.registry import EventType

EXAMPLE_TIME = 1703001300.121
EXAMPLE_NAMESPACE = uuid.UUID("5b1d7c36-0f4e-4c55-9a3e-8b1f2f0c6a10")
EXAMPLE_ACTOR = "alice"
EXAMPLE_SEQ = 42

_QUOTED = re.compile(r'"([^"]*)"')
_ONE_WORD = re.compile(r"^[A-Za-z][\w-]*$")
_CHOICES = re.compile(r"^([A-Za-z][\w-]*)(?:, [A-Za-z][\w-]*)*,? or [A-Za-z][\w-]*$")
_KEYS = re.compile(r"\{([a-z_][a-z0-9_]*(?:, *[a-z_][a-z0-9_]*)*)\}")
_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?) *[-–] *(-?\d+(?:\.\d+)?)\b")


def _example_value(name: str, schema: dict[str, Any]) -> Any:
    """A plausible value for one field, from its schema, name and description.

    In order: the field's ``examples``, its default, ``const`` or ``enum``; then by
    JSON type. A string: a UUID for ``*_id``, else a quoted value, a single word or
    the first of a choice list in the description (``'"ok"'``, ``"PENDING"``,
    ``"debug, info or error"``), else the field's name. A number: a Unix time for
    ``*_at``, else the middle of a leading range (``"0-100"``). An object: the keys
    its description lists in braces (``"{linear_x, angular_z}"``).
    """
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        concrete = [b for b in branches if b.get("type") != "null"] or branches
        merged = {**concrete[0], "description": schema.get("description", "")}
        return _example_value(name, merged)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    description = schema.get("description", "").strip()
    if kind == "string":
        return _example_string(name, schema, description)
    if kind in ("number", "integer"):
        return _example_number(name, schema, description, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        return [_example_value(name, schema.get("items", {}))]
    if kind == "object":
        if "properties" in schema:
            return {
                key: _example_value(key, sub)
                for key, sub in schema["properties"].items()
            }
        values = schema.get("additionalProperties")
        values = values if isinstance(values, dict) else {"type": "string"}
        keys = _KEYS.search(description)
        names = [k.strip() for k in keys.group(1).split(",")] if keys else ["key"]
        return {key: _example_value(key, values) for key in names}
    return None


def _example_string(name: str, schema: dict[str, Any], description: str) -> str:
    if schema.get("format") == "uuid" or name.endswith("_id"):
        return str(uuid.uuid5(EXAMPLE_NAMESPACE, name))
    if schema.get("format") == "date-time":
        return "2023-12-19T15:55:00.121000Z"
    quoted = _QUOTED.search(description)
    if quoted:
        return quoted.group(1)
    if _ONE_WORD.match(description):
        return description
    choices = _CHOICES.match(description)
    if choices:
        return choices.group(1)
    return name


def _example_number(
    name: str, schema: dict[str, Any], description: str, kind: str
) -> int | float:
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if name.endswith("_at"):
        return EXAMPLE_TIME
    span = _RANGE.match(description)
    if span:
        return (float(span.group(1)) + float(span.group(2))) / 2
    return 0.5


def example_payload(event_type: EventType) -> dict[str, Any]:
    """An example payload: the model's ``json_schema_extra`` example if it has one,
    else one value per field (see ``_example_value``)."""
    schema = payload_schema(event_type)
    if schema.get("examples"):
        return dict(schema["examples"][0])
    return {
        name: _example_value(name, field)
        for name, field in schema.get("properties", {}).items()
    }


def example_envelope(event_type: EventType) -> dict[str, Any]:
    """One envelope of the type as a client receives it, around the example payload."""
    payload = example_payload(event_type)
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "producer": event_type.source,
        "source_module": event_type.source_module,
        "actor": EXAMPLE_ACTOR,
        "correlation_id": str(uuid.uuid5(EXAMPLE_NAMESPACE, "correlation_id")),
    }
    if event_type.durable:
        meta["seq"] = EXAMPLE_SEQ
    return {
        "id": str(uuid.uuid5(EXAMPLE_NAMESPACE, event_type.name)),
        "type": event_type.name,
        "source": event_type.source,
        "target": event_type.target_for(payload),
        "timestamp": round(EXAMPLE_TIME + 0.002, 3),
        "payload": payload,
        "meta": meta,
    }
