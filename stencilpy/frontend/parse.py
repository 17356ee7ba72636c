"""Python function -> ``ir.Stencil``: statements, local names, helper inlining, the driver.

>>> def laplacian(u):
...     return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]
>>> from stencilpy.ir import format_stencil
>>> print(format_stencil(parse_stencil(laplacian)), end="")
stencil laplacian(u[]) dims=(dim_0, dim_1)
    return ((((u[1, 0] + u[-1, 0]) + u[0, 1]) + u[0, -1]) - (4.0 * u[0, 0]))

Python -> IR, statement by statement:

* ``x = e`` / ``x += e`` / ``a, b = e1, e2``  -> ``Assign`` (reassignment allowed)
* ``if c: ... elif d: ... else: ...``         -> ``If(c, body, (If(d, ...),))``
* ``return e`` / ``return e1, e2`` (last)     -> ``Stencil.returns``
* ``helper(u, 2.0)`` (an ``@sp.function``)    -> the helper's ``Assign``s (temporaries renamed
  ``helper__<n>__<name>``) before the statement, and its return expression in place.
"""

from __future__ import annotations

import ast
import keyword
import operator

import numpy
from dataclasses import dataclass, field

from stencilpy.errors import ReservedNameError, SourceLoc, StencilSyntaxError
from stencilpy.frontend.expr import BINARY_OPERATORS, UNSUPPORTED, ExprParser
from stencilpy.frontend.functions import SpFunction
from stencilpy.frontend.recurrence import warn_recurrences
from stencilpy.frontend.limits import MAX_HELPER_DEPTH, check_reach
from stencilpy.frontend.resolve import Namespace
from stencilpy.frontend.source import FunctionSource, get_function_source, parameters
from stencilpy.frontend.sweeps import (
    DECORATION_LEVELS, MAX_LEVEL_BOUND, SWEEP_NAMES, LevelError, check_levels)
from stencilpy.ir import nodes as N
from stencilpy.options import RESERVED

#: the most iterations one unrolled loop may have
MAX_UNROLLED = 256

_STATIC_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.FloorDiv: operator.floordiv}

#: keyword-only call options of a stencil: no parameter may use these names
RESERVED_NAMES = RESERVED


@dataclass
class _Context:
    """State shared by the stencil and every helper inlined into it."""

    dims: tuple[str, ...]                 # declared dims, () if none
    ndim: int | None                      # fixed by dims or by the first subscript
    taken: set[str]                       # the stencil's own parameter and temporary names
    first_subscript: str | None = None
    subscripted: set[str] = field(default_factory=set)
    active: list = field(default_factory=list)    # helpers being inlined (recursion check)
    sources: dict = field(default_factory=dict)   # helper function -> FunctionSource
    counter: int = 0
    sweep: object = None                  # the sweep being parsed (its 'with' node), or None
    depth: int = 0                        # expressions being parsed, helpers included

    def source_of(self, pyfunc) -> FunctionSource:
        if pyfunc not in self.sources:
            self.sources[pyfunc] = get_function_source(pyfunc)
        return self.sources[pyfunc]

    def fresh_prefix(self, base: str) -> str:
        """``base__<n>__``, a prefix no user name starts with."""
        while True:
            self.counter += 1
            prefix = f"{base}__{self.counter}__"
            if not any(name.startswith(prefix) for name in self.taken):
                return prefix


@dataclass(frozen=True)
class _Binding:
    """A helper parameter bound to the caller's argument expression."""

    expr: N.Expr
    loc: SourceLoc
    helper: str


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    """Every name stored to in ``body``: Python makes them all local to the function."""
    names = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


