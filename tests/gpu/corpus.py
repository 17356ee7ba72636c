"""The stencil test corpus the GPU tests run: every compiled stencil of the test and
example modules, the MPDATA kernels of every rank and option set, and the language
features below (math functions, integer and bool arithmetic, float32, several outputs)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

import stencilpy as sp
from stencilpy.decorator import Stencil

ROOT = Path(__file__).resolve().parents[2]


# -- language features -----------------------------------------------------------------------

@sp.stencil
def math_all(u, v):
    a = sp.sqrt(abs(u)) + sp.exp(-u * u) + sp.log(1.0 + u * u) + sp.log10(2.0 + v)
    b = sp.sin(u) * sp.cos(v) + sp.tan(0.3 * u) + sp.arctan2(u[1, 0], v[0, -1])
    c = sp.floor(u * 3.0) + sp.ceil(v * 2.0) + (u + 2.0) ** v + sp.tanh(u) + sp.arcsin(0.5 * v)
    d = (u * 7.0) % 1.3 + (v * 5.0) // 0.7 + sp.hypot(u, v) + sp.expm1(0.1 * u) + sp.log1p(v * v)
    return a + b + c + d + sp.sinh(0.2 * u) + sp.cosh(0.1 * v) + sp.arccos(0.4 * u) + sp.arctan(v)


@sp.stencil
def nan_checks(u):
    return 1.0 if sp.isnan(u[0, 1]) or sp.isinf(u[1, 0]) else (u if sp.isfinite(u) else 2.0)


@sp.stencil
def int_ops(a, b):
    q = a[1, 0] // (b + 1) + a % 7 - a[0, -1] * b
    return max(q, a[0, 1]) - min(abs(q), 3) + (a ** 2)


@sp.stencil
def bool_logic(m, u):
    return (m[1, 0] and not m[0, 1]) or u[0, 0] > 0.5


@sp.stencil
def two_out(u, w):
    s = u[1, 0] + u[-1, 0]
    return s * w, u[0, 1] - s


@sp.stencil
def scaled(u, alpha, kk):
    return alpha * u[0, 1] + kk * u[0, -1] - u


@sp.stencil
def hdiff(u, coeff):
    lap = 4.0 * u - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap
    flx = 0.0 if flx * (u[1, 0] - u) > 0.0 else flx
    fly = lap[0, 1] - lap
    fly = 0.0 if fly * (u[0, 1] - u) > 0.0 else fly
    return u - coeff * (flx - flx[-1, 0] + fly - fly[0, -1])


@sp.stencil
def lap3d(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u)


@sp.stencil
def lap1d(u):
    return u[1] + u[-1] - 2.0 * u


@sp.stencil
def chained(u):
    a = u[1, 1] - u[-1, -1]
    b = a[1, 0] * a[-1, 0]
    c = b[0, 1] + b[0, -1] + a
    return c[1, 0] - c


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stencils() -> dict[str, Stencil]:
    """name -> compiled stencil, the whole corpus."""
    found: dict[str, Stencil] = {}
    modules = [_load(ROOT / "tests" / "boundary" / "stencils.py"),
               _load(ROOT / "tests" / "adapters" / "stencils.py")]
    modules += [_load(p) for p in sorted((ROOT / "dsl_examples").glob("*.py"))]
    import sys
    modules.append(sys.modules[__name__])
    for module in modules:
        items = list(vars(module).items()) + list(getattr(module, "COMPILED", {}).items())
        for name, value in items:
            if isinstance(value, Stencil) and value.backend == "llvm" and not value.columns:
                found.setdefault(f"{module.__name__.split('.')[-1]}.{name}", value)
    from stencilpy.mpdata.kernels import kernels
    for ndim in (1, 2, 3):
        for gauge in (False, True):
            for third in ((False, True) if ndim < 3 else (False,)):
                for k, st in enumerate(kernels(ndim, gauge, third).all()):
                    found.setdefault(f"mpdata{ndim}d.{st.ir.name}.{int(gauge)}{int(third)}", st)
    return found


def example_args(k: Stencil, shape=None, dtype=np.float64, seed=0) -> dict:
    """Arguments for ``k``: arrays of random values for subscripted parameters (positive
    for the corpus' logs and divisions), numbers for the others."""
    rng = np.random.default_rng(seed)
    halo = k.halo
    if shape is None:
        shape = tuple(max(7, 2 * (lo + hi) + 3) + d for d, (lo, hi) in enumerate(halo))
    args = {}
    no_offsets = not any(p.subscripted for p in k.ir.params)
    for p in k.ir.params:
        if p.subscripted or no_offsets:
            if p.name == "m":
                args[p.name] = rng.random(shape) > 0.5
            elif k.ir.name == "int_ops":
                args[p.name] = rng.integers(-20, 20, size=shape).astype(np.int64)
            else:
                args[p.name] = (0.1 + 0.4 * rng.random(shape)).astype(dtype)
        elif k.ir.name == "int_ops":
            args[p.name] = 3
        elif p.name in ("kk",):
            args[p.name] = 2
        else:
            args[p.name] = 0.25
    return args


def mathy(k: Stencil) -> bool:
    """Whether ``k`` calls math functions that come from libdevice on the GPU."""
    from stencilpy.ir import nodes as N
    calls = {n.func for e in [s.value for s in k.ir.body] + list(k.ir.returns)
             for n in N.walk(e) if isinstance(n, N.Call)}
    cheap = {"abs", "min", "max", "where", "sqrt", "floor", "ceil", "trunc", "isnan", "isinf",
             "isfinite", "sign", "copysign"}
    ops = {n.op for e in [s.value for s in k.ir.body] + list(k.ir.returns)
           for n in N.walk(e) if isinstance(n, N.BinOp)}
    return bool(calls - cheap) or bool(ops & {"%", "//", "**"})


__all__ = ["stencils", "example_args", "mathy", "math"]
