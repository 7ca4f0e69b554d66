"""One structured log line per security decision: what, who, from where.

Lockouts, revoked sockets, refused origins and slow-socket closes each write a
line ``security {"event": ..., "user": ..., "client": ..., ...}`` to the
``brain.security`` logger, one JSON object a log pipeline can parse and alert on.
"""

import json
import logging

logger = logging.getLogger("brain.security")


def security_event(
    event: str, *, user: object = None, client: object = None, **details: object
) -> None:
    record = {"event": event, "user": user, "client": client, **details}
    logger.warning("security %s", json.dumps(record, default=str))


def scope_client(scope) -> str | None:
    """``host:port`` of an ASGI connection's client, as the server saw it."""
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None
