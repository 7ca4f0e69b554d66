"""The contracts generated from the event declarations (``brain/events/contracts/``):
each app's ``EVENTS.md``, the JSON Schemas, the AsyncAPI document of ``/ws/events/``,
``GET /api/events/types`` and the OpenAPI envelope."""

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import transaction
from drf_spectacular.validation import validate_schema

from brain.events import contracts, emit, publish
from brain.events.registry import EventDeclarationError, registered_types
from tests.conftest import token_for

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = Path(__file__).with_name("asyncapi_validate.mjs")
PARSER = ROOT / "node_modules" / "@asyncapi" / "parser" / "package.json"
DOMAIN_APPS = {"missions", "credits", "hardware", "supervisor"}
TYPE_NAMES = sorted(registered_types())
CONTROL_FRAMES = {"subscribed", "caught_up", "reset", "pong", "error", "state_ack"}
CLIENT_FRAMES = {"ping", "subscribe", "state"}


def documented_apps() -> dict:
    """Every app with an ``EVENTS.md``: the apps that declare events, except the
    suite's own test app (installed only by ``tests.settings``)."""
    return {
        label: entry
        for label, entry in contracts.declaring_apps().items()
        if not entry[0].name.startswith("tests.")
    }


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def problems(schema: dict, instance) -> list[str]:
    return [error.message for error in validator(schema).iter_errors(instance)]


# EVENTS.md ----------------------------------------------------------------------


def test_every_events_md_is_what_the_declarations_generate():
    apps = documented_apps()
    assert DOMAIN_APPS <= set(apps)
    stale = [
        str(contracts.events_md_path(config).relative_to(ROOT))
        for label, (config, _) in apps.items()
        if not contracts.events_md_path(config).exists()
        or contracts.events_md_path(config).read_text(encoding="utf-8")
        != contracts.events_markdown(label)
    ]
    assert not stale, (
        f"stale: {', '.join(stale)}; run `python manage.py events_docs` and commit "
        "the result (EVENTS.md is generated from <app>/events.py)"
    )


def test_each_type_belongs_to_the_app_whose_events_module_declares_it():
    owners = {
        event_type.name: label
        for label, (_, types) in contracts.declaring_apps().items()
        for event_type in types
    }
    assert sorted(owners) == TYPE_NAMES
    assert owners["mission.created"] == "missions"
    assert owners["credits.depleted"] == "credits"
    assert owners["hardware.command_sent"] == "hardware"
    assert owners["supervisor.agent_state_changed"] == "supervisor"
    # The widget types' source is "widgets_service"; their app is the test app.
    assert owners["widget.created"] == "eventsapp"


def test_events_md_holds_the_prose_a_row_and_a_section_per_type():
    text = contracts.events_markdown("missions")
    assert text.startswith("# Missions events\n")
    assert (
        "> Generated from `missions/events.py` by `python manage.py events_docs`; "
        "do not edit." in text
    )
    assert "A refused transition, invalid input or a rolled-back transaction" in text
    assert (
        "| `mission.status_changed` | after each status change (REST, claim, admin "
        "form or action, the supervisor failing a dead agent's mission) "
        "| `mission_<mission_id>` | `mission_<mission_id>` | durable | 365 "
        "| `missions.view_mission` | `mission_id`, `old_status`, `new_status`, "
        "`changed_at` |" in text
    )
    assert "| `mission_id` | string | required | UUID of the mission |" in text
    for name in ("mission.created", "mission.status_changed", "mission.log_appended"):
        assert f"\n## `{name}`\n" in text
    credits = contracts.events_markdown("credits")
    assert "| `mission_id` | string or null | required, nullable |" in credits
    assert (
        "| `credits.health_checked` | each GET /api/credits/health | `null` | — "
        "| live-only | — |" in credits
    )
    assert "never stored, no `meta.seq`" in credits


@pytest.fixture
def widget_app_in(tmp_path, monkeypatch):
    """The test app, with its ``EVENTS.md`` in a temporary folder."""
    config, _ = contracts.declaring_apps()["eventsapp"]
    monkeypatch.setattr(config, "path", str(tmp_path))
    return tmp_path / "EVENTS.md"


def test_events_docs_writes_and_check_fails_on_a_stale_file(widget_app_in, capsys):
    with pytest.raises(CommandError, match="EVENTS.md; run `python manage.py"):
        call_command("events_docs", "eventsapp", "--check")
    assert not widget_app_in.exists()

    call_command("events_docs", "eventsapp")
    assert widget_app_in.read_text() == contracts.events_markdown("eventsapp")
    call_command("events_docs", "eventsapp", "--check")
    assert "is up to date" in capsys.readouterr().out

    widget_app_in.write_text(widget_app_in.read_text().replace("widget", "gadget"))
    with pytest.raises(CommandError, match="stale"):
        call_command("events_docs", "eventsapp", "--check")
    with pytest.raises(CommandError, match="declares no event types: auth"):
        call_command("events_docs", "auth")


