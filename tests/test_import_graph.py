"""The package's modules import one another one way: no circle, deferred imports included.

The graph is read from the source, not from a running interpreter: every `import` statement
anywhere in a module (at the top, inside a function, under `if TYPE_CHECKING:`) is an edge.
A circle makes each module of it depend on the others' import order and hides which stage
depends on which; `rewriter.lower` shows how lowering avoids one (a table its clients fill).
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

PACKAGE = "rewriter"

ALLOWED_EDGES: frozenset = frozenset()
"""Edges (importer, imported) still allowed to close a circle. Only for modules other people
are changing at the moment (emit, edits, dispatch, convert, pipeline, decorator, verification,
verify_sites, bench*, report, patterns/): none of them closes one today, so the set is empty.
Add an edge here only with the issue that will remove it, and remove it with that issue."""


SUBPACKAGES = ("rewriter.patterns",)
"""Subpackages that live outside the package's folder: the pattern library is installed as
`rewriter.patterns` from the top-level `patterns/` folder (pyproject.toml's package-dir)."""


def _module_files() -> dict:
    """Dotted module name -> source file, for the package and all its subpackages."""
    files = {}
    pending = [PACKAGE, *SUBPACKAGES]
    while pending:
        package = pending.pop()
        spec = importlib.util.find_spec(package)
        for folder in spec.submodule_search_locations:
            for path in sorted(Path(folder).iterdir()):
                if path.name == "__init__.py":
                    files[package] = path
                elif path.suffix == ".py":
                    files[f"{package}.{path.stem}"] = path
                elif (path / "__init__.py").is_file() and f"{package}.{path.name}" not in SUBPACKAGES:
                    pending.append(f"{package}.{path.name}")
    return files


def _imported(module: str, is_package: bool, node, known: set) -> list:
    """The package's modules that one import statement imports."""
    if isinstance(node, ast.Import):
        return [_longest_known(alias.name, known) for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([base] if base else []))
    # `from . import facts` imports the module `facts`; `from . import __version__` the package
    modules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
    if len(modules) < len(node.names):
        modules.append(_longest_known(base, known))
    return modules


def _longest_known(name: str, known: set):
    """`rewriter.facts` for `rewriter.facts.Kind`-like names; None outside the package."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def import_graph() -> dict:
    """Module -> {imported module: [line numbers]} over every import statement."""
    files = _module_files()
    known = set(files)
    graph = {}
    for module, path in files.items():
        edges = {}
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(module, path.name == "__init__.py", node, known):
                    if target is not None and target != module:
                        edges.setdefault(target, []).append(node.lineno)
        graph[module] = edges
    return graph


def circles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _describe(graph: dict, component: list) -> str:
    members = set(component)
    lines = [f"circle among {', '.join(component)}:"]
    for module in component:
        for target, numbers in sorted(graph[module].items()):
            if target in members:
                lines.append(f"  {module} -> {target} (line {', '.join(map(str, sorted(numbers)))})")
    return "\n".join(lines)


def test_the_graph_sees_the_package_and_its_deferred_imports():
    graph = import_graph()
    assert {"rewriter.lower", "rewriter.walker", "rewriter.cli", "rewriter.patterns.reductions"} <= set(graph)
    # a deferred import inside a function counts: cli imports the worker only when it runs `fix`
    assert "rewriter.worker" in graph["rewriter.cli"]
    # `from . import registry as registry_module` is an edge to the module, not to the package
    assert "rewriter.registry" in graph["rewriter.function"]
    assert "rewriter" not in graph["rewriter.function"]
    # the pattern library is part of the package, and its modules import the lowering
    assert "rewriter.patterns" in graph["rewriter.registry"]
    assert "rewriter.lower" in graph["rewriter.patterns.reductions"]


def test_no_module_circle():
    graph = import_graph()
    allowed = {(a, b) for a, b in ALLOWED_EDGES}
    pruned = {module: {t: n for t, n in edges.items() if (module, t) not in allowed}
              for module, edges in graph.items()}
    found = circles(pruned)
    assert not found, "\n\n".join(_describe(pruned, c) for c in found)


def test_allowed_edges_are_still_needed():
    """An allowance nobody needs any more is removed, so the test tightens as circles go."""
    graph = import_graph()
    for importer, imported in ALLOWED_EDGES:
        assert imported in graph.get(importer, {}), f"{importer} no longer imports {imported}: drop the allowance"


def test_circles_are_found():
    graph = {"a": {"b": [1]}, "b": {"c": [2]}, "c": {"a": [3]}, "d": {"a": [4]}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b": [1]}, "b": {}}) == []


def test_every_lowering_kind_is_registered_by_rewriter_lower():
    """The walker reaches calls, subscripts, in-place updates and whole-loop forms through the
    `handlers` table; `rewriter.lower` imports every module that fills it."""
    import rewriter.lower  # noqa: F401
    from rewriter import handlers

    for kind in handlers.KINDS:
        assert callable(handlers.lowering(kind)), kind


@pytest.mark.parametrize("stage, later", [
    ("rewriter.convert", {"rewriter.emit", "rewriter.emit_site", "rewriter.dispatch", "rewriter.render",
                          "rewriter.pipeline"}),
    ("rewriter.emit", {"rewriter.sites", "rewriter.convert", "rewriter.emit_site", "rewriter.pipeline"}),
    ("rewriter.render", {"rewriter.sites", "rewriter.convert", "rewriter.emit", "rewriter.emit_site",
                         "rewriter.pipeline"}),
])
def test_no_stage_calls_back_up_the_pipeline(stage, later):
    """Convert does not emit, emit does not find sites, render only reads text: each stage
    imports what comes before it, never the stages that use its output."""
    graph = import_graph()
    reached, todo = set(), [stage]
    while todo:
        for imported in graph.get(todo.pop(), {}):
            if imported not in reached:
                reached.add(imported)
                todo.append(imported)
    assert not (reached & later), sorted(reached & later)
