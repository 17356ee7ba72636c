"""Built-in MPDATA test cases: initial fields, staggered Courant fields, exact solutions.

Every Courant field returned here uses the layout of :mod:`stencilpy.mpdata.reference`
(component ``d`` has ``N_d + 1`` entries along axis ``d``; entry ``m`` is the left face
of cell ``m``; entry ``0`` == entry ``N_d`` exactly, built by copying).

Cases
-----
* :func:`rotating_cone` - Smolarkiewicz (1984) solid-body rotation of a cone on a
  doubly periodic square grid, one (or more) revolutions; exact solution = initial field.
* :func:`gaussian_1d` - periodic Gaussian translated by a constant Courant number.
* :func:`gaussian` - product of periodic Gaussians in 1-D/2-D/3-D, constant-C translation.
* :func:`smooth_translation` - smooth periodic 1-D/2-D/3-D field translated by a
  constant Courant vector over a whole number of cells (exact solution known).
* :func:`smooth_field`, :func:`constant_courant`, :func:`stream_function_courant`,
  :func:`random_nondivergent_courant`, :func:`solid_body_rotation_courant` - building blocks.
* :func:`error_norms` - L1/L2/Linf error norms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AdvectionCase",
    "constant_courant",
    "error_norms",
    "gaussian",
    "gaussian_1d",
    "random_nondivergent_courant",
    "rotating_cone",
    "smooth_field",
    "smooth_translation",
    "solid_body_rotation_courant",
    "stream_function_courant",
]


@dataclass(frozen=True)
class AdvectionCase:
    """An advection problem: run ``n_steps`` steps from ``psi0``; compare with ``exact``."""

    psi0: np.ndarray
    courant: tuple
    n_steps: int
    exact: np.ndarray
    description: str = ""
    params: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- Courant fields


def _faces_from_periodic(values, axis):
    """Append a copy of entry 0 along ``axis``: periodic N values -> N + 1 staggered faces."""
    values = np.asarray(values, dtype=np.float64)
    first = np.take(values, [0], axis=axis)
    return np.concatenate([values, first], axis=axis)


def constant_courant(shape, courant) -> tuple:
    """Uniform Courant numbers: ``courant`` is a scalar or one value per axis."""
    shape = tuple(int(n) for n in shape)
    values = np.broadcast_to(np.asarray(courant, dtype=np.float64), (len(shape),))
    out = []
    for d, c in enumerate(values):
        face_shape = tuple(n + 1 if ax == d else n for ax, n in enumerate(shape))
        out.append(np.full(face_shape, float(c)))
    return tuple(out)


def stream_function_courant(stream) -> tuple:
    """Discretely nondivergent 2-D Courant field from a periodic stream function.

    ``stream[i, j]`` sits on the cell corner ``(i - 1/2, j - 1/2)`` (shape ``(N0, N1)``,
    periodic).  Then ``C_x = d(stream)/dy`` and ``C_y = -d(stream)/dx`` as corner
    differences, so that the sum of the four face differences of every cell cancels
    (to round-off: each difference is one rounded subtraction).
    """
    s = np.asarray(stream, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"stream must be 2-D (cell corners of an N0 x N1 grid), got shape {s.shape}")
    # C_x at face (m - 1/2, j): s(m-1/2, j+1/2) - s(m-1/2, j-1/2)
    cx = np.roll(s, -1, axis=1) - s
    # C_y at face (i, m - 1/2): -(s(i+1/2, m-1/2) - s(i-1/2, m-1/2))
    cy = -(np.roll(s, -1, axis=0) - s)
    return _faces_from_periodic(cx, 0), _faces_from_periodic(cy, 1)


def _random_periodic(shape, rng, n_modes=3):
    """A smooth random periodic function sampled on a grid of ``shape`` points."""
    coords = np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij")
    out = np.zeros(shape)
    for _ in range(n_modes):
        k = rng.integers(-2, 3, size=len(shape))
        if not np.any(k):
            k[0] = 1
        phase = rng.uniform(0, 2 * np.pi)
        amp = rng.uniform(0.5, 1.0)
        arg = sum(2 * np.pi * kd * x for kd, x in zip(k, coords))
        out += amp * np.sin(arg + phase)
    return out


def _scale_to(courant, max_courant):
    from .courant import max_outflow_courant

    scale = max_courant / max_outflow_courant(courant)
    return tuple(c * scale for c in courant)


def random_nondivergent_courant(shape, max_courant=0.5, seed=0) -> tuple:
    """A smooth, non-uniform, discretely nondivergent Courant field (1-D, 2-D or 3-D).

    Scaled so that the largest per-cell outflow Courant sum equals ``max_courant``.

    * 1-D: nondivergent means constant, so this is ``constant_courant(shape, max_courant)``.
    * 2-D: from a random smooth stream function (:func:`stream_function_courant`).
    * 3-D: component d varies only along the *other* two axes, so every face
      difference along its own axis is exactly zero.
    """
    shape = tuple(int(n) for n in shape)
    rng = np.random.default_rng(seed)
    if len(shape) == 1:
        return constant_courant(shape, max_courant)
    if len(shape) == 2:
        return _scale_to(stream_function_courant(_random_periodic(shape, rng)), max_courant)
    if len(shape) == 3:
        comps = []
        for d in range(3):
            others = tuple(1 if ax == d else n for ax, n in enumerate(shape))
            # no variation along the component's own axis: broadcast along d
            values = np.broadcast_to(_random_periodic(others, rng), shape)
            comps.append(_faces_from_periodic(values, d))
        return _scale_to(tuple(comps), max_courant)
    raise ValueError(f"shape must be 1-D, 2-D or 3-D, got {shape}")


def solid_body_rotation_courant(n, omega_dt, centre=None) -> tuple:
    """Courant numbers of u = -Omega (y - y_c), v = Omega (x - x_c) on an n x n grid.

    Unit grid spacing, cell ``i`` centred at ``x = i + 1/2`` (domain ``[0, n]``),
    rotation centre ``(x_c, y_c)`` (default ``(n/2, n/2)``, the domain centre).
    C_x depends on y only and C_y on x only, so the field is exactly nondivergent;
    on the periodic seam the tangential component jumps (docs/mpdata-derivation.md
    Sec. 8).
    """
    n = int(n)
    xc, yc = (n / 2.0, n / 2.0) if centre is None else map(float, centre)
    centres = np.arange(n) + 0.5
    cx = np.broadcast_to(-omega_dt * (centres[None, :] - yc), (n + 1, n)).copy()
    cy = np.broadcast_to(omega_dt * (centres[:, None] - xc), (n, n + 1)).copy()
    return cx, cy


# --------------------------------------------------------------------------- fields


def smooth_field(shape, *, offset=2.0, amplitude=1.0, seed=0) -> np.ndarray:
    """A smooth periodic field ``offset + amplitude * f`` with ``max |f| = 1``.

    With the defaults it is strictly positive (between 1 and 3).
    """
    shape = tuple(int(n) for n in shape)
    f = _random_periodic(shape, np.random.default_rng(seed))
    f /= np.max(np.abs(f))
    return offset + amplitude * f


def _periodic_gaussian(x, centre, sigma, images=4):
    out = np.zeros_like(x)
    for k in range(-images, images + 1):
        out += np.exp(-0.5 * ((x - centre + k) / sigma) ** 2)
    return out


def gaussian_1d(n, *, courant=0.5, distance=0.5, sigma=0.1, amplitude=1.0, background=0.0,
                centre=0.5) -> AdvectionCase:
    """A periodic Gaussian on the unit interval, translated by ``distance`` (domain lengths).

    ``n`` cells of width 1/n, point values at the cell centres ``(i + 1/2)/n``; constant
    Courant number ``courant``; ``n_steps = distance * n / courant`` must be whole.
    The exact solution is the same Gaussian moved by ``distance`` (periodised with images).
    """
    n = int(n)
    steps = distance * n / courant
    n_steps = int(round(steps))
    if n_steps < 0 or abs(steps - n_steps) > 1e-9 * max(1.0, steps):
        raise ValueError(
            f"distance * n / courant = {steps!r} must be a whole number of steps; "
            "choose n, courant and distance accordingly"
        )
    x = (np.arange(n) + 0.5) / n
    psi0 = background + amplitude * _periodic_gaussian(x, centre, sigma)
    moved = (centre + courant * n_steps / n) % 1.0
    exact = background + amplitude * _periodic_gaussian(x, moved, sigma)
    return AdvectionCase(
        psi0=psi0, courant=constant_courant((n,), courant), n_steps=n_steps, exact=exact,
        description=f"1-D periodic Gaussian, sigma={sigma}, C={courant}, {n_steps} steps",
        params=dict(n=n, courant=courant, distance=distance, sigma=sigma, amplitude=amplitude,
                    background=background, centre=centre),
    )


def gaussian(shape, courant, n_steps, *, sigma=0.12, amplitude=1.0, background=1.0,
             centre=0.5) -> AdvectionCase:
    """A product of periodic Gaussians on the unit square/cube, constant-Courant translation.

    Axis ``d`` has ``shape[d]`` cells of width ``1 / shape[d]`` (anisotropic spacing is
    allowed: only the Courant numbers matter), point values at the cell centres.  After
    ``n_steps`` steps the exact solution is the same profile moved by
    ``courant[d] * n_steps / shape[d]`` along each axis (any real distance).
    """
    shape = tuple(int(n) for n in shape)
    c = np.broadcast_to(np.asarray(courant, dtype=np.float64), (len(shape),))
    profile0 = 1.0
    profile1 = 1.0
    for d, (n, cd) in enumerate(zip(shape, c)):
        x = (np.arange(n) + 0.5) / n
        bshape = [1] * len(shape)
        bshape[d] = n
        profile0 = profile0 * _periodic_gaussian(x, centre, sigma).reshape(bshape)
        moved = (centre + cd * n_steps / n) % 1.0
        profile1 = profile1 * _periodic_gaussian(x, moved, sigma).reshape(bshape)
    return AdvectionCase(
        psi0=background + amplitude * np.broadcast_to(profile0, shape).copy(),
        courant=constant_courant(shape, c), n_steps=int(n_steps),
        exact=background + amplitude * np.broadcast_to(profile1, shape).copy(),
        description=f"{len(shape)}-D periodic Gaussian on {shape}, C={tuple(c)}, {n_steps} steps",
        params=dict(shape=shape, courant=tuple(c), sigma=sigma, amplitude=amplitude,
                    background=background, centre=centre),
    )


def smooth_translation(shape, courant, n_steps, *, offset=2.0, seed=0) -> AdvectionCase:
    """A smooth periodic field translated with a constant Courant vector.

    ``courant[d] * n_steps`` must be a whole number of cells along each axis so that the
    exact solution is ``np.roll`` of the initial field.
    """
    shape = tuple(int(n) for n in shape)
    c = np.broadcast_to(np.asarray(courant, dtype=np.float64), (len(shape),))
    shifts = []
    for d, cd in enumerate(c):
        s = cd * n_steps
        if abs(s - round(s)) > 1e-9:
            raise ValueError(f"courant[{d}] * n_steps = {s!r} must be a whole number of cells")
        shifts.append(int(round(s)))
    psi0 = smooth_field(shape, offset=offset, seed=seed)
    exact = np.roll(psi0, shifts, axis=tuple(range(len(shape))))
    return AdvectionCase(
        psi0=psi0, courant=constant_courant(shape, c), n_steps=int(n_steps), exact=exact,
        description=f"smooth field on {shape}, constant C={tuple(c)}, {n_steps} steps",
        params=dict(shape=shape, courant=tuple(c), offset=offset, seed=seed),
    )


def rotating_cone(n=100, *, steps_per_revolution=None, revolutions=1, radius=15.0, height=4.0,
                  background=0.0, centre=None) -> AdvectionCase:
    """Smolarkiewicz (1984) rotating cone on a doubly periodic ``n x n`` grid.

    Setup (unit grid spacing, cell ``i`` centred at ``x = i + 1/2``):

    * rotation about the domain centre ``(n/2, n/2)``, counter-clockwise,
      ``u = -Omega (y - n/2)``, ``v = Omega (x - n/2)``;
    * cone ``background + height * max(0, 1 - r / radius)``, default radius 15 cells,
      height 4, background 0 (libmpdata++ uses background 1: pass ``background=1.0``;
      needed for 2-D ``third_order_terms`` without infinite gauge), centred on the
      centre of cell ``(3n//4, n//2)``, about a quarter of the domain from the rotation
      centre (``(75.5, 50.5)`` for ``n = 100``, so the initial maximum is exactly 4);
    * ``Omega dt = 2 pi / steps_per_revolution``; default ``steps_per_revolution`` is
      the literature's 628 for ``n = 100`` and scales as ``628 (n - 1) / 99`` otherwise;
    * the largest outflow Courant sum sits at the four corner cells:
      ``|C_x| + |C_y| = Omega dt (n - 1)`` = 0.9905 for ``n = 100``, 628 steps
      (docs/mpdata-derivation.md Sec. 8: it must stay below 1; a ``ValueError`` is raised
      otherwise).

    Caveat (measured, identical in PyMPDATA 1.7.3): the velocity jumps across the periodic
    seam, and *without* ``nonoscillatory`` MPDATA (n_iters >= 2) has a growing
    checkerboard mode at the four corner cells unless the corner sum is below about
    0.8.  With ``background=0`` the corners hold psi = 0 and stay there (positivity),
    so the default case is unaffected; with ``background=1`` and 628 steps the corner
    cells drift by O(1) within ~100 steps (round-off grows ~x300 per 10 steps), while
    ``steps_per_revolution=800`` (corner sum 0.78) or ``nonoscillatory=True`` keep them
    at 1.  Avoid that combination for implementation-vs-implementation comparisons:
    it amplifies round-off differences.

    The exact solution after whole revolutions is the initial field.
    ``params`` holds ``omega_dt``, ``corner_courant_sum`` and the geometry.
    """
    n = int(n)
    if n < 4:
        raise ValueError(f"rotating_cone needs n >= 4, got {n}")
    if steps_per_revolution is None:
        steps_per_revolution = int(round(628 * (n - 1) / 99))
    steps_per_revolution = int(steps_per_revolution)
    omega_dt = 2.0 * math.pi / steps_per_revolution
    corner = omega_dt * (n - 1)
    if corner >= 1.0:
        raise ValueError(
            f"corner Courant sum |C_x| + |C_y| = {corner:.4f} >= 1 for n={n} and "
            f"{steps_per_revolution} steps per revolution: MPDATA is unstable at the periodic "
            f"corners (docs/mpdata-derivation.md Sec. 8); use at least "
            f"{math.ceil(2 * math.pi * (n - 1) / 0.99)} steps"
        )
    xc = yc = n / 2.0
    if centre is None:  # centre of cell (3n//4, n//2): the peak is a grid value (= height)
        cone_x, cone_y = (3 * n) // 4 + 0.5, n // 2 + 0.5
    else:
        cone_x, cone_y = map(float, centre)
    centres = np.arange(n) + 0.5
    r = np.hypot(centres[:, None] - cone_x, centres[None, :] - cone_y)
    psi0 = background + height * np.maximum(0.0, 1.0 - r / radius)
    courant = solid_body_rotation_courant(n, omega_dt, (xc, yc))
    return AdvectionCase(
        psi0=psi0, courant=courant, n_steps=steps_per_revolution * int(revolutions),
        exact=psi0.copy(),
        description=(f"rotating cone {n}x{n}, {steps_per_revolution} steps/revolution, "
                     f"{revolutions} revolution(s), corner Courant sum {corner:.4f}"),
        params=dict(n=n, steps_per_revolution=steps_per_revolution, revolutions=int(revolutions),
                    omega_dt=omega_dt, corner_courant_sum=corner, radius=radius, height=height,
                    background=background, cone_centre=(cone_x, cone_y),
                    rotation_centre=(xc, yc)),
    )


# --------------------------------------------------------------------------- diagnostics


def error_norms(psi, exact) -> dict:
    """Error norms of ``psi`` against ``exact``.

    * ``L1``   = sum|e| / sum|exact|,   ``L2`` = sqrt(sum e^2 / sum exact^2),
      ``Linf`` = max|e| / max|exact|    (relative to the exact solution);
    * ``rms``  = sqrt(mean e^2), ``mean_abs`` = mean|e|, ``max_abs`` = max|e| (absolute);
    * ``min``, ``max``, ``mass_rel_change`` = (sum psi - sum exact) / sum exact.
    """
    psi = np.asarray(psi, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    err = psi - exact
    return dict(
        L1=float(np.sum(np.abs(err)) / np.sum(np.abs(exact))),
        L2=float(np.sqrt(np.sum(err ** 2) / np.sum(exact ** 2))),
        Linf=float(np.max(np.abs(err)) / np.max(np.abs(exact))),
        rms=float(np.sqrt(np.mean(err ** 2))),
        mean_abs=float(np.mean(np.abs(err))),
        max_abs=float(np.max(np.abs(err))),
        min=float(np.min(psi)),
        max=float(np.max(psi)),
        mass_rel_change=float((np.sum(psi) - np.sum(exact)) / np.sum(exact)),
    )
