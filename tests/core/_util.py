"""Helpers of the core-compiler tests: a stencil and its numpy-reference twin, comparisons
with dtype-aware tolerances, periodic shifts for hand-written numpy versions, and stencils
compiled from generated source text."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np

import stencilpy as sp
from _support import assert_same

#: numpy's SIMD math and libm may differ by a few ulps
MATH_RTOL = {np.dtype(np.float64): 1e-13, np.dtype(np.float32): 1e-5}
MATH_ATOL = {np.dtype(np.float64): 1e-300, np.dtype(np.float32): 1e-30}


def pair(pyfunc, **options):
    """The compiled stencil of ``pyfunc`` and its numpy-reference twin."""
    return sp.stencil(pyfunc, **options), sp.stencil(pyfunc, backend="numpy", **options)


def assert_outputs(got, want, **kw) -> None:
    """``assert_same`` for one output or a tuple of outputs (output k named in the message)."""
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want), f"{len(got)} outputs, expected {len(want)}"
    what = kw.pop("what", "")
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, what=f"{what} output {k}", **kw)


def check(pyfunc, args, expected, stencil_options=None, **call):
    """Run ``pyfunc`` compiled and with the numpy reference; both must equal ``expected``
    (a hand-written numpy result).  Returns the compiled result."""
    jit, ref = pair(pyfunc, **(stencil_options or {}))
    tol = {k: call.pop(k) for k in ("rtol", "atol") if k in call}
    got = jit(*args, **call)
    assert_outputs(got, expected, what=f"{pyfunc.__name__} compiled", **tol)
    assert_outputs(ref(*args, **call), expected, what=f"{pyfunc.__name__} reference", **tol)
    return got


def shift(a: np.ndarray, *offset: int) -> np.ndarray:
    """``a[i + offset]`` with periodic wrap over the last ``len(offset)`` axes."""
    n = len(offset)
    return np.roll(a, tuple(-o for o in offset), axis=tuple(range(a.ndim - n, a.ndim)))


_COUNTER = itertools.count()


def stencil_from_source(source: str, name: str, tmp_path: Path, **options):
    """Compile the function ``name`` defined in ``source`` (written to a real file, since the
    frontend reads the source), both compiled and as the numpy reference."""
    module_name = f"_sp_generated_{next(_COUNTER)}"
    path = Path(tmp_path) / f"{module_name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return pair(getattr(module, name), **options)
