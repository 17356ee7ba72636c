"""The list of passes, in order.  This file holds no pass logic."""

from __future__ import annotations

from stencilpy.ir import nodes as N
from stencilpy.passes.bind_scalars import bind_scalars
from stencilpy.passes.eliminate_dead import eliminate_dead
from stencilpy.passes.fold_constants import fold_constants
from stencilpy.passes.if_to_select import if_to_select
from stencilpy.passes.ssa_rename import ssa_rename

#: definition-time passes: parsed IR -> straight-line single-assignment IR
DEFINITION_PASSES = (if_to_select, ssa_rename, fold_constants, eliminate_dead)

#: the same for column stencils (``with sp.forward/backward``): a sweep updates its
#: temporaries level by level in place, so names are not versioned and reads of a name are
#: not replaced by its (constant) value
COLUMN_PASSES = (if_to_select,)


def run_definition_passes(stencil: N.Stencil, verify=None) -> N.Stencil:
    """Apply every definition-time pass; ``verify`` (if given) runs after each."""
    for p in (COLUMN_PASSES if N.has_sweeps(stencil) else DEFINITION_PASSES):
        stencil = p(stencil)
        if verify is not None:
            verify(stencil)
    return stencil


def specialize(stencil: N.Stencil, scalar_names: frozenset[str]) -> N.Stencil:
    """Call-time passes: bind the parameters passed as numbers, fold again."""
    if N.has_sweeps(stencil):
        return bind_scalars(stencil, scalar_names)
    return eliminate_dead(fold_constants(bind_scalars(stencil, scalar_names)))
