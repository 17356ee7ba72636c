"""Column stencils shared by the benchmarks and the tests (written once).

Plain functions: each user decorates them with its own options, e.g.
``sp.stencil(dims=("lev", "lat", "lon"))(thomas)``.  The user-facing versions, with their
explanations, are ``dsl_examples/tridiagonal.py`` and ``dsl_examples/omega.py``.
"""
import stencilpy as sp

#: the dims the column stencils are written for
DIMS = ("lev", "lat", "lon")


def thomas(a, b, c, d):
    """The tridiagonal (Thomas) solve of ``a x[k-1] + b x[k] + c x[k+1] = d`` in every column."""
    with sp.forward("lev"):
        with sp.levels(0, 1):
            cp = c / b
            dp = d / b
        with sp.levels(1, None):
            m = b - a * cp[lev - 1]
            cp = c / m
            dp = (d - a * dp[lev - 1]) / m
    with sp.backward("lev"):
        with sp.levels(-1, None):
            x = dp
        with sp.levels(0, -1):
            x = dp - cp * x[lev + 1]
    return x


def omega(u, v, p, dx, dy):
    """Vertical velocity in pressure coordinates from the continuity equation, integrated from
    the top level, with the horizontal divergence inside the sweep."""
    with sp.forward("lev"):
        div = (u[lon + 1] - u[lon - 1]) / (2.0 * dx) + (v[lat + 1] - v[lat - 1]) / (2.0 * dy)
        with sp.levels(0, 1):
            omega = 0.0 * div
        with sp.levels(1, None):
            omega = omega[lev - 1] - 0.5 * (div + div[lev - 1]) * (p - p[lev - 1])
    return omega
