"""The stencil IR: frozen dataclasses, each carrying the user's source location.

Expressions are evaluated at "the current point" of the iteration domain.
``FieldAccess(name, offset)`` reads a field parameter or a temporary at an
integer offset from that point.  Statements assign temporaries; a ``Stencil``
ends with a tuple of returned expressions (one per output).

The frontend produces ``If`` statements and may assign one name several
times; the passes turn this into straight-line single-assignment code
(``passes/if_to_select.py``, ``passes/ssa_rename.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from stencilpy.errors import SourceLoc

BINARY_OPS = ("+", "-", "*", "/", "//", "%", "**")
UNARY_OPS = ("-", "+", "not")
COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
BOOL_OPS = ("and", "or")

#: math functions of the language: canonical name -> number of arguments
MATH_FUNCTIONS = {
    "sqrt": 1, "exp": 1, "log": 1, "log10": 1, "log2": 1, "expm1": 1, "log1p": 1,
    "sin": 1, "cos": 1, "tan": 1, "arcsin": 1, "arccos": 1, "arctan": 1,
    "sinh": 1, "cosh": 1, "tanh": 1, "floor": 1, "ceil": 1, "trunc": 1,
    "abs": 1, "isnan": 1, "isinf": 1, "isfinite": 1, "sign": 1,
    "arctan2": 2, "hypot": 2, "power": 2, "copysign": 2, "fmod": 2,
    "min": 2, "max": 2, "where": 3,
}

_NOLOC = SourceLoc("<stencilpy>", 0)


@dataclass(frozen=True)
class Const:
    """A literal number or boolean (Python semantics: a 'weak' scalar for promotion)."""

    value: bool | int | float
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class FieldAccess:
    """``name[offset]``: a field parameter or temporary read at a constant offset."""

    name: str
    offset: tuple[int, ...]
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class ScalarRef:
    """A scalar parameter (or a parameter whose kind is decided at call time)."""

    name: str
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class UnaryOp:
    op: str
    operand: "Expr"
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class Compare:
    """A single comparison; the frontend splits chains ``a < b < c`` into ``and``."""

    op: str
    left: "Expr"
    right: "Expr"
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class BoolOp:
    """``and`` / ``or`` of two or more operands (element-wise, no short circuit)."""

    op: str
    values: tuple["Expr", ...]
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class Select:
    """``if_true if cond else if_false`` and ``sp.where(cond, if_true, if_false)``."""

    cond: "Expr"
    if_true: "Expr"
    if_false: "Expr"
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class Call:
    """A math function by canonical name (see ``MATH_FUNCTIONS``)."""

    func: str
    args: tuple["Expr", ...]
    loc: SourceLoc = field(default=_NOLOC, compare=False)


Expr = Union[Const, FieldAccess, ScalarRef, BinOp, UnaryOp, Compare, BoolOp, Select, Call]


@dataclass(frozen=True)
class Assign:
    """``target = value`` for a temporary."""

    target: str
    value: Expr
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class If:
    """An ``if/elif/else`` block whose branches assign temporaries (elif = nested If)."""

    cond: Expr
    body: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    loc: SourceLoc = field(default=_NOLOC, compare=False)


Stmt = Union[Assign, If]


@dataclass(frozen=True)
class Levels:
    """``with sp.levels(start, stop):`` inside a sweep: the statements of ``body`` run at the
    levels ``range(n)[start:stop]`` (Python slice meaning; ``stop=None`` is the end)."""

    start: int
    stop: int | None
    body: tuple[Stmt, ...]
    every: bool = False      # statements written directly in the sweep: at every level
    loc: SourceLoc = field(default=_NOLOC, compare=False)

    def bounds(self, n: int) -> tuple[int, int]:
        """``[lo, hi)`` of the range on an axis of ``n`` levels (``lo >= hi``: empty)."""
        lo, hi, _ = slice(self.start, self.stop).indices(n)
        return lo, hi


@dataclass(frozen=True)
class Sweep:
    """``with sp.forward(axis):`` / ``with sp.backward(axis):``: runs level by level along
    ``axis`` in ``direction`` ("forward": increasing index), in parallel over the other axes.
    At each level, the ``ranges`` that contain it run in the order written; statements written
    directly in the sweep form ``Levels(0, None, ..., every=True)`` blocks (every level)."""

    axis: int
    direction: str
    ranges: tuple[Levels, ...]
    loc: SourceLoc = field(default=_NOLOC, compare=False)


Block = Union[Assign, If, Sweep]


@dataclass(frozen=True)
class Param:
    """A stencil parameter.  ``subscripted`` parameters must be fields; the others
    are fields or scalars depending on what the caller passes."""

    name: str
    subscripted: bool
    loc: SourceLoc = field(default=_NOLOC, compare=False)


@dataclass(frozen=True)
class Stencil:
    """One stencil definition: parameters, straight-line body, returned expressions."""

    name: str
    params: tuple[Param, ...]
    body: tuple[Block, ...]          # statements, and sweeps (``Sweep``) between them
    returns: tuple[Expr, ...]
    dims: tuple[str, ...]
    loc: SourceLoc = field(default=_NOLOC, compare=False)

    @property
    def ndim(self) -> int:
        return len(self.dims)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if isinstance(expr, (BinOp, Compare)):
        return (expr.left, expr.right)
    if isinstance(expr, UnaryOp):
        return (expr.operand,)
    if isinstance(expr, BoolOp):
        return expr.values
    if isinstance(expr, Select):
        return (expr.cond, expr.if_true, expr.if_false)
    if isinstance(expr, Call):
        return expr.args
    return ()


def walk(expr: Expr):
    """Yield ``expr`` and all its sub-expressions, depth first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def map_expr(expr: Expr, fn) -> Expr:
    """Rebuild ``expr`` bottom-up, applying ``fn`` to every node after its children."""
    import dataclasses

    if isinstance(expr, (BinOp, Compare)):
        expr = dataclasses.replace(expr, left=map_expr(expr.left, fn), right=map_expr(expr.right, fn))
    elif isinstance(expr, UnaryOp):
        expr = dataclasses.replace(expr, operand=map_expr(expr.operand, fn))
    elif isinstance(expr, BoolOp):
        expr = dataclasses.replace(expr, values=tuple(map_expr(v, fn) for v in expr.values))
    elif isinstance(expr, Select):
        expr = dataclasses.replace(
            expr, cond=map_expr(expr.cond, fn), if_true=map_expr(expr.if_true, fn),
            if_false=map_expr(expr.if_false, fn))
    elif isinstance(expr, Call):
        expr = dataclasses.replace(expr, args=tuple(map_expr(a, fn) for a in expr.args))
    return fn(expr)


