"""Invariants of the IR, checked after every pass in the tests."""

from __future__ import annotations

from stencilpy.errors import InternalCompilerError
from stencilpy.ir import nodes as N


def _check_expr(expr: N.Expr, ndim: int, defined: set[str], scalars: set[str]) -> None:
    for node in N.walk(expr):
        if isinstance(node, N.FieldAccess):
            if len(node.offset) != ndim:
                raise InternalCompilerError(f"access {node.name} has rank {len(node.offset)}, not {ndim}")
            if node.name not in defined:
                raise InternalCompilerError(f"'{node.name}' read before it is defined")
        elif isinstance(node, N.ScalarRef) and node.name not in scalars:
            raise InternalCompilerError(f"scalar reference to unknown parameter '{node.name}'")
        elif isinstance(node, N.Call) and N.MATH_FUNCTIONS.get(node.func) != len(node.args):
            raise InternalCompilerError(f"bad call {node.func}/{len(node.args)}")
        elif isinstance(node, N.BinOp) and node.op not in N.BINARY_OPS:
            raise InternalCompilerError(f"unknown binary operator {node.op}")


def _check_stmts(stmts, ndim, defined, scalars, temps) -> None:
    for stmt in stmts:
        if isinstance(stmt, N.Assign):
            _check_expr(stmt.value, ndim, defined, scalars)
            if stmt.target in scalars:
                raise InternalCompilerError(f"assignment to parameter '{stmt.target}'")
            defined.add(stmt.target)
            temps.add(stmt.target)
        elif isinstance(stmt, N.Sweep):
            for rng in stmt.ranges:
                inner = set(defined)
                _check_stmts(rng.body, ndim, inner, scalars, temps)
            defined.update(s.target for s in N.assignments((stmt,)))
        else:
            _check_expr(stmt.cond, ndim, defined, scalars)
            inner = set(defined)
            _check_stmts(stmt.body, ndim, inner, scalars, temps)
            other = set(defined)
            _check_stmts(stmt.orelse, ndim, other, scalars, temps)
            defined |= inner & other


def verify(stencil: N.Stencil, *, straight_line: bool = False, ssa: bool = False) -> N.Stencil:
    """Raise ``InternalCompilerError`` if ``stencil`` breaks an IR invariant; return it."""
    names = [p.name for p in stencil.params]
    if len(set(names)) != len(names):
        raise InternalCompilerError("duplicate parameter names")
    if not stencil.returns:
        raise InternalCompilerError("a stencil returns at least one expression")
    defined = set(names)
    scalars = set(p.name for p in stencil.params if not p.subscripted)
    temps: set[str] = set()
    _check_stmts(stencil.body, stencil.ndim, defined, scalars, temps)
    for ret in stencil.returns:
        _check_expr(ret, stencil.ndim, defined, scalars)
    flat = [s for b in stencil.body for s in
            ([b] if not isinstance(b, N.Sweep) else [t for r in b.ranges for t in r.body])]
    if straight_line and any(isinstance(s, N.If) for s in flat):
        raise InternalCompilerError("If statement left after if_to_select")
    if ssa and not N.has_sweeps(stencil):   # sweeps update columns in place: no SSA
        targets = [s.target for s in stencil.body]
        if len(set(targets)) != len(targets):
            raise InternalCompilerError("a temporary is assigned twice after ssa_rename")
    return stencil