# JSON Schemas and examples ---------------------------------------------------


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_the_example_validates_against_the_declaration_and_the_schemas(name):
    event_type = registered_types()[name]
    payload = contracts.example_payload(event_type)
    event_type.check(payload)  # the declaration: what emit() accepts
    schema = contracts.json_schema(event_type)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert problems(schema, payload) == []

    envelope = contracts.example_envelope(event_type)
    assert tuple(envelope) == contracts.ENVELOPE_KEYS
    assert envelope["payload"] == payload
    assert envelope["target"] == event_type.target_for(payload)
    assert ("seq" in envelope["meta"]) is event_type.durable
    assert problems(contracts.envelope_schema(event_type), envelope) == []


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_the_schemas_refuse_what_the_declaration_refuses(name):
    event_type = registered_types()[name]
    payload = contracts.example_payload(event_type)
    schema = contracts.json_schema(event_type)
    first = next(iter(payload))
    missing = {k: v for k, v in payload.items() if k != first}
    for refused in ({**payload, "extra": 1}, missing, {**payload, first: object()}):
        with pytest.raises(EventDeclarationError, match="does not match its"):
            event_type.check(refused)
    assert problems(schema, {**payload, "extra": 1})
    assert problems(schema, missing)

    envelope = contracts.example_envelope(event_type)
    envelope_schema = contracts.envelope_schema(event_type)
    if event_type.durable:
        no_seq = {
            **envelope,
            "meta": {k: v for k, v in envelope["meta"].items() if k != "seq"},
        }
        assert problems(envelope_schema, no_seq)
    else:
        with_seq = {**envelope, "meta": {**envelope["meta"], "seq": 7}}
        assert problems(envelope_schema, with_seq)
    assert problems(envelope_schema, {**envelope, "extra": 1})
    assert problems(envelope_schema, {**envelope, "type": "other.type"})


@pytest.mark.django_db
def test_the_envelopes_emit_delivers_match_their_schemas(
    django_capture_on_commit_callbacks, monkeypatch
):
    delivered = []
    monkeypatch.setattr(publish, "deliver", lambda events: delivered.extend(events))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for name in TYPE_NAMES:
                event_type = registered_types()[name]
                emit(name, contracts.example_payload(event_type))
    sent = [json.loads(wire.text) for wire in delivered]
    assert sorted(envelope["type"] for envelope in sent) == TYPE_NAMES
    for envelope in sent:
        event_type = registered_types()[envelope["type"]]
        assert problems(contracts.envelope_schema(event_type), envelope) == [], (
            envelope["type"]
        )


# AsyncAPI -------------------------------------------------------------------


