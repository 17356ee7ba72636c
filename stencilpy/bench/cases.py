"""Benchmark case definitions: kernels, shapes, dtypes, inputs, reference and checks.

A *kernel* is one computation (``lap2d``, ``lap3d``, ``hdiff``, ``mpdata``) with its input
generator, the region of the output that is compared, and the numpy reference. A *case* is a
kernel at one dtype and shape. Every implementation module maps kernel names to binders with
the signature ``bind(args, out, threads) -> run`` (see ``impl.py``).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import kernels_numpy

HDIFF_COEFF = 0.025
RTOL = {"float64": 1e-12, "float32": 1e-5}


def _random_field(shape, dtype, rng):
    return rng.random(shape, dtype=np.dtype(dtype))


def _periodic_courant(shape, axis, rng, amplitude=0.4):
    """Face Courant numbers with N+1 entries along `axis`; entry N repeats entry 0."""
    c = rng.uniform(-amplitude, amplitude, shape)
    first = [slice(None)] * len(shape)
    last = list(first)
    first[axis], last[axis] = 0, -1
    c[tuple(last)] = c[tuple(first)]
    return c


def _laplacian_args(shape, dtype, rng):
    return (_random_field(shape, dtype, rng),)


def _hdiff_args(shape, dtype, rng):
    return (_random_field(shape, dtype, rng), HDIFF_COEFF)


def _mpdata_args(shape, dtype, rng):
    n0, n1 = shape
    psi = _random_field(shape, dtype, rng)
    return psi, _periodic_courant((n0 + 1, n1), 0, rng), _periodic_courant((n0, n1 + 1), 1, rng)


def _interior(halo_axes):
    """Interior slices: `halo_axes` gives the halo width for the trailing axes."""
    def slices(shape):
        lead = (slice(None),) * (len(shape) - len(halo_axes))
        return lead + tuple(slice(h, n - h) for h, n in zip(halo_axes, shape[len(lead):]))
    return slices


@dataclass(frozen=True)
class Kernel:
    name: str
    make_args: Callable      # (shape, dtype, rng) -> tuple of arrays / scalars
    interior: Callable       # shape -> tuple of slices compared against the reference
    reference: Callable      # numpy implementation: reference(*args, out)


KERNELS = {
    "lap2d": Kernel("lap2d", _laplacian_args, _interior((1, 1)), kernels_numpy.lap2d),
    "lap3d": Kernel("lap3d", _laplacian_args, _interior((1, 1, 1)), kernels_numpy.lap3d),
    "hdiff": Kernel("hdiff", _hdiff_args, _interior((2, 2)), kernels_numpy.hdiff),
    "mpdata": Kernel("mpdata", _mpdata_args, _interior(()), kernels_numpy.mpdata),
}


@dataclass(frozen=True)
class Case:
    kernel: Kernel
    dtype: str
    shape: tuple
    size: str                # "small" or "large"

    @property
    def shape_label(self):
        return "x".join(map(str, self.shape))

    @property
    def label(self):
        return f"{self.kernel.name} {self.dtype} {self.shape_label}"

    @property
    def rtol(self):
        return RTOL[self.dtype]

    def make_args(self, rng):
        return self.kernel.make_args(self.shape, self.dtype, rng)

    def matches(self, kernels, sizes):
        kernel_ok = not kernels or self.kernel.name in kernels or \
            f"{self.kernel.name}_{self.dtype}" in kernels
        size_ok = not sizes or self.size in sizes or self.shape_label in sizes
        return kernel_ok and size_ok


def _case(name, dtype, small, large):
    k = KERNELS[name]
    return [Case(k, dtype, small, "small"), Case(k, dtype, large, "large")]


CASES = (_case("lap2d", "float64", (1024, 1024), (16384, 16384))
         + _case("lap2d", "float32", (1024, 1024), (16384, 16384))
         + _case("lap3d", "float64", (128, 128, 128), (640, 640, 640))
         + _case("hdiff", "float64", (80, 256, 256), (80, 1024, 1024))
         + _case("mpdata", "float64", (2048, 2048), (8192, 8192))
         # the core issue's size: run with --sizes medium (or 8192x8192)
         + [Case(KERNELS["lap2d"], dt, (8192, 8192), "medium") for dt in ("float64", "float32")])


def bytes_moved(args, out):
    """Inputs read once plus the output written once."""
    return sum(a.nbytes for a in args if isinstance(a, np.ndarray)) + out.nbytes


def compare(out, ref, interior, rtol, chunk_bytes=64 << 20):
    """None if `out` matches `ref` on the interior, else a message naming the worst point.

    Pointwise |out - ref| <= rtol * (|ref| + max|ref|): the max|ref| term accepts the
    rounding of differently-associated sums whose result cancels to near zero. NaN fails.
    Works in chunks along axis 0 so that 2 GiB fields need no full-size temporaries.
    """
    o, r = out[interior], ref[interior]
    scale = float(np.max(np.abs(r)))
    step = max(1, chunk_bytes // max(1, r[0].nbytes))
    for start in range(0, r.shape[0], step):
        oc, rc = o[start:start + step], r[start:start + step]
        err = np.abs(oc - rc)
        bad = ~(err <= rtol * (np.abs(rc) + scale))
        if bad.any():
            worst = np.where(bad, np.nan_to_num(err, nan=np.inf), -1.0)
            idx = np.unravel_index(np.argmax(worst), oc.shape)
            point = (int(idx[0]) + start,) + tuple(int(i) for i in idx[1:])
            return (f"{int(bad.sum())} bad points in the first bad chunk; worst at interior "
                    f"index {point}: got {float(oc[idx])!r}, expected {float(rc[idx])!r}")
    return None
