"""JSON Schemas (draft 2020-12) of each declared type's payload and envelope."""

import re
from typing import Any

from django.conf import settings

from brain.events.models import SCHEMA_VERSION
from brain.events.registry import EventType

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_KEYS = ("id", "type", "source", "target", "timestamp", "payload", "meta")


class ContractError(Exception):
    """A declaration a contract cannot be generated from (e.g. a recursive payload)."""


def _inline_refs(schema: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``schema`` with every ``#/$defs/...`` reference replaced by its definition.

    Payloads are flat, so this rarely does anything; it keeps each schema whole
    where it is embedded (an envelope, an AsyncAPI message).
    """
    if isinstance(schema, list):
        return [_inline_refs(item, defs, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in seen:
            raise ContractError(f"recursive payload model {name!r}")
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**_inline_refs(defs[name], defs, (*seen, name)), **rest}
    return {
        key: _inline_refs(value, defs, seen)
        for key, value in schema.items()
        if key != "$defs"
    }


def payload_schema(event_type: EventType) -> dict[str, Any]:
    """The payload model's JSON Schema, whole (no ``$ref``), to embed anywhere."""
    schema = event_type.payload.model_json_schema()
    return _inline_refs(schema, schema.get("$defs", {}))


def json_schema(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the type's payload, from its model."""
    return {"$schema": JSON_SCHEMA_DIALECT, **payload_schema(event_type)}


def _rule_pattern(rule: str) -> str:
    """``"mission_{mission_id}"`` -> ``"^mission_.+$"``."""
    parts = re.split(r"\{[a-z_][a-z0-9_]*\}", rule)
    return "^" + ".+".join(re.escape(part) for part in parts) + "$"


def meta_schema(event_type: EventType) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "schema_version": {"const": SCHEMA_VERSION},
        "producer": {"const": event_type.source},
        "source_module": {"const": event_type.source_module},
        "actor": {
            "type": ["string", "null"],
            "description": "the signed-in user of the request; null for the system",
        },
        "correlation_id": {
            "type": "string",
            "description": "the request's X-Request-ID, shared by its events",
        },
    }
    required = list(properties)
    if event_type.durable:
        properties["seq"] = {
            "type": "integer",
            "minimum": 1,
            "description": "position in the event log; resume with since=<seq>",
        }
        required.append("seq")
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def envelope_schema(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole Charter v1.0 envelope of the type.

    A durable type's ``meta`` requires ``seq``; a live-only type's has none.
    """
    if event_type.target is None:
        target = {"type": "null"}
    else:
        target = {
            "type": "string",
            "pattern": _rule_pattern(event_type.target),
            "description": f"the rule {event_type.target} applied to the payload",
        }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": f"{event_type.name} envelope",
        "description": event_type.description,
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "type": {"const": event_type.name},
            "source": {"const": event_type.source},
            "target": target,
            "timestamp": {"type": "number", "description": "Unix seconds"},
            "payload": payload_schema(event_type),
            "meta": meta_schema(event_type),
        },
        "required": list(ENVELOPE_KEYS),
        "additionalProperties": False,
    }


def retention_days(event_type: EventType) -> int | None:
    """How many days the log keeps the type's events; None for a live-only type."""
    if not event_type.durable:
        return None
    return event_type.retention_days or settings.EVENTS_RETENTION_DAYS


def type_contract(event_type: EventType) -> dict[str, Any]:
    """One type as ``GET /api/events/types`` lists it."""
    return {
        "name": event_type.name,
        "source": event_type.source,
        "source_module": event_type.source_module,
        "description": event_type.description,
        "trigger": event_type.trigger,
        "durable": event_type.durable,
        "retention_days": retention_days(event_type),
        "target": event_type.target,
        "subjects": subject_rules(event_type),
        "read_permission": event_type.read_permission,
        "payload_schema": json_schema(event_type),
    }


def subject_rules(event_type: EventType) -> list[str]:
    """What a ``subject=`` filter matches: the target rule and each subject rule."""
    rules = [event_type.target] if event_type.target else []
    return rules + [rule for rule in event_type.subjects if rule not in rules]
