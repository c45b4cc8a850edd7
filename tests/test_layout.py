"""The package's layout: modules import each other in one direction (no cycle, not even through
an import inside a function), so each can be read, tested and changed from the bottom up."""

from __future__ import annotations

import ast
from pathlib import Path

import reconcile

PACKAGE = Path(reconcile.__file__).parent


def _module_name(path: Path) -> str:
    """A module's dotted name inside the package: ``fitting``, ``model`` (its ``__init__``),
    ``model.graph``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (relative or absolute, at any depth)."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {}
    for path in paths:
        name = _module_name(path)
        # the package a relative import of level 1 starts from
        here = name.split(".") if path.stem == "__init__" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = here[: len(here) - (node.level - 1)]
            elif (node.module or "").startswith("reconcile."):
                base = []
            else:
                continue
            module = (node.module or "").removeprefix("reconcile.") if not node.level else node.module
            stem = ".".join(base + ([module] if module else []))
            for alias in node.names:  # "from .model import grid" imports the module model.grid
                candidate = f"{stem}.{alias.name}" if stem else alias.name
                found.add(candidate if candidate in modules else stem)
        # importing model.inputs from outside the package runs the package's __init__ first
        for module in list(found):
            parts = module.split(".")
            for k in range(1, len(parts)):
                package = ".".join(parts[:k])
                if not name.startswith(package + ".") and name != package:
                    found.add(package)
        graph[name] = {m for m in found if m in modules} - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if any (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                return path[path.index(d) :] + [d]
            if d not in state and (found := visit(d)):
                return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_search_finds_a_cycle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_in_the_package():
    graph = _imports()
    assert {"summary", "report", "plots", "outputs", "fitting"} <= set(graph)  # the search sees them
    assert "report" in graph["outputs"] and "summary" in graph["report"]
    assert {"model", "model.graph", "model.inputs"} <= set(graph) and "model.inputs" in graph["model.graph"]
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])
