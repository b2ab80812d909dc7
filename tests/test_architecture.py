"""The layers hold: imports between postguard's rooms follow the architecture, with no circle.

Every import is read from the source (module level and inside functions alike),
so a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "postguard"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m.startswith("postguard")}
    modules = set(graph)
    # Keep only real modules ("from postguard.x import y" where y is a name, not a module).
    return {k: {m for m in v if m in modules} for k, v in graph.items()}


GRAPH = _imports()


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_checks_import_nothing_from_the_registry_web_cli_or_audit() -> None:
    bad = sorted(
        (m, d)
        for m, deps in GRAPH.items()
        if _room(m) == "checks"
        for d in deps
        if _room(d) in {"registry", "web", "cli", "audit", "access", "workflow", "training", "factory"}
    )
    assert not bad


def test_the_audit_trail_does_not_import_the_registry() -> None:
    bad = sorted(
        (m, d) for m, deps in GRAPH.items() if _room(m) == "audit" for d in deps if _room(d) == "registry"
    )
    assert not bad


def test_the_policy_and_keys_are_leaves() -> None:
    for module, deps in GRAPH.items():
        if _room(module) in {"policy", "keys", "errors", "settings"}:
            assert {_room(d) for d in deps} <= {"policy", "errors", "keys"}, module


def test_no_import_circle() -> None:
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for dep in sorted(GRAPH.get(node, ())):
            if dep == node or node.startswith(dep + "."):  # a package's own __init__
                continue
            if seen.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                if not all(c.startswith(dep + ".") or c == dep for c in cycle[1:-1]):
                    pytest.fail("import circle: " + " -> ".join(cycle))
            elif dep not in seen:
                visit(dep)
        stack.pop()
        seen[node] = 2

    for module in sorted(GRAPH):
        if module not in seen:
            visit(module)


_CLAUSE_LITERAL = re.compile(r"""["'](?:A\.(?:i|ii|iii|iv)(?:\.[a-z]+)?|B|C)["']""")


def test_no_clause_id_literal_outside_the_pack_and_the_detectors() -> None:
    """Clause ids are data: the pack names them; code asks the pack (covers:, content clauses)."""
    found = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("checks/detectors/") or "/migrations/" in relative:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for match in _CLAUSE_LITERAL.finditer(code):
                if relative == "checks/normalise.py":  # look-alike letters, not clauses
                    continue
                found.append(f"{relative}:{number}: {match.group()}")
    assert not found
