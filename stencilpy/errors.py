"""Source locations and the error family of stencilpy.

User errors (``StencilError`` and subclasses) say what is wrong, where, and
what to do.  ``InternalCompilerError`` is reserved for bugs in stencilpy.

A ``StencilSyntaxError`` renders the user's own code (and, raised to a user, the traceback
shows the user's frames only: ``trim_traceback``)::

    File "model.py", line 12, in 'hdiff'
       |
    12 |     flx = u.sum()
       |           ^^^^^^^
    'u.sum()' is not part of the stencil language: method calls are not supported
    hint: use sp.where / min / max / abs or an @sp.function helper
"""

from __future__ import annotations

import functools
import linecache
import os
import types
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
    """Base class of every error stencilpy raises for bad user input.  Raised to a user, its
    traceback ends in the user's code; ``STENCILPY_TRACEBACK=full`` shows stencilpy's frames."""


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


class StencilWarning(UserWarning):
    """Legal stencil code that probably does not do what it seems to (e.g. a running sum
    written without a sweep); the message points at the user's line and carries a hint."""


class InternalCompilerError(Exception):
    """A bug in stencilpy itself (never the user's fault): please report it."""


# -- tracebacks a user can act on ---------------------------------------------------------------

#: the directory of the stencilpy package: frames of code under it are stencilpy's own
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def trim_traceback(err: BaseException) -> BaseException:
    """Drop stencilpy's frames from the traceback of a user error (a ``StencilError``) raised
    out of a public entry point, as JAX filters its frames: the traceback ends at the user's
    line that called stencilpy (what stencilpy called in turn, the standard library's ``ast``
    visitors for one, goes too).  ``STENCILPY_TRACEBACK=full`` keeps every frame; other
    exceptions (bugs, ``InternalCompilerError``) always keep them.  No note is added: the
    message stays exactly what ``str(err)`` says (``pytest.raises(match=...)`` also reads
    notes).  Use in an ``except``
    block, then a bare ``raise`` (which adds no frame)::

        except StencilError as err:
            trim_traceback(err)
            raise
    """
    if not isinstance(err, StencilError) \
            or os.environ.get("STENCILPY_TRACEBACK", "").strip().lower() == "full":
        return err
    kept = []
    tb = err.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(PACKAGE_DIR):
        kept.append(tb)
        tb = tb.tb_next
    if tb is None:
        return err
    trimmed = None
    for tb in reversed(kept):
        trimmed = types.TracebackType(trimmed, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    return err.with_traceback(trimmed)


def api_boundary(fn):
    """Decorate a public entry point: the user errors it raises carry the user's frames only
    (``trim_traceback``).  Hot paths write the ``try`` inline instead."""
    @functools.wraps(fn)
    def entry_point(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StencilError as err:
            trim_traceback(err)
            raise
    return entry_point
