"""Every event type, declared once: its source, target rule and payload fields."""

import re
from dataclasses import dataclass
from typing import Any

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

# Payload fields that name an entity; an event is about that entity's subject
# (``mission_<id>``, ``robot_<id>``, ``agent_<id>``) as well as about its target.
SUBJECT_FIELDS = {"mission_id": "mission", "robot_id": "robot", "agent_id": "agent"}


class EventDeclarationError(Exception):
    """An undeclared type, or a payload that does not match its declaration."""


@dataclass(frozen=True)
class EventType:
    name: str
    source: str
    source_module: str
    payload_fields: tuple[str, ...]
    target: str | None
    description: str = ""

    def target_for(self, payload: dict[str, Any]) -> str | None:
        """The target rule (e.g. ``"mission_{mission_id}"``) applied to a payload."""
        return self.target.format(**payload) if self.target else None

    def check(self, payload: dict[str, Any]) -> None:
        if not isinstance(payload, dict):
            raise EventDeclarationError(f"{self.name}: payload must be a dict")
        given, declared = set(payload), set(self.payload_fields)
        if given != declared:
            raise EventDeclarationError(
                f"{self.name}: payload fields {sorted(given)} do not match the "
                f"declared {sorted(declared)} (missing {sorted(declared - given)}, "
                f"unexpected {sorted(given - declared)})"
            )
        for field, value in payload.items():
            if not _plain(value):
                raise EventDeclarationError(
                    f"{self.name}: payload field {field!r} must be plain JSON: a "
                    "string, number, boolean, null, or a flat list or object of "
                    f"those, not {type(value).__name__} (ids and values, never "
                    "whole objects)"
                )


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """A JSON scalar, or a flat list or object of scalars (e.g. a velocity)."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list | tuple):
        return all(isinstance(item, _SCALARS) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and isinstance(item, _SCALARS)
            for key, item in value.items()
        )
    return False


_REGISTRY: dict[str, EventType] = {}


def declare(
    name: str,
    *,
    source: str,
    payload: tuple[str, ...] | list[str],
    target: str | None = None,
    description: str = "",
) -> EventType:
    """Declare an event type once; declaring the same name differently is an error."""
    if not TYPE_NAME.match(name):
        raise EventDeclarationError(f"{name!r} is not a dotted event type name")
    event_type = EventType(
        name=name,
        source=source,
        # The producing module: "missions_service" -> "missions".
        source_module=source.removesuffix("_service"),
        payload_fields=tuple(payload),
        target=target,
        description=description,
    )
    existing = _REGISTRY.get(name)
    if existing is not None and existing != event_type:
        raise EventDeclarationError(f"{name} is already declared differently")
    _REGISTRY[name] = event_type
    return event_type


def get(name: str) -> EventType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise EventDeclarationError(f"undeclared event type {name!r}") from None


def registered_types() -> dict[str, EventType]:
    return dict(_REGISTRY)


def subjects_of(target: str | None, payload: dict[str, Any]) -> list[str]:
    """The subjects an event is about: its target and each entity its payload names."""
    subjects = [target] if target else []
    for field, kind in SUBJECT_FIELDS.items():
        value = payload.get(field)
        if value not in (None, ""):
            subject = f"{kind}_{value}"
            if subject not in subjects:
                subjects.append(subject)
    return subjects
