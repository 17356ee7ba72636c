"""Stable, canonical text of the IR: used by ``sp.inspect(k, "ir")``, golden
tests and the cache fingerprint (so it never prints source locations)."""

from __future__ import annotations

from stencilpy.ir import nodes as N

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6,
               "//": 6, "%": 6, "neg": 7, "**": 8}


def format_expr(expr: N.Expr) -> str:
    """One expression as text; every compound sub-expression is parenthesised."""
    if isinstance(expr, N.Const):
        return repr(expr.value)
    if isinstance(expr, N.ScalarRef):
        return expr.name
    if isinstance(expr, N.FieldAccess):
        return f"{expr.name}[{', '.join(str(o) for o in expr.offset)}]"
    if isinstance(expr, N.BinOp):
        return f"({format_expr(expr.left)} {expr.op} {format_expr(expr.right)})"
    if isinstance(expr, N.Compare):
        return f"({format_expr(expr.left)} {expr.op} {format_expr(expr.right)})"
    if isinstance(expr, N.UnaryOp):
        sep = " " if expr.op == "not" else ""
        return f"({expr.op}{sep}{format_expr(expr.operand)})"
    if isinstance(expr, N.BoolOp):
        return "(" + f" {expr.op} ".join(format_expr(v) for v in expr.values) + ")"
    if isinstance(expr, N.Select):
        return (f"select({format_expr(expr.cond)}, {format_expr(expr.if_true)}, "
                f"{format_expr(expr.if_false)})")
    if isinstance(expr, N.Call):
        return f"{expr.func}({', '.join(format_expr(a) for a in expr.args)})"
    raise TypeError(f"not an IR expression: {expr!r}")


def _format_stmts(stmts, indent: str) -> list[str]:
    lines = []
    for stmt in stmts:
        if isinstance(stmt, N.Assign):
            lines.append(f"{indent}{stmt.target} = {format_expr(stmt.value)}")
        elif isinstance(stmt, N.Sweep):
            lines.append(f"{indent}{stmt.direction} axis {stmt.axis}:")
            for rng in stmt.ranges:
                stop = "" if rng.stop is None else rng.stop
                lines.append(f"{indent}    every level:" if rng.every else
                             f"{indent}    levels {rng.start}:{stop}:")
                lines.extend(_format_stmts(rng.body, indent + "        ") or
                             [indent + "        pass"])
        else:
            lines.append(f"{indent}if {format_expr(stmt.cond)}:")
            lines.extend(_format_stmts(stmt.body, indent + "    ") or [indent + "    pass"])
            if stmt.orelse:
                lines.append(f"{indent}else:")
                lines.extend(_format_stmts(stmt.orelse, indent + "    "))
    return lines


def format_stencil(stencil: N.Stencil) -> str:
    """The whole stencil as canonical text."""
    params = ", ".join(p.name + ("[]" if p.subscripted else "") for p in stencil.params)
    lines = [f"stencil {stencil.name}({params}) dims=({', '.join(stencil.dims)})"]
    lines.extend(_format_stmts(stencil.body, "    "))
    lines.append("    return " + ", ".join(format_expr(r) for r in stencil.returns))
    return "\n".join(lines) + "\n"
