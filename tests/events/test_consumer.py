"""The ``/ws/events/`` consumer's logic, in process (``WebsocketCommunicator``)."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from brain.asgi import application
from brain.events import publish, sequencer
from brain.events.models import EventLog
from brain.events.selectors import log_head
from tests.conftest import token_for
from tests.eventsapp import services as widgets

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def token(make_user):
    user = await sync_to_async(make_user)("viewer")
    return await sync_to_async(token_for)(user)


async def connect(token: str, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        "/ws/events/" + (f"?{query}" if query else ""),
        headers=[(b"authorization", f"Token {token}".encode())],
    )
    connected, code = await communicator.connect(timeout=5)
    assert connected, code
    return communicator


async def frame(communicator, timeout: float = 10) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def events_from(communicator, count: int, timeout: float = 10) -> list[dict]:
    out = []
    while len(out) < count:
        item = await frame(communicator, timeout)
        if "control" not in item:
            out.append(item)
    return out


create = sync_to_async(widgets.widget_create)
set_state = sync_to_async(widgets.widget_set_state)


async def test_live_events_arrive_in_order_with_exact_envelopes(token):
    ws = await connect(token)
    hello = await frame(ws)
    assert hello["control"] == "subscribed"
    widget = await create(name="a")
    await set_state(widget_id=widget.pk, state="busy")
    created, changed = await events_from(ws, 2)
    assert created["type"] == "widget.created"
    assert changed["type"] == "widget.state_changed"
    assert changed["target"] == f"widget_{widget.pk}"
    assert changed["meta"]["seq"] == created["meta"]["seq"] + 1
    stored = await sync_to_async(EventLog.objects.get)(seq=changed["meta"]["seq"])
    assert changed == json.loads(stored.encode())
    await ws.disconnect()


async def test_resume_sends_exactly_the_missed_events_then_live_ones(token):
    first = await create(name="before")
    ws = await connect(token)
    await frame(ws)
    await ws.disconnect()
    # Numbers follow the commit: wait for them, so the cursor is where it seems.
    assert await sync_to_async(sequencer.drain)(10)
    head = await sync_to_async(EventLog.objects.latest)("seq")
    # Missed while disconnected:
    missed = [await create(name=f"missed{i}") for i in range(3)]
    assert await sync_to_async(sequencer.drain)(10)
    ws = await connect(token, f"since={head.seq}")
    subscribed = await frame(ws)
    assert subscribed["control"] == "subscribed" and subscribed["replaying"]
    replayed = await events_from(ws, 3)
    assert [e["payload"]["name"] for e in replayed] == ["missed0", "missed1", "missed2"]
    caught_up = await frame(ws)
    assert caught_up == {
        "control": "caught_up",
        "last_seq": replayed[-1]["meta"]["seq"],
    }
    await create(name="live")
    (live,) = await events_from(ws, 1)
    assert live["payload"]["name"] == "live"
    assert await ws.receive_nothing(timeout=0.3)
    logged = await sync_to_async(list)(
        EventLog.objects.filter(seq__gt=head.seq, seq__lt=live["meta"]["seq"])
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    # Exactly the events written while away, in order: none before ``since``
    # (``first``), none twice, none missing.
    assert [e["meta"]["seq"] for e in replayed] == logged
    assert len(missed) == 3 and first.pk not in {m.pk for m in missed}
    await ws.disconnect()


async def test_filters_by_type_pattern_and_subject(token):
    a = await create(name="a")
    b = await create(name="b")
    ws = await connect(token, f"types=widget.state_*&subject=widget_{b.pk}")
    assert (await frame(ws))["control"] == "subscribed"
    await set_state(widget_id=a.pk, state="x")
    await set_state(widget_id=b.pk, state="y")
    await create(name="c")
    (only,) = await events_from(ws, 1)
    assert only["target"] == f"widget_{b.pk}"
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_subscribe_message_changes_filters(token):
    ws = await connect(token, "types=mission.created")
    await frame(ws)
    await ws.send_json_to({"action": "subscribe", "types": "widget.created"})
    assert (await frame(ws))["control"] == "subscribed"
    await create(name="now visible")
    (event,) = await events_from(ws, 1)
    assert event["payload"]["name"] == "now visible"
    await ws.send_json_to({"action": "ping"})
    pong = await frame(ws)
    assert pong == {"control": "pong", "last_seq": event["meta"]["seq"]}
    await ws.disconnect()


async def test_since_older_than_the_log_gets_a_reset(token):
    import time_machine
    from django.utils import timezone

    from brain.events.services import events_prune

    now = timezone.now()
    before = await sync_to_async(log_head)()
    with time_machine.travel(now - timedelta(days=40)):
        await create(name="old")
    await create(name="kept")
    assert await sync_to_async(sequencer.drain)(5)
    await sync_to_async(events_prune)(now=now, default_days=30)
    head = await sync_to_async(log_head)()
    ws = await connect(token, f"since={before}")
    reset = await frame(ws)
    assert reset["control"] == "reset"
    assert reset["last_seq"] == head
    await create(name="after reset")
    (event,) = await events_from(ws, 1)
    assert event["payload"]["name"] == "after reset"
    await ws.disconnect()


async def test_a_dropped_live_message_is_healed_from_the_log(token, monkeypatch):
    ws = await connect(token)
    await frame(ws)
    real_deliver = publish.deliver
    monkeypatch.setattr(publish, "deliver", lambda events: None)
    with override_settings(EVENTS_POLL_INTERVAL=0.2):
        await create(name="dropped")  # the channel layer never sees it
        (healed,) = await events_from(ws, 1, timeout=3)
        assert healed["payload"]["name"] == "dropped"
        monkeypatch.setattr(publish, "deliver", real_deliver)
        await create(name="next")
        (after,) = await events_from(ws, 1)
    assert after["meta"]["seq"] == healed["meta"]["seq"] + 1
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_a_gap_in_live_messages_is_filled_before_the_next_event(
    token, monkeypatch
):
    ws = await connect(token)
    await frame(ws)
    real_deliver = publish.deliver
    dropped = []

    def drop_first(events):
        if not dropped:
            dropped.extend(events)
            return None
        return real_deliver(events)

    monkeypatch.setattr(publish, "deliver", drop_first)
    with override_settings(EVENTS_POLL_INTERVAL=30):  # no poll: the gap must heal
        await create(name="lost")
        await create(name="carrier")
        first, second = await events_from(ws, 2, timeout=3)
    assert [first["payload"]["name"], second["payload"]["name"]] == ["lost", "carrier"]
    await ws.disconnect()


async def test_a_rolled_back_write_takes_no_seq_and_sends_nothing(token):
    from django.db import transaction

    def doomed():
        with transaction.atomic():
            widgets.widget_create(name="rolled back")
            transaction.set_rollback(True)

    ws = await connect(token)
    hello = await frame(ws)
    await sync_to_async(doomed)()
    await create(name="after the rollback")
    (event,) = await events_from(ws, 1)
    assert event["payload"]["name"] == "after the rollback"
    # Numbers are drawn after commit: the rolled-back write never took one.
    assert event["meta"]["seq"] > hello["last_seq"]
    names = await sync_to_async(list)(
        EventLog.objects.filter(seq__gt=hello["last_seq"]).values_list(
            "payload__name", flat=True
        )
    )
    assert names == ["after the rollback"]
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


@pytest.mark.parametrize(
    "frame_text, expected",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"action": "explode"}', "unknown action"),
        ("[" * 100000 + "]" * 100000, "too large"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('{"action": "subscribe", "types": 5}', "types"),
        ('{"action": "subscribe", "subject": "no kind"}', "subject"),
        ('{"action": "subscribe", "since": "x"}', "since"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_up(
    token, frame_text, expected
):
    ws = await connect(token)
    await frame(ws)
    await ws.send_to(text_data=frame_text)
    error = await frame(ws)
    assert error["control"] == "error" and expected in error["detail"]
    await ws.send_json_to({"action": "ping"})
    assert (await frame(ws))["control"] == "pong"
    await ws.disconnect()
    await ws.disconnect()


async def test_binary_frames_and_subscribe_floods_are_refused(token):
    ws = await connect(token)
    await frame(ws)
    await ws.send_to(bytes_data=b"\x00\x01")
    assert "binary" in (await frame(ws))["detail"]
    for _ in range(15):
        await ws.send_json_to({"action": "subscribe"})
    replies = []
    while not await ws.receive_nothing(timeout=0.3):
        replies.append(await frame(ws))
    controls = [r["control"] for r in replies]
    assert controls.count("subscribed") == 10
    errors = [r["detail"] for r in replies if r["control"] == "error"]
    assert len(errors) == 5 and all("too many" in e for e in errors)
    await ws.disconnect()


@pytest.mark.parametrize("query", ["since=-1", "since=abc", "types=BAD!", "subject=x"])
async def test_bad_query_parameters_are_named_and_closed(token, query):
    ws = await connect(token, query)
    error = await frame(ws)
    assert error["control"] == "error"
    assert query.split("=")[0] in error["detail"]
    output = await ws.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": 4400}


async def test_anonymous_and_bad_tokens_are_refused():
    for headers in ([], [(b"authorization", b"Token not-a-real-token")]):
        communicator = WebsocketCommunicator(
            application, "/ws/events/", headers=headers
        )
        connected, _ = await communicator.connect(timeout=3)
        assert not connected


async def test_resuming_on_a_process_whose_hub_is_behind_is_not_a_reset(token):
    """A client that saw seq N on a faster process reconnects to one whose hub has
    not reached N yet: no reset, and the events up to N are not sent again."""
    from brain.events.hub import get_hub

    ws = await connect(token)
    await frame(ws)  # subscribed: this process's hub is running
    await create(name="one")
    await create(name="two")
    seen = await events_from(ws, 2)
    head = seen[-1]["meta"]["seq"]
    get_hub().last_seq = head - 2  # as if this hub had not read "one" and "two" yet
    behind = await connect(token, f"since={head}")
    hello = await frame(behind)
    assert hello["control"] == "subscribed", hello
    assert hello["last_seq"] == head
    await create(name="three")  # the hub heals the gap: one, two, three
    (event,) = await events_from(behind, 1)
    assert event["payload"]["name"] == "three"
    assert await behind.receive_nothing(timeout=1.5)
    (event,) = await events_from(ws, 1)
    assert event["payload"]["name"] == "three"
    assert await ws.receive_nothing(timeout=0.5)
    await behind.disconnect()
    await ws.disconnect()


async def test_writes_during_a_paged_replay_are_neither_lost_nor_doubled(
    token, settings
):
    """The switch from replay to live under load: the replay spans several pages
    while other writers keep committing; the socket ends with every event once."""
    import asyncio

    settings.EVENTS_PAGE_LIMIT = 2
    for number in range(7):
        await create(name=f"before {number}")
    ws = await connect(token)  # keeps this process's hub running
    await frame(ws)

    async def writer():
        for number in range(12):
            await create(name=f"during {number}")
            await asyncio.sleep(0.005)

    first = await sync_to_async(EventLog.objects.earliest)("seq")
    since = first.seq - 1  # sequences are not reset between tests: not since=0
    writing = asyncio.create_task(writer())
    resumed = await connect(token, f"since={since}")
    events = await events_from(resumed, 19, timeout=20)
    await writing
    assert await resumed.receive_nothing(timeout=1.5)
    seqs = [event["meta"]["seq"] for event in events]
    assert seqs == sorted(set(seqs)), "out of order or doubled"
    logged = await sync_to_async(list)(
        EventLog.objects.order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == logged
    names = [event["payload"]["name"] for event in events]
    assert names == [f"before {n}" for n in range(7)] + [
        f"during {n}" for n in range(12)
    ]
    await resumed.disconnect()
    await ws.disconnect()


async def test_one_layer_message_per_commit_and_one_encoding_for_all_sockets(
    token, monkeypatch
):
    """Fan-out: a commit is one channel-layer message for the whole process, and
    every socket is handed the very same encoded frame (no per-socket work)."""
    from channels.layers import get_channel_layer

    sockets = [await connect(token) for _ in range(3)]
    for ws in sockets:
        await frame(ws)
    layer = get_channel_layer()
    sent = []
    real_group_send = layer.group_send

    async def counting_group_send(group, message):
        sent.append((group, len(message["events"])))
        return await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", counting_group_send)
    from brain.events import hub as hub_module

    handed = []
    real_dispatch = hub_module.EventHub._dispatch

    def recording(self, event):
        handed.append(event)
        return real_dispatch(self, event)

    monkeypatch.setattr(hub_module.EventHub, "_dispatch", recording)
    await create(name="fan out")
    frames = [(await events_from(ws, 1))[0] for ws in sockets]
    assert sent == [(sent[0][0], 1)]  # one message, one event, for three sockets
    assert len(handed) == 1  # the hub took it once, with its frame text encoded
    assert len({json.dumps(f, sort_keys=True) for f in frames}) == 1
    for ws in sockets:
        await ws.disconnect()


async def test_a_live_only_event_keeps_the_socket_position(token):
    """A live-only event has no seq: it reaches the socket and moves no position,
    so the durable events after it still arrive and ``pong`` reports theirs."""
    ws = await connect(token)
    await frame(ws)
    ping = sync_to_async(widgets.widget_ping)
    await ping(widget_id=1)
    (live_only,) = await events_from(ws, 1)
    assert live_only["type"] == "widget.pinged" and "seq" not in live_only["meta"]
    await create(name="durable")
    (durable,) = await events_from(ws, 1)
    await ws.send_json_to({"action": "ping"})
    assert await frame(ws) == {"control": "pong", "last_seq": durable["meta"]["seq"]}
    await ping(widget_id=2)
    await create(name="durable again")
    live_again, durable_again = await events_from(ws, 2)
    assert live_again["type"] == "widget.pinged"
    assert durable_again["meta"]["seq"] > durable["meta"]["seq"]
    await ws.disconnect()
