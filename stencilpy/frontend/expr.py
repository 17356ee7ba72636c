"""The expression half of the parser: one ``visit_<ast node>`` per accepted expression.

Each method returns an IR expression.  A bare field or temporary name gives a
``FieldAccess`` with the empty offset ``()``; ``parse_stencil`` replaces it by zeros once
the rank of the stencil is known.  Anything else raises ``StencilSyntaxError`` with the
user's location and a hint.

``ExprParser`` is a mix-in: ``FunctionParser`` (parse.py) supplies the statements, the
local names (``lookup_local``, ``field_for_offsets``, ``is_local``) and helper inlining.
"""

from __future__ import annotations

import ast
import types
from typing import NoReturn

import numpy

from stencilpy.errors import StencilSyntaxError, close_match
from stencilpy.frontend import functions as language
from stencilpy.frontend.functions import SpFunction
from stencilpy.frontend.limits import DEPTH_HINT, MAX_DEPTH
from stencilpy.frontend.resolve import MISSING, as_constant, canonical_function, describe
from stencilpy.frontend.subscript import fold_offsets
from stencilpy.ir import nodes as N

BINARY_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BOOL = {ast.And: "and", ast.Or: "or"}
_BAD_OPERATORS = {
    ast.BitAnd: "use 'and' (element-wise in a stencil)",
    ast.BitOr: "use 'or' (element-wise in a stencil)",
    ast.BitXor: "for a power write 'x ** y'",
    ast.Invert: "use 'not'",
    ast.Is: "use '==' or '!='", ast.IsNot: "use '==' or '!='",
    ast.In: "write the comparisons out with '==' and 'or'",
    ast.NotIn: "write the comparisons out with '!=' and 'and'",
}
_SIGNATURES = {1: "x", 2: "x, y", 3: "cond, x, y"}
_FUNCTIONS_HINT = ("use abs, min, max, sp.where and the math functions (sp.sqrt, np.exp, "
                   "math.sin, ...), or inline your own function with @sp.function")

#: node type -> (what is not supported, hint)
UNSUPPORTED: dict[type, tuple[str, str]] = {
    ast.For: ("loops are not supported", "the stencil body already runs at every point; "
              "'for i in range(-2, 3):' with constant bounds is unrolled; along an axis use "
              "a sweep (with sp.forward(axis):)"),
    ast.While: ("loops are not supported", "the stencil body already runs at every point; "
                "use 'if' blocks or sp.where for conditions"),
    ast.With: ("'with' blocks are not supported", "move the 'with' block outside the stencil"),
    ast.Try: ("'try' blocks are not supported", "use sp.where / sp.isnan to handle special values"),
    ast.Raise: ("'raise' is not supported", "validate inputs before calling the stencil"),
    ast.Assert: ("'assert' is not supported", "validate inputs before calling the stencil"),
    ast.Global: ("'global' is not supported", "assign a new temporary; outputs are returned"),
    ast.Nonlocal: ("'nonlocal' is not supported", "assign a new temporary; outputs are returned"),
    ast.FunctionDef: ("nested function definitions are not supported",
                      "define the helper at module level and decorate it with @sp.function"),
    ast.ClassDef: ("class definitions are not supported", "define classes outside the stencil"),
    ast.Import: ("imports are not supported here", "import at module level"),
    ast.ImportFrom: ("imports are not supported here", "import at module level"),
    ast.Delete: ("'del' is not supported", "temporaries need no deleting"),
    ast.Lambda: ("lambdas are not supported", "define an @sp.function helper instead"),
    ast.ListComp: ("comprehensions are not supported", "write the terms out, e.g. u[1, 0] + u[-1, 0]"),
    ast.SetComp: ("comprehensions are not supported", "write the terms out, e.g. u[1, 0] + u[-1, 0]"),
    ast.DictComp: ("comprehensions are not supported", "write the terms out, e.g. u[1, 0] + u[-1, 0]"),
    ast.GeneratorExp: ("generator expressions are not supported",
                       "write the terms out, e.g. u[1, 0] + u[-1, 0]"),
    ast.List: ("lists are not supported", "stencil values are numbers; use several temporaries"),
    ast.Tuple: ("tuples are only supported in 'return' and in 'a, b = x, y'",
                "use several temporaries"),
    ast.Dict: ("dicts are not supported", "stencil values are numbers; use several temporaries"),
    ast.Set: ("sets are not supported", "stencil values are numbers; use several temporaries"),
    ast.JoinedStr: ("strings are not supported", "stencil values are numbers"),
    ast.NamedExpr: ("':=' is not supported", "assign the temporary in a separate statement"),
    ast.Starred: ("'*' unpacking is not supported", "pass the arguments one by one"),
    ast.Yield: ("'yield' is not supported", "return the outputs with one 'return'"),
    ast.YieldFrom: ("'yield' is not supported", "return the outputs with one 'return'"),
    ast.Await: ("'await' is not supported", "stencils are plain functions"),
    ast.Match: ("'match' is not supported", "use 'if/elif/else' blocks"),
    ast.Slice: ("slices are not supported", "read single points at integer offsets, e.g. u[1, 0]"),
}


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 5] + " ... "


