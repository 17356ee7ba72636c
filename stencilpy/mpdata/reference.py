"""Pure-numpy reference implementation of MPDATA on 1-D/2-D/3-D grids.

This module is the *oracle* for stencilpy's compiled MPDATA: it follows
``docs/mpdata-derivation.md`` (the algorithm, section by section) formula by formula,
written with whole-array numpy slicing (no Python loops over grid points).  Equation numbers
in the comments refer to that note.

Conventions (docs/mpdata-derivation.md Sec. 2):

* ``psi`` is cell-centred, shape ``(N0,)``, ``(N0, N1)`` or ``(N0, N1, N2)``.
* ``courant`` is a tuple with one array per axis.  Component ``d`` has ``N_d + 1``
  entries along axis ``d`` and ``N_e`` along every other axis.  Entry ``m`` along
  ``d`` is the face ``m - 1/2`` (the *left* face of cell ``m``); entries ``0`` and
  ``N_d`` are the same physical face on the periodic domain and must be equal
  (checked to ``FACE_TOLERANCE``; after the check entry ``N_d`` is overwritten
  by entry ``0`` so the two boundary fluxes are bitwise identical and mass is
  conserved to round-off).
* Boundaries (:mod:`stencilpy.mpdata.boundaries`): periodic by default; open and rigid
  axes pad every cell field the scheme reads (psi, the limiter coefficients, G) and the
  transverse face averages with the edge value instead of wrapping.  Rigid walls carry
  C = 0 on their face (checked), which zeroes every flux through them.
* ``g_factor`` (optional G, Sec. 9): the stored face field is G C, the update divides the
  flux divergence by G_i, the limiter multiplies its numerators by G_i, and the
  pseudo-velocity uses G_bar = (G_i + G_{i+1}) / 2 (``g_form``).

How the boundaries are done: every pass pads the current cell field with ``np.pad``
(1 halo cell, 2 with ``third_order_terms``; mode "wrap" along periodic axes, "edge" along
open and rigid ones) and evaluates every face quantity on all ``N_d + 1`` stored faces of
each axis.  Along a periodic axis face ``-1/2`` and face ``N_d - 1/2`` therefore see the same
(wrapped) input and get bitwise identical values.  Transverse averages (10) need the faces of
cells ``-1`` and ``N_d`` along the *face* axis of another component; those are obtained by
padding that component by one cell along the axis concerned (wrap or edge).  The limiter
coefficients (17) are computed on the interior cells and padded by one cell the same way.
This is how PyMPDATA fills the halos of its fields (tests/mpdata/test_pympdata_refs.py).

Public API: :func:`mpdata_step`, :func:`mpdata_advance`,
:func:`validate_courant`, :func:`max_outflow_courant`, :func:`halo_width`.
All validation errors are ``ValueError`` with a message that says what to fix.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

# input checks only (shared with the solver); the numerics below are this module's own
from stencilpy.mpdata.boundaries import (
    check_walls,
    constant_value,
    parse_boundaries,
    periodic_axes,
    validate_g_factor,
    validate_g_form,
)
from stencilpy.mpdata.courant import FACE_TOLERANCE, max_outflow_courant, validate_courant

__all__ = [
    "FACE_TOLERANCE",
    "MPDATAOptions",
    "halo_width",
    "max_outflow_courant",
    "mpdata_advance",
    "mpdata_step",
    "validate_courant",
]

# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class MPDATAOptions:
    """The validated options of one MPDATA step (see :func:`mpdata_step`)."""

    n_iters: int = 2
    nonoscillatory: bool = False
    infinite_gauge: bool = False
    third_order_terms: bool = False
    epsilon: float = 1e-15
    limited_velocity_feedback: bool = True

    def __post_init__(self):
        try:
            n_iters = operator.index(self.n_iters)
        except TypeError:
            raise ValueError(
                f"n_iters must be an integer >= 1 (number of donor-cell passes), "
                f"got {self.n_iters!r}"
            ) from None
        if isinstance(self.n_iters, (bool, np.bool_)) or n_iters < 1:
            raise ValueError(
                f"n_iters must be an integer >= 1 (1 = upwind, 2 = standard MPDATA), "
                f"got {self.n_iters!r}"
            )
        object.__setattr__(self, "n_iters", int(n_iters))
        for name in ("nonoscillatory", "infinite_gauge", "third_order_terms",
                     "limited_velocity_feedback"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            object.__setattr__(self, name, bool(value))
        try:
            epsilon = float(self.epsilon)
        except (TypeError, ValueError):
            raise ValueError(f"epsilon must be a small positive float, got {self.epsilon!r}") from None
        if not (np.isfinite(epsilon) and epsilon > 0.0):
            raise ValueError(
                f"epsilon must be a small positive finite float (default 1e-15), got {self.epsilon!r}"
            )
        object.__setattr__(self, "epsilon", epsilon)
        if self.infinite_gauge and self.n_iters > 2:
            raise ValueError(
                f"infinite_gauge=True requires n_iters <= 2 (got n_iters={self.n_iters}): in the "
                "infinite-gauge limit the pseudo-velocity is already a flux, so feeding it into a "
                "further corrective pass as if it were a Courant number is dimensionally "
                "inconsistent (docs/mpdata-derivation.md Sec. 6)"
            )


def halo_width(*, third_order_terms: bool = False, **_ignored) -> int:
    """Cell halo this implementation pads with: 2 with third-order terms, else 1.

    (docs/mpdata-derivation.md asks for 2 halo cells with ``nonoscillatory`` too; here the
    limiter coefficients are computed on the interior and wrap-padded separately, which
    is equivalent on a periodic domain.)
    """
    return 2 if third_order_terms else 1


# --------------------------------------------------------------------------- validation


def _validate_psi(psi) -> np.ndarray:
    arr = np.asarray(psi)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"psi must be a real floating-point array (float64 preferred), got dtype {arr.dtype}"
        )
    if arr.ndim not in (1, 2, 3):
        raise ValueError(f"psi must be 1-D, 2-D or 3-D, got {arr.ndim}-D array of shape {arr.shape}")
    if min(arr.shape) < 1:
        raise ValueError(f"psi must have at least one cell along every axis, got shape {arr.shape}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("psi contains NaN or infinite values")
    return arr


# --------------------------------------------------------------------------- slicing helpers


def _axis_slice(ndim, axis, start, stop):
    """Index tuple selecting ``start:stop`` along ``axis`` and everything elsewhere."""
    idx = [slice(None)] * ndim
    idx[axis] = slice(start, stop)
    return tuple(idx)


def _at_faces(padded, h, shape, d, o, e=None, q=0):
    """View of a padded cell field seen from the faces along axis ``d``.

    For the ``N_d + 1`` faces ``m - 1/2`` (``m = 0..N_d``) the cell to the left of the
    face is ``i = m - 1``.  This returns, for every face, the cell ``i + o`` along ``d``
    and ``j + q`` along ``e`` (all other axes: the interior cells).  ``padded`` has
    ``h`` halo cells on every side of every axis.
    """
    idx = []
    for ax, n in enumerate(shape):
        if ax == d:
            idx.append(slice(h - 1 + o, h + n + o))
        elif ax == e:
            idx.append(slice(h + q, h + n + q))
        else:
            idx.append(slice(h, h + n))
    return padded[tuple(idx)]


def _at_cells(padded, h, shape, d=None, o=0):
    """View of a padded cell field: interior cells shifted by ``o`` along axis ``d``."""
    idx = []
    for ax, n in enumerate(shape):
        s = o if ax == d else 0
        idx.append(slice(h + s, h + n + s))
    return padded[tuple(idx)]


def _pad(cells, h, bcs, outside="value"):
    """``cells`` with ``h`` halo cells on every side of every axis: wrapped along periodic
    axes, the edge value repeated (zero gradient) along open and rigid ones.  On a
    ``Constant`` side the halo holds ``outside``: "value" (the field), "edge" (zero
    gradient: the G factor), or a number (the limiter's coefficients).  Axis by axis,
    each over the already padded others, so corners are filled too."""
    for d, (low, high) in enumerate(bcs):
        widths = [(h, h) if ax == d else (0, 0) for ax in range(cells.ndim)]
        cells = np.pad(cells, widths, mode="wrap" if low == "periodic" else "edge")
        for side, part in ((low, slice(0, h)), (high, slice(-h, None))):
            value = constant_value(side)
            if value is None or outside == "edge":
                continue
            index = [slice(None)] * cells.ndim
            index[d] = part
            cells[tuple(index)] = value if outside == "value" else outside
    return cells


def _divergence(fluxes):
    """sum_d (F_{i+1/2} - F_{i-1/2}) for face fields with N_d + 1 faces along d."""
    ndim = len(fluxes)
    div = None
    for d, f in enumerate(fluxes):
        n = f.shape[d] - 1
        term = f[_axis_slice(ndim, d, 1, n + 1)] - f[_axis_slice(ndim, d, 0, n)]
        div = term if div is None else div + term
    return div


# --------------------------------------------------------------------------- building blocks


def _donor_cell_fluxes(padded, h, shape, velocity):
    """Upwind flux (3): F = [V]^+ psi_i + [V]^- psi_{i+1} on every face of every axis."""
    fluxes = []
    for d, v in enumerate(velocity):
        left = _at_faces(padded, h, shape, d, 0)
        right = _at_faces(padded, h, shape, d, 1)
        fluxes.append(np.maximum(v, 0.0) * left + np.minimum(v, 0.0) * right)
    return fluxes


def _transverse_mean(v_e, d, e, n_d, bcs):
    """(10): mean of the four e-faces touching cells i and i+1, on the d-faces.

    ``v_e`` (component ``e`` of a face field) has ``N_e + 1`` entries along ``e`` and
    ``N_d`` along ``d``.  It is wrap-padded by one cell along ``d`` so that the
    cells ``i = -1`` and ``i + 1 = N_d`` of the boundary faces are available.
    Result: ``N_d + 1`` entries along ``d`` and ``N_e`` along ``e``.
    """
    ndim = v_e.ndim
    widths = [(1, 1) if ax == d else (0, 0) for ax in range(ndim)]
    vp = np.pad(v_e, widths, mode="wrap" if bcs[d][0] == "periodic" else "edge")
    n_e = v_e.shape[e] - 1

    def pick(i_offset, j_upper):
        idx = [slice(None)] * ndim
        idx[d] = slice(i_offset, i_offset + n_d + 1)   # cell i (0) or i+1 (1)
        idx[e] = slice(1, n_e + 1) if j_upper else slice(0, n_e)  # face j+1/2 or j-1/2
        return vp[tuple(idx)]

    return 0.25 * (pick(1, True) + pick(0, True) + pick(1, False) + pick(0, False))


def _antidiffusive_velocity(padded, h, shape, velocity, opts, grid):
    """Pseudo-velocity (11), plus (12)/(13) with third-order terms, on all faces.

    ``velocity`` is the face field used in the previous pass (V^(k-1)); ``padded``
    the current iterate psi^(k) with ``h`` halo cells; ``grid`` the boundaries and the
    padded G factor (Sec. 9: with G, ``velocity`` is G C and G_bar = (G_i + G_{i+1}) / 2
    divides the squared Courant numbers).
    """
    ndim = len(shape)
    eps = opts.epsilon
    iga = opts.infinite_gauge
    result = []
    for d in range(ndim):
        c = velocity[d]
        abs_c = np.abs(c)
        p0 = _at_faces(padded, h, shape, d, 0)
        p1 = _at_faces(padded, h, shape, d, 1)
        g_bar = None
        if grid.g is not None:
            g_bar = 0.5 * (_at_faces(grid.g, h, shape, d, 0) + _at_faces(grid.g, h, shape, d, 1))
        literature = g_bar is not None and grid.g_form == "literature"

        # (8) relative gradient along d; infinite gauge: (psi_{i+1} - psi_i) / 2
        a = p1 - p0
        if iga:
            a /= 2.0
        else:
            a /= p1 + p0 + eps
        v = (abs_c - (c * c / g_bar if literature else c * c)) * a

        transverse = []
        for e in range(ndim):
            if e == d:
                continue
            c_bar = _transverse_mean(velocity[e], d, e, shape[d], grid.bcs)
            q11 = _at_faces(padded, h, shape, d, 1, e, +1)
            q01 = _at_faces(padded, h, shape, d, 0, e, +1)
            q1m = _at_faces(padded, h, shape, d, 1, e, -1)
            q0m = _at_faces(padded, h, shape, d, 0, e, -1)
            # (9) relative gradient along e at the d-face
            b = q11 + q01 - q1m - q0m
            if iga:
                b /= 4.0
            else:
                b /= q11 + q01 + q1m + q0m + eps
            if literature:
                v -= 0.5 * c * c_bar / g_bar * b
            else:
                v -= 0.5 * c * c_bar * b
            transverse.append((c_bar, q11, q01, q1m, q0m))

        if opts.third_order_terms:
            # (12): (3c|c| - 2c^3 - c)/6 * 2 (psi_{i+2} - psi_{i+1} - psi_i + psi_{i-1}) / (sum + eps)
            # (with G: 3c|c|/G_bar - 2c^3/G_bar^2 - c, as PyMPDATA and libmpdata++)
            pm = _at_faces(padded, h, shape, d, -1)
            p2 = _at_faces(padded, h, shape, d, 2)
            if g_bar is None:
                tot = (3.0 * c * abs_c - 2.0 * c * c * c - c) / 6.0
            else:
                tot = (3.0 * c * abs_c / g_bar - 2.0 * c * c * c / (g_bar * g_bar) - c) / 6.0
            tot *= 2.0 * (p2 - p1 - p0 + pm)
            if iga:
                tot /= 4.0
            else:
                tot /= p2 + p1 + p0 + pm + eps
            v += tot
            if ndim == 2:
                # (13): C_bar/2 (|c| - 2c^2) * 2 (psi_{i+1,j+1} - psi_{i,j+1} - psi_{i+1,j-1}
                #        + psi_{i,j-1}) / sum   -- no epsilon (as PyMPDATA), see mpdata_step
                (c_bar, q11, q01, q1m, q0m), = transverse
                if g_bar is None:
                    mixed = c_bar / 2.0 * (abs_c - 2.0 * c * c)
                else:
                    mixed = c_bar / (2.0 * g_bar) * (abs_c - 2.0 * c * c / g_bar)
                mixed *= 2.0 * (q11 - q01 - q1m + q0m)
                if iga:
                    mixed /= 4.0
                else:
                    mixed /= q11 + q01 + q1m + q0m
                v += mixed
        result.append(v)
    return result


def _cross_extrema(padded, h, shape):
    """(15)/(16): min and max over each cell and its 2*ndim face neighbours."""
    centre = _at_cells(padded, h, shape)
    lo = centre.copy()
    hi = centre.copy()
    for d in range(len(shape)):
        for o in (-1, 1):
            nb = _at_cells(padded, h, shape, d, o)
            np.minimum(lo, nb, out=lo)
            np.maximum(hi, nb, out=hi)
    return lo, hi


def _limit(psi_k, padded, h, shape, pseudo, fluxes, extrema_n, eps, grid):
    """Non-oscillatory limiting (16)-(18) of the pseudo-velocity ``pseudo``.

    ``fluxes`` are the unlimited fluxes of this pass (donor-cell with ``pseudo``, or
    ``pseudo`` itself in infinite gauge); ``extrema_n`` the (min, max) of the old field.
    """
    ndim = len(shape)
    lo_k, hi_k = _cross_extrema(padded, h, shape)
    psi_min = np.minimum(extrema_n[0], lo_k)
    psi_max = np.maximum(extrema_n[1], hi_k)

    incoming = None
    outgoing = None
    for d, f in enumerate(fluxes):
        n = shape[d]
        f_left = f[_axis_slice(ndim, d, 0, n)]       # F_{i-1/2}
        f_right = f[_axis_slice(ndim, d, 1, n + 1)]  # F_{i+1/2}
        inc = np.maximum(f_left, 0.0) - np.minimum(f_right, 0.0)
        out = np.maximum(f_right, 0.0) - np.minimum(f_left, 0.0)
        incoming = inc if incoming is None else incoming + inc
        outgoing = out if outgoing is None else outgoing + out

    # (17); the halo of the coefficients follows the boundaries (wrap, or zero gradient)
    up, down = psi_max - psi_k, psi_k - psi_min
    if grid.g is not None:
        g = _at_cells(grid.g, h, shape)
        up, down = up * g, down * g
    # (a Constant side: beta_up = 0 and beta_down = the value there, as PyMPDATA)
    beta_up = _pad(up / (incoming + eps), 1, grid.bcs, outside=0.0)
    beta_down = _pad(down / (outgoing + eps), 1, grid.bcs)

    limited = []
    for d, v in enumerate(pseudo):
        # beta of cell i (left of the face) and i+1 (right of the face)
        bu_l = _at_faces(beta_up, 1, shape, d, 0)
        bu_r = _at_faces(beta_up, 1, shape, d, 1)
        bd_l = _at_faces(beta_down, 1, shape, d, 0)
        bd_r = _at_faces(beta_down, 1, shape, d, 1)
        # (18)
        positive = np.minimum(np.minimum(bd_l, bu_r), 1.0)
        negative = np.minimum(np.minimum(bu_l, bd_r), 1.0)
        limited.append(np.maximum(v, 0.0) * positive + np.minimum(v, 0.0) * negative)
    return limited


# --------------------------------------------------------------------------- the scheme


@dataclass(frozen=True)
class _Grid:
    """The boundaries (one ``(low, high)`` pair of kinds per axis) and the G factor padded
    by the halo width (None when G = 1)."""

    bcs: tuple
    g: np.ndarray | None = None
    g_form: str = "literature"


def _step(psi, courant, opts, grid):
    """One MPDATA step on validated input (psi float64, courant canonical tuple)."""
    shape = psi.shape
    h = halo_width(third_order_terms=opts.third_order_terms)
    eps = opts.epsilon
    bcs = grid.bcs
    g_cells = None if grid.g is None else _at_cells(grid.g, h, shape)

    def update(psi_k, fluxes):          # (4): psi - div(F) / G
        div = _divergence(fluxes)
        return psi_k - (div if g_cells is None else div / g_cells)

    padded = _pad(psi, h, bcs)
    extrema_n = _cross_extrema(padded, h, shape) if opts.nonoscillatory else None

    # pass 0: donor cell with the physical Courant numbers, (5)
    psi_k = update(psi, _donor_cell_fluxes(padded, h, shape, courant))

    velocity = courant  # V^(k-1): the velocity fed into the pseudo-velocity formula
    for _ in range(1, opts.n_iters):
        padded = _pad(psi_k, h, bcs)
        pseudo = _antidiffusive_velocity(padded, h, shape, velocity, opts, grid)  # (6)
        if opts.nonoscillatory:  # (7) with the limiter of Sec. 7
            unlimited_fluxes = (
                pseudo if opts.infinite_gauge
                else _donor_cell_fluxes(padded, h, shape, pseudo)
            )
            used = _limit(psi_k, padded, h, shape, pseudo, unlimited_fluxes, extrema_n, eps,
                          grid)
        else:
            used = pseudo
        # infinite gauge: centred flux F = V in the corrective passes (Sec. 6)
        fluxes = used if opts.infinite_gauge else _donor_cell_fluxes(padded, h, shape, used)
        psi_k = update(psi_k, fluxes)
        velocity = used if opts.limited_velocity_feedback else pseudo
    return psi_k


_OPTION_NAMES = ("n_iters", "nonoscillatory", "infinite_gauge", "third_order_terms", "epsilon",
                 "limited_velocity_feedback")


def _prepare(psi, courant, options, boundaries=None, g_factor=None, g_form="literature"):
    unknown = sorted(set(options) - set(_OPTION_NAMES))
    if unknown:
        raise TypeError(
            f"unknown MPDATA option(s) {', '.join(unknown)}; valid options: {', '.join(_OPTION_NAMES)}"
        )
    opts = MPDATAOptions(**options)
    psi = _validate_psi(psi)
    bcs = parse_boundaries(boundaries, psi.ndim)
    courant = validate_courant(courant, psi.shape, periodic=periodic_axes(bcs))
    check_walls(courant, bcs)
    g = validate_g_factor(g_factor, psi.shape)
    validate_g_form(g_form)
    if opts.third_order_terms and psi.ndim == 3:
        raise ValueError(
            "third_order_terms is only specified for 1-D and 2-D (docs/mpdata-derivation.md "
            "Sec. 5.3: the 3-D form is incomplete in PyMPDATA, 'TODO #96'); use "
            "third_order_terms=False in 3-D"
        )
    h = halo_width(third_order_terms=opts.third_order_terms)
    grid = _Grid(bcs, None if g is None else _pad(g, h, bcs, outside="edge"), g_form)
    return psi, courant, opts, grid


def _check_tot_positive(psi, opts):
    if (opts.third_order_terms and psi.ndim == 2 and not opts.infinite_gauge
            and opts.n_iters > 1 and not np.all(psi > 0.0)):
        raise ValueError(
            "third_order_terms in 2-D (without infinite_gauge) needs a strictly positive psi: "
            "the mixed-derivative term (13) divides by a 4-cell sum without epsilon "
            f"(docs/mpdata-derivation.md Sec. 5.3), but min(psi) = {float(np.min(psi)):.3g}; "
            "add a positive background or use infinite_gauge=True"
        )


def mpdata_step(psi, courant, *, n_iters=2, nonoscillatory=False, infinite_gauge=False,
                third_order_terms=False, epsilon=1e-15, limited_velocity_feedback=True,
                boundaries=None, g_factor=None, g_form="literature"):
    """One MPDATA step on a 1-D/2-D/3-D domain.

    Parameters
    ----------
    psi : float array of shape (N0,[N1,[N2]])
        Cell-centred advectee (psi >= 0 unless ``infinite_gauge``).
    courant : tuple of ndim arrays
        Face Courant numbers; component ``d`` has ``psi.shape`` with ``N_d + 1`` along
        axis ``d`` (entry ``m`` = left face of cell ``m``; entry 0 == entry N_d along a
        periodic axis).  With ``g_factor`` these are G C (G interpolated to the faces).
    n_iters : int
        Total number of donor-cell passes (1 = upwind, 2 = standard MPDATA).
    nonoscillatory : bool
        FCT limiting of the pseudo-velocities (docs/mpdata-derivation.md Sec. 7,
        libmpdata++ ``fct``).
    infinite_gauge : bool
        Infinite-gauge variant (Sec. 6, ``iga``); requires ``n_iters <= 2``.
    third_order_terms : bool
        Third-order terms (12) (+ (13) in 2-D), ``tot``; not available in 3-D.  In 2-D
        without infinite gauge psi must be strictly positive (term (13) has no epsilon).
    epsilon : float
        The epsilon of (8), (9), (12) and (17).
    limited_velocity_feedback : bool
        For ``n_iters >= 3`` with ``nonoscillatory``: feed the limited pseudo-velocity
        into the next pass (True, PyMPDATA) or the unlimited one (False, libmpdata++).
    boundaries : see :mod:`stencilpy.mpdata.boundaries`
        Periodic (default), open or rigid, per axis and side.
    g_factor : None or a positive cell field
        The density / Jacobian G of d(G psi)/dt + div(G u psi) = 0 (Sec. 9).
    g_form : "literature" or "pympdata"
        Whether the basic pseudo-velocity divides (GC)^2 by G_bar (Smolarkiewicz 2006) or
        not (PyMPDATA 1.7).

    Returns
    -------
    numpy.ndarray
        New float64 array with psi after one step.
    """
    psi, courant, opts, grid = _prepare(psi, courant, dict(
        n_iters=n_iters, nonoscillatory=nonoscillatory, infinite_gauge=infinite_gauge,
        third_order_terms=third_order_terms, epsilon=epsilon,
        limited_velocity_feedback=limited_velocity_feedback), boundaries, g_factor, g_form)
    _check_tot_positive(psi, opts)
    return _step(psi, courant, opts, grid)


def mpdata_advance(psi, courant, n_steps, *, boundaries=None, g_factor=None,
                   g_form="literature", **options) -> np.ndarray:
    """``n_steps`` MPDATA steps with a fixed Courant field (see :func:`mpdata_step`).

    The input is validated once; returns a new float64 array (a copy if ``n_steps == 0``).
    """
    try:
        n = operator.index(n_steps)
    except TypeError:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}") from None
    if n < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    psi, courant, opts, grid = _prepare(psi, courant, options, boundaries, g_factor, g_form)
    psi = psi.copy()
    for _ in range(n):
        _check_tot_positive(psi, opts)
        psi = _step(psi, courant, opts, grid)
    return psi
