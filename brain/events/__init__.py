"""The Charter v1.0 event core: one door out for every event.

``emit()`` is the only code that writes the event log. Apps declare their event types
with ``declare()`` in their own ``events.py``; see ``brain/events/README.md``.
"""

from brain.events.registry import (
    EventType,
    Payload,
    declare,
    declare_subject,
    registered_types,
)


def emit(type: str, payload: dict, **kwargs):
    """Store one event in the current transaction and deliver it on commit."""
    from brain.events.publish import emit as _emit

    return _emit(type, payload, **kwargs)


def emit_many(items, **kwargs):
    """Store several ``(type, payload)`` events, delivered on commit."""
    from brain.events.publish import emit_many as _emit_many

    return _emit_many(items, **kwargs)


__all__ = [
    "EventType",
    "Payload",
    "declare",
    "declare_subject",
    "emit",
    "emit_many",
    "registered_types",
]
