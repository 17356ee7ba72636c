"""``runtime/overlap.py``, the one aliasing rule of both call paths, against NumPy's own
bounds test (``np.may_share_memory``) on random views of one buffer."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.runtime import overlap

BASE = np.zeros(4096)


def random_view(rng) -> np.ndarray:
    """A random strided (possibly reversed, possibly empty) 2-D view of BASE."""
    grid = BASE.reshape(64, 64)
    rows = sorted(rng.integers(0, 65, 2))
    cols = sorted(rng.integers(0, 65, 2))
    view = grid[rows[0]:rows[1]:rng.integers(1, 4), cols[0]:cols[1]:rng.integers(1, 4)]
    if rng.random() < 0.3:
        view = view[::-1]
    if rng.random() < 0.3:
        view = view[:, ::-1]
    if rng.random() < 0.2:
        view = view.T
    return view


def test_byte_span_matches_numpys_extent():
    rng = np.random.default_rng(0)
    for _ in range(500):
        v = random_view(rng)
        lo, hi = overlap.byte_span(v)
        if v.size == 0:
            assert (lo, hi) == (0, 0)
            continue
        touched = np.zeros(BASE.nbytes, bool)
        start = v.ctypes.data - BASE.ctypes.data
        for index in np.ndindex(*v.shape):
            at = start + sum(i * s for i, s in zip(index, v.strides))
            touched[at:at + v.itemsize] = True
        where = np.flatnonzero(touched)
        assert (start + lo, start + hi) == (where[0], where[-1] + 1)


def test_check_agrees_with_may_share_memory():
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(2000):
        outs = tuple(random_view(rng) for _ in range(rng.integers(1, 3)))
        inputs = [random_view(rng) for _ in range(rng.integers(0, 3))] + [np.zeros(3)]
        clash = any(np.may_share_memory(a, b) for k, a in enumerate(outs) for b in outs[k + 1:])
        if clash:
            with pytest.raises(sp.StencilCallError, match="out= overlap each other"):
                overlap.check(outs, inputs)
            seen.add("outputs")
        else:
            want = any(np.may_share_memory(o, a) for o in outs for a in inputs)
            assert overlap.check(outs, inputs) == want
            seen.add(want)
    assert seen == {"outputs", True, False}


def test_copy_into_finishes_a_snapshot_call():
    u = np.arange(10.0)
    k = sp.stencil(diff)
    want = k(u.copy())
    k(u, out=u)                                 # out= is the input: computed fresh, copied
    np.testing.assert_array_equal(u, want)
    np.testing.assert_array_equal(want[1:-1], np.arange(10.0)[2:] - np.arange(10.0)[:-2])


def diff(u):
    return u[1] - u[-1]