def run_asyncapi_parser(document: dict) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the AsyncAPI document cannot be checked")
    if not PARSER.exists():
        pytest.fail("@asyncapi/parser is not installed: run bin/setup (npm ci)")
    return subprocess.run(  # noqa: S603 - a fixed script, the document on stdin
        [node, str(VALIDATOR)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )


@pytest.mark.django_db
def test_asyncapi_document_is_valid_for_the_real_parser(anon):
    response = anon.get("/api/asyncapi.json")
    # Served like the OpenAPI schema: the same answer to an anonymous client.
    assert response.status_code == anon.get("/api/schema/").status_code == 200
    document = response.json()
    result = run_asyncapi_parser(document)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid AsyncAPI 3.0.0" in result.stdout

    # And the validator does fail on an invalid document.
    broken = {**document, "operations": {"x": {"action": "publish"}}}
    result = run_asyncapi_parser(broken)
    assert result.returncode == 1 and "Error" in result.stdout


@pytest.mark.django_db
def test_asyncapi_has_a_message_per_type_and_the_frames(anon):
    document = anon.get("/api/asyncapi.json").json()
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["brain"] == {
        **document["servers"]["brain"],
        "host": "testserver",
        "protocol": "ws",
    }
    channel = document["channels"]["events"]
    assert channel["address"] == "/ws/events/"
    assert set(channel["bindings"]["ws"]["query"]["properties"]) == {
        "types",
        "subject",
        "since",
    }
    messages = document["components"]["messages"]
    assert set(channel["messages"]) == set(messages)
    assert set(messages) == {*TYPE_NAMES, *CONTROL_FRAMES, *CLIENT_FRAMES}

    def names(operation: str) -> set[str]:
        refs = document["operations"][operation]["messages"]
        return {ref["$ref"].rsplit("/", 1)[1] for ref in refs}

    assert document["operations"]["receiveEvents"]["action"] == "receive"
    assert names("receiveEvents") == set(TYPE_NAMES)
    assert names("receiveControl") == CONTROL_FRAMES
    assert document["operations"]["sendControl"]["action"] == "send"
    assert names("sendControl") == CLIENT_FRAMES
    for name in TYPE_NAMES:
        event_type = registered_types()[name]
        message = messages[name]
        assert message["name"] == name
        assert message["summary"] == (event_type.description or name)
        assert message["x-live-only"] is (not event_type.durable)
        payload = message["payload"]
        assert payload["properties"]["type"] == {"const": name}
        assert ("seq" in payload["properties"]["meta"]["required"]) is (
            event_type.durable
        )
        (example,) = message["examples"]
        assert problems(payload, example["payload"]) == []


@pytest.mark.django_db(transaction=True)
async def test_the_consumer_sends_the_frames_the_document_describes(make_user):
    from brain.asgi import application

    user = await sync_to_async(make_user)("viewer")
    key = await sync_to_async(token_for)(user)
    frames = {**contracts.SERVER_FRAMES, **contracts.CLIENT_FRAMES}

    def check(kind: str, frame: dict) -> None:
        assert problems(frames[kind]["payload"], frame) == [], frame

    async def settle() -> list[dict]:
        """The frames of one subscription, up to its end (caught_up, reset, or a
        subscribed without a replay), each checked against its message."""
        received = []
        while True:
            frame = json.loads(await ws.receive_from(timeout=10))
            check(frame["control"], frame)
            received.append(frame["control"])
            if frame["control"] != "subscribed" or not frame.get("replaying"):
                return received

    ws = WebsocketCommunicator(
        application,
        "/ws/events/?types=mission.*&since=0",
        headers=[(b"authorization", f"Token {key}".encode())],
    )
    connected, _ = await ws.connect(timeout=5)
    assert connected
    assert (await settle())[0] == "subscribed"
    ping = {"action": "ping"}
    check("ping", ping)
    await ws.send_to(text_data=json.dumps(ping))
    assert await settle() == ["pong"]
    subscribe = {"action": "subscribe", "types": "credits.*", "since": None}
    check("subscribe", subscribe)
    await ws.send_to(text_data=json.dumps(subscribe))
    assert (await settle())[0] == "subscribed"
    await ws.send_to(text_data=json.dumps({"action": "dance"}))
    assert await settle() == ["error"]
    await ws.disconnect()


# GET /api/events/types -------------------------------------------------------


@pytest.mark.django_db
def test_event_types_lists_only_what_the_user_may_read(
    make_user, api_as, django_assert_max_num_queries
):
    from rest_framework.test import APIClient

    reader = make_user("plain")
    reader.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="missions", codename="view_mission"
        )
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(reader)}")
    with django_assert_max_num_queries(4):
        response = client.get("/api/events/types")
    assert response.status_code == 200
    listed = response.json()
    mission_types = [n for n in TYPE_NAMES if n.startswith("mission.")]
    assert [entry["name"] for entry in listed] == mission_types
    status_changed = listed[mission_types.index("mission.status_changed")]
    event_type = registered_types()["mission.status_changed"]
    assert status_changed == {
        "name": "mission.status_changed",
        "source": "missions_service",
        "source_module": "missions",
        "description": event_type.description,
        "trigger": event_type.trigger,
        "durable": True,
        "retention_days": 365,
        "target": "mission_{mission_id}",
        "subjects": ["mission_{mission_id}"],
        "read_permission": "missions.view_mission",
        "payload_schema": contracts.json_schema(event_type),
    }

    operator = api_as("operator").get("/api/events/types").json()
    domain_types = [
        event_type.name
        for label in DOMAIN_APPS
        for event_type in contracts.declaring_apps()[label][1]
    ]
    assert set(domain_types) <= {entry["name"] for entry in operator}
    live_only = next(e for e in operator if e["name"] == "credits.health_checked")
    assert live_only["durable"] is False and live_only["retention_days"] is None

    everything = api_as("superuser").get("/api/events/types").json()
    assert [entry["name"] for entry in everything] == TYPE_NAMES
    widget = next(e for e in everything if e["name"] == "widget.created")
    assert widget["retention_days"] == settings.EVENTS_RETENTION_DAYS

    assert api_as("plain").get("/api/events/types").json() == []


@pytest.mark.django_db
def test_event_types_needs_a_signed_in_user(anon):
    assert anon.get("/api/events/types").status_code == 401


# OpenAPI --------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_types_the_envelope_meta(anon):
    schema = anon.get("/api/schema/", {"format": "json"}).json()
    validate_schema(schema)
    components = schema["components"]["schemas"]
    assert components["Envelope"]["properties"]["meta"] == {
        "$ref": "#/components/schemas/EnvelopeMeta"
    }
    meta = components["EnvelopeMeta"]
    assert set(meta["properties"]) == {
        "schema_version",
        "producer",
        "source_module",
        "actor",
        "correlation_id",
        "seq",
    }
    assert meta["properties"]["actor"]["nullable"] is True
    assert meta["properties"]["seq"]["type"] == "integer"
    # Live-only events carry no seq.
    assert set(meta["required"]) == {
        "schema_version",
        "producer",
        "source_module",
        "actor",
        "correlation_id",
    }
    assert "/api/asyncapi.json" in schema["paths"]
    types = schema["paths"]["/api/events/types"]["get"]["responses"]["200"]
    assert types["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/EventType"
    }
