"""A 9-point smoother built from ``@sp.function`` helpers.

Helpers decorated with ``@sp.function`` are inlined into the stencils that call them: they
may read their field arguments at offsets (``f[1, 0]``) and call other helpers.  The 1-2-1
filter in both directions weighs the point itself 4, its 4 edge neighbours 2 and its 4
corner neighbours 1 (sum 16); ``strength`` blends between no smoothing (0) and the full
filter (1).

Run it: ``python dsl_examples/smoothing.py``.
"""

import numpy as np

import stencilpy as sp


@sp.function
def edges(f):
    """Sum of the four edge neighbours."""
    return f[1, 0] + f[-1, 0] + f[0, 1] + f[0, -1]


@sp.function
def corners(f):
    """Sum of the four corner neighbours."""
    return f[1, 1] + f[1, -1] + f[-1, 1] + f[-1, -1]


@sp.function
def nine_point(f):
    return (4.0 * f + 2.0 * edges(f) + corners(f)) / 16.0


@sp.stencil
def smooth(u, strength):
    return u + strength * (nine_point(u) - u)


def smooth_numpy(u, strength):
    """The same on the interior with NumPy slices (the result covers u[1:-1, 1:-1])."""
    c = u[1:-1, 1:-1]
    edge = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]
    corner = u[2:, 2:] + u[2:, :-2] + u[:-2, 2:] + u[:-2, :-2]
    return c + strength * ((4.0 * c + 2.0 * edge + corner) / 16.0 - c)


def main() -> dict:
    """Smooth a noisy field; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(3)
    u = np.add.outer(np.linspace(0, 1, 120), np.linspace(0, 2, 80)) + rng.normal(0, 0.2, (120, 80))
    assert smooth.halo == ((1, 1), (1, 1))
    results = {
        "full strength, periodic": (smooth(u, 1.0, boundary="periodic"),
                                    smooth_numpy(np.pad(u, 1, mode="wrap"), 1.0)),
        "half strength, edge": (smooth(u, 0.5, boundary="edge"),
                                smooth_numpy(np.pad(u, 1, mode="edge"), 0.5)),
        "full strength, valid": (smooth(u, 1.0, boundary="valid"), smooth_numpy(u, 1.0)),
    }
    rough = np.std(np.diff(u, axis=0))
    smoothed = np.std(np.diff(results["full strength, valid"][0], axis=0))
    print(f"roughness (std of differences) {rough:.3f} -> {smoothed:.3f}")
    assert smoothed < rough
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<26s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
