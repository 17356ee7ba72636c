"""The language's size limits, checked when a stencil is decorated (``docs/language.md``).

* ``MAX_OFFSET``: every offset, and the halo that offsets add up to through chains of
  temporaries (``a = u[k]; b = a[k]`` reaches ``2 k``), is at most this many points along
  each axis.  Index arithmetic in the kernels (int64) then never overflows, whatever
  the array size, and an offset such as ``u[-2**63]`` is an error instead of a wrap-around.
* ``MAX_DEPTH``: an expression nests at most this many operations deep, counted through
  the helpers it inlines (a sum of N terms is N - 1 deep); longer sums are written in
  pieces through temporaries (``s1 = ...; s2 = s1 + ...``), which cost no depth.
* ``MAX_HELPER_DEPTH``: helpers call helpers at most this deep.

The compiler walks expressions recursively; these limits keep it well inside Python's
default recursion limit (about 3 frames per level of an expression, 11 per helper), so
that a deep stencil is a ``StencilSyntaxError`` here and never a ``RecursionError`` later.
"""

from __future__ import annotations

from stencilpy.errors import StencilSyntaxError
from stencilpy.ir import nodes as N

MAX_OFFSET = 2**20
MAX_DEPTH = 200
MAX_HELPER_DEPTH = 20

DEPTH_HINT = (f"expressions nest at most {MAX_DEPTH} operations deep (helpers included): "
              "split a long sum or chain into temporaries, e.g. s1 = a + b + ...; "
              "s2 = s1 + c + ...")


def offset_problem(k: int) -> str | None:
    """Why ``k`` is not an allowed offset, or None."""
    if -MAX_OFFSET <= k <= MAX_OFFSET:
        return None
    return f"offset {k} is out of range: offsets are at most {MAX_OFFSET} (2**20) points"


def ast_depth(node) -> int:
    """How deep the Python syntax tree ``node`` nests (iteratively: any depth)."""
    import ast

    deepest, stack = 0, [(node, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def check_reach(stencil: N.Stencil) -> None:
    """Raise if the offsets of ``stencil`` add up (through temporaries) beyond MAX_OFFSET
    along some axis.  Linear in the size of the stencil; an upper bound of its halo."""
    reach: dict[str, tuple[int, ...]] = {}
    zero = (0,) * stencil.ndim

    def of(expr: N.Expr) -> tuple[int, ...]:
        total = zero
        for node in N.walk(expr):
            if isinstance(node, N.FieldAccess) and node.offset:
                base = reach.get(node.name, zero)
                here = tuple(b + abs(k) for b, k in zip(base, node.offset))
                worst = max(range(len(here)), key=here.__getitem__)
                if here[worst] > MAX_OFFSET:
                    raise StencilSyntaxError(
                        f"'{node.name}' is read at offset {node.offset[worst]} along "
                        f"'{stencil.dims[worst]}' on top of {base[worst]} points reached "
                        f"before: the stencil's halo would be {here[worst]} points, over the "
                        f"limit of {MAX_OFFSET} (2**20)", node.loc,
                        "offsets, added up through chains of temporaries, are at most 2**20")
                total = tuple(map(max, total, here))
        return total

    def statements(stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, N.Assign):
                reach[stmt.target] = tuple(map(max, reach.get(stmt.target, zero), of(stmt.value)))
            elif isinstance(stmt, N.Sweep):   # sweeps: reads along the sweep axis are bounded
                for block in stmt.ranges:       # by the axis (frontend/sweeps.py); the others add
                    statements(block.body)
            else:
                of(stmt.cond)
                statements(stmt.body)
                statements(stmt.orelse)

    statements(stencil.body)
    for expr in stencil.returns:
        of(expr)
