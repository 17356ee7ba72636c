"""The first level where a condition holds: cloud base as the lowest level with relative
humidity of at least 95 %.

A forward sweep from the surface (level 0) carries two temporaries up the column: the
level index ``k`` (0 at the first level, ``k[lev - 1] + 1`` above) and ``base``, the index
of the first saturated level found so far (-1 while none is).  Once found, ``base`` is
copied upwards unchanged.  At the top every column knows its answer; a backward sweep
copies it down, so each level holds it (a column with no saturated level gives -1).  The
reference uses ``np.argmax`` on the boolean condition.

Run it: ``python dsl_examples/first_level.py``.
"""

import numpy as np

import stencilpy as sp

BACKEND = "llvm"       # the compiled backend; "numpy" runs the reference of the same stencil


@sp.stencil(dims=("lev", "lat", "lon"), backend=BACKEND)
def first_saturated_level(rh, threshold):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            k = 0.0
            base = 0.0 if rh >= threshold else -1.0
        with sp.levels(1, None):
            k = k[lev - 1] + 1.0
            base = base[lev - 1]
            if base < 0.0 and rh >= threshold:
                base = k
    with sp.backward("lev"):
        with sp.levels(-1, None):
            first = base
        with sp.levels(0, -1):
            first = first[lev + 1]
    return first


def first_level_numpy(rh, threshold):
    hit = rh >= threshold
    index = np.argmax(hit, axis=0).astype(np.float64)
    index[~hit.any(axis=0)] = -1.0
    return np.broadcast_to(index, rh.shape)


def main() -> dict:
    """Cloud base of random humidity profiles; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(17)
    nz, ny, nx = 30, 25, 35
    rh = rng.uniform(0.3, 1.0, (nz, ny, nx)) ** 0.3
    results = {}
    for threshold in (0.95, 0.995):
        got = first_saturated_level(rh, threshold)
        want = first_level_numpy(rh, threshold)
        results[f"threshold {threshold}"] = (got, want)
        print(f"threshold {threshold}: {np.mean(want[0] < 0):.0%} of columns never saturate")
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<16s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
