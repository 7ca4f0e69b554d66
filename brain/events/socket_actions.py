"""Actions apps offer on ``/ws/events/`` besides ``ping`` and ``subscribe``.

An app registers a handler for an action name (``hardware`` registers ``state``,
robot telemetry); the core names no app. A frame ``{"action": <name>, "ref": ...,
...}`` is handed to the handler with the socket's user; the socket answers it with
the handler's reply as a control frame carrying the same ``ref``, or with
``{"control": "error", "ref": ..., "detail": ...}`` when the handler refuses it
(``ActionRefused``). The socket stays open either way, and frames are answered as
they complete, so a client may send many before the first answer.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, dict], Awaitable[dict]]
MAX_REF_LENGTH = 100


@dataclass(frozen=True)
class SocketAction:
    """An action and its contract, for the AsyncAPI document: the client frame's
    properties and the reply frame (``reply``: its ``control`` name)."""

    name: str
    handler: Handler
    summary: str = ""
    properties: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()
    reply: str = ""
    reply_summary: str = ""
    reply_properties: dict = field(default_factory=dict)


_ACTIONS: dict[str, SocketAction] = {}


class ActionRefused(Exception):
    """The frame is refused; ``detail`` says why, ``extra`` adds fields."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


def register_action(action: SocketAction) -> None:
    if action.name in ("ping", "subscribe"):
        raise ValueError(f"{action.name!r} is the core's own action")
    existing = _ACTIONS.get(action.name)
    if existing is not None and existing != action:
        raise ValueError(f"socket action {action.name!r} is already registered")
    _ACTIONS[action.name] = action


def action_handler(name: Any) -> Handler | None:
    action = _ACTIONS.get(name) if isinstance(name, str) else None
    return action.handler if action else None


def registered_actions() -> tuple[str, ...]:
    return tuple(sorted(_ACTIONS))


def socket_actions() -> list[SocketAction]:
    return [_ACTIONS[name] for name in sorted(_ACTIONS)]


def check_ref(ref: Any) -> None:
    """A client's ``ref``: a string of at most 100 characters or an integer."""
    if ref is None:
        return
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise ActionRefused("ref: expected a string or an integer")
    if isinstance(ref, str) and len(ref) > MAX_REF_LENGTH:
        raise ActionRefused(f"ref: at most {MAX_REF_LENGTH} characters")
