"""``emit()``: the envelope, the typed registry, the transaction rules and ``meta``."""

import json
import typing

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client

from brain.events import emit, emit_many, registered_types, sequencer
from brain.events.models import EventLog
from brain.events.registry import EventDeclarationError, Payload, declare
from tests.eventsapp import services as widgets

ENVELOPE_KEYS = {"id", "type", "source", "target", "timestamp", "payload", "meta"}
META_KEYS = {"schema_version", "producer", "source_module", "actor", "correlation_id"}

_SAMPLES = {str: "text-1", int: 7, float: 1.5, bool: True}


def _sample(annotation):
    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return _sample(next(a for a in typing.get_args(annotation) if a is not None))
    if origin is dict:
        return {"linear_x": 0.5}
    if origin is list:
        return [_sample(typing.get_args(annotation)[0])]
    return _SAMPLES[annotation]


def sample_payload(spec) -> dict:
    """A payload of the right types for any declared type."""
    return {
        name: _sample(field.annotation)
        for name, field in spec.payload.model_fields.items()
    }


@pytest.mark.django_db
@pytest.mark.smoke
def test_every_declared_type_emits_a_charter_envelope():
    types = registered_types()
    # The four domain apps and the test app each declare their events.
    assert {"mission.created", "mission.status_changed", "widget.created"} <= set(types)
    for name, spec in types.items():
        payload = sample_payload(spec)
        with transaction.atomic():
            row = emit(name, payload)
            envelope = row.envelope()
            stored = EventLog.objects.filter(event_id=row.event_id).exists()
            transaction.set_rollback(True)
        assert stored is spec.durable, name
        assert set(envelope) == ENVELOPE_KEYS, name
        # No seq yet on PostgreSQL: it is drawn after commit (never, for a live-only
        # type). SQLite's one writer numbers inside its transaction.
        numbered = spec.durable and connection.vendor == "sqlite"
        assert set(envelope["meta"]) == META_KEYS | ({"seq"} if numbered else set())
        assert envelope["type"] == name
        assert envelope["source"] == spec.source
        assert spec.source.endswith("_service"), name
        assert envelope["meta"]["producer"] == spec.source
        assert envelope["meta"]["source_module"] == spec.source.removesuffix("_service")
        assert envelope["meta"]["schema_version"] == 1
        assert isinstance(envelope["timestamp"], float)
        assert envelope["payload"] == payload
        if spec.target:
            assert envelope["target"] == spec.target.format(**payload)
        else:
            assert envelope["target"] is None
        assert spec.read_permission.count(".") == 1, name
        assert spec.durable or spec.retention_days is None, name
    assert not EventLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.smoke
def test_undeclared_type_and_mismatched_payload_are_refused():
    with pytest.raises(EventDeclarationError, match="undeclared event type"):
        emit("mission.exploded", {"mission_id": "x"})
    with pytest.raises(EventDeclarationError, match="name: Field required"):
        emit("widget.created", {"widget_id": 1})
    with pytest.raises(EventDeclarationError, match="extra: Extra inputs"):
        emit("widget.created", {"widget_id": 1, "name": "a", "extra": 2})
    with pytest.raises(EventDeclarationError, match="widget_id: Input should be"):
        emit("widget.created", {"widget_id": "1", "name": "a"})
    with pytest.raises(EventDeclarationError, match="payload must be a dict"):
        emit("widget.created", [("widget_id", 1)])

    class Other(Payload):
        x: int

    with pytest.raises(EventDeclarationError, match="already declared differently"):
        declare(
            "widget.created",
            source="other_service",
            payload=Other,
            read_permission="eventsapp.view_widget",
        )
    with pytest.raises(EventDeclarationError, match="dotted"):
        declare("NoDots", source="x_service", payload=Other, read_permission="a.b")
    with pytest.raises(EventDeclarationError, match="Payload model"):
        declare("a.b", source="x_service", payload=("x",), read_permission="a.b")
    with pytest.raises(EventDeclarationError, match="read_permission"):
        declare("a.b", source="x_service", payload=Other, read_permission="view all")
    with pytest.raises(EventDeclarationError, match="subject rule"):
        declare(
            "a.b",
            source="x_service",
            payload=Other,
            read_permission="a.b",
            subjects=("thing_{missing}",),
        )
    with pytest.raises(EventDeclarationError, match="no retention"):
        declare(
            "a.b",
            source="x_service",
            payload=Other,
            read_permission="a.b",
            live_only=True,
            retention_days=3,
        )
    assert "a.b" not in registered_types()
    assert not EventLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.smoke
