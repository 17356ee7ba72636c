"""The Laplacian: a 2-D 5-point and a 3-D 7-point stencil.

A stencil is a plain Python function of the *current point*: ``u[1, 0]`` is the value one
point further along the first axis, ``u`` alone (or ``u[0, 0]``) is the point itself.
stencilpy works out how far each stencil reads (its *halo*) and what to do near the edges
(the ``boundary=`` option).

Run it: ``python dsl_examples/laplacian.py``.
"""

import numpy as np

import stencilpy as sp


@sp.stencil
def laplacian_2d(u):
    """Five-point Laplacian on a unit-spaced grid."""
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


@sp.stencil
def laplacian_3d(u, dx):
    """Seven-point Laplacian on a grid of spacing ``dx`` (a scalar argument)."""
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u) / (dx * dx)


def laplacian_2d_numpy(u):
    """The same on the interior, written with NumPy slices (one point smaller on each side)."""
    return u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]


def laplacian_3d_periodic_numpy(u, dx):
    """The same with periodic boundaries, written with ``np.roll``."""
    total = -6.0 * u
    for axis in range(3):
        total = total + np.roll(u, -1, axis) + np.roll(u, 1, axis)
    return total / (dx * dx)


def _laplacian_2d_periodic(u):
    """The 2-D stencil with periodic boundaries, written with ``np.roll``."""
    return (np.roll(u, -1, 0) + np.roll(u, 1, 0) + np.roll(u, -1, 1) + np.roll(u, 1, 1)
            - 4.0 * u)


def _interior_3d(p, dx):
    """The 7-point Laplacian of the interior of a padded array ``p``."""
    c = p[1:-1, 1:-1, 1:-1]
    return (p[2:, 1:-1, 1:-1] + p[:-2, 1:-1, 1:-1] + p[1:-1, 2:, 1:-1] + p[1:-1, :-2, 1:-1]
            + p[1:-1, 1:-1, 2:] + p[1:-1, 1:-1, :-2] - 6.0 * c) / (dx * dx)


def main() -> dict:
    """Run both stencils on generated data; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(0)
    u2 = rng.random((200, 300))
    u3 = rng.random((40, 50, 60))
    dx = 0.5
    assert laplacian_2d.halo == ((1, 1), (1, 1))
    assert laplacian_3d.halo == ((1, 1), (1, 1), (1, 1))

    # boundary="fill" (the default): the edge points, where the stencil would read outside
    # the array, are NaN; boundary="valid" drops them instead.
    filled = laplacian_2d(u2)
    valid = laplacian_2d(u2, boundary="valid")
    assert np.isnan(filled[0]).all() and valid.shape == (198, 298)

    results = {
        "2-D, fill (interior)": (filled[1:-1, 1:-1], laplacian_2d_numpy(u2)),
        "2-D, valid": (valid, laplacian_2d_numpy(u2)),
        "2-D, periodic": (laplacian_2d(u2, boundary="periodic"), _laplacian_2d_periodic(u2)),
        "3-D, periodic": (laplacian_3d(u3, dx, boundary="periodic"),
                          laplacian_3d_periodic_numpy(u3, dx)),
        # "edge" repeats the outermost value: the same as padding with np.pad(mode="edge")
        "3-D, edge": (laplacian_3d(u3, dx=dx, boundary="edge"),
                      _interior_3d(np.pad(u3, 1, mode="edge"), dx)),
    }
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<22s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
