"""``analyse(stencil)``: the ``Plan`` of any stencil -- stages (``bounds.py``) for a parallel
stencil, footprints block by block (``columns.py``) for one with sweeps."""

from __future__ import annotations

from stencilpy.analysis.bounds import Plan
from stencilpy.analysis.bounds import analyse as analyse_parallel
from stencilpy.analysis.columns import analyse_columns
from stencilpy.ir import nodes as N


def analyse(stencil: N.Stencil) -> Plan:
    """The frozen analysis of ``stencil`` (see the module docstring)."""
    return analyse_columns(stencil) if N.has_sweeps(stencil) else analyse_parallel(stencil)
