"""Offsets of a subscript: ``u[1, -1]``, ``u[1 + 1, 0]`` or, with dims, ``u[lat - 1, lon + 2]``.

Each index folds to a term ``(dim, k)``: ``dim`` is a declared dimension name or None
(a positional integer constant) and ``k`` the integer offset along it.

>>> import ast
>>> offset_term(ast.parse("lon - 1", mode="eval").body, ("lat", "lon"), None)
('lon', -1)
"""

from __future__ import annotations

import ast
from typing import Callable, NoReturn

from stencilpy.errors import close_match
from stencilpy.frontend.limits import MAX_DEPTH, MAX_OFFSET, ast_depth, offset_problem

#: ``fail(node, message, hint)`` raises a StencilSyntaxError located at ``node``
Fail = Callable[[ast.AST, str, str], NoReturn]


def _not_constant(node: ast.AST, dims: tuple[str, ...], fail: Fail, text: str,
                  defined: Callable[[str], bool]) -> NoReturn:
    if dims:
        hint = (f"offsets are integer constants, or a dimension ({', '.join(dims)}) "
                f"plus or minus an integer constant, e.g. u[{dims[-1]} + 1]")
    else:
        hint = ("offsets are integer constants, e.g. u[1, 0]; to name axes declare "
                "@sp.stencil(dims=(...)) and write u[lon + 1]")
    for name in ast.walk(node):
        if isinstance(name, ast.Name) and name.id not in dims and not defined(name.id):
            match = close_match(name.id, dims)
            if match:
                fail(name, f"unknown name '{name.id}' — did you mean '{match}'?",
                     f"the stencil's dims are ({', '.join(dims)}); an offset is a dimension "
                     f"plus or minus an integer constant, e.g. u[{match} + 1]")
            fail(name, f"unknown name '{name.id}' in offset '{text}'", hint)
    fail(node, f"offset '{text}' is not an integer constant", hint)


def offset_term(node: ast.expr, dims: tuple[str, ...], fail: Fail,
                text: Callable[[ast.AST], str] = ast.unparse,
                defined: Callable[[str], bool] = lambda name: False,
                constant: Callable[[str], int | None] | None = None,
                ) -> tuple[str, int] | tuple[None, int]:
    """Fold one index expression to ``(dim or None, integer offset)``, or fail.

    ``defined(name)`` says whether a name that is not a dim means something in the stencil
    (a parameter, a temporary, a global): an unknown one is reported as such, with the dim it
    is most like.  ``constant(name)`` gives the value of a name known at decoration (a
    captured int, an unrolled loop variable) or None."""
    term = _fold(node, dims, constant)
    if term is not None:
        return term
    if isinstance(node, ast.Slice):
        fail(node, f"slice '{text(node)}' cannot be used as an offset",
             "a stencil reads single points at integer offsets, e.g. u[1, 0]; "
             "the loops over the array are implicit")
    _not_constant(node, dims, fail, text(node), defined)


def _fold(node: ast.expr, dims: tuple[str, ...], constant=None) -> tuple[str | None, int] | None:
    """``(dim or None, k)`` for ``k``, ``dim``, ``dim + k``, ``k + dim``, ``dim - k`` and
    constant integer arithmetic (``+ - *`` and ``**``); None for anything else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return None, node.value
    if isinstance(node, ast.Name) and node.id in dims:
        return node.id, 0
    if isinstance(node, ast.Name) and constant is not None:
        value = constant(node.id)
        return None if value is None else (None, value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        term = _fold(node.operand, dims, constant)
        if term is None or isinstance(node.op, ast.UAdd):
            return term
        return (None, -term[1]) if term[0] is None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = _fold(node.left, dims, constant), _fold(node.right, dims, constant)
        if base is None or exponent is None or base[0] or exponent[0] or exponent[1] < 0:
            return None
        if abs(base[1]) > 1 and exponent[1] > 64:
            return None, 2**65                      # out of range, without computing it
        return None, base[1] ** exponent[1]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        left, right = _fold(node.left, dims, constant), _fold(node.right, dims, constant)
        if left is not None and right is not None:
            return _combine(node.op, left, right)
    return None


def _combine(op: ast.operator, left, right) -> tuple[str | None, int] | None:
    """``left op right`` if the result is still ``dim + k``, else None."""
    (ldim, lk), (rdim, rk) = left, right
    if isinstance(op, ast.Mult):
        return (None, lk * rk) if ldim is None and rdim is None else None
    if isinstance(op, ast.Sub):
        return (ldim, lk - rk) if rdim is None else None
    if ldim is not None and rdim is not None:
        return None
    return (ldim or rdim, lk + rk)


def fold_offsets(node: ast.Subscript, dims: tuple[str, ...], fail: Fail,
                 text: Callable[[ast.AST], str] = ast.unparse,
                 defined: Callable[[str], bool] = lambda name: False,
                 constant: Callable[[str], int | None] | None = None) -> tuple[int, ...]:
    """The offset tuple of ``node``: positional (any length) or named (``len(dims)``)."""
    index = node.slice
    elements = index.elts if isinstance(index, ast.Tuple) else [index]
    if not elements:
        fail(node, f"'{text(node)}' has no offsets", "write u[0, 0] or just u")
    for element in elements:
        if ast_depth(element) > MAX_DEPTH:
            fail(element, f"offset '{text(element)[:40]} ...' nests more than {MAX_DEPTH} "
                 "operations deep", "write the offset as one integer constant")
        if isinstance(element, ast.Starred):
            fail(element, f"'{text(element)}' cannot be used as an offset",
                 "write the integer offsets out, e.g. u[1, 0]")
    terms = [offset_term(e, dims, fail, text, defined, constant) for e in elements]
    for element, (_, k) in zip(elements, terms):
        problem = offset_problem(k)
        if problem is not None:
            fail(element, problem, f"offsets are integers in [-{MAX_OFFSET}, {MAX_OFFSET}] "
                 "(see the language limits in the docs)")
    named = [dim for dim, _ in terms if dim is not None]
    if not named:
        return tuple(k for _, k in terms)
    if len(named) != len(terms):
        fail(node, f"'{text(node)}' mixes named and positional offsets",
             f"name every axis (u[{dims[0]} - 1, ...]) or none (u[-1, ...])")
    offsets = dict.fromkeys(dims, 0)
    seen: set[str] = set()
    for element, (dim, k) in zip(elements, terms):
        if dim in seen:
            fail(element, f"dimension '{dim}' appears twice in '{text(node)}'",
                 "give each dimension at most once; unnamed dimensions get offset 0")
        seen.add(dim)
        offsets[dim] = k
    return tuple(offsets[d] for d in dims)
