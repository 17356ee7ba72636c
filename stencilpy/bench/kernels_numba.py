"""The kernels as numba loops: ``@njit(parallel=True, fastmath=False)``, prange over axis 0.

``error_model="numpy"`` drops numba's division-by-zero checks (they would block
vectorisation of the MPDATA divisions), as a numba user tuning for speed would do.
hdiff and MPDATA are fused per row like the C versions, with small per-level/per-block row
buffers. Thread count: ``numba.set_num_threads`` before each call. Compilation happens on the
first call, which the driver makes before timing (``cache=True`` keeps it across runs).
"""
import numpy as np

from .impl import Impl, Unavailable

try:
    import numba
    from numba import njit, prange
except ImportError as exc:          # pragma: no cover - depends on the machine
    numba = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None

_OPTS = dict(fastmath=False, error_model="numpy", cache=True)
EPS = 1e-15


def _jit(parallel=False):
    return njit(parallel=parallel, **_OPTS) if numba is not None else (lambda f: f)


@_jit(parallel=True)
def lap2d(u, out, four):
    n0, n1 = u.shape
    for i in prange(1, n0 - 1):
        for j in range(1, n1 - 1):
            out[i, j] = u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - four * u[i, j]


@_jit(parallel=True)
def lap3d(u, out):
    n0, n1, n2 = u.shape
    for i in prange(1, n0 - 1):
        for j in range(1, n1 - 1):
            for k in range(1, n2 - 1):
                out[i, j, k] = (u[i + 1, j, k] + u[i - 1, j, k] + u[i, j + 1, k]
                                + u[i, j - 1, k] + u[i, j, k + 1] + u[i, j, k - 1]
                                - 6.0 * u[i, j, k])


# --- hdiff: per level, rolling rows of lap and flx ---------------------------------------

@_jit()
def _limit(f, du):
    return 0.0 if f * du > 0.0 else f


@_jit(parallel=True)
def hdiff(u, coeff, out):
    """One function on purpose: the same loops in a separate per-level njit function taking
    level views measured 2-3x slower (likely: LLVM could not rule out aliasing between the
    argument arrays; here the row buffers are local allocations)."""
    nl, n1, n2 = u.shape
    for lev in prange(nl):
        lap = np.empty((2, n2))                 # lap rows, slot = row % 2
        flx = np.empty((2, n2))                 # flx rows, slot = row % 2
        for i in range(1, 3):
            for j in range(1, n2 - 1):
                lap[i % 2, j] = 4.0 * u[lev, i, j] - (u[lev, i + 1, j] + u[lev, i - 1, j]
                                                      + u[lev, i, j + 1] + u[lev, i, j - 1])
        for j in range(2, n2 - 2):
            flx[1, j] = _limit(lap[0, j] - lap[1, j], u[lev, 2, j] - u[lev, 1, j])
        for i in range(2, n1 - 2):
            c, n = i % 2, (i + 1) % 2
            for j in range(1, n2 - 1):
                lap[n, j] = 4.0 * u[lev, i + 1, j] - (u[lev, i + 2, j] + u[lev, i, j]
                                                      + u[lev, i + 1, j + 1] + u[lev, i + 1, j - 1])
            for j in range(2, n2 - 2):
                flx[c, j] = _limit(lap[n, j] - lap[c, j], u[lev, i + 1, j] - u[lev, i, j])
            for j in range(2, n2 - 2):
                fly = _limit(lap[c, j + 1] - lap[c, j], u[lev, i, j + 1] - u[lev, i, j])
                flym = _limit(lap[c, j] - lap[c, j - 1], u[lev, i, j] - u[lev, i, j - 1])
                out[lev, i, j] = u[lev, i, j] - coeff * (flx[c, j] - flx[n, j] + fly - flym)


# --- MPDATA: per row block, 3 rows of psi1 and the pseudo-velocity rows ---------------

@_jit()
def _donor_pt(pm, p0, pp, c0l, c0r, c1r, j, jm, jp):
    f0l = max(c0l[j], 0.0) * pm[j] + min(c0l[j], 0.0) * p0[j]
    f0r = max(c0r[j], 0.0) * p0[j] + min(c0r[j], 0.0) * pp[j]
    f1l = max(c1r[j], 0.0) * p0[jm] + min(c1r[j], 0.0) * p0[j]
    f1r = max(c1r[j + 1], 0.0) * p0[j] + min(c1r[j + 1], 0.0) * p0[jp]
    return p0[j] - (f0r - f0l) - (f1r - f1l)


@_jit()
def _donor_row(pm, p0, pp, c0l, c0r, c1r, dst):
    """Columns wrap: j = 0 and j = N1-1 are peeled off so the main loop vectorises."""
    n1 = p0.shape[0]
    dst[0] = _donor_pt(pm, p0, pp, c0l, c0r, c1r, 0, n1 - 1, 1)
    for j in range(1, n1 - 1):
        dst[j] = _donor_pt(pm, p0, pp, c0l, c0r, c1r, j, j - 1, j + 1)
    dst[n1 - 1] = _donor_pt(pm, p0, pp, c0l, c0r, c1r, n1 - 1, n1 - 2, 0)


