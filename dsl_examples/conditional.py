"""Point-wise decisions: ``if/elif/else`` blocks, ``sp.where``, ``min``/``max``/``abs`` and
math functions.

Inside a stencil, ``if`` does not branch: both sides are evaluated at every point and the
result is chosen point by point, as ``numpy.where`` does.  The blocks may only assign
temporaries (which may then be read at offsets like any other).

* ``minmod_slope``: a slope limiter of finite-volume schemes (if/elif/else),
* ``saturation_mixing_ratio``: Tetens' formula over water and ice (sp.where, sp.exp, max),
* ``wind``: speed and meteorological direction of a wind vector (hypot, arctan2, fmod).

Run it: ``python dsl_examples/conditional.py``.
"""

import numpy as np

import stencilpy as sp


@sp.stencil
def minmod_slope(q):
    left = q - q[-1]
    right = q[1] - q
    if left * right <= 0.0:          # an extremum: no slope
        slope = 0.0
    elif abs(left) < abs(right):
        slope = left
    else:
        slope = right
    return slope


@sp.stencil
def saturation_mixing_ratio(t, p):
    """Saturation mixing ratio (kg/kg) at temperature t (K) and pressure p (Pa)."""
    tc = t - 273.15
    es = sp.where(tc >= 0.0,
                  611.2 * sp.exp(17.67 * tc / (tc + 243.5)),      # over water
                  611.2 * sp.exp(22.46 * tc / (tc + 272.62)))     # over ice
    return 0.622 * es / max(p - es, 1.0)


@sp.stencil
def wind(u, v):
    """Speed, and the direction the wind blows from in degrees (0 = from the north)."""
    speed = sp.hypot(u, v)
    direction = sp.fmod(sp.arctan2(-u, -v) * (180.0 / sp.pi) + 360.0, 360.0)
    calm = speed < 0.5
    return speed, sp.where(calm, 0.0, direction)


def minmod_slope_numpy(q):
    """Cells 1 .. n-2."""
    left, right = q[1:-1] - q[:-2], q[2:] - q[1:-1]
    smaller = np.where(np.abs(left) < np.abs(right), left, right)
    return np.where(left * right <= 0.0, 0.0, smaller)


def saturation_mixing_ratio_numpy(t, p):
    tc = t - 273.15
    water = 611.2 * np.exp(17.67 * tc / (tc + 243.5))
    ice = 611.2 * np.exp(22.46 * tc / (tc + 272.62))
    es = np.where(tc >= 0.0, water, ice)
    return 0.622 * es / np.maximum(p - es, 1.0)


def wind_numpy(u, v):
    speed = np.hypot(u, v)
    direction = np.fmod(np.degrees(np.arctan2(-u, -v)) + 360.0, 360.0)
    return speed, np.where(speed < 0.5, 0.0, direction)


def main() -> dict:
    """Run the three stencils on generated data; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(4)
    q = np.cumsum(rng.normal(size=500))
    t = rng.uniform(230.0, 310.0, size=(40, 50))
    p = rng.uniform(2.0e4, 1.05e5, size=(40, 50))
    u, v = rng.normal(0, 5, size=(2, 30, 40))
    speed, direction = wind(u, v)
    want_speed, want_direction = wind_numpy(u, v)
    results = {
        "minmod slope": (minmod_slope(q, boundary="valid"), minmod_slope_numpy(q)),
        "saturation mixing ratio": (saturation_mixing_ratio(t, p),
                                    saturation_mixing_ratio_numpy(t, p)),
        "wind speed": (speed, want_speed),
        "wind direction": (direction, want_direction),
    }
    # (math functions may differ from NumPy's by an ulp or two: libm vs NumPy's SIMD code)
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<24s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
