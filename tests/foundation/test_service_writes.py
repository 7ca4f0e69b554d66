"""Only its own app's services write an event-bearing model.

A model is event-bearing when its app's ``services.py`` sends signals: each change to
it comes out as events, sent by the service that makes it. ``update()`` and
``bulk_create`` send no signal at all, and a ``save()`` in a view or a command skips
the service's rules, so everywhere else in the project a write to such a model is a
change no dashboard would hear of. The models stay plain (the database refuses only
what must never happen); this test keeps the project's own code on the services.

Read with ``ast`` from every ``.py`` file of the project packages, migrations and
tests left out. A write is:

- a manager or queryset write reached from the model by name, wherever it is:
  ``Mission.objects.create(...)``, ``Mission.objects.filter(...).update(...)``,
  ``Mission.objects.get(...).delete()``, ``Mission(...).save()``;
- in an entry point (``admin.py``, ``views.py``, ``serializers.py``, a management
  command) that imports an event-bearing model or belongs to its app: any
  ``.save()``, ``.delete()``, ``.bulk_create()``, ``.bulk_update()``, or
  ``.update()`` with keyword arguments only (a queryset's, not a dict's).

A write through a variable outside an entry point (``mission.save()`` in a signal
receiver) is not caught: telling a model instance from anything else needs types.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("brain", "missions", "credits", "hardware", "supervisor", "dashboard")
SKIPPED_DIRS = {"migrations", "tests", "__pycache__"}
# The models the services of missions, credits, hardware and supervisor write and
# announce; the list below is derived from the source, this only checks it.
KNOWN_EVENT_BEARING = {
    "Mission": "missions",
    "MissionLog": "missions",
    "MissionStatusChange": "missions",
    "Account": "credits",
    "LedgerEntry": "credits",
    "Robot": "hardware",
    "RobotState": "hardware",
    "RobotCommand": "hardware",
    "Agent": "supervisor",
}
QUERYSET_WRITES = {
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "save",
}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
ENTRY_POINTS = {"admin.py", "views.py", "serializers.py"}
INSTANCE_WRITES = {"save", "delete", "bulk_create", "bulk_update"}


@dataclass(frozen=True)
class Write:
    path: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code}"


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                yield path


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def is_service(relative: Path) -> bool:
    return relative.name == "services.py" or "services" in relative.parts[:-1]


def sends_signals(tree: ast.Module) -> bool:
    """``<signal>.send(sender=...)`` anywhere in the module."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"send", "send_robust"}
        and any(keyword.arg == "sender" for keyword in node.keywords)
        for node in ast.walk(tree)
    )


def model_classes(tree: ast.Module) -> set[str]:
    """Classes deriving from ``models.Model`` (or ``Model``)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if (isinstance(base, ast.Attribute) and base.attr == "Model") or (
                    isinstance(base, ast.Name) and base.id == "Model"
                ):
                    names.add(node.name)
    return names


def event_bearing_models() -> dict[str, Path]:
    """Model name → its app's directory, for every app whose services send signals."""
    models = {}
    for path in source_files():
        relative = path.relative_to(ROOT)
        if relative.name != "services.py" or not sends_signals(parse(path)):
            continue
        app = path.parent
        if (app / "models.py").exists():
            for name in model_classes(parse(app / "models.py")):
                models[name] = app.relative_to(ROOT)
    return models


def receiver_chain(node: ast.expr) -> list[str]:
    """The names a call's receiver is reached through, outermost first:
    ``Mission.objects.filter(...)[:5]`` → ``["Mission", "objects", "filter"]``."""
    chain = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            chain.append(node.id)
            return chain[::-1]
        else:
            return chain[::-1]


def model_reached(chain: list[str], models: dict[str, Path]) -> str | None:
    """The model whose manager the chain goes through, if any."""
    for name, after in zip(chain, chain[1:], strict=False):
        if name in models and after in MANAGERS:
            return name
    return None


