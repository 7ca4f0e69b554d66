"""Dependencies point one way: domain apps import ``brain``, the dashboard imports them.

The graph is read with ``ast`` from every ``.py`` file of the project packages,
migrations included: module-level and function-level imports, relative imports and
``importlib.import_module`` / ``__import__`` with a literal name. A migration's
``apps.get_model("app", "Model")`` and a URL ``include("app.urls")`` are references
by name, resolved by Django at run time, not imports, so they do not count.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = "brain"
DOMAIN_APPS = ("missions", "credits", "hardware", "supervisor", "webhooks")
DASHBOARD = "dashboard"
PACKAGES = (CORE, *DOMAIN_APPS, DASHBOARD)
IMPORT_FUNCTIONS = {"import_module", "__import__"}


@dataclass(frozen=True)
class Import:
    """One import statement: where it is and the module it names."""

    path: str
    line: int
    module: str

    @property
    def importer(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def imported(self) -> str:
        return self.module.split(".", 1)[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def module_name(relative: Path) -> tuple[str, bool]:
    """The dotted name of a file, and whether it is a package's ``__init__``."""
    parts = list(relative.with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def resolve_relative(
    module: str | None, level: int, name: str, is_package: bool
) -> str:
    """The absolute name ``from <level dots><module> import ...`` refers to."""
    parts = name.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - level + 1]
    return ".".join([*base, module] if module else base)


def imports_in(source: str, path: str) -> Iterator[Import]:
    """Every import the source makes, wherever it sits in the file."""
    name, is_package = module_name(Path(path))
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = resolve_relative(node.module, node.level, name, is_package)
            else:
                target = node.module or ""
            yield Import(path, node.lineno, target)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else None
            if isinstance(func, ast.Name):
                called = func.id
            first = node.args[0]
            if (
                called in IMPORT_FUNCTIONS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and not first.value.startswith(".")
            ):
                yield Import(path, node.lineno, first.value)


def project_imports() -> list[Import]:
    found = []
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            relative = file.relative_to(ROOT)
            source = file.read_text(encoding="utf-8")
            found.extend(imports_in(source, relative.as_posix()))
    return found


def package_graph(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    """Edges between top-level packages, each with the imports that make it."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for found in imports:
        if found.imported in PACKAGES and found.imported != found.importer:
            edges.setdefault((found.importer, found.imported), []).append(found)
    return edges


def cycles(edges: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
    """Each cycle once, as the packages along it, the first repeated at the end."""
    successors: dict[str, set[str]] = {}
    for source, target in edges:
        successors.setdefault(source, set()).add(target)

    def path_between(start: str, goal: str) -> list[str] | None:
        queue, seen = [[start]], {start}
        while queue:
            path = queue.pop(0)
            if path[-1] == goal:
                return path
            for following in sorted(successors.get(path[-1], ())):
                if following not in seen:
                    seen.add(following)
                    queue.append([*path, following])
        return None

    found, known = [], set()
    for source, target in sorted(edges):
        back = path_between(target, source)
        if back is not None:
            cycle = [source, *back]
            key = frozenset(zip(cycle, cycle[1:], strict=False))
            if key not in known:
                known.add(key)
                found.append(cycle)
    return found


def describe(violations: list[Import], *, indent: str = "  ", most: int = 0) -> str:
    ordered = sorted(violations, key=lambda found: (found.path, found.line))
    shown = ordered[:most] if most else ordered
    lines = [f"{indent}{found}" for found in shown]
    if len(ordered) > len(shown):
        lines.append(f"{indent}... and {len(ordered) - len(shown)} more")
    return "\n".join(lines)


def test_the_core_imports_no_domain_app_nor_the_dashboard():
    forbidden = {*DOMAIN_APPS, DASHBOARD}
    violations = [
        found
        for found in project_imports()
        if found.importer == CORE and found.imported in forbidden
    ]
    assert not violations, (
        f"{CORE} must not import {', '.join(sorted(forbidden))} (name them by a "
        f"setting or a dotted string instead):\n{describe(violations)}"
    )


def test_the_domain_apps_do_not_import_the_dashboard():
    violations = [
        found
        for found in project_imports()
        if found.importer in DOMAIN_APPS and found.imported == DASHBOARD
    ]
    assert not violations, (
        f"the dashboard sits above the domain apps; they must not import it:\n"
        f"{describe(violations)}"
    )


def test_no_import_cycle_between_the_packages():
    edges = package_graph(project_imports())
    found = cycles(edges)
    report = []
    for cycle in found:
        report.append("  " + " -> ".join(cycle))
        for source, target in zip(cycle, cycle[1:], strict=False):
            report.append(describe(edges[(source, target)], indent="    ", most=3))
    assert not found, "import cycles between packages:\n" + "\n".join(report)


def test_the_reader_sees_every_kind_of_import():
    source = (
        "import importlib\n"
        "from importlib import import_module\n"
        "from . import sibling\n"
        "from ..events import emit\n"
        "import missions.models\n"
        "def late():\n"
        "    from credits import services\n"
        "    importlib.import_module('hardware.services')\n"
        "    import_module('supervisor')\n"
        "    __import__('dashboard.views')\n"
        "    importlib.import_module(name_from_somewhere)\n"
        "    apps.get_model('missions', 'Mission')\n"
    )
    found = list(imports_in(source, "brain/access/groups.py"))
    assert sorted((each.line, each.module) for each in found) == [
        (1, "importlib"),
        (2, "importlib"),
        (3, "brain.access"),
        (4, "brain.events"),
        (5, "missions.models"),
        (7, "credits"),
        (8, "hardware.services"),
        (9, "supervisor"),
        (10, "dashboard.views"),
    ]


def test_a_cycle_is_reported_with_the_imports_that_close_it():
    edges = package_graph(
        [
            Import("credits/services.py", 3, "missions.models"),
            Import("missions/views.py", 9, "credits.selectors"),
            Import("supervisor/models.py", 1, "missions.models"),
        ]
    )
    assert cycles(edges) == [["credits", "missions", "credits"]]
