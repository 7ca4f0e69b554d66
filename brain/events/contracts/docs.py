"""Each app's ``EVENTS.md``, generated from its ``events.py``."""

import importlib
import importlib.util
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from django.apps import AppConfig, apps

from brain.events.contracts.examples import example_envelope
from brain.events.contracts.schemas import ContractError, payload_schema, subject_rules
from brain.events.registry import EventType, registered_types

DOCS_COMMAND = "python manage.py events_docs"


def _events_module(config: AppConfig):
    name = f"{config.name}.events"
    if name in sys.modules:
        return sys.modules[name]
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


def declaring_apps() -> dict[str, tuple[AppConfig, list[EventType]]]:
    """Each app that declares events, by label: its config and its types in order.

    A type belongs to the app whose ``events`` module holds its declaration (a
    module attribute); a type declared anywhere else, to the app of its payload
    model's module.
    """
    declared = registered_types()
    owner: dict[str, AppConfig] = {}
    for config in apps.get_app_configs():
        module = _events_module(config)
        if module is None:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, EventType)
                and declared.get(value.name) is value
                and (
                    value.name not in owner
                    or value.payload.__module__ == module.__name__
                )
            ):
                owner[value.name] = config
    result: dict[str, tuple[AppConfig, list[EventType]]] = {}
    for name, event_type in declared.items():
        config = owner.get(name) or apps.get_containing_app_config(
            event_type.payload.__module__
        )
        if config is None:
            raise ContractError(f"{name}: declared outside any installed app")
        result.setdefault(config.label, (config, []))[1].append(event_type)
    order = [config.label for config in apps.get_app_configs()]
    return dict(sorted(result.items(), key=lambda item: order.index(item[0])))


def events_md_path(config: AppConfig) -> Path:
    return Path(config.path) / "EVENTS.md"


def _module_path(config: AppConfig) -> str:
    return config.name.replace(".", "/") + "/events.py"


def _code(value: Any) -> str:
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rule(rule: str | None) -> str:
    """A target or subject rule as a reader sees it: ``mission_<mission_id>``."""
    if rule is None:
        return "`null`"
    return _code(re.sub(r"\{([a-z_][a-z0-9_]*)\}", r"<\1>", rule))


def _json_type(schema: dict[str, Any]) -> str:
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return " or ".join(_json_type(branch) for branch in branches)
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if schema.get("enum"):
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {_json_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_json_type(schema['additionalProperties'])}"
    return kind or "any JSON value"


def _nullable(schema: dict[str, Any]) -> bool:
    branches = schema.get("anyOf") or schema.get("oneOf") or [schema]
    kinds = []
    for branch in branches:
        kind = branch.get("type")
        kinds.extend(kind if isinstance(kind, list) else [kind])
    return "null" in kinds


def _storage(event_type: EventType) -> tuple[str, str]:
    if not event_type.durable:
        return "live-only", "—"
    if event_type.retention_days is None:
        return "durable", "`EVENTS_RETENTION_DAYS`"
    return "durable", str(event_type.retention_days)


def _docstring(module) -> tuple[str, str]:
    """The module docstring as a title (its first line) and the prose after it."""
    text = inspect.cleandoc(module.__doc__ or "")
    summary, _, body = text.partition("\n\n")
    return " ".join(summary.split()).rstrip("."), body.strip()


def events_markdown(app_label: str) -> str:
    """The app's ``EVENTS.md``: its events module's prose, a table of its types and,
    per type, its payload fields and an example envelope."""
    try:
        config, types = declaring_apps()[app_label]
    except KeyError:
        raise ContractError(f"app {app_label!r} declares no event types") from None
    module = _events_module(config)
    title, prose = _docstring(module) if module is not None else ("", "")
    title = title or f"{config.verbose_name} events"
    source = _module_path(config)
    lines = [
        f"# {title}",
        "",
        f"> Generated from `{source}` by `{DOCS_COMMAND}`; do not edit.",
        "> The same declarations give each payload's JSON Schema "
        "(`GET /api/events/types`)",
        "> and the WebSocket contract (`GET /api/asyncapi.json`, AsyncAPI 3.0).",
        "",
    ]
    if prose:
        lines += [prose, ""]
    lines += [
        "## Event types",
        "",
        "| type | when | target | subjects | stored | retention (days) "
        "| reader permission | payload |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for event_type in types:
        stored, days = _storage(event_type)
        lines.append(
            "| "
            + " | ".join(
                [
                    _code(event_type.name),
                    _cell(event_type.trigger or event_type.description),
                    _rule(event_type.target),
                    ", ".join(_rule(r) for r in subject_rules(event_type)) or "—",
                    stored,
                    days,
                    _code(event_type.read_permission),
                    ", ".join(_code(f) for f in event_type.payload_fields),
                ]
            )
            + " |"
        )
    lines += [
        "",
        "A durable event is stored in the event log in the same transaction as the "
        "change and",
        "delivered after commit, with a `meta.seq`; a live-only event goes to the "
        "sockets",
        "subscribed at that moment and is never stored (no `meta.seq`). `subjects` "
        "are what",
        "a `subject=` filter matches. The envelope and the socket are described in",
        "`brain/events/README.md`.",
    ]
    for event_type in types:
        lines += ["", *_type_section(event_type)]
    return "\n".join(lines) + "\n"


def _type_section(event_type: EventType) -> list[str]:
    schema = payload_schema(event_type)
    required = set(schema.get("required", ()))
    stored, days = _storage(event_type)
    if stored == "live-only":
        storage = "live-only: never stored, no `meta.seq`"
    else:
        storage = f"durable, kept {days} days"
    lines = [f"## `{event_type.name}`", ""]
    if event_type.description:
        lines += [event_type.description, ""]
    if event_type.trigger:
        lines.append(f"- **When:** {event_type.trigger}")
    subjects = ", ".join(_rule(r) for r in subject_rules(event_type)) or "none"
    lines += [
        f"- **Source:** `{event_type.source}` "
        f"(`meta.source_module`: `{event_type.source_module}`)",
        f"- **Target:** {_rule(event_type.target)}; **subjects:** {subjects}",
        f"- **Stored:** {storage}",
        f"- **Readers need:** `{event_type.read_permission}`",
        "",
        "| field | JSON type | required | description |",
        "|---|---|---|---|",
    ]
    for name, field in schema.get("properties", {}).items():
        presence = "required" if name in required else "optional"
        if _nullable(field):
            presence += ", nullable"
        lines.append(
            f"| `{name}` | {_json_type(field)} | {presence} "
            f"| {_cell(field.get('description', ''))} |"
        )
    lines += [
        "",
        "```json",
        json.dumps(example_envelope(event_type), indent=2, ensure_ascii=False),
        "```",
    ]
    return lines
