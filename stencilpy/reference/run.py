"""``run_reference(call)``: the numpy reference of any stencil -- stages (``interpret.py``) for
a parallel stencil, level by level (``columns.py``) for one with sweeps."""

from __future__ import annotations

from stencilpy.ir import nodes as N
from stencilpy.reference.columns import run_columns
from stencilpy.reference.interpret import run_reference as _run
from stencilpy.signature import BoundCall


def run_reference(call: BoundCall) -> tuple:
    """Evaluate a bound call with numpy; one array per output."""
    return _run(call, run_columns) if N.has_sweeps(call.stencil) else _run(call)
