"""CloudEvents parsed with the CloudEvents Python SDK (structured JSON mode)."""

import json

from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent


def parse_cloudevent(body: bytes | str | dict) -> CloudEvent:
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    message = HTTPMessage(
        headers={"content-type": "application/cloudevents+json"}, body=body
    )
    return from_http(message, JSONFormat())


def assert_matches_envelope(event: CloudEvent, envelope: dict) -> None:
    """The CloudEvent carries the envelope's id, type, target, payload and meta."""
    assert event.get_specversion() == "1.0"
    assert event.get_id() == envelope["id"]
    assert event.get_type() == envelope["type"]
    assert event.get_source() == f"/brain/{envelope['meta']['source_module']}"
    assert event.get_subject() == envelope["target"]
    assert event.get_datacontenttype() == "application/json"
    assert event.get_data() == envelope["payload"]
    assert abs(event.get_time().timestamp() - envelope["timestamp"]) < 1e-5
    assert event.get_extension("seq") == envelope["meta"].get("seq")
    assert event.get_extension("actor") == envelope["meta"].get("actor")
    assert event.get_extension("correlationid") == envelope["meta"].get(
        "correlation_id"
    )
