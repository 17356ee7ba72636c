"""The kernels as ``@sp.stencil`` functions, written against the public API (docs API.md).

Calls use ``out=`` (preallocated, so allocation is not timed) and ``threads=``. When
``import stencilpy`` or decorating a kernel fails, the kernel is reported as skipped with the
reason; a failure on the first call (compilation) is reported by the driver the same way.
"""
import numpy as np

from .impl import Impl, Unavailable

try:
    import stencilpy as sp
    sp.stencil                                    # a half-written package may lack it
except Exception as exc:                          # noqa: BLE001 - any failure means "skip"
    sp, _IMPORT_ERROR = None, exc
else:
    _IMPORT_ERROR = None

_BROKEN = {}                                      # kernel name -> reason


def _stencil(fn):
    """``sp.stencil(fn)``, or None with the reason recorded when that raises."""
    if sp is None:
        return None
    try:
        return sp.stencil(fn)
    except Exception as exc:                      # noqa: BLE001
        _BROKEN[fn.__name__] = f"decorating '{fn.__name__}' failed: {type(exc).__name__}: {exc}"
        return None


@_stencil
def lap2d(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


@_stencil
def lap3d(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u[0, 0, 0])


@_stencil
def hdiff(u, coeff):
    lap = 4.0 * u - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap
    flx = 0.0 if flx * (u[1, 0] - u) > 0.0 else flx
    fly = lap[0, 1] - lap
    fly = 0.0 if fly * (u[0, 1] - u) > 0.0 else fly
    return u - coeff * (flx - flx[-1, 0] + fly - fly[0, -1])


# One MPDATA step (docs/mpdata-derivation.md §3-§5) as one stencil, periodic: the first
# donor-cell pass (psi1), the antidiffusive velocities on the left x-face (v0) and lower
# y-face (v1) of every cell, and the second donor-cell pass with them. c0[i, j] is the x-face
# left of cell (i, j), c1[i, j] the y-face below it (staggered: N+1 faces, or N faces that wrap). The temporaries
# read at offsets (psi1, v0, v1) live in per-thread rolling row buffers, never full arrays.
@_stencil
def mpdata_step(psi, c0, c1):
    f0l = max(c0, 0.0) * psi[-1, 0] + min(c0, 0.0) * psi
    f0r = max(c0[1, 0], 0.0) * psi + min(c0[1, 0], 0.0) * psi[1, 0]
    f1l = max(c1, 0.0) * psi[0, -1] + min(c1, 0.0) * psi
    f1r = max(c1[0, 1], 0.0) * psi + min(c1[0, 1], 0.0) * psi[0, 1]
    psi1 = psi - (f0r - f0l) - (f1r - f1l)
    a0 = (psi1 - psi1[-1, 0]) / (psi1 + psi1[-1, 0] + 1e-15)
    up0 = psi1[0, 1] + psi1[-1, 1]
    dn0 = psi1[0, -1] + psi1[-1, -1]
    cbar0 = 0.25 * (c1[0, 1] + c1[-1, 1] + c1 + c1[-1, 0])
    v0 = (abs(c0) - c0 * c0) * a0 - 0.5 * c0 * cbar0 * ((up0 - dn0) / (up0 + dn0 + 1e-15))
    a1 = (psi1 - psi1[0, -1]) / (psi1 + psi1[0, -1] + 1e-15)
    up1 = psi1[1, 0] + psi1[1, -1]
    dn1 = psi1[-1, 0] + psi1[-1, -1]
    cbar1 = 0.25 * (c0[1, 0] + c0[1, -1] + c0 + c0[0, -1])
    v1 = (abs(c1) - c1 * c1) * a1 - 0.5 * c1 * cbar1 * ((up1 - dn1) / (up1 + dn1 + 1e-15))
    g0l = max(v0, 0.0) * psi1[-1, 0] + min(v0, 0.0) * psi1
    g0r = max(v0[1, 0], 0.0) * psi1 + min(v0[1, 0], 0.0) * psi1[1, 0]
    g1l = max(v1, 0.0) * psi1[0, -1] + min(v1, 0.0) * psi1
    g1r = max(v1[0, 1], 0.0) * psi1 + min(v1[0, 1], 0.0) * psi1[0, 1]
    return psi1 - (g0r - g0l) - (g1r - g1l)


def _bind_simple(kernel):
    def bind(args, out, threads):
        return lambda: kernel(*args, out=out, threads=threads)
    return bind


def _bind_mpdata(args, out, threads):
    psi, c0, c1 = args
    return lambda: mpdata_step(psi, c0, c1, out=out, boundary="periodic", threads=threads)


def load():
    if sp is None:
        raise Unavailable(f"import stencilpy failed: {type(_IMPORT_ERROR).__name__}: "
                          f"{_IMPORT_ERROR}")
    wanted = {"lap2d": (lap2d,), "lap3d": (lap3d,), "hdiff": (hdiff,),
              "mpdata": (mpdata_step,)}
    binders = {"lap2d": _bind_simple(lap2d), "lap3d": _bind_simple(lap3d),
               "hdiff": _bind_simple(hdiff), "mpdata": _bind_mpdata}
    skipped = {}
    for name, kernels in wanted.items():
        if any(k is None for k in kernels):
            skipped[name] = "; ".join(sorted(_BROKEN.values())) or "a kernel failed to decorate"
            del binders[name]
    return Impl("stencilpy", True, binders, skipped)
