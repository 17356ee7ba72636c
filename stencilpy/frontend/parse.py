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
from dataclasses import dataclass, field

from stencilpy.errors import ReservedNameError, SourceLoc, StencilSyntaxError
from stencilpy.frontend.expr import BINARY_OPERATORS, ExprParser
from stencilpy.frontend.functions import SpFunction
from stencilpy.frontend.resolve import Namespace
from stencilpy.frontend.source import FunctionSource, get_function_source, parameters
from stencilpy.ir import nodes as N
from stencilpy.options import RESERVED

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
        try:
            for stmt in stmts:
                self.visit(stmt)
            return tuple(self.out), self.defined
        finally:
            self.out = outer

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
    return N.Stencil(
        name=src.name,
        params=tuple(N.Param(p.arg, p.arg in ctx.subscripted, src.loc(p)) for p in params),
        body=_zero_offsets(parser.out, zeros),
        returns=tuple(_fill_zeros(r, zeros) for r in returns),
        dims=declared or tuple(f"dim_{i}" for i in range(ndim)),
        loc=src.def_loc())
