"""``emit()``: the envelope, the registry, the transaction rules and ``meta``."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from brain.events import emit, registered_types
from brain.events.models import EventLog
from brain.events.registry import EventDeclarationError, declare
from tests.eventsapp import services as widgets

ENVELOPE_KEYS = {"id", "type", "source", "target", "timestamp", "payload", "meta"}
META_KEYS = {
    "schema_version",
    "producer",
    "source_module",
    "seq",
    "actor",
    "correlation_id",
}


def sample_payload(fields) -> dict:
    return {field: f"{field}-1" for field in fields}


@pytest.mark.django_db
@pytest.mark.smoke
def test_every_declared_type_emits_a_charter_envelope():
    types = registered_types()
    # The four domain apps and the test app each declare their events.
    assert {"mission.created", "mission.status_changed", "widget.created"} <= set(types)
    for name, spec in types.items():
        with transaction.atomic():
            row = emit(name, sample_payload(spec.payload_fields))
            envelope = row.envelope()
            transaction.set_rollback(True)
        assert set(envelope) == ENVELOPE_KEYS, name
        assert set(envelope["meta"]) == META_KEYS, name
        assert envelope["type"] == name
        assert envelope["source"] == spec.source
        assert spec.source.endswith("_service"), name
        assert envelope["meta"]["producer"] == spec.source
        assert envelope["meta"]["source_module"] == spec.source.removesuffix("_service")
        assert envelope["meta"]["schema_version"] == 1
        assert isinstance(envelope["timestamp"], float)
        assert envelope["payload"] == sample_payload(spec.payload_fields)
        if spec.target:
            assert envelope["target"] == spec.target.format(**envelope["payload"])
        else:
            assert envelope["target"] is None
    assert not EventLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.smoke
def test_undeclared_type_and_mismatched_payload_are_refused():
    with pytest.raises(EventDeclarationError, match="undeclared event type"):
        emit("mission.exploded", {"mission_id": "x"})
    with pytest.raises(EventDeclarationError, match="missing \\['name'\\]"):
        emit("widget.created", {"widget_id": 1})
    with pytest.raises(EventDeclarationError, match="unexpected \\['extra'\\]"):
        emit("widget.created", {"widget_id": 1, "name": "a", "extra": 2})
    with pytest.raises(EventDeclarationError, match="already declared differently"):
        declare("widget.created", source="other_service", payload=("x",))
    with pytest.raises(EventDeclarationError, match="dotted"):
        declare("NoDots", source="x_service", payload=())
    assert not EventLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.smoke
def test_rolled_back_change_stores_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            widgets.widget_create(name="doomed")
            raise RuntimeError("abort")
    assert callbacks == []
    assert not EventLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.smoke
def test_committed_change_is_logged_and_delivered_on_commit(
    django_capture_on_commit_callbacks, events
):
    with django_capture_on_commit_callbacks() as callbacks:
        widget = widgets.widget_create(name="kept")
        assert len(callbacks) == 0 or callbacks  # registered, not yet run
    assert len(callbacks) == 1
    (event,) = events.all()
    assert event["type"] == "widget.created"
    assert event["payload"] == {"widget_id": widget.pk, "name": "kept"}


@pytest.mark.django_db
def test_seq_only_grows(events):
    for i in range(5):
        widgets.widget_create(name=f"w{i}")
    seqs = [event["meta"]["seq"] for event in events.all()]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5


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
    events.start = via_rest[-1]["meta"]["seq"]

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
    [
        {"nested": {"deeper": 1}},
        [[1, 2]],
        object(),
        b"bytes",
        {1: "non-string key"},
    ],
    ids=["nested-object", "nested-list", "object", "bytes", "int-key"],
)
def test_a_payload_holds_plain_values_only(value):
    before = EventLog.objects.count()
    with pytest.raises(EventDeclarationError, match="'name' must be plain JSON"):
        with transaction.atomic():
            emit("widget.created", {"widget_id": 1, "name": value})
    assert EventLog.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["text", 1, 2.5, True, None, [1, "a"], {"x": 0.5}])
def test_plain_payload_values_are_accepted(value):
    with transaction.atomic():
        row = emit("widget.created", {"widget_id": 1, "name": value})
        transaction.set_rollback(True)
    assert row.payload["name"] == value
