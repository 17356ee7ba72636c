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

from stencilpy.mpdata.courant import FACE_TOLERANCE, max_outflow_courant, validate_courant
from stencilpy.mpdata.kernels import Kernels, kernels

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


def _courant(courant, shape) -> tuple[np.ndarray, ...]:
    """The checked Courant components (see ``courant.validate_courant``), read-only; a lone
    array is accepted for a 1-D field, DataArrays for arrays."""
    if len(shape) == 1 and not isinstance(courant, (tuple, list)):
        courant = (courant,)
    if isinstance(courant, (tuple, list)):
        courant = [_unwrap(comp)[0] for comp in courant]
    out = validate_courant(courant, shape)
    for arr in out:
        arr.flags.writeable = False
    return out


# --------------------------------------------------------------------------- the solver


class Solver:
    """MPDATA advection of a cell field by fixed face Courant numbers on a periodic grid.

    ``psi``: cell-centred field (numpy array or ``xarray.DataArray``, 1-D/2-D/3-D).
    ``courant``: one staggered array per axis; component ``d`` has ``N_d + 1`` entries
    along axis ``d`` (entry ``m`` is the face on the low side of cell ``m``; entries 0 and
    ``N_d`` are the same periodic face) and ``N_e`` along the others.  Options: see
    :class:`Options`.  ``threads``: worker threads of the kernels (default: all cores).

    ``advance(n)`` runs ``n`` steps and returns the field (a DataArray with the input's
    dims, coords and attrs when ``psi`` was one); ``state`` is the current field and
    ``step_count`` the steps run so far.
    """

    def __init__(self, psi, courant, *, n_iters=2, nonoscillatory=False, infinite_gauge=False,
                 third_order_terms=False, epsilon=1e-15, limited_velocity_feedback=True,
                 threads=None):
        self.options = Options(n_iters, nonoscillatory, infinite_gauge, third_order_terms,
                               epsilon, limited_velocity_feedback)
        field, self._template = _field(psi)
        self.shape, self.ndim = field.shape, field.ndim
        self.courant = _courant(courant, self.shape)
        self._check_options(field)
        sum_out = max_outflow_courant(self.courant)
        if sum_out > 1.0 + 1e-12:
            warnings.warn(f"the largest outflow Courant sum is {sum_out:.4g} > 1: donor-cell "
                          "passes are unstable; use a smaller time step", RuntimeWarning,
                          stacklevel=2)
        self.kernels: Kernels = kernels(self.ndim, self.options.infinite_gauge,
                                        self.options.third_order_terms)
        self.step_count = 0
        self._call = dict(boundary="periodic", threads=threads)
        self._allocate(field)

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

    def _allocate(self, field):
        o, shape = self.options, self.shape
        self._psi = field
        self._work = (np.empty(shape), np.empty(shape))
        split = o.n_iters > 2                       # pass-by-pass kernels (n_iters = 2: fused)
        self._pseudo = [tuple(np.empty(shape) for _ in range(self.ndim))
                        for _ in range(2 if split else 0)]
        self._beta = (np.empty(shape), np.empty(shape)) if split and o.nonoscillatory else None
        feed = split and o.nonoscillatory and o.limited_velocity_feedback
        self._limited = tuple(np.empty(shape) for _ in range(self.ndim)) if feed else None

    def kernels_used(self) -> tuple:
        """The stencils one step of this configuration calls."""
        k, o = self.kernels, self.options
        if o.n_iters == 1:
            return (k.upwind,)
        if o.n_iters == 2:
            return (k.step_fct if o.nonoscillatory else k.step,)
        if not o.nonoscillatory:
            return (k.upwind, k.antidiff, k.correct)
        if o.limited_velocity_feedback:
            return (k.upwind, k.antidiff, k.beta, k.limit)
        return (k.upwind, k.antidiff, k.beta, k.limited)

    # -- stepping ---------------------------------------------------------------------
    def _outs(self, arrays):
        return arrays[0] if len(arrays) == 1 else arrays

    def _step(self) -> None:
        """One MPDATA step (docs/mpdata-derivation.md Sec. 4): the new field ends up in
        ``self._psi``."""
        k, o, call = self.kernels, self.options, self._call
        psi_n, (out, spare) = self._psi, self._work
        if o.n_iters == 1:
            k.upwind(psi_n, *self.courant, out=out, **call)
        elif o.n_iters == 2:
            step = k.step_fct if o.nonoscillatory else k.step
            step(psi_n, *self.courant, o.epsilon, out=out, **call)
        else:
            result = self._passes(psi_n, out, spare)
            out, spare = (out, spare) if result is out else (spare, out)
        self._psi, self._work = out, (psi_n, spare)

    def _passes(self, psi_n, cur, nxt):
        """n_iters >= 3, pass by pass; returns the buffer that holds the new field."""
        k, o, call, eps = self.kernels, self.options, self._call, self.options.epsilon
        k.upwind(psi_n, *self.courant, out=cur, **call)                      # pass 0: (5)
        velocity = self.courant
        for it in range(1, o.n_iters):
            pseudo = self._pseudo[it % 2]
            k.antidiff(cur, *velocity, eps, out=self._outs(pseudo), **call)  # (6)
            velocity = pseudo
            if not o.nonoscillatory:
                k.correct(cur, *pseudo, out=nxt, **call)
            elif self._limited is not None:                                  # (7), Sec. 7
                k.beta(cur, psi_n, *pseudo, eps, out=self._beta, **call)
                k.limit(*pseudo, *self._beta, out=self._outs(self._limited), **call)
                k.upwind(cur, *self._limited, out=nxt, **call)
                velocity = self._limited
            else:
                k.beta(cur, psi_n, *pseudo, eps, out=self._beta, **call)
                k.limited(cur, *pseudo, *self._beta, out=nxt, **call)
            cur, nxt = nxt, cur
        return cur

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
        saved = (self._psi.copy(), self.step_count)
        self._step()
        self._psi[...] = saved[0]
        self.step_count = saved[1]
        return time.perf_counter() - t0

    # -- results ----------------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        """The current field as a read-only numpy view (no copy; changes as the solver runs)."""
        view = self._psi.view()
        view.flags.writeable = False
        return view

    @property
    def state(self):
        """The current field: a new numpy array, or a DataArray like the input ``psi``."""
        values = self._psi.copy()
        if self._template is None:
            return values
        return self._template.copy(data=values)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.as_dict().items())
        return f"<mpdata.Solver {'x'.join(map(str, self.shape))} step={self.step_count} {opts}>"


def advect(psi, courant, n_steps, *, progress=False, threads=None, **options):
    """``n_steps`` MPDATA steps from ``psi`` with ``courant`` (see :class:`Solver`)."""
    return Solver(psi, courant, threads=threads, **options).advance(n_steps, progress=progress)
