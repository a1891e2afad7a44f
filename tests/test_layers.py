"""The house's one direction of dependencies, read from the source: every module's imports
(at module level, inside functions and under ``TYPE_CHECKING`` alike) by an AST walk.

    settings <- {metrics, tracing} <- db <- {gql, seeds, alembic} <- web <- cli

``logs`` may be imported by anyone; ``bench``, ``tests`` and ``dev.py`` stand outside. On top
of the direction: no serving module in ``gql`` (nothing there speaks ASGI), the request
``Context`` carries no cache, and no import cycle outside the Strawberry types (which
``strawberry.lazy`` ties together; the resolvers of their nested lists live among them).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from gql.context import Context

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("db", "gql", "seeds", "web")
MODULES = ("settings", "logs", "metrics", "tracing", "cli")
LAYER = {
    "settings": 0,
    "metrics": 1,  # beside each other, below everything that counts or traces
    "tracing": 1,
    "db": 2,
    "gql": 3,
    "seeds": 3,
    "alembic": 3,
    "web": 4,
    "cli": 5,
}
ANYONE = {"logs"}  # importable from every layer
TYPES = "gql.types"  # cycles among these are Strawberry's lazy types, and allowed


def _sources() -> dict[str, Path]:
    """Module name -> file, for every module of the service (``alembic/`` is named by its
    folder: its files are loaded by Alembic, never imported)."""
    found = {name: ROOT / f"{name}.py" for name in MODULES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    for path in sorted((ROOT / "alembic").rglob("*.py")):
        found["alembic:" + path.relative_to(ROOT / "alembic").as_posix()] = path
    return found


SOURCES = _sources()


def _imported(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """The names ``path`` imports anywhere in it (``from a import b`` gives ``a.b`` and
    ``a``: ``b`` may be a module), with their line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *base.split(".")])
                base = base.strip(".")
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _target(name: str) -> str | None:
    """The project module an imported name is (or lies in), else None (a library)."""
    while name:
        if name in SOURCES and not name.startswith("alembic:"):
            return name
        name = name.rpartition(".")[0]
    return None


def _with_parents(module: str) -> Iterator[str]:
    """A module and the packages importing it runs first (``a.b.c``: ``a.b``, ``a``)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in SOURCES:
            yield name


@dataclasses.dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def _edges() -> list[Edge]:
    edges = set()
    for module, path in SOURCES.items():
        for name, line in _imported(path, module):
            target = _target(name)
            if target is None:
                continue
            for reached in _with_parents(target):
                if reached != module and not module.startswith(reached + "."):
                    edges.add(Edge(module, reached, line))
    return sorted(edges, key=lambda e: (e.source, e.target, e.line))


EDGES = _edges()


def _layer(module: str) -> str:
    return "alembic" if module.startswith("alembic:") else module.split(".")[0]


def test_the_walk_sees_the_house() -> None:
    """A guard on the walk itself: it finds the modules and the imports it must judge."""
    assert {"settings", "db.models", "gql.schema", "web", "cli", "seeds"} <= set(SOURCES)
    pairs = {(e.source, e.target) for e in EDGES}
    assert ("gql.schema", "gql.query") in pairs
    assert ("web.view", "gql.schema") in pairs
    assert ("cli", "gql.schema") in pairs  # inside a function
    assert ("gql.types.work_connection", "gql.types.work") in pairs  # under TYPE_CHECKING
    assert ("gql.context", "gql.compiled") in pairs  # a package runs before its modules
    assert any(s.startswith("alembic:") for s, _ in pairs)


def test_dependencies_point_one_way() -> None:
    """settings <- {metrics, tracing} <- db <- {gql, seeds, alembic} <- web <- cli: a module
    imports only from its own package and from layers below it (and ``logs``)."""
    wrong = []
    for edge in EDGES:
        source, target = _layer(edge.source), _layer(edge.target)
        if source == target or target in ANYONE or source in ANYONE:
            continue  # logs: test_logs_import_only_settings
        if LAYER[target] >= LAYER[source]:
            wrong.append(f"{SOURCES[edge.source].relative_to(ROOT)}:{edge.line} {edge.target}")
    assert not wrong, "imports against the direction:\n" + "\n".join(wrong)


def test_logs_import_only_settings() -> None:
    assert {e.target for e in EDGES if e.source == "logs"} <= {"settings"}


# What speaks HTTP: a module of gql that imports one of these is a serving module.
SERVING = ("starlette.types", "starlette.middleware", "starlette.routing", "uvicorn")


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if _layer(m) == "gql"))
def test_no_serving_module_in_gql(module: str) -> None:
    serving = [
        name
        for name, _ in _imported(SOURCES[module], module)
        if any(name == s or name.startswith(s + ".") for s in SERVING)
    ]
    assert not serving, f"{module} serves HTTP ({serving}): it belongs in web/"


def test_the_context_carries_no_cache() -> None:
    """The request context is the request's: per-process caches live with what uses them."""
    for field in dataclasses.fields(Context):
        annotation = str(field.type).lower()
        assert "cache" not in annotation and "prepared" not in annotation, field
        assert "cache" not in field.name and field.name not in {"responses", "prepared"}, field


def _cycles() -> list[list[str]]:
    """The import graph's strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in SOURCES}
    for edge in EDGES:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_outside_the_types() -> None:
    outside = [
        cycle
        for cycle in _cycles()
        if not all(m == TYPES or m.startswith(TYPES + ".") for m in cycle)
    ]
    assert not outside, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in outside)
