"""The source of a Python function as an ``ast.FunctionDef`` with absolute file positions.

``get_function_source(f)`` reads the function's lines from its file, parses them and
shifts the tree so that every node's ``lineno`` is the line in the user's file and
every ``col_offset`` is the column in that line (nested, indented definitions keep
their columns: the text is wrapped in an ``if 1:`` block instead of being dedented).

>>> def double(x):
...     return 2 * x
>>> get_function_source(double).node.name
'double'
"""

from __future__ import annotations

import ast
import inspect
import linecache
from dataclasses import dataclass

from stencilpy.errors import SourceLoc, StencilSyntaxError

_SEGMENT_WIDTH = 48


@dataclass(frozen=True)
class FunctionSource:
    """A parsed function: its ``FunctionDef`` (absolute positions) and its file lines."""

    node: ast.FunctionDef
    filename: str
    name: str
    lines: tuple[str, ...]
    first_line: int

    def _line(self, lineno: int) -> str:
        index = lineno - self.first_line
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def _column(self, lineno: int, byte_col: int) -> int:
        """``ast`` columns count UTF-8 bytes; ``SourceLoc`` columns count characters."""
        text = self._line(lineno)
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def loc(self, node: ast.AST, function: str | None = None) -> SourceLoc:
        """The ``SourceLoc`` of ``node`` (its whole extent)."""
        line = getattr(node, "lineno", self.node.lineno)
        col = self._column(line, getattr(node, "col_offset", 0))
        end_line = getattr(node, "end_lineno", None)
        end_col = getattr(node, "end_col_offset", None)
        if end_line is not None and end_col is not None:
            end_col = self._column(end_line, end_col)
        return SourceLoc(self.filename, line, col, end_line, end_col, function or self.name)

    def header_loc(self, node: ast.AST, end: ast.AST | None = None) -> SourceLoc:
        """The first line of a compound node, up to the end of ``end`` when it is on that line."""
        loc = self.loc(node)
        if end is not None and getattr(end, "end_lineno", None) == loc.line:
            return SourceLoc(loc.filename, loc.line, loc.col, loc.line,
                             self._column(loc.line, end.end_col_offset), loc.function)
        return SourceLoc(loc.filename, loc.line, loc.col, loc.line,
                         len(self._line(loc.line).rstrip()), loc.function)

    def def_loc(self) -> SourceLoc:
        """``def name`` of the function: where whole-function errors point."""
        text = self._line(self.node.lineno)
        start = text.find("def ")
        start = start if start >= 0 else 0
        end = text.find(self.name, start + 4)
        end = end + len(self.name) if end >= 0 else len(text.rstrip())
        return SourceLoc(self.filename, self.node.lineno, start, self.node.lineno, end, self.name)

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node`` (on one line, shortened if long)."""
        loc = self.loc(node)
        if loc.end_line == loc.line and loc.end_col is not None:
            text = self._line(loc.line)[loc.col:loc.end_col]
        elif isinstance(node, ast.expr):
            text = ast.unparse(node)
        else:
            text = self._line(loc.line)[loc.col:].rstrip()
        if len(text) > _SEGMENT_WIDTH:
            text = text[: _SEGMENT_WIDTH - 3] + "..."
        return text


def _unavailable(pyfunc, why: str) -> StencilSyntaxError:
    code = getattr(pyfunc, "__code__", None)
    loc = None
    if code is not None:
        loc = SourceLoc(code.co_filename, code.co_firstlineno, function=code.co_name)
    name = getattr(pyfunc, "__name__", repr(pyfunc))
    return StencilSyntaxError(
        f"the source code of '{name}' is not available: {why}", loc,
        "define the function with 'def' in a .py file, a notebook cell or an interactive "
        "session (not with lambda, exec or eval)")


def _parse_lines(pyfunc, lines: list[str], first_line: int) -> ast.AST:
    """Parse ``lines`` keeping their columns; line numbers become absolute."""
    text = "".join(lines)
    indented = lines[0][:1] in (" ", "\t")
    try:
        module = ast.parse("if 1:\n" + text if indented else text)
    except SyntaxError as exc:
        raise _unavailable(pyfunc, f"its lines do not parse on their own ({exc.msg})") from None
    node = module.body[0].body[0] if indented else module.body[0]
    ast.increment_lineno(node, first_line - (2 if indented else 1))
    return node


def _indented_block(pyfunc):
    """``inspect.getsourcelines(pyfunc)`` for the common case, without the tokenizer: its
    first use compiles a large regular expression (10 ms of a warm start of 16).

    From the function's first line (its decorators), the lines indented deeper than it
    (blank and comment lines included, trailing ones dropped).  ``None`` — use ``inspect`` —
    unless those lines parse on their own as one ``def`` of the function's name: a block cut
    short inside a string, brackets or a continuation line does not parse."""
    if hasattr(pyfunc, "__wrapped__"):               # inspect follows it: so do we
        return None
    code = pyfunc.__code__
    lines = linecache.getlines(code.co_filename, pyfunc.__globals__)
    start = code.co_firstlineno - 1
    if not 0 <= start < len(lines):
        return None
    indent = len(lines[start]) - len(lines[start].lstrip())
    seen_def, last = False, start
    for k in range(start, len(lines)):
        text = lines[k].strip()
        if not text or text.startswith("#"):
            continue
        if len(lines[k]) - len(lines[k].lstrip()) <= indent:
            if seen_def or not text.startswith(("@", "def ", "async def ")):
                break
            seen_def = not text.startswith("@")       # a decorator line, or the def line
        last = k + 1
    block = lines[start:last]
    try:
        module = ast.parse("if 1:\n" + "".join(block) if indent else "".join(block))
    except SyntaxError:
        return None
    body = module.body[0].body if indent else module.body
    if len(body) != 1 or not isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) \
            or body[0].name != code.co_name:
        return None
    return block, code.co_firstlineno


def get_function_source(pyfunc) -> FunctionSource:
    """Parse ``pyfunc``'s source; raise ``StencilSyntaxError`` (with a hint) if unavailable."""
    code = getattr(pyfunc, "__code__", None)
    if code is None or not inspect.isfunction(pyfunc):
        raise StencilSyntaxError(
            f"{pyfunc!r} is not a Python function", None,
            "decorate a function defined with 'def'")
    if code.co_name == "<lambda>":
        raise _unavailable(pyfunc, "it is a lambda")
    try:
        lines, first_line = _indented_block(pyfunc) or inspect.getsourcelines(pyfunc)
    except (OSError, TypeError) as exc:
        raise _unavailable(pyfunc, str(exc).rstrip(".")) from None
    node = _parse_lines(pyfunc, lines, max(first_line, 1))
    if isinstance(node, ast.AsyncFunctionDef):
        src = FunctionSource(node, code.co_filename, code.co_name, tuple(lines), first_line)
        raise StencilSyntaxError(f"'{code.co_name}' is an 'async def' function", src.def_loc(),
                                 "define stencils and helpers with a plain 'def'")
    if not isinstance(node, ast.FunctionDef) or node.name != code.co_name:
        raise _unavailable(pyfunc, "the file no longer matches the function (was it edited?)")
    return FunctionSource(node, code.co_filename, code.co_name, tuple(lines), first_line)


def parameters(src: FunctionSource, kind: str) -> tuple[ast.arg, ...]:
    """The named parameters of ``src`` in order; ``*args``, ``**kwargs`` and defaults are errors.

    ``kind`` ('stencil' or 'helper') only words the messages.
    """
    args = src.node.args
    for star, spelled in ((args.vararg, "*"), (args.kwarg, "**")):
        if star is not None:
            raise StencilSyntaxError(
                f"{kind} '{src.name}' has a '{spelled}{star.arg}' parameter", src.loc(star),
                "list every field and scalar as a named parameter")
    defaults = list(args.defaults) + [d for d in args.kw_defaults if d is not None]
    if defaults:
        raise StencilSyntaxError(
            f"parameters of {kind} '{src.name}' may not have default values", src.loc(defaults[0]),
            "remove the default and pass the value at every call")
    return tuple(args.posonlyargs) + tuple(args.args) + tuple(args.kwonlyargs)