class ExprParser(ast.NodeVisitor):
    """Python expressions -> IR expressions (see the module docstring)."""

    def expr(self, node: ast.expr) -> N.Expr:
        ctx = self.ctx
        ctx.depth += 1
        try:
            if ctx.depth > MAX_DEPTH:
                self.fail(node, f"'{_short(self.src.segment(node))}' is nested more than "
                          f"{MAX_DEPTH} operations deep", DEPTH_HINT)
            return self.visit(node)
        finally:
            ctx.depth -= 1

    def fail(self, node: ast.AST, message: str, hint: str | None = None) -> NoReturn:
        raise StencilSyntaxError(message, self.src.loc(node), hint)

    def generic_visit(self, node: ast.AST) -> NoReturn:
        what, hint = UNSUPPORTED.get(type(node), ("this construct is not supported",
                                                 "see the stencil language in the stencilpy docs"))
        self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: {what}",
                  hint)

    # -- leaves ---------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> N.Const:
        value = node.value
        if isinstance(value, (bool, int, float)):
            return N.Const(value, self.src.loc(node))
        if isinstance(value, (str, bytes)):
            what = "strings are not supported"
        elif isinstance(value, complex):
            what = "complex numbers are not supported"
        else:
            what = "only int, float and bool constants are supported"
        self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: {what}",
                  "stencil values are numbers")

    def visit_Name(self, node: ast.Name) -> N.Expr:
        local = self.lookup_local(node.id, node)
        if local is not None:
            return local
        if node.id in self.ctx.dims:
            self.fail(node, f"dimension '{node.id}' can only be used inside a subscript",
                      f"read a field along it with an offset, e.g. u[{node.id} + 1]")
        return self.global_value(self._lookup_global(node.id, node), node)

    def visit_Attribute(self, node: ast.Attribute) -> N.Expr:
        return self.global_value(self._resolve_attribute(node), node)

    def _defined(self, name: str) -> bool:
        return self.is_local(name) or self.ns.lookup(name) is not MISSING

    def _lookup_global(self, name: str, node: ast.AST):
        obj = self.ns.lookup(name)
        if obj is MISSING:
            match = close_match(name, self.visible_names())
            if match is None and close_match(name, language.LANGUAGE_NAMES):
                match = "sp." + close_match(name, language.LANGUAGE_NAMES)
            self.fail(node, f"name '{name}' is not defined"
                      + (f" — did you mean '{match}'?" if match else ""),
                      "define it before the stencil is decorated, or pass it as a parameter")
        return obj

    def _resolve_attribute(self, node: ast.Attribute):
        """The object a module attribute chain such as ``np.pi`` or ``sp.sqrt`` names."""
        base = node.value
        if isinstance(base, ast.Name) and (self.is_local(base.id) or base.id in self.ctx.dims):
            self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: "
                      "attributes and methods of fields are not supported",
                      "use sp.where / min / max / abs, or an @sp.function helper")
        if isinstance(base, ast.Name):
            owner = self._lookup_global(base.id, base)
        elif isinstance(base, ast.Attribute):
            owner = self._resolve_attribute(base)
        else:
            self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: "
                      "attribute access is only supported on modules", _FUNCTIONS_HINT)
        if not isinstance(owner, types.ModuleType):
            self.fail(node, f"'{self.src.segment(node)}' reads an attribute of "
                      f"{describe(owner)}, which is not supported",
                      "only module attributes (np.pi, math.sqrt, sp.where) are supported; "
                      "pass other values as parameters")
        obj = getattr(owner, node.attr, MISSING)
        if obj is MISSING:
            match = close_match(node.attr, [n for n in dir(owner) if not n.startswith("_")])
            base_text = self.src.segment(base)
            self.fail(node, f"module '{owner.__name__}' has no attribute '{node.attr}'"
                      + (f" — did you mean '{base_text}.{match}'?" if match else ""),
                      _FUNCTIONS_HINT)
        return obj

    def global_value(self, obj, node: ast.AST) -> N.Const:
        """A global/closure/module value used as a value: numbers become constants."""
        value = as_constant(obj)
        if value is not None:
            return N.Const(value, self.src.loc(node))
        text = self.src.segment(node)
        if canonical_function(obj) is not None or isinstance(obj, SpFunction):
            self.fail(node, f"function '{text}' is used without calling it",
                      f"call it, e.g. {text}(x)")
        self.fail(node, f"'{text}' is {describe(obj)}, not a number",
                  "pass arrays and other values to the stencil as parameters")

    # -- operators ------------------------------------------------------------------------

    def _operator(self, table: dict, op: ast.AST, node: ast.AST) -> str:
        if type(op) in table:
            return table[type(op)]
        self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: "
                  f"operator '{type(op).__name__}' is not supported",
                  _BAD_OPERATORS.get(type(op), "use + - * / // % ** and comparisons"))

    def visit_BinOp(self, node: ast.BinOp) -> N.BinOp:
        op = self._operator(BINARY_OPERATORS, node.op, node)
        return N.BinOp(op, self.expr(node.left), self.expr(node.right), self.src.loc(node))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> N.UnaryOp:
        op = self._operator(_UNARY, node.op, node)
        return N.UnaryOp(op, self.expr(node.operand), self.src.loc(node))

    def visit_Compare(self, node: ast.Compare) -> N.Expr:
        """``a < b < c`` -> ``(a < b) and (b < c)`` (element-wise; ``b`` is pure)."""
        loc = self.src.loc(node)
        ops = [self._operator(_COMPARE, op, node) for op in node.ops]
        operands = [self.expr(e) for e in [node.left, *node.comparators]]
        pairs = tuple(N.Compare(op, left, right, loc)
                      for op, left, right in zip(ops, operands, operands[1:]))
        return pairs[0] if len(pairs) == 1 else N.BoolOp("and", pairs, loc)

    def visit_BoolOp(self, node: ast.BoolOp) -> N.BoolOp:
        op = self._operator(_BOOL, node.op, node)
        return N.BoolOp(op, tuple(self.expr(v) for v in node.values), self.src.loc(node))

    def visit_IfExp(self, node: ast.IfExp) -> N.Select:
        cond = self.expr(node.test)
        return N.Select(cond, self.expr(node.body), self.expr(node.orelse), self.src.loc(node))

    # -- subscripts -----------------------------------------------------------------------

    def visit_Subscript(self, node: ast.Subscript) -> N.FieldAccess:
        base = node.value
        name = self.field_for_offsets(base.id, base) if isinstance(base, ast.Name) else None
        if name is None:
            what = base.id if isinstance(base, ast.Name) else self.src.segment(base)
            self.fail(base, f"'{what}' is not a parameter or a temporary, so it cannot be "
                      "read at offsets", "pass arrays to the stencil as parameters")
        offset = fold_offsets(node, self.ctx.dims, self.fail, self.src.segment, self._defined,
                              getattr(self, "constant_int", None))
        self._check_rank(node, len(offset))
        return N.FieldAccess(name, offset, self.src.loc(node))

    def _check_rank(self, node: ast.Subscript, rank: int) -> None:
        ctx = self.ctx
        if ctx.ndim is None:
            ctx.ndim, ctx.first_subscript = rank, self.src.segment(node)
        elif rank != ctx.ndim:
            s = "" if rank == 1 else "s"
            if ctx.dims:
                where = f"the stencil has {ctx.ndim} dimensions ({', '.join(ctx.dims)})"
            else:
                where = f"the first subscript '{ctx.first_subscript}' has {ctx.ndim}"
            self.fail(node, f"'{self.src.segment(node)}' has {rank} offset{s} but {where}",
                      "give every subscript one offset per stencil dimension")

    # -- calls ----------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> N.Expr:
        base = node.func.value if isinstance(node.func, ast.Attribute) else None
        if isinstance(base, ast.Name) and self.is_local(base.id):
            self.fail(node, f"'{self.src.segment(node)}' is not part of the stencil language: "
                      "method calls are not supported",
                      "use sp.where / min / max / abs or an @sp.function helper")
        func = self._callee(node.func)
        if isinstance(func, SpFunction):
            return self.inline_helper(func, node)
        name = canonical_function(func)
        text = self.src.segment(node.func)
        if name is None:
            hint = (f"decorate '{text}' with @sp.function to inline it into stencils"
                    if isinstance(func, types.FunctionType) else _FUNCTIONS_HINT)
            self.fail(node.func, f"'{text}' is not a function of the stencil language", hint)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.generic_visit(arg)
        if node.keywords:
            self.fail(node.keywords[0], f"'{text}' takes no keyword arguments",
                      "pass the arguments by position")
        args = tuple(self.expr(a) for a in node.args)
        variadic = name in ("min", "max") and not isinstance(func, numpy.ufunc)
        return self._math_call(name, args, node, text, variadic)

    def _callee(self, func: ast.expr):
        if isinstance(func, ast.Name):
            if self.is_local(func.id) or func.id in self.ctx.dims:
                self.fail(func, f"'{func.id}' is not a function",
                          "only language functions and @sp.function helpers can be called")
            return self._lookup_global(func.id, func)
        if isinstance(func, ast.Attribute):
            return self._resolve_attribute(func)
        if type(func) in UNSUPPORTED:
            self.generic_visit(func)
        self.fail(func, f"'{self.src.segment(func)}' cannot be called in a stencil",
                  "call a function by its name, e.g. sp.sqrt(x) or my_helper(x)")

    def _math_call(self, name: str, args: tuple, node: ast.Call, text: str,
                   variadic: bool) -> N.Expr:
        """``min(a, b, c)`` (builtin or sp.min) -> ``min(min(a, b), c)``; where -> Select."""
        loc = self.src.loc(node)
        if variadic and len(args) >= 2:
            result = N.Call(name, args[:2], loc)
            for arg in args[2:]:
                result = N.Call(name, (result, arg), loc)
            return result
        expected = N.MATH_FUNCTIONS[name]
        if len(args) != expected:
            s = "" if expected == 1 else "s"
            least = "at least " if variadic else ""
            self.fail(node, f"'{text}' takes {least}{expected} argument{s} but {len(args)} "
                      f"{'was' if len(args) == 1 else 'were'} given",
                      f"call it as {text}({_SIGNATURES.get(expected, '...')})")
        if name == "where":
            return N.Select(args[0], args[1], args[2], loc)
        return N.Call(name, args, loc)
