"""The package's layers: which domain package may import which, and no import circles.

Every import counts (top level, inside functions, under TYPE_CHECKING): a lazy import
that runs back up the layers is still a dependency a reader has to know about.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "attune_packs"

#: The base modules at the package root: every layer may import them; they import
#: only each other.
BASE = {
    "errors",
    "events",
    "config",
    "fsutil",
    "yamlio",
    "locking",
    "versioning",
    "redaction",
    "data",
}

#: What each domain package may import besides itself and the base modules.
ALLOWED: dict[str, set[str]] = {
    "pack": set(),
    "db": set(),
    "net": {"pack.checksum"},  # download digests; nothing else of packs
    "registry": {"pack", "net"},
    "fetch": {"pack", "net", "registry"},
    "resolve": {"pack", "net", "registry", "fetch", "db"},
    "install": {"pack", "net", "registry", "fetch", "resolve", "db"},
    "api": {"pack", "net", "registry", "fetch", "resolve", "install", "db"},
    "cli": {"api", "pack", "net", "registry", "fetch", "resolve", "install"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """module -> the attune_packs modules it imports (names below attune_packs)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "attune_packs":
                    found.update(alias.name for alias in node.names)
                elif node.module.startswith("attune_packs."):
                    base = node.module[len("attune_packs.") :]
                    found.add(base)
                    found.update(f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("attune_packs."):
                        found.add(alias.name[len("attune_packs.") :])
        graph[name] = found
    modules = set(graph)
    # keep only names that are modules or packages ("pack.model.Manifest" -> "pack.model")
    return {
        name: {imp for imp in found if imp in modules or imp.split(".")[0] in BASE} - {name}
        for name, found in graph.items()
    }


def _layer(module: str) -> str:
    return module.split(".")[0] if module else ""


def test_layers_only_import_downwards() -> None:
    bad = []
    for module, imported in sorted(_imports().items()):
        layer = _layer(module)
        if layer in ("", "__main__"):
            continue
        for imp in sorted(imported):
            target = _layer(imp)
            if target == layer or target in BASE:
                continue
            if layer in BASE:
                bad.append(f"{module} -> {imp} (a base module imports a domain package)")
                continue
            allowed = ALLOWED.get(layer, set())
            if target in allowed or imp in allowed:
                continue
            bad.append(f"{module} -> {imp}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_cli_does_no_sql_and_no_transport() -> None:
    """Commands parse, call one core function and render: no database, no HTTP, no git."""
    bad = [
        f"{module} -> {imp}"
        for module, imported in _imports().items()
        if module.startswith("cli")
        for imp in imported
        if imp.split(".")[0] == "db" or imp in ("net.http", "net.git")
    ]
    assert not bad, bad


def test_no_import_circles() -> None:
    graph = _imports()
    # A submodule importing its own package's __init__ is how Python works, not a circle.
    edges = {
        m: {i for i in imps if not (m.startswith(i + ".") and i in graph)}
        for m, imps in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan, iterative enough for this graph's depth
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import circles: {cycles}"


def test_every_subpackage_says_what_it_holds_and_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        if init.parent.name in ("data",):
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"{init.parent.name}/__init__.py: docstring"
