"""CloudEvents 1.0 on the REST history and the WebSocket, parsed with the SDK (SSE and
webhooks: tests/events/test_sse.py, tests/webhooks/test_delivery.py)."""

import json

import pytest
import websockets
from asgiref.sync import sync_to_async

from brain.events import cloudevent, sequencer
from brain.events.models import EventLog
from tests.cloudevents_sdk import assert_matches_envelope, parse_cloudevent
from tests.conftest import number_pending, token_for
from tests.eventsapp.services import widget_create, widget_set_state
from tests.servers import next_frame

BATCH = "application/cloudevents-batch+json"


@pytest.mark.django_db
def test_rest_history_as_a_cloudevents_batch(api):
    widget = widget_create(name="a")
    widget_set_state(widget_id=widget.id, state="on")
    number_pending()
    rows = list(EventLog.objects.filter(type__startswith="widget.").order_by("seq"))
    response = api.get(
        f"/api/events?types=widget.*&after={rows[0].seq - 1}", HTTP_ACCEPT=BATCH
    )
    assert response.status_code == 200
    assert response["Content-Type"] == BATCH
    batch = json.loads(response.content)
    assert isinstance(batch, list) and len(batch) == 2
    for item, row in zip(batch, rows, strict=True):
        assert_matches_envelope(parse_cloudevent(item), row.envelope())
    assert response["Brain-Last-Seq"] == str(rows[-1].seq)
    # A target becomes the subject; no target, no subject attribute.
    assert "subject" not in batch[0] and batch[1]["subject"] == f"widget_{widget.id}"
    # Without the Accept header: the Charter page, as before.
    plain = api.get(f"/api/events?types=widget.*&after={rows[0].seq - 1}").json()
    assert [e["id"] for e in plain["results"]] == [item["id"] for item in batch]
    bad = api.get("/api/events?types=Bad!", HTTP_ACCEPT=BATCH)
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert "types" in bad.json()
    unknown = api.get("/api/events?format=xml")
    assert unknown.status_code == 400 and "format" in unknown.json()
    by_format = api.get("/api/events?types=widget.*&after=0&format=cloudevents")
    assert by_format["Content-Type"] == BATCH
    empty = api.get(f"/api/events?after={rows[-1].seq}", HTTP_ACCEPT=BATCH)
    assert json.loads(empty.content) == []
    assert empty["Brain-Last-Seq"] == str(rows[-1].seq)


def test_a_live_only_event_has_no_seq_attribute():
    envelope = {
        "id": "0b6f2a1e-8a5c-4a61-9c0e-7f0d3f7a2b11",
        "type": "widget.pinged",
        "source": "widgets_service",
        "target": None,
        "timestamp": 1703001300.123456,
        "payload": {"widget_id": 1},
        "meta": {
            "schema_version": 1,
            "producer": "widgets_service",
            "source_module": "widgets",
            "actor": None,
            "correlation_id": "c0ffee",
        },
    }
    event = cloudevent.to_cloudevent(envelope)
    assert "seq" not in event and "actor" not in event and "subject" not in event
    assert event["time"] == "2023-12-19T15:55:00.123456Z"
    parsed = parse_cloudevent(event)
    assert_matches_envelope(parsed, envelope)


@pytest.mark.django_db(transaction=True)
async def test_the_socket_speaks_the_cloudevents_websocket_binding(live, make_user):
    token = await sync_to_async(lambda: token_for(make_user("operator")))()
    first = await sync_to_async(widget_create)(name="before")
    await sync_to_async(sequencer.drain)()
    before = await sync_to_async(
        lambda: EventLog.objects.get(type="widget.created", payload__widget_id=first.id)
    )()
    async with websockets.connect(
        f"{live.ws_url}/ws/events/?types=widget.*&since={before.seq - 1}",
        additional_headers={"Authorization": f"Token {token}"},
        subprotocols=[cloudevent.WEBSOCKET_SUBPROTOCOL],
    ) as ws:
        assert ws.subprotocol == "cloudevents.json"
        hello = await next_frame(ws)
        assert hello["control"] == "subscribed" and hello["replaying"] is True
        replayed = await next_frame(ws)
        assert_matches_envelope(parse_cloudevent(replayed), before.envelope())
        assert (await next_frame(ws))["control"] == "caught_up"
        widget = await sync_to_async(widget_create)(name="live")
        frame = await next_frame(ws)
        row = await sync_to_async(
            lambda: EventLog.objects.get(
                type="widget.created", payload__widget_id=widget.id
            )
        )()
        assert_matches_envelope(parse_cloudevent(frame), row.envelope())
    # Without the subprotocol: Charter envelopes, as before.
    async with websockets.connect(
        f"{live.ws_url}/ws/events/?types=widget.*&since={before.seq - 1}",
        additional_headers={"Authorization": f"Token {token}"},
    ) as ws:
        assert ws.subprotocol is None
        await next_frame(ws)
        assert await next_frame(ws) == before.envelope()
