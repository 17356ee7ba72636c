"""Draw the figures of docs/boundaries.md (run from anywhere; writes next to this file).

    python docs/img/make_boundary_figures.py

What each padding mode reads beyond the edges is computed with ``numpy.pad`` itself on
the indices ``0 .. n-1``, so the pictures show exactly numpy.pad's meaning.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

HERE = Path(__file__).resolve().parent
N, HALO = 6, 4
CMAP = plt.get_cmap("tab10")
HALO_ALPHA = 0.45


def _cell(ax, x, y, text, color, alpha=1.0, hatch=None, edge="black", bold=False):
    ax.add_patch(Rectangle((x, y), 1, 1, facecolor=color, alpha=alpha, edgecolor=edge,
                           hatch=hatch, linewidth=0.8))
    ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=9,
            fontweight="bold" if bold else "normal")


def _row(ax, y, sources, label, note=""):
    """One mode: ``sources[k]`` is the array index read at position k - HALO (None: fill)."""
    ax.text(-0.4, y + 0.5, label, ha="right", va="center", fontsize=10, family="monospace")
    for k, src in enumerate(sources):
        x = k
        inside = HALO <= k < HALO + N
        if src is None:
            _cell(ax, x, y, "c", "0.85", hatch="///")
        elif inside:
            _cell(ax, x, y, str(src), CMAP(src), bold=True)
        else:
            _cell(ax, x, y, str(src), CMAP(src), alpha=HALO_ALPHA)
    if note:
        ax.text(len(sources) + 0.3, y + 0.5, note, ha="left", va="center", fontsize=8,
                color="0.3")


def modes_figure(path: Path) -> None:
    idx = np.arange(N)
    rows = [
        ("'constant'", [None] * HALO + list(idx) + [None] * HALO, "reads see fill_value"),
        ("'wrap'", np.pad(idx, HALO, mode="wrap"), "alias 'periodic'"),
        ("'edge'", np.pad(idx, HALO, mode="edge"), "alias 'nearest'"),
        ("'reflect'", np.pad(idx, HALO, mode="reflect"), "mirror about the edge point"),
        ("'symmetric'", np.pad(idx, HALO, mode="symmetric"), "mirror about the edge face"),
    ]
    fig, ax = plt.subplots(figsize=(8.2, 3.3))
    for r, (label, src, note) in enumerate(rows):
        _row(ax, -1.4 * r, list(src), label, note)
    top = 1.15
    for k in range(-HALO, N + HALO):
        ax.text(k + HALO + 0.5, top + 0.2, str(k), ha="center", va="bottom", fontsize=7,
                color="0.35")
    ax.text(-0.4, top + 0.25, "index", ha="right", va="bottom", fontsize=7, color="0.35")
    for x in (HALO, HALO + N):
        ax.plot([x, x], [-1.4 * (len(rows) - 1) - 0.2, top + 0.1], color="crimson", lw=1.5)
    ax.set_xlim(-2.6, N + 2 * HALO + 4.2)
    ax.set_ylim(-1.4 * (len(rows) - 1) - 0.3, top + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("What a read beyond the edges sees (array of 6 points, numbers = array index "
                 "read)", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def staggered_figure(path: Path) -> None:
    n = 5                                           # cells; faces 0..n
    fig, ax = plt.subplots(figsize=(8.2, 2.6))
    # cells
    for i in range(n):
        _cell(ax, 2 * i + 1, 1.2, f"u{i}", CMAP(i), bold=True)
    ax.text(-5.0, 1.7, "cells u (N = 5)", ha="right", va="center", fontsize=9)
    # faces: in range 0..n, then the wrapped reads outside
    ax.text(-5.0, -0.3, "faces f (N + 1 = 6)", ha="right", va="center", fontsize=9)
    for j in range(-2, n + 3):
        x = 2 * j - 0.5 + 0.5
        inside = 0 <= j <= n
        src = j if inside else j % n
        color = CMAP(src % 10) if src < n else CMAP(0)
        text = f"f{src}"
        if inside:
            _cell(ax, x, -0.8, text, color, bold=True)
        else:
            _cell(ax, x, -0.8, text, color, alpha=HALO_ALPHA)
        ax.text(x + 0.5, -1.15, str(j), ha="center", va="top", fontsize=7, color="0.35")
    ax.annotate("a read of f[-1] (left of face 0)\nsees f[N-1] = f4", xy=(-2 + 0.5, -0.85),
                xytext=(-9.5, -3.2),
                fontsize=8, arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.annotate("f5 = entry N: a real face,\nthe periodic image of f0", xy=(2 * n + 0.5, 0.25),
                xytext=(2 * n + 3.2, 1.6), fontsize=8,
                arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.annotate("a read of f[N+1] sees f1", xy=(2 * (n + 1) + 0.5, -0.85),
                xytext=(2 * n + 4.5, -3.0), fontsize=8,
                arrowprops=dict(arrowstyle="->", color="0.3"))
    for x in (-0.5 + 0.5, 2 * n + 0.5 + 0.5):
        ax.plot([x, x], [-1.0, 2.5], color="crimson", lw=1.2, ls="--")
    ax.set_xlim(-12.5, 2 * n + 11)
    ax.set_ylim(-3.6, 2.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("boundary='wrap' with a staggered field: modulo the domain length N",
                 fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def fill_valid_figure(path: Path) -> None:
    """``u[2] - u[-1]`` (halo (1, 2)) on 8 points: which outputs exist."""
    n, lo, hi = 8, 1, 2
    fig, ax = plt.subplots(figsize=(8.2, 2.2))
    ax.text(-0.4, 2.3, "input u", ha="right", va="center", fontsize=9)
    for i in range(n):
        _cell(ax, i, 1.8, str(i), CMAP(i), bold=True)
    ax.text(-0.4, 0.5, "'fill'", ha="right", va="center", fontsize=9, family="monospace")
    for i in range(n):
        ok = lo <= i < n - hi
        _cell(ax, i, 0, f"out{i}" if ok else "fill", "white" if ok else "0.85",
              hatch=None if ok else "///")
    ax.text(-0.4, -1.0, "'valid'", ha="right", va="center", fontsize=9, family="monospace")
    for i in range(lo, n - hi):
        _cell(ax, i, -1.5, f"out{i}", "white")
    ax.text(n + 0.4, 0.5, "same shape as u; points whose stencil\nleaves u get fill_value",
            fontsize=8, va="center", color="0.3")
    ax.text(n + 0.4, -1.0, "smaller by the halo (1 + 2 points)", fontsize=8, va="center",
            color="0.3")
    ax.set_xlim(-2.2, n + 6.5)
    ax.set_ylim(-1.8, 3.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Output-side modes for u[2] - u[-1] (halo (1, 2))", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    modes_figure(HERE / "boundary_modes.png")
    staggered_figure(HERE / "boundary_staggered.png")
    fill_valid_figure(HERE / "boundary_fill_valid.png")


if __name__ == "__main__":
    main()