class FunctionParser(ExprParser):
    """Parses one function body (the stencil's or an inlined helper's) into ``out``."""

    def __init__(self, ctx: _Context, src: FunctionSource, ns: Namespace, *, kind: str,
                 params: dict[str, ast.arg] | None = None,
                 bindings: dict[str, _Binding] | None = None,
                 prefix: str = "", out: list | None = None):
        self.ctx, self.src, self.ns, self.kind = ctx, src, ns, kind
        self.params = params or {}
        self.bindings = bindings or {}
        self.prefix = prefix
        self.out: list[N.Stmt] = [] if out is None else out
        self.temps = _assigned_names(src.node.body)
        self.defined: set[str] = set()
        self.partial: set[str] = set()
        self.if_depth = 0
        self.loop_values: dict[str, int] = {}     # loop variables being unrolled

    # -- names ----------------------------------------------------------------------------

    def is_local(self, name: str) -> bool:
        return name in self.params or name in self.bindings or name in self.temps

    def visible_names(self) -> set[str]:
        """The names the body may use (for "did you mean"): locals, then the function's globals."""
        return {*self.params, *self.bindings, *self.temps, *self.ns.names()}

    def _temporary(self, name: str, node: ast.AST) -> str:
        """The IR name of temporary ``name``, which must be assigned on every path by now."""
        if name in self.defined:
            return self.prefix + name
        if name in self.partial:
            self.fail(node, f"'{name}' is only assigned in some branches of an 'if' above",
                      f"assign '{name}' before the 'if', or in every branch of it")
        self.fail(node, f"temporary '{name}' is read before it is assigned",
                  f"assign '{name}' above this line")

    def lookup_local(self, name: str, node: ast.AST) -> N.Expr | None:
        if name in self.loop_values:
            return N.Const(self.loop_values[name], self.src.loc(node))
        if name in self.bindings:
            return self.bindings[name].expr
        if name in self.params:
            return N.FieldAccess(name, (), self.src.loc(node))
        if name in self.temps:
            return N.FieldAccess(self._temporary(name, node), (), self.src.loc(node))
        return None

    def field_for_offsets(self, name: str, node: ast.AST) -> str | None:
        """The IR name read when ``name`` is subscripted (None: not a local name)."""
        if name in self.bindings:
            bound = self.bindings[name]
            if not isinstance(bound.expr, N.FieldAccess) or any(bound.expr.offset):
                raise StencilSyntaxError(
                    f"argument '{name}' of '{bound.helper}' is read at offsets, so pass a "
                    "field or temporary name", bound.loc,
                    f"assign the argument to a temporary first and pass that to "
                    f"'{bound.helper}'")
            self.ctx.subscripted.add(bound.expr.name)
            return bound.expr.name
        if name in self.params:
            self.ctx.subscripted.add(name)
            return name
        if name in self.temps:
            return self._temporary(name, node)
        return None

    def _check_target(self, name: str, target: ast.AST) -> None:
        if name in self.loop_values:
            self.fail(target, f"'{name}' is the variable of a loop being unrolled",
                      "assign to a new temporary name")
        if name in self.params or name in self.bindings:
            self.fail(target, f"'{name}' is a parameter, and parameters are read-only",
                      "assign to a new temporary name")
        if name in self.ctx.dims:
            self.fail(target, f"temporary '{name}' has the name of a dimension",
                      "rename the temporary")

    def _assign(self, name: str, value: N.Expr, target: ast.AST, stmt: ast.stmt) -> None:
        self._check_target(name, target)
        self.out.append(N.Assign(self.prefix + name, value, self.src.loc(stmt)))
        self.defined.add(name)
        self.partial.discard(name)

    # -- the function body ----------------------------------------------------------------

    def parse_function(self) -> tuple[N.Expr, ...]:
        """Parse the body into ``self.out``; return the final ``return``'s expressions."""
        body = list(self.src.node.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]                                    # the docstring
        if not body or not isinstance(body[-1], ast.Return):
            for stmt in body:
                self.visit(stmt)                               # an early 'return' fails here
            raise StencilSyntaxError(
                f"{self.kind} '{self.src.name}' does not end with a 'return' statement",
                self.src.def_loc(), "return the result (or a tuple of results) on the last line")
        for stmt in body[:-1]:
            self.visit(stmt)
        return self._returned(body[-1])

    def _returned(self, node: ast.Return) -> tuple[N.Expr, ...]:
        if node.value is None:
            self.fail(node, "'return' needs a value", "return the result expression")
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        if not values:
            self.fail(node, "'return ()' returns nothing", "return at least one expression")
        if self.kind == "helper" and len(values) != 1:
            self.fail(node.value, f"helper '{self.src.name}' returns {len(values)} values",
                      "a helper returns one expression; write one helper per value")
        return tuple(self.expr(v) for v in values)

    # -- statements -----------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            self.fail(node, "chained assignment 'a = b = ...' is not supported",
                      "assign one name per statement")
        target = node.targets[0]
        if isinstance(target, (ast.Tuple, ast.List)):
            return self._unpack(target, node)
        self._assign(self._target_name(target), self.expr(node.value), target, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            self.fail(node, f"'{self.src.segment(node)}' declares a name without a value",
                      "assign a value, e.g. x: float = 0.0, or drop the line")
        self._assign(self._target_name(node.target), self.expr(node.value), node.target, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        """``x += e`` -> ``x = x + e``."""
        name = self._target_name(node.target)
        self._check_target(name, node.target)
        op = self._operator(BINARY_OPERATORS, node.op, node)
        value = N.BinOp(op, self.visit_Name(node.target), self.expr(node.value),
                        self.src.loc(node))
        self._assign(name, value, node.target, node)

    def _target_name(self, target: ast.expr) -> str:
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Subscript):
            self.fail(target, f"cannot assign to '{self.src.segment(target)}'",
                      "stencils write their outputs through 'return'; assign a temporary "
                      "name and return it")
        self.fail(target, f"cannot assign to '{self.src.segment(target)}'",
                  "assign to a plain temporary name")

    def _unpack(self, target: ast.Tuple | ast.List, node: ast.Assign) -> None:
        """``a, b = e1, e2``: both values are computed before either name changes."""
        value = node.value
        if not isinstance(value, ast.Tuple) or len(value.elts) != len(target.elts):
            self.fail(node, f"'{self.src.segment(node)}' does not unpack a tuple of "
                      f"{len(target.elts)} expressions", "write 'a, b = x, y' with equal lengths")
        names = [self._target_name(t) for t in target.elts]
        values = [self.expr(v) for v in value.elts]
        stored = {self.prefix + name for name in names}
        read = {n.name for v in values for n in N.walk(v) if isinstance(n, N.FieldAccess)}
        if stored & read:                                      # e.g. a, b = b, a
            hold = self.ctx.fresh_prefix("unpack")
            loc = self.src.loc(node)
            for name, v in zip(names, values):
                self.out.append(N.Assign(hold + name, v, loc))
            values = [N.FieldAccess(hold + name, (), loc) for name in names]
        for name, t, v in zip(names, target.elts, values):
            self._assign(name, v, t, node)

    def visit_If(self, node: ast.If) -> None:
        cond = self.expr(node.test)
        before = set(self.defined), set(self.partial)
        body, body_defined = self._branch(node.body, before)
        orelse, else_defined = self._branch(node.orelse, before)
        self.defined = body_defined & else_defined
        self.partial = (self.partial | body_defined | else_defined) - self.defined
        self.out.append(N.If(cond, body, orelse, self.src.header_loc(node, node.test)))

    def _branch(self, stmts: list[ast.stmt], before) -> tuple[tuple[N.Stmt, ...], set[str]]:
        """Parse one branch from the state ``before``; partial names accumulate."""
        outer = self.out
        self.out, self.defined = [], set(before[0])
        self.if_depth += 1
        try:
            for stmt in stmts:
                self.visit(stmt)
            return tuple(self.out), self.defined
        finally:
            self.out = outer
            self.if_depth -= 1

    # -- columns: with sp.forward(axis) / sp.backward(axis) / sp.levels(start, stop) --------

    def _with_marker(self, node: ast.With) -> tuple[str, ast.Call]:
        """The kind ('forward', 'backward', 'levels') of a ``with`` statement, or fail."""
        item = node.items[0]
        call = item.context_expr
        kind = None
        if isinstance(call, ast.Call):
            func = self._callee(call.func)
            kind = next((k for k, f in SWEEP_NAMES.items() if f is func), None)
        if kind is None or len(node.items) != 1 or item.optional_vars is not None:
            what = ("'with' blocks are not supported" if kind is None else
                    f"'with sp.{kind}(...)' takes no 'as' and no second context")
            self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: "
                      f"{what}", "move other 'with' blocks outside the stencil; the 'with' "
                      "blocks of a stencil are 'with sp.forward(axis):', 'with sp.backward(axis):'"
                      " and, inside those, 'with sp.levels(start, stop):'")
        return kind, call

    def visit_With(self, node: ast.With) -> None:
        kind, call = self._with_marker(node)
        if kind == "levels":
            self.fail(call, f"'{self.src.segment(call)}' is not directly inside a sweep",
                      "write 'with sp.levels(start, stop):' directly in a 'with sp.forward(axis):'"
                      " or 'with sp.backward(axis):' block (ranges do not nest)")
        if self.kind != "stencil":
            self.fail(call, f"helper '{self.src.name}' opens a sweep",
                      "write sweeps in the stencil's own body; helpers compute one expression "
                      "and may be called inside a sweep")
        if self.ctx.sweep is not None:
            self.fail(call, "sweeps do not nest", "close the outer sweep first; sweeps run one "
                      "after the other, in the order written")
        if self.if_depth:
            self.fail(call, "a sweep cannot be inside an 'if' block",
                      "put the 'if' inside the sweep (it then applies at every level)")
        if len(call.args) != 1 or call.keywords:
            self.fail(call, f"'{self.src.segment(call)}' takes one argument, the axis",
                      f"write sp.{kind}('lev') with a name from dims=, or sp.{kind}(0)")
        axis = self._sweep_axis(call.args[0])
        outer = self.out
        self.ctx.sweep = node
        ranges: list[N.Levels] = []
        loc = self.src.header_loc(node, call)
        try:
            for stmt in node.body:
                if isinstance(stmt, ast.With) and self._with_marker(stmt)[0] == "levels":
                    ranges.append(self._levels(stmt))
                    continue
                self.out = []
                self.visit(stmt)
                if ranges and ranges[-1].every:     # consecutive statements: one block
                    last = ranges.pop()
                    self.out = list(last.body) + self.out
                ranges.append(N.Levels(0, None, tuple(self.out), True, loc))
        finally:
            self.out = outer
            self.ctx.sweep = None
        outer.append(N.Sweep(axis, kind, tuple(ranges), loc))

    def _sweep_axis(self, arg: ast.expr) -> int:
        """The axis position named by ``sp.forward(arg)`` (a non-negative int, or a negative
        one that ``parse_stencil`` resolves once the rank is known)."""
        name = None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            name = arg.value
        elif isinstance(arg, ast.Name) and arg.id in self.ctx.dims:
            name = arg.id
        if name is not None:
            if name not in self.ctx.dims:
                declared = (f"the stencil's dims are {self.ctx.dims}" if self.ctx.dims
                            else "the stencil declares no dims")
                self.fail(arg, f"sweep over '{name}', which is not a dimension: {declared}",
                          f"declare it, e.g. @sp.stencil(dims=('{name}', 'lat', 'lon')), or "
                          "give the axis position, e.g. sp.forward(0)")
            return self.ctx.dims.index(name)
        value = self.static_int(arg)
        if value is None:
            self.fail(arg, f"'{self.src.segment(arg)}' does not name an axis",
                      "write a dimension name from dims= (sp.forward('lev')) or an integer "
                      "axis position (sp.forward(0))")
        return value

    def _levels(self, node: ast.With) -> N.Levels:
        call = node.items[0].context_expr
        if len(call.args) != 2 or call.keywords:
            self.fail(call, f"'{self.src.segment(call)}' takes two arguments, start and stop",
                      "write sp.levels(0, 1), sp.levels(1, None) or sp.levels(-1, None) "
                      "(Python slice meaning)")
        bounds = []
        for arg in call.args:
            if isinstance(arg, ast.Constant) and arg.value is None:
                bounds.append(None)
                continue
            value = self.static_int(arg)
            if value is None or abs(value) > MAX_LEVEL_BOUND:
                self.fail(arg, f"level bound '{self.src.segment(arg)}' is not an integer "
                          "known when the stencil is decorated",
                          "write an integer constant (negative counts from the end), None for "
                          "the end, or a module-level integer constant")
            bounds.append(value)
        start, stop = bounds
        if start is None:
            self.fail(call.args[0], "the start of a level range cannot be None",
                      "write 0 for the first level")
        lo, hi = slice(start, stop).indices(DECORATION_LEVELS)[:2]
        if lo >= hi:
            self.fail(call, f"'{self.src.segment(call)}' is an empty range of levels",
                      "start must come before stop (Python slice meaning: sp.levels(0, -1) is "
                      "all but the last level)")
        outer = self.out
        self.out = []
        try:
            for stmt in node.body:
                self.visit(stmt)                 # a nested 'with' fails: ranges do not nest
            return N.Levels(start, stop, tuple(self.out), loc=self.src.header_loc(node, call))
        finally:
            self.out = outer

    def static_int(self, node: ast.expr) -> int | None:
        """The value of an integer expression known at decoration (constants, captured
        module-level ints, unrolled loop variables, + - * //), or None."""
        if isinstance(node, ast.Constant):
            return node.value if type(node.value) is int else None
        if isinstance(node, ast.Name):
            return self.constant_int(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.static_int(node.operand)
            return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and type(node.op) in _STATIC_OPS:
            a, b = self.static_int(node.left), self.static_int(node.right)
            if a is None or b is None or (isinstance(node.op, ast.FloorDiv) and b == 0):
                return None
            return _STATIC_OPS[type(node.op)](a, b)
        return None

    def constant_int(self, name: str) -> int | None:
        """``name`` as an integer known at decoration: a loop variable being unrolled or a
        captured (global, closure) int; None for anything else."""
        if name in self.loop_values:
            return self.loop_values[name]
        bound = self.bindings.get(name)
        if bound is not None and isinstance(bound.expr, N.Const) and type(bound.expr.value) is int:
            return bound.expr.value             # a helper argument that is a known int
        if self.is_local(name) or name in self.ctx.dims:
            return None
        value = self.ns.lookup(name)
        if type(value) is int or (isinstance(value, numpy.integer)):
            return int(value)
        return None

    def visit_For(self, node: ast.For) -> None:
        """``for i in range(a, b, step):`` with bounds known at decoration: the body is
        repeated with ``i`` replaced by each value (an unrolled loop)."""
        if node.orelse:
            self.fail(node, "'for ... else' is not supported", "drop the 'else' block")
        if not isinstance(node.target, ast.Name):
            self.fail(node.target, f"'{self.src.segment(node.target)}' is not a loop variable "
                      "name", "write 'for i in range(-2, 3):'")
        name = node.target.id
        self._check_target(name, node.target)
        if name in self.ctx.dims:
            self.fail(node.target, f"loop variable '{name}' has the name of a dimension",
                      "rename the loop variable")
        values = self._static_range(node.iter)
        if len(values) > MAX_UNROLLED:
            self.fail(node.iter, f"'{self.src.segment(node.iter)}' has {len(values)} iterations;"
                      f" loops are unrolled, up to {MAX_UNROLLED}", "write fewer terms")
        for inner in node.body:
            for sub in ast.walk(inner):
                if isinstance(sub, (ast.Break, ast.Continue)):
                    self.fail(sub, f"'{self.src.segment(sub)}' is not supported in an unrolled "
                              "loop", "every iteration runs; use 'if' blocks or sp.where")
        try:
            for value in values:
                self.loop_values[name] = value
                for stmt in node.body:
                    self.visit(stmt)
        finally:
            self.loop_values.pop(name, None)

    def _static_range(self, node: ast.expr) -> range:
        what, hint = UNSUPPORTED[ast.For]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or \
                self.is_local(node.func.id) or self.ns.lookup(node.func.id) is not range:
            self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: "
                      "only loops over 'range(...)' with bounds known when the stencil is "
                      "decorated are supported (they are unrolled)", hint)
        if node.keywords or not 1 <= len(node.args) <= 3:
            self.fail(node, f"'{self.src.segment(node)}' takes 1 to 3 positional arguments",
                      "write range(stop), range(start, stop) or range(start, stop, step)")
        bounds = []
        for arg in node.args:
            value = self.static_int(arg)
            if value is None:
                names = [n.id for n in ast.walk(arg) if isinstance(n, ast.Name)]
                runtime = [n for n in names if n in self.params or n in self.bindings
                           or n in self.temps]
                why = (f"'{runtime[0]}' is a parameter or temporary, known only when the "
                       "stencil is called" if runtime else "it is not an integer constant")
                self.fail(arg, f"loop bound '{self.src.segment(arg)}' is not known when the "
                          f"stencil is decorated: {why}",
                          "loops are unrolled, so their bounds are integer constants or "
                          "module-level integer constants; along an axis use a sweep "
                          "(with sp.forward(axis):)")
            bounds.append(value)
        if len(bounds) == 3 and bounds[2] == 0:
            self.fail(node.args[2], "range() step must not be zero", "use a non-zero step")
        return range(*bounds)

    def visit_Pass(self, node: ast.Pass) -> None:
        pass

    def visit_Expr(self, node: ast.Expr) -> None:
        self.expr(node.value)                  # constructs outside the language fail here
        self.fail(node, f"the value of '{self.src.segment(node)}' is not used",
                  "assign it to a temporary, or return it")

    def visit_Return(self, node: ast.Return) -> None:
        self.fail(node, f"'return' must be the last statement of {self.kind} '{self.src.name}'",
                  "assign the result to a temporary (in every branch) and return it once at "
                  "the end")

    # -- helpers --------------------------------------------------------------------------

    def inline_helper(self, helper: SpFunction, node: ast.Call) -> N.Expr:
        """Emit ``helper``'s body (renamed) into ``self.out``; return its result expression."""
        name = helper.pyfunc.__name__
        if helper.pyfunc in self.ctx.active:
            self.fail(node, f"helper '{name}' calls itself", "helpers are inlined, so they "
                      "cannot be recursive; write the terms out")
        if len(self.ctx.active) >= MAX_HELPER_DEPTH:
            self.fail(node, f"helper '{name}' is called {MAX_HELPER_DEPTH + 1} helpers deep",
                      f"helpers call helpers at most {MAX_HELPER_DEPTH} deep: call some of "
                      "them one after the other from the stencil, through temporaries")
        src = self.ctx.source_of(helper.pyfunc)
        params = parameters(src, "helper")
        _check_param_names(src, params, self.ctx.dims, reserved=())
        bindings = self._bind(node, src, params)
        inner = FunctionParser(self.ctx, src, Namespace(helper.pyfunc), kind="helper",
                               bindings=bindings, prefix=self.ctx.fresh_prefix(name), out=self.out)
        self.ctx.active.append(helper.pyfunc)
        try:
            return inner.parse_function()[0]
        finally:
            self.ctx.active.pop()

    def _bind(self, node: ast.Call, src: FunctionSource, params) -> dict[str, _Binding]:
        """Match the call's arguments to the helper's parameters (as Python would)."""
        name = src.name
        positional = [p.arg for p in params if p not in src.node.args.kwonlyargs]
        posonly = {p.arg for p in src.node.args.posonlyargs}
        if len(node.args) > len(positional):
            self.fail(node, f"helper '{name}' takes {len(positional)} positional "
                      f"argument{'s' if len(positional) != 1 else ''} but {len(node.args)} "
                      "were given", "pass one argument per parameter")
        pairs = list(zip(positional, node.args))
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in {p.arg for p in params} or kw.arg in posonly:
                self.fail(kw, f"helper '{name}' has no keyword parameter "
                          f"'{kw.arg or '**'}'", "pass the parameters by their names")
            pairs.append((kw.arg, kw.value))
        bindings: dict[str, _Binding] = {}
        for param, arg in pairs:
            if isinstance(arg, ast.Starred):
                self.generic_visit(arg)
            if param in bindings:
                self.fail(arg, f"helper '{name}' got two values for argument '{param}'",
                          "pass each argument once")
            bindings[param] = _Binding(self.expr(arg), self.src.loc(arg), name)
        missing = [p.arg for p in params if p.arg not in bindings]
        if missing:
            self.fail(node, f"helper '{name}' is missing argument '{missing[0]}'",
                      "pass one argument per parameter")
        return bindings


