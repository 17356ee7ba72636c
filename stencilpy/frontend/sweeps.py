"""Columns: the markers ``sp.forward(axis)``, ``sp.backward(axis)``, ``sp.levels(start, stop)``.

Inside a stencil, ``with sp.forward("lev"):`` opens a sweep (``ir.Sweep``, parsed by
``parse.py``); called from plain Python the markers only describe themselves.  The checks of
the levels a sweep reads are in ``ir/levels.py``.

>>> forward("lev")
sp.forward('lev')
"""

from __future__ import annotations

from dataclasses import dataclass

from stencilpy.ir.levels import DECORATION_LEVELS, MAX_LEVEL_BOUND, LevelError, check_levels

__all__ = ["forward", "backward", "levels", "SWEEP_NAMES", "check_levels", "LevelError",
           "DECORATION_LEVELS", "MAX_LEVEL_BOUND"]


@dataclass(frozen=True)
class SweepMarker:
    """``sp.forward(axis)``, ``sp.backward(axis)`` or ``sp.levels(start, stop)`` (a marker)."""

    kind: str
    args: tuple

    def __repr__(self) -> str:
        return f"sp.{self.kind}({', '.join(repr(a) for a in self.args)})"

    def __enter__(self):
        raise RuntimeError(f"{self!r} is only meaningful inside an @sp.stencil function")

    def __exit__(self, *exc):
        return False


def forward(axis) -> SweepMarker:
    """Inside a stencil, ``with sp.forward(axis):`` runs its statements level by level along
    ``axis`` (a name from ``dims=`` or an axis position), from the first level to the last."""
    return SweepMarker("forward", (axis,))


def backward(axis) -> SweepMarker:
    """Inside a stencil, ``with sp.backward(axis):`` runs its statements level by level along
    ``axis``, from the last level to the first."""
    return SweepMarker("backward", (axis,))


def levels(start, stop) -> SweepMarker:
    """Inside a sweep, ``with sp.levels(start, stop):`` restricts statements to the levels
    ``range(n)[start:stop]`` (negative counts from the end, ``None`` is the end)."""
    return SweepMarker("levels", (start, stop))


SWEEP_NAMES = {"forward": forward, "backward": backward, "levels": levels}
