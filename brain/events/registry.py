"""Every event type, declared once: the contract every document is generated from.

A declaration names the type, its producer, its typed payload (a ``Payload`` model:
pydantic, strict, no extra keys), its target rule and the subjects it is about, how
long the log keeps it (or that it is live-only and never stored), and the Django
permission a reader needs to receive it. ``emit()`` refuses a payload that does not
match; ``EVENTS.md``, the JSON Schemas, the AsyncAPI document and the OpenAPI
envelope are generated from these declarations (``brain/events/contracts/``).
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
PERMISSION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
# A subject rule: ``<kind>_{<payload field>}``, e.g. ``mission_{mission_id}``.
SUBJECT_RULE = re.compile(r"^([a-z]+)_\{([a-z_][a-z0-9_]*)\}$")


class EventDeclarationError(Exception):
    """An undeclared type, a payload that does not match, or a bad declaration."""


class Payload(BaseModel):
    """The base of every payload model: strict types, no extra or missing keys.

    Fields are plain JSON values (strings, numbers, booleans, null, and flat lists or
    objects of those): ids and values, never whole objects.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True)
class EventType:
    name: str
    source: str
    source_module: str
    payload: type[Payload]
    target: str | None
    subjects: tuple[str, ...]
    durable: bool
    retention_days: int | None
    read_permission: str
    description: str = ""
    trigger: str = ""

    @property
    def payload_fields(self) -> tuple[str, ...]:
        return tuple(self.payload.model_fields)

    def target_for(self, payload: dict[str, Any]) -> str | None:
        """The target rule (e.g. ``"mission_{mission_id}"``) applied to a payload."""
        return self.target.format(**payload) if self.target else None

    def subjects_for(self, target: str | None, payload: dict[str, Any]) -> list[str]:
        """What the event is about: its target and each declared subject it names."""
        subjects = [target] if target else []
        for rule in self.subjects:
            kind, field = SUBJECT_RULE.match(rule).groups()
            value = payload.get(field)
            if value not in (None, ""):
                subject = f"{kind}_{value}"
                if subject not in subjects:
                    subjects.append(subject)
        return subjects

    def check(self, payload: dict[str, Any]) -> None:
        if not isinstance(payload, dict):
            raise EventDeclarationError(f"{self.name}: payload must be a dict")
        try:
            self.payload.__pydantic_validator__.validate_python(payload)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'payload'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            raise EventDeclarationError(
                f"{self.name}: payload does not match its declaration ({problems})"
            ) from None


_REGISTRY: dict[str, EventType] = {}


def declare(
    name: str,
    *,
    source: str,
    payload: type[Payload],
    read_permission: str,
    target: str | None = None,
    subjects: tuple[str, ...] | list[str] = (),
    retention_days: int | None = None,
    live_only: bool = False,
    description: str = "",
    trigger: str = "",
) -> EventType:
    """Declare an event type once; declaring the same name differently is an error.

    A durable type (the default) is stored in the log with a ``meta.seq`` and kept
    ``retention_days`` (``EVENTS_RETENTION_DAYS`` when None); a ``live_only`` type is
    delivered to the sockets subscribed at that moment and never stored.
    """
    if not TYPE_NAME.match(name):
        raise EventDeclarationError(f"{name!r} is not a dotted event type name")
    if not (isinstance(payload, type) and issubclass(payload, Payload)):
        raise EventDeclarationError(f"{name}: payload must be a Payload model")
    if not PERMISSION.match(read_permission):
        raise EventDeclarationError(
            f"{name}: read_permission must be '<app_label>.<codename>'"
        )
    for rule in subjects:
        match = SUBJECT_RULE.match(rule)
        if not match or match.group(2) not in payload.model_fields:
            raise EventDeclarationError(
                f"{name}: subject rule {rule!r} must be '<kind>_{{<payload field>}}'"
            )
    if live_only and retention_days is not None:
        raise EventDeclarationError(f"{name}: a live-only type has no retention")
    if retention_days is not None and retention_days < 1:
        raise EventDeclarationError(f"{name}: retention_days must be at least 1")
    event_type = EventType(
        name=name,
        source=source,
        # The producing module: "missions_service" -> "missions".
        source_module=source.removesuffix("_service"),
        payload=payload,
        target=target,
        subjects=tuple(subjects),
        durable=not live_only,
        retention_days=retention_days,
        read_permission=read_permission,
        description=description,
        trigger=trigger,
    )
    existing = _REGISTRY.get(name)
    if existing is not None and existing != event_type:
        raise EventDeclarationError(f"{name} is already declared differently")
    _REGISTRY[name] = event_type
    return event_type


@dataclass(frozen=True)
class SubjectKind:
    """What follows ``<kind>_`` in a subject: ids of that kind match ``pattern``."""

    kind: str
    pattern: str
    rule: str
    example: str

    def accepts(self, ident: str) -> bool:
        return re.fullmatch(self.pattern, ident) is not None


_SUBJECT_KINDS: dict[str, SubjectKind] = {}


def declare_subject(kind: str, *, pattern: str, rule: str, example: str) -> SubjectKind:
    """Declare a subject kind (``mission``, ``robot``, ...) and the shape of its ids,
    so a filter naming a malformed subject is refused instead of matching nothing."""
    if not re.fullmatch(r"[a-z]+", kind):
        raise EventDeclarationError(f"subject kind {kind!r} must be lowercase letters")
    subject_kind = SubjectKind(kind, pattern, rule, example)
    if not subject_kind.accepts(example):
        raise EventDeclarationError(f"{kind}: the example {example!r} does not match")
    existing = _SUBJECT_KINDS.get(kind)
    if existing is not None and existing != subject_kind:
        raise EventDeclarationError(f"subject kind {kind} is already declared")
    _SUBJECT_KINDS[kind] = subject_kind
    return subject_kind


def subject_kinds() -> dict[str, SubjectKind]:
    return dict(_SUBJECT_KINDS)


def used_subject_kinds() -> set[str]:
    """The kinds the declared types' targets and subject rules name."""
    kinds = set()
    for event_type in _REGISTRY.values():
        for rule in (event_type.target, *event_type.subjects):
            match = SUBJECT_RULE.match(rule or "")
            if match:
                kinds.add(match.group(1))
    return kinds


def get(name: str) -> EventType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise EventDeclarationError(f"undeclared event type {name!r}") from None


def registered_types() -> dict[str, EventType]:
    return dict(_REGISTRY)


def readable_types(user) -> frozenset[str]:
    """The types ``user`` may receive: those whose read permission it holds."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(_REGISTRY)
    held = user.get_all_permissions()
    return frozenset(n for n, t in _REGISTRY.items() if t.read_permission in held)
