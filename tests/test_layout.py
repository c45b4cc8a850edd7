"""The package's layout: modules import each other in one direction (no cycle, not even through
an import inside a function), so each can be read, tested and changed from the bottom up."""

from __future__ import annotations

import ast
from pathlib import Path

import reconcile

PACKAGE = Path(reconcile.__file__).parent


def _imports() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reconcile."):
                found.add(node.module.split(".")[1])
        graph[path.stem] = found & modules - {path.stem}
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
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])
