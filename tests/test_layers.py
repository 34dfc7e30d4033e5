"""The layer order of DESIGN.md, enforced: imports point only down, and no
modules import each other in a circle.

Imports are read from the source (AST), at the top of a module and inside
functions alike; only ``if TYPE_CHECKING:`` blocks are left out, because they
never run. Importing ``a.b.c`` also runs the packages ``a`` and ``a.b``, so
those count as imports of the importing module too (the cycle the old
``checks.media → ops.base → ops/__init__ → ops.gates → checks`` was).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Bottom to top; a module belongs to the first entry its name starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "core",
        (
            "routeyard.errors",
            "routeyard.canonical",
            "routeyard.config",
            "routeyard.brief",
            "routeyard.media",
            "routeyard.records",
            "routeyard.secrets",
            "routeyard.billing",
            "routeyard.memory",
            "routeyard.logs",
        ),
    ),
    ("data", ("routeyard.catalog", "routeyard.credentials", "routeyard.store", "routeyard.checks")),
    ("compute", ("routeyard.ops", "routeyard.routing")),
    ("adapters", ("routeyard.providers",)),
    ("execution", ("routeyard.pipeline",)),
    ("edges", ("routeyard.api", "routeyard.cli", "routeyard.server")),
]


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in (SRC / "routeyard").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


MODULES = _modules()


def layer_of(module: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to DESIGN.md)")


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    path, package = MODULES[module]
    here = module if package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            target = _known(name) if name.startswith("routeyard") else None
            if target is None:
                continue
            # the target and the packages above it run on import
            pieces = target.split(".")
            for i in range(1, len(pieces) + 1):
                dotted = ".".join(pieces[:i])
                if dotted in MODULES and not module.startswith(dotted + ".") and dotted != module:
                    found.add(dotted)
    found.discard("routeyard")  # the root's exports are lazy (module __getattr__)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_import_points_down_or_sideways():
    upward = [
        f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
        for m, targets in GRAPH.items()
        if m != "routeyard"
        for t in sorted(targets)
        if layer_of(t) > layer_of(m)
    ]
    assert upward == []


def test_no_import_cycles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_walker_sees_function_level_and_parent_package_imports():
    # routeyard.api imports planning inside a function; the engine's parent packages count.
    assert "routeyard.pipeline.planning" in GRAPH["routeyard.api"]
    assert "routeyard.pipeline" in GRAPH["routeyard.api"]
    assert "routeyard.store" not in GRAPH["routeyard.ops.base"]  # type-only import


PACKAGES = [*sorted(m for m, (_, package) in MODULES.items() if package), "routeyard.cli"]


@pytest.mark.parametrize("module", PACKAGES)
def test_each_package_imports_on_its_own_in_a_fresh_interpreter(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_cli_and_the_root_import_no_heavy_libraries():
    code = (
        "import sys, routeyard, routeyard.cli, routeyard.errors;"
        "heavy = [m for m in ('cv2', 'av', 'sqlalchemy', 'fastapi', 'numpy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