def _check_param_names(src: FunctionSource, params, dims, reserved) -> None:
    for param in params:
        if param.arg in reserved:
            raise ReservedNameError(
                f"parameter '{param.arg}' uses a name reserved for call options",
                src.loc(param), f"rename it; {', '.join(RESERVED_NAMES)} are the keyword "
                "options of every stencil call")
        if param.arg in dims:
            raise StencilSyntaxError(
                f"parameter '{param.arg}' has the name of a dimension", src.loc(param),
                "rename the parameter or the dimension")


def _check_dims(dims, src: FunctionSource) -> tuple[str, ...]:
    if dims is None:
        return ()
    if isinstance(dims, str):
        dims = (dims,)
    dims = tuple(dims)
    bad = [d for d in dims if not isinstance(d, str) or not d.isidentifier() or keyword.iskeyword(d)]
    if not dims or bad or len(set(dims)) != len(dims):
        what = f"'{bad[0]}' is not a valid name" if bad else (
            "it is empty" if not dims else "a name is repeated")
        raise StencilSyntaxError(f"dims={dims!r} is not a tuple of dimension names: {what}",
                                 src.def_loc(), "write e.g. dims=('lat', 'lon')")
    return dims


def _zero_offsets(stmts, zeros: tuple[int, ...]) -> tuple[N.Stmt, ...]:
    """Give bare names (offset ``()``) the zero offset ``zeros`` of the stencil's rank."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, N.Assign):
            out.append(N.Assign(stmt.target, _fill_zeros(stmt.value, zeros), stmt.loc))
        elif isinstance(stmt, N.Sweep):
            axis = stmt.axis + len(zeros) if stmt.axis < 0 else stmt.axis
            if not 0 <= axis < len(zeros):
                raise StencilSyntaxError(
                    f"sweep over axis {stmt.axis}, but the stencil has {len(zeros)} "
                    f"dimension{'s' if len(zeros) != 1 else ''}", stmt.loc,
                    f"give an axis position from 0 to {len(zeros) - 1}, or a name from dims=")
            ranges = tuple(N.Levels(r.start, r.stop, _zero_offsets(r.body, zeros), r.every,
                                    r.loc) for r in stmt.ranges)
            out.append(N.Sweep(axis, stmt.direction, ranges, stmt.loc))
        else:
            out.append(N.If(_fill_zeros(stmt.cond, zeros), _zero_offsets(stmt.body, zeros),
                            _zero_offsets(stmt.orelse, zeros), stmt.loc))
    return tuple(out)


def _fill_zeros(expr: N.Expr, zeros: tuple[int, ...]) -> N.Expr:
    def fill(node):
        if isinstance(node, N.FieldAccess) and node.offset == ():
            return N.FieldAccess(node.name, zeros, node.loc)
        return node
    return N.map_expr(expr, fill)


def parse_stencil(pyfunc, dims: tuple[str, ...] | None = None) -> N.Stencil:
    """Parse the Python function ``pyfunc`` into an ``ir.Stencil`` (see the module docstring).

    Raises ``StencilSyntaxError`` (``ReservedNameError`` for reserved parameter names)
    pointing at the user's code for anything outside the stencil language.
    """
    if isinstance(pyfunc, SpFunction):
        raise StencilSyntaxError(f"'{pyfunc.__name__}' is an @sp.function helper, not a stencil",
                                 None, "call it from a stencil, or decorate it with @sp.stencil")
    src = get_function_source(pyfunc)
    declared = _check_dims(dims, src)
    params = parameters(src, "stencil")
    _check_param_names(src, params, declared, RESERVED_NAMES)
    names = {p.arg: p for p in params}
    ctx = _Context(dims=declared, ndim=len(declared) or None,
                   taken=set(names) | _assigned_names(src.node.body))
    parser = FunctionParser(ctx, src, Namespace(pyfunc), kind="stencil", params=names)
    returns = parser.parse_function()
    ndim = ctx.ndim or 1
    zeros = (0,) * ndim
    stencil = N.Stencil(
        name=src.name,
        params=tuple(N.Param(p.arg, p.arg in ctx.subscripted, src.loc(p)) for p in params),
        body=_zero_offsets(parser.out, zeros),
        returns=tuple(_fill_zeros(r, zeros) for r in returns),
        dims=declared or tuple(f"dim_{i}" for i in range(ndim)),
        loc=src.def_loc())
    warn_recurrences(stencil)
    if N.has_sweeps(stencil):
        try:
            check_levels(stencil, [DECORATION_LEVELS] * ndim)
        except LevelError as exc:
            raise StencilSyntaxError(exc.message, exc.loc, exc.hint) from None
    check_reach(stencil)
    return stencil