@_jit()
def _pseudo_velocity(c, a, cbar, b):
    return (abs(c) - c * c) * a - 0.5 * c * cbar * b


@_jit()
def _adx_pt(pl, pr, c, c1l, c1r, j, jm, jp):
    a = (pr[j] - pl[j]) / (pr[j] + pl[j] + EPS)
    up = pr[jp] + pl[jp]
    dn = pr[jm] + pl[jm]
    cbar = 0.25 * (c1r[j + 1] + c1l[j + 1] + c1r[j] + c1l[j])
    return _pseudo_velocity(c[j], a, cbar, (up - dn) / (up + dn + EPS))


@_jit()
def _adx_row(pl, pr, c, c1l, c1r, dst):
    """x-face row between psi1 rows pl (left) and pr (right)."""
    n1 = pr.shape[0]
    dst[0] = _adx_pt(pl, pr, c, c1l, c1r, 0, n1 - 1, 1)
    for j in range(1, n1 - 1):
        dst[j] = _adx_pt(pl, pr, c, c1l, c1r, j, j - 1, j + 1)
    dst[n1 - 1] = _adx_pt(pl, pr, c, c1l, c1r, n1 - 1, n1 - 2, 0)


@_jit()
def _ady_pt(pm, p0, pp, c1r, c0a, c0b, j, jm):
    a = (p0[j] - p0[jm]) / (p0[j] + p0[jm] + EPS)
    up = pp[j] + pp[jm]
    dn = pm[j] + pm[jm]
    cbar = 0.25 * (c0b[j] + c0b[jm] + c0a[j] + c0a[jm])
    return _pseudo_velocity(c1r[j], a, cbar, (up - dn) / (up + dn + EPS))


@_jit()
def _ady_row(pm, p0, pp, c1r, c0a, c0b, dst):
    """y-faces j-1/2 (j = 0..N1) of the row p0; c0a/c0b: x-faces above and below."""
    n1 = p0.shape[0]
    dst[0] = _ady_pt(pm, p0, pp, c1r, c0a, c0b, 0, n1 - 1)
    for j in range(1, n1):
        dst[j] = _ady_pt(pm, p0, pp, c1r, c0a, c0b, j, j - 1)
    dst[n1] = dst[0]


@_jit()
def _pass1_row(psi, c0, c1, k, dst):
    n0 = psi.shape[0]
    k = k % n0
    _donor_row(psi[(k - 1) % n0], psi[k], psi[(k + 1) % n0], c0[k], c0[k + 1], c1[k], dst)


@_jit()
def _mpdata_rows(psi, c0, c1, out, r0, r1):
    n0, n1 = psi.shape
    p1 = np.empty((3, n1))
    v0 = np.empty((2, n1))
    v1 = np.empty(n1 + 1)
    _pass1_row(psi, c0, c1, r0 - 1, p1[0])
    _pass1_row(psi, c0, c1, r0, p1[1])
    _adx_row(p1[0], p1[1], c0[r0], c1[(r0 - 1) % n0], c1[r0], v0[r0 % 2])
    for i in range(r0, r1):
        pm, pc, pn = p1[(i - r0) % 3], p1[(i - r0 + 1) % 3], p1[(i - r0 + 2) % 3]
        _pass1_row(psi, c0, c1, i + 1, pn)
        _adx_row(pc, pn, c0[i + 1], c1[i], c1[(i + 1) % n0], v0[(i + 1) % 2])
        _ady_row(pm, pc, pn, c1[i], c0[i], c0[i + 1], v1)
        _donor_row(pm, pc, pn, v0[i % 2], v0[(i + 1) % 2], v1, out[i])


@_jit(parallel=True)
def mpdata(psi, c0, c1, out, blocks):
    """`blocks` row blocks, one per thread (each block recomputes two halo rows of psi1)."""
    n0 = psi.shape[0]
    for b in prange(blocks):
        _mpdata_rows(psi, c0, c1, out, n0 * b // blocks, n0 * (b + 1) // blocks)


def _binder(fn, extra=lambda args, threads: ()):
    def bind(args, out, threads):
        call = (*args, out, *extra(args, threads))

        def run():
            numba.set_num_threads(threads)
            fn(*call)
        return run
    return bind


def load():
    if numba is None:
        raise Unavailable(f"numba not importable: {_IMPORT_ERROR}")
    return Impl("numba", True, {
        "lap2d": _binder(lap2d, lambda args, threads: (args[0].dtype.type(4.0),)),
        "lap3d": _binder(lap3d),
        "hdiff": _binder(hdiff),
        "mpdata": _binder(mpdata, lambda args, threads: (threads,)),
    })
