"""MPDATA time stepping on periodic 1-D/2-D/3-D grids with stencilpy kernels.

>>> import numpy as np
>>> from stencilpy.mpdata import Solver
>>> psi = np.zeros(16); psi[4:8] = 1.0
>>> courant = (np.full(17, 0.5),)            # N + 1 staggered faces, entry 16 == entry 0
>>> solver = Solver(psi, courant, n_iters=2)
>>> out = solver.advance(8)                  # 8 steps of C = 0.5: four cells to the right
>>> solver.step_count, round(float(out.sum()), 12), int(out.argmax()) in (9, 10)
(8, 4.0, True)
"""

from __future__ import annotations

import operator
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from stencilpy.mpdata.boundaries import (
    check_walls,
    constant_value,
    parse_boundaries,
    periodic_axes,
    validate_g_factor,
    validate_g_form,
)
from stencilpy.mpdata.courant import FACE_TOLERANCE, max_outflow_courant, validate_courant
from stencilpy.mpdata.kernels import Kernels, kernels
from stencilpy.mpdata.kernels_g import GeneralKernels, general_kernels

__all__ = ["Options", "Solver", "advect", "FACE_TOLERANCE"]

@dataclass(frozen=True)
class Options:
    """The MPDATA options (docs/mpdata-derivation.md Sec. 4-7), validated on construction.

    * ``n_iters``: donor-cell passes per step (1 upwind, 2 standard MPDATA, more: further
      corrective passes);
    * ``nonoscillatory``: FCT limiting of the pseudo-velocities (Sec. 7);
    * ``infinite_gauge``: the variant for fields of any sign (Sec. 6; ``n_iters <= 2``);
    * ``third_order_terms``: terms (12) (+ (13) in 2-D); 1-D and 2-D only;
    * ``epsilon``: the small constant of (8), (9), (12) and (17);
    * ``limited_velocity_feedback``: with ``nonoscillatory`` and ``n_iters >= 3``, feed the
      limited (True, PyMPDATA) or the unlimited (False, libmpdata++) pseudo-velocity into
      the next pass.
    """

    n_iters: int = 2
    nonoscillatory: bool = False
    infinite_gauge: bool = False
    third_order_terms: bool = False
    epsilon: float = 1e-15
    limited_velocity_feedback: bool = True

    def __post_init__(self):
        n = self.n_iters
        if isinstance(n, (bool, np.bool_)) or not _is_integer(n) or operator.index(n) < 1:
            raise ValueError(f"n_iters must be a whole number >= 1 (1 = upwind, 2 = standard "
                             f"MPDATA, 3+ = more corrective passes), got {n!r}")
        object.__setattr__(self, "n_iters", operator.index(n))
        for name in ("nonoscillatory", "infinite_gauge", "third_order_terms",
                     "limited_velocity_feedback"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            object.__setattr__(self, name, bool(value))
        try:
            eps = float(self.epsilon)
        except (TypeError, ValueError):
            raise ValueError(f"epsilon must be a small positive number, got "
                             f"{self.epsilon!r}") from None
        if not (np.isfinite(eps) and eps > 0.0):
            raise ValueError(f"epsilon must be a small positive finite number (default "
                             f"1e-15), got {self.epsilon!r}")
        object.__setattr__(self, "epsilon", eps)
        if self.infinite_gauge and self.n_iters > 2:
            raise ValueError(
                f"infinite_gauge=True works with n_iters=1 or 2, not n_iters={self.n_iters}: "
                "in the infinite gauge the pseudo-velocity is already a flux, and feeding it "
                "into a further corrective pass as a Courant number would be dimensionally "
                "inconsistent (docs/mpdata-derivation.md Sec. 6); use n_iters=2")

    def as_dict(self) -> dict:
        return asdict(self)


def _is_integer(n) -> bool:
    try:
        operator.index(n)
    except TypeError:
        return False
    return True


# --------------------------------------------------------------------------- inputs


def _unwrap(value):
    """(numpy array, DataArray or None) of a numpy array or an xarray.DataArray."""
    if type(value).__name__ == "DataArray" and hasattr(value, "values"):
        return value.values, value
    return value, None


def _field(psi) -> tuple[np.ndarray, object]:
    values, template = _unwrap(psi)
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
        raise ValueError(f"psi must be an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2, 3):
        raise ValueError(f"psi must be 1-D, 2-D or 3-D (cells along each axis), got a "
                         f"{arr.ndim}-D array of shape {arr.shape}")
    if min(arr.shape) < 1:
        raise ValueError(f"psi needs at least one cell along every axis, got shape {arr.shape}")
    arr = np.array(arr, dtype=np.float64, order="C")         # a private float64 copy
    if not np.isfinite(arr).all():
        raise ValueError("psi contains NaN or infinite values")
    return arr, template


def _courant(courant, shape, bcs) -> tuple[np.ndarray, ...]:
    """The checked Courant components (see ``courant.validate_courant``), read-only; a lone
    array is accepted for a 1-D field, DataArrays for arrays."""
    if len(shape) == 1 and not isinstance(courant, (tuple, list)):
        courant = (courant,)
    if isinstance(courant, (tuple, list)):
        courant = [_unwrap(comp)[0] for comp in courant]
    out = validate_courant(courant, shape, periodic=periodic_axes(bcs))
    check_walls(out, bcs)
    for arr in out:
        arr.flags.writeable = False
    return out


# --------------------------------------------------------------------------- the solver


class Solver:
    """MPDATA advection of a cell field by fixed face Courant numbers.

    ``psi``: cell-centred field (numpy array or ``xarray.DataArray``, 1-D/2-D/3-D).
    ``courant``: one staggered array per axis; component ``d`` has ``N_d + 1`` entries
    along axis ``d`` (entry ``m`` is the face on the low side of cell ``m``; along a
    periodic axis entries 0 and ``N_d`` are the same face) and ``N_e`` along the others.
    Options: see :class:`Options`.  ``threads``: worker threads of the kernels (default:
    all cores).  ``boundaries``: periodic (default), open, rigid or ``Constant(value)`` per
    axis and side (see
    :mod:`stencilpy.mpdata.boundaries`; a mapping may use the DataArray's dimension
    names).  ``g_factor``: the density / Jacobian G (a positive cell field; ``courant`` is
    then G C) and ``g_form`` its pseudo-velocity form ("literature" or "pympdata").

    ``advance(n)`` runs ``n`` steps and returns the field (a DataArray with the input's
    dims, coords and attrs when ``psi`` was one); ``state`` is the current field and
    ``step_count`` the steps run so far.
    """

    def __init__(self, psi, courant, *, n_iters=2, nonoscillatory=False, infinite_gauge=False,
                 third_order_terms=False, epsilon=1e-15, limited_velocity_feedback=True,
                 threads=None, boundaries=None, g_factor=None, g_form="literature"):
        self.options = Options(n_iters, nonoscillatory, infinite_gauge, third_order_terms,
                               epsilon, limited_velocity_feedback)
        field, self._template = _field(psi)
        self.shape, self.ndim = field.shape, field.ndim
        dims = getattr(self._template, "dims", None)
        self.boundaries = parse_boundaries(boundaries, self.ndim, dims)
        self.courant = _courant(courant, self.shape, self.boundaries)
        self.g_factor = validate_g_factor(g_factor, self.shape)
        self.g_form = validate_g_form(g_form)
        self._check_options(field)
        sum_out = max_outflow_courant(self.courant, self.g_factor)
        if sum_out > 1.0 + 1e-12:
            warnings.warn(f"the largest outflow Courant sum is {sum_out:.4g} > 1: donor-cell "
                          "passes are unstable; use a smaller time step", RuntimeWarning,
                          stacklevel=2)
        o = self.options
        # periodic without G and n_iters <= 2: one fused kernel per step; otherwise the
        # general path (any boundaries, G): one kernel per stage, halos refilled in between
        self._general = (not all(periodic_axes(self.boundaries)) or self.g_factor is not None
                         or o.n_iters > 2)
        self.general_kernels: GeneralKernels | None = None
        if self._general:
            form = self.g_form if self.g_factor is not None else "literature"
            self.general_kernels = general_kernels(self.ndim, o.infinite_gauge,
                                                   o.third_order_terms, form)
        self.step_count = 0
        self._call = dict(boundary="valid", threads=threads)
        self._allocate(field)

    @property
    def kernels(self) -> Kernels:
        """The fused kernel set of this rank and formula options (built on first use: the
        general path does not need it)."""
        return kernels(self.ndim, self.options.infinite_gauge, self.options.third_order_terms)

    @property
    def threads(self):
        """Worker threads of the kernels (None: stencilpy's default, all cores)."""
        return self._call["threads"]

    @threads.setter
    def threads(self, value) -> None:
        self._call["threads"] = value

    def _check_options(self, field):
        o = self.options
        if o.third_order_terms and self.ndim == 3:
            raise ValueError("third_order_terms is available in 1-D and 2-D only: the 3-D form "
                             "of the third-order correction is not specified "
                             "(docs/mpdata-derivation.md Sec. 5.3); use "
                             "third_order_terms=False for 3-D fields")
        if (o.third_order_terms and self.ndim == 2 and not o.infinite_gauge and o.n_iters > 1
                and not (field > 0.0).all()):
            raise ValueError(
                "third_order_terms in 2-D needs a strictly positive psi: the mixed-derivative "
                f"term (13) divides by a sum of four cells without epsilon, but min(psi) = "
                f"{float(field.min()):.3g}; add a positive background, or use "
                "infinite_gauge=True")

    # -- padded arrays with halos ----------------------------------------------------
    def _fused_kernel(self):
        k = self.kernels
        if self.options.n_iters == 1:
            return k.upwind
        return k.step_fct if self.options.nonoscillatory else k.step

    def _allocate(self, field):
        """Every field lives in an array padded with ``self._halo`` cells per side: the fused
        kernel's own halo (wrap-filled), or 2 cells on the general path (every general
        kernel reads at most 2 cells away, and with boundary="valid" a kernel of halo (1, 1)
        reaches the high boundary face, padded index h + N, only when h = 2)."""
        o = self.options
        if self._general:
            h = 2
        else:
            h = max(max(side) for side in self._fused_kernel().halo)
        self._halo = h
        self._interior = tuple(slice(h, h + n) for n in self.shape)
        padded = tuple(n + 2 * h for n in self.shape)
        self._bufs = [np.zeros(padded) for _ in range(3 if self._general else 2)]
        self._bufs[0][self._interior] = field
        self._fill_cells(self._bufs[0])
        self._psi_index = 0
        self._c = tuple(self._pad_faces(comp, d) for d, comp in enumerate(self.courant))
        if not self._general:
            return
        g = np.ones(padded)
        if self.g_factor is not None:
            g[self._interior] = self.g_factor
        self._fill_cells(g, outside="edge")
        self._g = g
        n = self.ndim
        self._v = [tuple(np.zeros(padded) for _ in range(n)) for _ in range(2)]
        self._b = (np.zeros(padded), np.zeros(padded)) if o.nonoscillatory else None
        self._lim = tuple(np.zeros(padded) for _ in range(n)) if o.nonoscillatory else None

    def _fill_axis(self, a, e, faces=False, outside="edge") -> None:
        """Refill the halo of padded array ``a`` along axis ``e``: wrapped (periodic) or
        the edge value repeated; on a ``Constant`` side ``outside``: "edge" (zero gradient),
        "value" (the side's value) or a number.  ``faces``: ``a`` is the face component
        along ``e``, whose entries ``h .. h + n`` are the ``n + 1`` faces of the domain."""
        h, n = self._halo, self.shape[e]
        idx = [slice(None)] * self.ndim

        def at(start, stop):
            idx[e] = slice(start, stop)
            return tuple(idx)

        top = n + h + 1 if faces else n + h           # first halo entry on the high side
        if self.boundaries[e][0] == "periodic":
            if n >= h:
                a[at(0, h)] = a[at(n, n + h)]
                a[at(top, n + 2 * h)] = a[at(top - n, 2 * h)]
            else:                                     # fewer cells than halo: wrap repeatedly
                for j in [*range(h), *range(top, n + 2 * h)]:
                    a[at(j, j + 1)] = a[at(h + (j - h) % n, h + (j - h) % n + 1)]
        else:
            low, high = self.boundaries[e]
            for side, part, edge in ((low, at(0, h), at(h, h + 1)),
                                     (high, at(top, n + 2 * h), at(top - 1, top))):
                value = constant_value(side)
                if value is None or outside == "edge":
                    a[part] = a[edge]
                else:
                    a[part] = value if outside == "value" else outside

    def _fill_cells(self, a, outside="value") -> None:
        """Refill the halo cells of a padded cell field, axis by axis (corners included);
        ``outside``: what a ``Constant`` side's halo holds (see ``_fill_axis``)."""
        for e in range(self.ndim):
            self._fill_axis(a, e, outside=outside)

    def _fill_faces(self, comps) -> None:
        """Refill the halos of a padded face field (one array per component): along its own
        axis the faces beyond the boundary faces, along the others the halo cells."""
        for d, a in enumerate(comps):
            for e in range(self.ndim):
                self._fill_axis(a, e, faces=e == d)

    def _pad_faces(self, comp, d) -> np.ndarray:
        h, n = self._halo, self.shape[d]
        out = np.zeros(tuple(m + 2 * h for m in self.shape))
        index = list(self._interior)
        index[d] = slice(h, h + n + 1)
        out[tuple(index)] = comp
        for e in range(self.ndim):
            self._fill_axis(out, e, faces=e == d)
        return out

    def _valid(self, kernel, arrays):
        """The views of padded ``arrays`` that ``kernel`` computes with boundary="valid"
        (all but its own halo)."""
        def index(halo):
            return tuple(slice(lo, n + 2 * self._halo - hi) for (lo, hi), n in zip(halo, self.shape))
        halos = kernel.output_halos
        if isinstance(arrays, np.ndarray):
            return arrays[index(halos[0])]
        views = tuple(a[index(h)] for a, h in zip(arrays, halos))
        return views[0] if len(views) == 1 else views

    def _general_step(self) -> None:
        """One step with explicit halos, refilled after every kernel (general path).  The
        kernels run with boundary="valid" on the padded arrays: the halo results are not
        computed (they are refilled), and no boundary code is compiled."""
        k, o, eps, call = self.general_kernels, self.options, self.options.epsilon, self._call
        v = self._valid
        i = self._psi_index
        psi_n, cur, nxt = self._bufs[i], self._bufs[(i + 1) % 3], self._bufs[(i + 2) % 3]
        g = self._g
        k.donor(psi_n, *self._c, g, out=v(k.donor, cur), **call)             # pass 0: (5)
        self._fill_cells(cur)
        velocity = self._c
        corrective = k.centred if o.infinite_gauge else k.donor
        for it in range(1, o.n_iters):
            pseudo = self._v[it % 2]
            k.antidiff(cur, *velocity, g, eps, out=v(k.antidiff, pseudo), **call)  # (6)
            self._fill_faces(pseudo)
            used = pseudo
            if o.nonoscillatory:                                             # (7), Sec. 7
                k.beta(cur, psi_n, *pseudo, g, eps, out=v(k.beta, self._b), **call)
                self._fill_cells(self._b[0], outside=0.0)      # beta_up (Constant: 0)
                self._fill_cells(self._b[1])                   # beta_down (the value)
                k.limit(*pseudo, *self._b, out=v(k.limit, self._lim), **call)
                self._fill_faces(self._lim)
                used = self._lim
            corrective(cur, *used, g, out=v(corrective, nxt), **call)
            self._fill_cells(nxt)
            # (the next pass's limit() overwrites self._lim only after antidiff() read it)
            velocity = used if o.limited_velocity_feedback else pseudo
            cur, nxt = nxt, cur
        # the new field is in cur; psi_n's buffer becomes free
        self._psi_index = next(j for j, b in enumerate(self._bufs) if b is cur)

    def set_courant(self, courant) -> None:
        """Use new face Courant numbers (G C with a G factor) from the next step on: winds
        that vary in time.  Checked like the constructor's (shapes, periodic faces, rigid
        walls; a RuntimeWarning when the outflow sum exceeds 1)."""
        new = _courant(courant, self.shape, self.boundaries)
        sum_out = max_outflow_courant(new, self.g_factor)
        if sum_out > 1.0 + 1e-12:
            warnings.warn(f"the largest outflow Courant sum is {sum_out:.4g} > 1: donor-cell "
                          "passes are unstable; use a smaller time step", RuntimeWarning,
                          stacklevel=2)
        for d, (comp, padded) in enumerate(zip(new, self._c)):
            padded[...] = self._pad_faces(comp, d)
        self.courant = new

    def kernels_used(self) -> tuple:
        """The stencils one step of this configuration calls."""
        o = self.options
        if not self._general:
            return (self._fused_kernel(),)
        gk = self.general_kernels
        used = [gk.donor, gk.antidiff] if o.n_iters > 1 else [gk.donor]
        if o.n_iters > 1 and o.nonoscillatory:
            used += [gk.beta, gk.limit]
        if o.n_iters > 1 and o.infinite_gauge:
            used.append(gk.centred)
        return tuple(used)

    # -- stepping ---------------------------------------------------------------------
    def _step(self) -> None:
        """One MPDATA step (docs/mpdata-derivation.md Sec. 4) into the next padded buffer."""
        if self._general:
            return self._general_step()
        kernel, o = self._fused_kernel(), self.options
        psi_n = self._bufs[self._psi_index]
        self._psi_index = 1 - self._psi_index
        out = self._bufs[self._psi_index]
        extra = () if o.n_iters == 1 else (o.epsilon,)
        kernel(psi_n, *self._c, *extra, out=self._valid(kernel, out), **self._call)
        self._fill_cells(out)

    def advance(self, n_steps: int, progress=False):
        """Run ``n_steps`` steps; returns the new field (a copy; DataArray in, DataArray out).

        ``progress``: False (default), True (a text progress bar on stderr), or a callable
        ``progress(done, total)`` called after every step.
        """
        self.run(n_steps, progress)
        return self.state

    def run(self, n_steps: int, progress=False) -> None:
        """Like :meth:`advance` without copying the result out (see :attr:`values`)."""
        if isinstance(n_steps, (bool, np.bool_)) or not _is_integer(n_steps) \
                or operator.index(n_steps) < 0:
            raise ValueError(f"n_steps must be a whole number >= 0, got {n_steps!r}")
        n = operator.index(n_steps)
        if progress is True:
            from stencilpy.mpdata.progress import ProgressBar
            with ProgressBar(n, label=f"MPDATA {'x'.join(map(str, self.shape))}") as bar:
                self._run(n, bar.update)
        elif callable(progress):
            self._run(n, lambda done: progress(done, n))
        elif progress is False or progress is None:
            self._run(n, None)
        else:
            raise ValueError(f"progress must be True, False or a callable(done, total), got "
                             f"{progress!r}")

    def _run(self, n, report) -> None:
        step = self._step
        for done in range(1, n + 1):
            step()
            self.step_count += 1
            if report is not None:
                report(done)

    def step(self):
        """One step; returns the new field."""
        return self.advance(1)

    def compile(self) -> float:
        """Build (or load from the cache) every kernel this configuration uses, without
        changing the state; returns the seconds it took."""
        t0 = time.perf_counter()
        saved = (self._current().copy(), self.step_count)
        self._step()
        self._psi_index = 0
        self._bufs[0][self._interior] = saved[0]
        self._fill_cells(self._bufs[0])
        self.step_count = saved[1]
        return time.perf_counter() - t0

    # -- results ----------------------------------------------------------------------
    def _current(self) -> np.ndarray:
        return self._bufs[self._psi_index][self._interior]

    @property
    def values(self) -> np.ndarray:
        """The current field as a read-only numpy view (no copy; changes as the solver runs)."""
        view = self._current().view()
        view.flags.writeable = False
        return view

    @property
    def state(self):
        """The current field: a new numpy array, or a DataArray like the input ``psi``."""
        values = self._current().copy()
        if self._template is None:
            return values
        return self._template.copy(data=values)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.as_dict().items())
        return f"<mpdata.Solver {'x'.join(map(str, self.shape))} step={self.step_count} {opts}>"


def advect(psi, courant, n_steps, *, progress=False, threads=None, **options):
    """``n_steps`` MPDATA steps from ``psi`` with ``courant`` (see :class:`Solver`; the
    keywords include ``boundaries``, ``g_factor`` and ``g_form``)."""
    return Solver(psi, courant, threads=threads, **options).advance(n_steps, progress=progress)
