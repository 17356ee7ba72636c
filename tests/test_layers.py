"""The import-layer contract: stencilpy's imports point one way (STYLE.md, "imports point one
way"), checked on every module's syntax tree, function-level (lazy) imports included.

A module's layer is its first name under ``stencilpy`` (``stencilpy.runtime.jit`` is in
``runtime``, ``stencilpy.decorator`` in ``decorator``; the package itself, the public API, is
``stencilpy``).  ``MAY_IMPORT`` lists what each layer may import directly; what those may import,
it may import too.  A new top-level module or subpackage must be given a place here.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "stencilpy"

#: layer -> the layers it may import (and, through them, everything they may import)
MAY_IMPORT = {
    "about": (),                                     # version and CPU model: standard library only
    "errors": ("about",),
    "extrapolation": (),                             # ghost values of boundary "extrapolate": numpy only
    "options": ("errors",),
    "ir": ("options",),
    "frontend": ("ir",),                             # python source -> ir
    "analysis": ("ir",),                             # the only sympy users
    "passes": ("analysis",),                         # ir -> ir
    "signature": ("analysis", "extrapolation"),      # binding a call: shapes, dtypes, halos
    "reference": ("signature",),                     # the oracle: never codegen or runtime
    "codegen": ("analysis",),                        # ir + frozen analysis -> llvmlite.ir
    "runtime": ("codegen", "signature"),             # binding, JIT, cache, threads
    "compile": ("frontend", "passes", "runtime"),    # the compile driver (issue 14)
    "inspection": ("compile",),
    "adapters": ("signature",),                      # get the Stencil as a value: never import it
    "decorator": ("compile", "inspection", "reference", "adapters"),
    "stencilpy": ("decorator",),                     # the package: the public API
    "mpdata": ("stencilpy",),
    "diagnostics": ("stencilpy",),
    "demo": ("mpdata", "diagnostics"),
    "demo_diagnostics": ("mpdata", "diagnostics"),   # stencilpy demo diagnostics
    "bench": ("mpdata", "diagnostics"),
    "tune": ("stencilpy",),                          # stencilpy tune: measures runtime/tuning's choices
    "cli": ("demo", "demo_diagnostics", "bench", "tune"),
    "__main__": ("cli",),
}

#: (importer, imported) edges that break the contract today, each with the work that removes it
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known) -> str | None:
    """The module that ``name`` (a module, or an object in one) lives in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str, path: Path, known) -> dict[str, int]:
    """stencilpy modules that ``module`` imports -> the first line that does (grimp's rules:
    ``from a import b`` imports ``a.b`` when that is a module, else ``a``; a literal
    ``importlib.import_module("...")`` counts as an import)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(name, line):
        target = _resolve(name, known) if name.split(".")[0] == "stencilpy" else None
        if target and target != module:
            found.setdefault(target, line)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base,
                    node.lineno)
        elif isinstance(node, ast.Call) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                and getattr(node.func, "attr", getattr(node.func, "id", None)) \
                in ("import_module", "__import__"):
            add(node.args[0].value, node.lineno)
    return found


@functools.lru_cache(maxsize=None)
def graph() -> dict[str, dict[str, int]]:
    known = modules()
    return {m: imports(m, p, known) for m, p in known.items()}


def layer(module: str) -> str:
    return module.split(".")[1] if "." in module else module


@functools.lru_cache(maxsize=None)
def allowed(name: str) -> frozenset[str]:
    """The layers ``name`` may import: itself and everything below it."""
    return frozenset({name}).union(*(allowed(d) for d in MAY_IMPORT[name]))


def violations(edges: dict[str, dict[str, int]]) -> list[str]:
    out = []
    for importer, targets in sorted(edges.items()):
        for imported, line in sorted(targets.items()):
            if layer(imported) not in allowed(layer(importer)) \
                    and (importer, imported) not in KNOWN_EXCEPTIONS:
                out.append(f"{importer} (line {line}) imports {imported}: layer "
                           f"'{layer(importer)}' may import only "
                           f"{', '.join(sorted(allowed(layer(importer))))}")
    return out


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_layer():
    missing = sorted({layer(m) for m in graph()} - set(MAY_IMPORT))
    assert not missing, (f"{missing} are in no layer: give each a place in MAY_IMPORT "
                         f"({__file__})")


def test_imports_point_down_the_layers():
    found = violations(graph())
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles (lazy imports included):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_known_exceptions_are_still_needed():
    edges = graph()
    stale = [f"{a} -> {b}" for a, b in KNOWN_EXCEPTIONS if b not in edges.get(a, {})]
    assert not stale, f"remove these from KNOWN_EXCEPTIONS, they are gone: {stale}"


# -- the checker itself, on made-up graphs (so that it can fail) -----------------------------


def test_a_lower_layer_importing_a_higher_one_is_reported():
    edges = {"stencilpy.reference.interpret": {"stencilpy.codegen.kernel": 7},
             "stencilpy.runtime.jit": {"stencilpy.codegen.math": 3}}
    assert violations(edges) == [
        "stencilpy.reference.interpret (line 7) imports stencilpy.codegen.kernel: layer "
        "'reference' may import only about, analysis, errors, extrapolation, ir, options, "
        "reference, signature"]


def test_the_public_package_is_a_layer_of_its_own():
    assert violations({"stencilpy.runtime.cache": {"stencilpy": 130}})
    assert not violations({"stencilpy.mpdata.kernels": {"stencilpy": 38}})


def test_a_cycle_through_lazy_imports_is_found():
    edges = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize("source, expected", [
    ("from stencilpy.runtime import jit", {"stencilpy.runtime.jit"}),
    ("from stencilpy.frontend import parse_stencil", {"stencilpy.frontend"}),
    ("import stencilpy as sp", {"stencilpy"}),
    ("def f():\n    from . import cache", {"stencilpy.runtime.cache"}),
    ("from ..ir.nodes import Field", {"stencilpy.ir.nodes"}),
    ("import importlib\nimportlib.import_module('stencilpy.decorator')", {"stencilpy.decorator"}),
])
def test_imports_are_resolved_like_grimp(source, expected, tmp_path):
    path = tmp_path / "call.py"
    path.write_text(source)
    known = modules()
    assert set(imports("stencilpy.runtime.call", path, known)) == expected