def test_rolled_back_change_stores_and_sends_nothing(
    django_capture_on_commit_callbacks, delivered
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            widgets.widget_create(name="doomed")
            widgets.widget_ping(widget_id=1)
            raise RuntimeError("abort")
    assert callbacks == []
    assert delivered == []
    assert not EventLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.smoke
def test_a_rolled_back_savepoint_drops_its_events_only(
    django_capture_on_commit_callbacks, delivered
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            kept = widgets.widget_create(name="kept")
            with pytest.raises(RuntimeError), transaction.atomic():
                widgets.widget_create(name="doomed")
                raise RuntimeError("abort")
    (batch,) = delivered
    assert [json.loads(e.text)["payload"]["name"] for e in batch] == ["kept"]
    assert EventLog.objects.get().payload == {"widget_id": kept.pk, "name": "kept"}


@pytest.mark.django_db
@pytest.mark.smoke
def test_committed_change_is_logged_and_delivered_on_commit(
    django_capture_on_commit_callbacks, events, delivered
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            widget = widgets.widget_create(name="kept")
            assert delivered == []  # stored now, delivered only after commit
    assert len(callbacks) == 1
    (row,) = events.rows()
    assert row.type == "widget.created"
    assert row.payload == {"widget_id": widget.pk, "name": "kept"}
    assert row.subjects == [f"widget_{widget.pk}"]
    # Delivered once numbered, as the envelope the log holds, encoded once.
    (batch,) = delivered
    (wire,) = batch
    assert row.seq is not None and wire.seq == row.seq
    assert json.loads(wire.text) == row.envelope()
    assert wire.subjects == frozenset(row.subjects)


@pytest.mark.django_db
def test_one_commit_hook_and_one_delivery_per_transaction(
    django_capture_on_commit_callbacks, delivered
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            a = widgets.widget_create(name="a")
            widgets.widget_set_state(widget_id=a.pk, state="busy")
            emit_many(
                [
                    ("widget.created", {"widget_id": i, "name": f"n{i}"})
                    for i in range(3)
                ]
            )
    assert len(callbacks) == 1
    (batch,) = delivered
    assert [json.loads(e.text)["type"] for e in batch] == [
        "widget.created",
        "widget.state_changed",
        "widget.created",
        "widget.created",
        "widget.created",
    ]
    seqs = [e.seq for e in batch]
    assert seqs == list(range(seqs[0], seqs[0] + 5))


@pytest.mark.django_db
@pytest.mark.smoke
def test_a_live_only_event_is_delivered_and_never_stored(
    django_capture_on_commit_callbacks, delivered
):
    before = EventLog.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        row = widgets.widget_ping(widget_id=5)
    (batch,) = delivered
    (wire,) = batch
    assert wire.seq is None and wire.type == "widget.pinged"
    envelope = json.loads(wire.text)
    assert "seq" not in envelope["meta"] and envelope == row.envelope()
    assert EventLog.objects.count() == before
    delivered.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            widgets.widget_ping(widget_id=6)
            assert delivered == []  # after commit, like any event
    assert len(delivered) == 1


@pytest.mark.django_db(transaction=True)
def test_seq_is_dense_and_grows_in_commit_order():
    rows = [widgets.widget_create(name=f"w{i}") for i in range(5)]
    assert sequencer.drain(5)
    seqs = list(
        EventLog.objects.filter(type="widget.created", payload__name__startswith="w")
        .order_by("id")
        .values_list("seq", flat=True)
    )
    assert len(rows) == 5
    assert seqs == list(range(seqs[0], seqs[0] + 5))


@pytest.mark.django_db
def test_meta_names_the_actor_and_ties_a_request_together(api_as, events):
    api = api_as("superuser", "alice")
    response = api.post(
        "/api/test-widgets",
        {"name": "w", "state": "ready"},
        format="json",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-42"
    created, changed = events.all()
    for event in (created, changed):
        assert event["meta"]["actor"] == "alice"
        assert event["meta"]["correlation_id"] == "req-42"


@pytest.mark.django_db
def test_system_changes_have_no_actor(events):
    widgets.widget_create(name="by the system")
    (event,) = events.all()
    assert event["meta"]["actor"] is None
    assert event["meta"]["correlation_id"]


def _shape(event: dict) -> tuple:
    payload = {k: v for k, v in event["payload"].items() if k != "widget_id"}
    target = event["target"] and event["target"].split("_")[0]
    return event["type"], event["source"], target, sorted(event["payload"]), payload


@pytest.mark.django_db
def test_admin_change_emits_the_same_events_as_rest(api_as, events):
    api = api_as("superuser", "alice")
    api.post("/api/test-widgets", {"name": "gear", "state": "ready"}, format="json")
    via_rest = events.all()
    events.skip_seen()

    admin = User.objects.create_superuser("root", password="pw-root-123")
    browser = Client()
    browser.force_login(admin)
    response = browser.post(
        "/admin/eventsapp/widget/add/", {"name": "gear", "state": "ready"}
    )
    assert response.status_code == 302, response.content[:500]
    via_admin = events.all()

    assert [_shape(e) for e in via_admin] == [_shape(e) for e in via_rest]
    assert [e["type"] for e in via_admin] == ["widget.created", "widget.state_changed"]
    assert via_admin[0]["meta"]["actor"] == "root"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [{"nested": {"deeper": 1}}, [[1, 2]], object(), b"bytes", 5, None],
    ids=["nested-object", "nested-list", "object", "bytes", "int", "null"],
)
def test_a_payload_field_holds_its_declared_type_only(value):
    before = EventLog.objects.count()
    with pytest.raises(EventDeclarationError, match="name: Input should be"):
        with transaction.atomic():
            emit("widget.created", {"widget_id": 1, "name": value})
    assert EventLog.objects.count() == before


@pytest.mark.django_db
def test_typed_fields_accept_their_types():
    with transaction.atomic():
        command = emit(
            "hardware.command_sent",
            {
                "robot_id": "go2",
                "command_id": "c1",
                "command_type": "movement",
                "command": {"linear_x": 0.5, "angular_z": -1.0},
                "sent_at": 1.0,
            },
        )
        consumed = emit(
            "credits.consumed",
            {
                "agent_id": "a",
                "amount": "1.00",
                "balance": "0.00",
                "reason": "r",
                "mission_id": None,
                "transaction_id": 3,
                "consumed_at": 2,
            },
        )
        transaction.set_rollback(True)
    assert command.payload["command"] == {"linear_x": 0.5, "angular_z": -1.0}
    assert consumed.subjects == ["agent_a"]  # a null mission names no subject
