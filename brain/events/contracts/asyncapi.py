"""The AsyncAPI 3.0.0 document of ``/ws/events/``."""

from typing import Any

from django.conf import settings

from brain import __version__
from brain.events.contracts.examples import example_envelope
from brain.events.contracts.schemas import (
    envelope_schema,
    retention_days,
    subject_rules,
)
from brain.events.registry import EventType, registered_types
from brain.events.socket_actions import socket_actions

ASYNCAPI_VERSION = "3.0.0"
WS_ADDRESS = "/ws/events/"


def _embedded(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema embedded in the AsyncAPI document (whose own format applies)."""
    return {k: v for k, v in schema.items() if k != "$schema"}


def _frame(
    name: str, title: str, summary: str, properties: dict, required: list
) -> dict:
    return {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "properties": properties,
            "required": required,
        },
    }


_SEQ = {"type": "integer", "minimum": 0}
_DETAIL = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_TYPES_PARAM = {
    "type": "string",
    "description": "comma-separated type patterns, `*` wildcard: "
    "`mission.*,credits.consumed`",
}
_SUBJECT_PARAM = {
    "type": "string",
    "pattern": "^[a-z]+_[A-Za-z0-9_.:-]{1,64}$",
    "description": "`mission_<id>`, `robot_<id>`, `agent_<id>`: events whose target "
    "is that subject or whose payload names that entity",
}
_SINCE_PARAM = {
    "type": "integer",
    "minimum": 0,
    "description": "a `seq`: first every matching stored event after it, in order, "
    "then live",
}

SERVER_FRAMES = {
    "subscribed": _frame(
        "subscribed",
        "Subscribed",
        "The filters in force, after connect or a subscribe frame; last_seq is the "
        "head of the log then.",
        {
            "control": {"const": "subscribed"},
            "last_seq": _SEQ,
            "types": {"type": "array", "items": {"type": "string"}},
            "subject": _NULLABLE_STRING,
            "replaying": {
                "const": True,
                "description": "present when stored events after `since` follow",
            },
        },
        ["control", "last_seq", "types", "subject"],
    ),
    "caught_up": _frame(
        "caught_up",
        "Caught up",
        "The replay asked for with since is over; live events follow.",
        {"control": {"const": "caught_up"}, "last_seq": _SEQ},
        ["control", "last_seq"],
    ),
    "reset": _frame(
        "reset",
        "Reset",
        "since is older than the oldest event kept, or newer than the log: refetch "
        "state over REST, then continue from last_seq.",
        {"control": {"const": "reset"}, "last_seq": _SEQ, "detail": _DETAIL},
        ["control", "last_seq", "detail"],
    ),
    "pong": _frame(
        "pong",
        "Pong",
        "The answer to ping; last_seq is the last seq this socket was sent or passed.",
        {"control": {"const": "pong"}, "last_seq": _SEQ},
        ["control", "last_seq"],
    ),
    "error": _frame(
        "error",
        "Error",
        "A bad frame or parameter. The socket stays open unless close names the "
        "close code that follows.",
        {
            "control": {"const": "error"},
            "detail": _DETAIL,
            "close": {"type": "integer", "enum": [4400, 4401, 4408]},
        },
        ["control", "detail"],
    ),
}
CLIENT_FRAMES = {
    "ping": _frame(
        "ping",
        "Ping",
        "Ask for a pong with the socket's position.",
        {"action": {"const": "ping"}},
        ["action"],
    ),
    "subscribe": _frame(
        "subscribe",
        "Subscribe",
        "Change the filters (at most 10 per 10 s). Without since, the socket "
        "continues from its position, so nothing is missed.",
        {
            "action": {"const": "subscribe"},
            "types": {
                "anyOf": [
                    _TYPES_PARAM,
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "null"},
                ]
            },
            "subject": {"anyOf": [_SUBJECT_PARAM, {"type": "null"}]},
            "since": {"anyOf": [_SINCE_PARAM, {"type": "null"}]},
        },
        ["action"],
    ),
}
CLOSE_CODES = {
    4400: "bad query parameters (after an error frame)",
    4401: "the token was deleted or the session ended while the socket was open",
    4408: "the client reads too slowly; reconnect with since=<last seq>",
    1009: "a frame over the server's 16 MiB limit",
}

_DOCUMENT_DESCRIPTION = """\
Charter v1.0 events of BRAiN Mission Control, live over one WebSocket, generated
from the event declarations (`brain/events/contracts/`).

**Point of view.** AsyncAPI 3 operations describe the application the document is
about. This document describes a *client* of `/ws/events/` (the dashboard, a robot's
control program, an agent): it **receives** events and control frames
(`receiveEvents`, `receiveControl`) and **sends** client frames (`sendControl`).

**Auth.** Non-browser clients send `Authorization: Token <key>` on the handshake;
browsers use their session cookie and an `Origin` listed in `ALLOWED_HOSTS`. A
refused handshake is HTTP 403. A client receives only the types whose read
permission it holds (`GET /api/events/types` lists them).

**Durable and live-only.** A durable event is stored in the log and carries
`meta.seq`; a live-only event (`x-live-only: true`) is delivered to the sockets
subscribed at that moment and never stored, so it has no `meta.seq` and no replay.

**No gaps, no duplicates.** Remember the highest `meta.seq` processed; reconnect with
`since=` that value; ignore an event whose `seq` is not greater.

**Close codes.** """ + "; ".join(f"`{code}` {why}" for code, why in CLOSE_CODES.items())


def _event_message(event_type: EventType) -> dict[str, Any]:
    days = retention_days(event_type)
    if event_type.durable:
        stored = f"Durable: stored in the log with `meta.seq`, kept {days} days."
    else:
        stored = "Live-only: never stored, no `meta.seq`, not replayed by `since`."
    description = " ".join(
        part
        for part in (
            f"When: {event_type.trigger}." if event_type.trigger else "",
            stored,
            f"Readers need `{event_type.read_permission}`.",
        )
        if part
    )
    app = event_type.source_module
    tags = [{"name": app}] + ([] if event_type.durable else [{"name": "live-only"}])
    return {
        "name": event_type.name,
        "title": event_type.name,
        "summary": event_type.description or event_type.name,
        "description": description,
        "contentType": "application/json",
        "tags": tags,
        "payload": _embedded(envelope_schema(event_type)),
        "examples": [
            {"name": "example", "payload": example_envelope(event_type)},
        ],
        "x-durable": event_type.durable,
        "x-live-only": not event_type.durable,
        "x-retention-days": days,
        "x-read-permission": event_type.read_permission,
        "x-target": event_type.target,
        "x-subjects": subject_rules(event_type),
    }


def asyncapi_document(host: str | None = None, secure: bool = False) -> dict:
    """The AsyncAPI 3.0.0 document of ``/ws/events/``: one message per event type,
    the control frames, the client frames and the query parameters."""
    types = sorted(registered_types().values(), key=lambda t: t.name)
    messages: dict[str, Any] = {t.name: _event_message(t) for t in types}
    server_frames, client_frames = dict(SERVER_FRAMES), dict(CLIENT_FRAMES)
    for action in socket_actions():
        client_frames[action.name] = _frame(
            action.name,
            action.name.capitalize(),
            action.summary,
            action.properties,
            list(action.required),
        )
        if action.reply:
            server_frames[action.reply] = _frame(
                action.reply,
                action.reply.replace("_", " ").capitalize(),
                action.reply_summary,
                action.reply_properties,
                ["control"],
            )
    messages.update(server_frames)
    messages.update(client_frames)

    def refs(names) -> list[dict[str, str]]:
        return [{"$ref": "#/channels/events/messages/" + name} for name in names]

    channel_ref = {"$ref": "#/channels/events"}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "BRAiN Mission Control events",
            "version": __version__,
            "description": _DOCUMENT_DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "brain": {
                "host": host or "localhost:8000",
                "protocol": "wss" if secure else "ws",
                "description": "The BRAiN server that served this document.",
                "security": [
                    {"$ref": "#/components/securitySchemes/token"},
                    {"$ref": "#/components/securitySchemes/session"},
                ],
            }
        },
        "channels": {
            "events": {
                "address": WS_ADDRESS,
                "title": "Charter events",
                "description": "Event frames are exactly the envelope (seven keys); "
                "control frames carry a `control` key. The query parameters "
                "`types`, `subject` and `since` are in the `ws` binding's `query` "
                "(AsyncAPI channel parameters are for the address only). With the "
                "WebSocket subprotocol `cloudevents.json` (the CloudEvents WebSocket "
                "binding) each event frame is instead the event as a CloudEvent 1.0 "
                "(mapping: brain/events/README.md); control frames are unchanged.",
                "servers": [{"$ref": "#/servers/brain"}],
                "messages": {
                    name: {"$ref": "#/components/messages/" + name} for name in messages
                },
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "query": {
                            "type": "object",
                            "properties": {
                                "types": _TYPES_PARAM,
                                "subject": _SUBJECT_PARAM,
                                "since": _SINCE_PARAM,
                            },
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
            }
        },
        "operations": {
            "receiveEvents": {
                "action": "receive",
                "channel": channel_ref,
                "title": "Receive events",
                "summary": "The events the client may read that match its filters.",
                "messages": refs(t.name for t in types),
            },
            "receiveControl": {
                "action": "receive",
                "channel": channel_ref,
                "title": "Receive control frames",
                "summary": "subscribed, caught_up, reset, pong and error, and the "
                "answers to the apps' actions.",
                "messages": refs(server_frames),
            },
            "sendControl": {
                "action": "send",
                "channel": channel_ref,
                "title": "Send client frames",
                "summary": "ping, subscribe to change the filters, or an app's "
                "action (e.g. state, robot telemetry).",
                "messages": refs(client_frames),
            },
        },
        "components": {
            "messages": messages,
            "securitySchemes": {
                "token": {
                    "type": "httpApiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "`Token <key>` on the handshake.",
                },
                "session": {
                    "type": "httpApiKey",
                    "name": settings.SESSION_COOKIE_NAME,
                    "in": "cookie",
                    "description": "A browser session; the Origin must be allowed.",
                },
            },
        },
    }
