"""Source locations and the error family of stencilpy.

User errors (``StencilError`` and subclasses) say what is wrong, where, and
what to do.  ``InternalCompilerError`` is reserved for bugs in stencilpy.

A ``StencilSyntaxError`` renders the user's own code::

    File "model.py", line 12, in 'hdiff'
       |
    12 |     flx = u.sum()
       |           ^^^^^^^
    'u.sum()' is not part of the stencil language: method calls are not supported
    hint: use sp.where / min / max / abs or an @sp.function helper
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLoc:
    """A place in the user's file: 1-based lines, 0-based columns."""

    filename: str
    line: int
    col: int = 0
    end_line: int | None = None
    end_col: int | None = None
    function: str | None = None

    def __str__(self) -> str:
        where = f'File "{self.filename}", line {self.line}'
        return f"{where}, in '{self.function}'" if self.function else where


def render_location(loc: SourceLoc) -> str:
    """The 'File ..., line N' header, a gutter with the source line and carets."""
    text = linecache.getline(loc.filename, loc.line).rstrip("\n")
    header = str(loc)
    if not text:
        return header
    gutter = " " * len(str(loc.line))
    if loc.end_line is not None and loc.end_line != loc.line:
        end_col = len(text)
    else:
        end_col = loc.end_col if loc.end_col is not None else loc.col + 1
    width = max(1, end_col - loc.col)
    carets = " " * loc.col + "^" * width
    return f"{header}\n{gutter} |\n{loc.line} | {text}\n{gutter} | {carets}"


def close_match(name: str, candidates) -> str | None:
    """The candidate most like ``name`` (a likely typo of it), or None: for "did you mean".

    >>> close_match("lom", ("lat", "lon")), close_match("time", ("lat", "lon"))
    ('lon', None)
    """
    import difflib  # only when an error is being written
    found = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1, cutoff=0.6)
    return found[0] if found else None


class StencilError(Exception):
    """Base class of every error stencilpy raises for bad user input."""


class StencilSyntaxError(StencilError):
    """The decorated function uses something outside the stencil language."""

    def __init__(self, message: str, loc: SourceLoc | None = None, hint: str | None = None):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.loc is not None:
            parts.append(render_location(self.loc))
        parts.append(self.message)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class StencilCallError(StencilError, ValueError):
    """A stencil was called with arguments it cannot accept."""


class ReservedNameError(StencilSyntaxError, StencilCallError):
    """A stencil parameter uses a name reserved for call options (``boundary``, ``out``, ...)."""


class MismatchError(StencilError, AssertionError):
    """``check=True`` found a difference between the compiled and the numpy reference result."""


class InternalCompilerError(Exception):
    """A bug in stencilpy itself (never the user's fault): please report it."""