def imported_names(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def is_entry_point(relative: Path) -> bool:
    parts = relative.parts
    in_command = "management" in parts and "commands" in parts
    return relative.name in ENTRY_POINTS or (in_command and parts[-1] != "__init__.py")


def writes_in(relative: Path, source: str, models: dict[str, Path]) -> Iterator[Write]:
    """Every write to an event-bearing model the file makes outside its services."""
    tree = ast.parse(source, filename=str(relative))
    own_models = {name for name, app in models.items() if app in relative.parents}
    # An app's services write its own models; another app's only through their
    # owner's services.
    writable_here = own_models if is_service(relative) else set()
    entry_point = is_entry_point(relative) and bool(
        own_models | (imported_names(tree) & set(models))
    )
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        receiver = node.func.value
        found = None
        if method in QUERYSET_WRITES:
            chain = receiver_chain(receiver)
            found = model_reached(chain, models)
            constructed = (
                isinstance(receiver, ast.Call)
                and isinstance(receiver.func, ast.Name)
                and receiver.func.id in models
            )
            if found is None and constructed and method in {"save", "delete"}:
                found = receiver.func.id
            if found is not None and found in writable_here:
                continue
        if found is None and entry_point:
            keyword_update = method == "update" and node.keywords and not node.args
            is_super = (
                isinstance(receiver, ast.Call)
                and isinstance(receiver.func, ast.Name)
                and receiver.func.id == "super"
            )
            if (method in INSTANCE_WRITES or keyword_update) and not is_super:
                found = method
        if found is not None:
            yield Write(
                str(relative), node.lineno, ast.get_source_segment(source, node)
            )


def all_writes() -> list[Write]:
    models = event_bearing_models()
    return [
        write
        for path in source_files()
        for write in writes_in(path.relative_to(ROOT), path.read_text(), models)
    ]


def test_the_event_bearing_models_are_derived_from_the_services():
    derived = {name: str(app) for name, app in event_bearing_models().items()}
    assert KNOWN_EVENT_BEARING.items() <= derived.items()


def test_only_services_write_event_bearing_models():
    writes = all_writes()
    assert not writes, (
        "event-bearing models written outside their app's services (call the "
        "service, which sends the signals):\n" + "\n".join(map(str, writes))
    )


# The rule itself, on small sources -----------------------------------------------


MODELS = {"Mission": Path("missions"), "Agent": Path("supervisor")}


def found_in(source: str, relative: str) -> list[str]:
    return [write.code for write in writes_in(Path(relative), source, MODELS)]


CAUGHT = [
    ("Mission.objects.create(name='x')", "missions/anything.py"),
    ("Mission.objects.filter(pk=1).update(status='DONE')", "dashboard/selectors.py"),
    ("Mission.objects.all()[:5].delete()", "missions/signals.py"),
    ("Mission.objects.get(pk=1).save()", "supervisor/services.py"),
    ("Mission._base_manager.bulk_create([])", "missions/views.py"),
    ("models.Mission.objects.update_or_create(pk=1)", "missions/tasks.py"),
    ("Mission(name='x').save()", "missions/admin.py"),
]


def test_the_rule_catches_manager_and_queryset_writes():
    for code, where in CAUGHT:
        assert found_in(f"{code}\n", where) == [code], (code, where)


def test_the_rule_catches_saves_in_entry_points():
    source = (
        "from missions.models import Mission\n"
        "def view(request, mission):\n"
        "    mission.save()\n"
        "    request.user.delete()\n"
        "    queryset.update(name='x')\n"
        "    mission.log_entries.filter(level='info').update(level='debug')\n"
        "    super().save_model(request, mission, None, True)\n"
        "    context.update({'a': 1})\n"
    )
    assert found_in(source, "missions/views.py") == [
        "mission.save()",
        "request.user.delete()",
        "queryset.update(name='x')",
        "mission.log_entries.filter(level='info').update(level='debug')",
    ]
    assert found_in(source, "dashboard/management/commands/seed.py") == [
        "mission.save()",
        "request.user.delete()",
        "queryset.update(name='x')",
        "mission.log_entries.filter(level='info').update(level='debug')",
    ]


def test_the_rule_lets_the_owning_services_write():
    source = "Mission.objects.create(name='x')\nMission(name='y').save()\n"
    assert found_in(source, "missions/services.py") == []
    assert found_in("user.save()\n", "brain/access/views.py") == []
    assert found_in("mission.save()\n", "missions/selectors.py") == []
