"""Charter envelopes as CloudEvents 1.0 (JSON event format), one mapping for every path.

The REST history (``Accept: application/cloudevents-batch+json``), the WebSocket
(subprotocol ``cloudevents.json``), Server-Sent Events (``?format=cloudevents``) and
webhook endpoints (``"format": "cloudevents"``) all call ``to_cloudevent``. The mapping
is documented in ``brain/events/README.md``.
"""

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

SPEC_VERSION = "1.0"
# application/cloudevents+json: one event (structured mode, a webhook body);
# application/cloudevents-batch+json: a JSON array of events (the REST history).
MEDIA_TYPE = "application/cloudevents+json"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"
# The CloudEvents WebSocket binding's subprotocol for the JSON format.
WEBSOCKET_SUBPROTOCOL = "cloudevents.json"

_COMPACT = (",", ":")


def source_for(source_module: str) -> str:
    """The ``source`` URI reference of a producing module: ``/brain/missions``."""
    return f"{settings.CLOUDEVENTS_SOURCE_PREFIX.rstrip('/')}/{source_module}"


def _rfc3339(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_cloudevent(envelope: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent of a Charter v1.0 envelope (its JSON format, as a dict).

    Optional attributes with no value (a null ``target``, ``actor``, or a live-only
    event's ``seq``) are left out, as the specification asks.
    """
    meta = envelope.get("meta") or {}
    event = {
        "specversion": SPEC_VERSION,
        "id": envelope["id"],
        "source": source_for(meta.get("source_module") or envelope["source"]),
        "type": envelope["type"],
        "time": _rfc3339(envelope["timestamp"]),
        "datacontenttype": "application/json",
    }
    if envelope.get("target"):
        event["subject"] = envelope["target"]
    if meta.get("seq") is not None:
        event["seq"] = meta["seq"]
    if meta.get("actor"):
        event["actor"] = meta["actor"]
    if meta.get("correlation_id"):
        event["correlationid"] = meta["correlation_id"]
    if meta.get("schema_version") is not None:
        event["schemaversion"] = meta["schema_version"]
    event["data"] = envelope["payload"]
    return event


def encode(envelope_text: str) -> str:
    """The CloudEvent JSON text of an envelope's JSON text (as stored or sent)."""
    return json.dumps(to_cloudevent(json.loads(envelope_text)), separators=_COMPACT)