def has_sweeps(stencil: Stencil) -> bool:
    """Whether ``stencil`` has a ``with sp.forward/backward`` block (a column stencil)."""
    return any(isinstance(s, Sweep) for s in stencil.body)


def assignments(stmts):
    """Every ``Assign`` of ``stmts`` in program order, inside ``If`` and ``Sweep`` blocks too."""
    for stmt in stmts:
        if isinstance(stmt, Assign):
            yield stmt
        elif isinstance(stmt, If):
            yield from assignments(stmt.body)
            yield from assignments(stmt.orelse)
        else:
            for rng in stmt.ranges:
                yield from assignments(rng.body)


def map_statements(stmts, fn) -> tuple:
    """``stmts`` with ``fn`` applied to every expression (values and conditions), keeping
    the block structure (``If``, ``Sweep``)."""
    import dataclasses

    out = []
    for stmt in stmts:
        if isinstance(stmt, Assign):
            out.append(dataclasses.replace(stmt, value=fn(stmt.value)))
        elif isinstance(stmt, If):
            out.append(dataclasses.replace(stmt, cond=fn(stmt.cond),
                                           body=map_statements(stmt.body, fn),
                                           orelse=map_statements(stmt.orelse, fn)))
        else:
            out.append(dataclasses.replace(stmt, ranges=tuple(
                dataclasses.replace(r, body=map_statements(r.body, fn)) for r in stmt.ranges)))
    return tuple(out)
