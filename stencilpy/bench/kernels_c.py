"""The kernels in C (sources in ``stencilpy/bench/c/``, package data), compiled at run time and
called via ctypes.

Compiled once per process with ``gcc -O3 -march=native -fopenmp -shared -fPIC`` into a
temporary directory. Every C function takes the thread count as its last argument (an OpenMP
``num_threads`` clause), and computes what the numpy reference computes (interior points only
for the Laplacians and hdiff; edges are left untouched).
"""
import ctypes
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .impl import Impl, Unavailable

C_DIR = Path(__file__).with_name("c")
CFLAGS = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"]

_P, _L, _I, _D = ctypes.c_void_p, ctypes.c_long, ctypes.c_int, ctypes.c_double
SIGNATURES = {
    "lap2d_f64": [_P, _P, _L, _L, _I],
    "lap2d_f32": [_P, _P, _L, _L, _I],
    "lap3d_f64": [_P, _P, _L, _L, _L, _I],
    "lap2d_nt_f64": [_P, _P, _L, _L, _I],
    "lap2d_nt_f32": [_P, _P, _L, _L, _I],
    "lap3d_nt_f64": [_P, _P, _L, _L, _L, _I],
    "hdiff_f64": [_P, _P, _L, _L, _L, _D, _I],
    "mpdata2d_f64": [_P, _P, _P, _P, _L, _L, _I],
    "copy_f64": [_P, _P, _L, _I],
    "copy_nt_f64": [_P, _P, _L, _I],
    "memcpy_f64": [_P, _P, _L, _I],
    "thomas_f64": [_P, _P, _P, _P, _P, _L, _L, _L, _I],
    "thomas_nodiv_f64": [_P, _P, _P, _P, _P, _L, _L, _L, _I],
    "omega_f64": [_P, _P, _P, _P, _L, _L, _L, _D, _D, _I],
}


def gcc_version():
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    return subprocess.run([gcc, "--version"], capture_output=True, text=True).stdout.split("\n")[0]


@functools.lru_cache(maxsize=None)
def library(extra_flags: tuple = ()):
    """The compiled shared library (ctypes.CDLL); raises Unavailable when gcc is missing/fails.
    ``extra_flags``: added to ``CFLAGS`` (``("-ffp-contract=off",)``: no fused multiply-adds,
    the rounding of NumPy and stencilpy)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise Unavailable("gcc not found on PATH")
    with tempfile.TemporaryDirectory(prefix="stencilpy-bench-") as tmp:
        so = Path(tmp) / "libbench.so"
        cmd = [gcc, *CFLAGS, *extra_flags, *map(str, sorted(C_DIR.glob("*.c"))), "-o", str(so), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Unavailable(f"gcc failed ({' '.join(cmd)}):\n{proc.stderr.strip()[:2000]}")
        lib = ctypes.CDLL(str(so))            # stays mapped after the file is removed
    for name, argtypes in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, None
    return lib


def _ptr(a, dtype):
    if a.dtype != dtype or not a.flags.c_contiguous:
        raise TypeError(f"C kernel needs a C-contiguous {dtype} array, got {a.dtype} "
                        f"(contiguous={a.flags.c_contiguous})")
    return a.ctypes.data


def _suffix(dtype):
    return {np.dtype(np.float64): "f64", np.dtype(np.float32): "f32"}[np.dtype(dtype)]


def _bind_laplacian(lib, ndim, variant=""):
    def bind(args, out, threads):
        (u,) = args
        if u.ndim != ndim or u.shape != out.shape:
            raise ValueError(f"expected {ndim}-D u and out of the same shape")
        fn = getattr(lib, f"lap{ndim}d_{variant}{_suffix(u.dtype)}")
        call = (_ptr(u, u.dtype), _ptr(out, u.dtype), *u.shape, threads)
        return lambda: fn(*call)
    return bind


def _bind_hdiff(lib):
    def bind(args, out, threads):
        u, coeff = args
        levels = int(np.prod(u.shape[:-2]))
        call = (_ptr(u, np.float64), _ptr(out, np.float64), levels, *u.shape[-2:],
                float(coeff), threads)
        return lambda: lib.hdiff_f64(*call)
    return bind


def _bind_mpdata(lib):
    def bind(args, out, threads):
        psi, c0, c1 = args
        n0, n1 = psi.shape
        if c0.shape != (n0 + 1, n1) or c1.shape != (n0, n1 + 1) or out.shape != psi.shape:
            raise ValueError("mpdata expects psi (N0, N1), c0 (N0+1, N1), c1 (N0, N1+1)")
        call = (*(_ptr(a, np.float64) for a in (psi, c0, c1, out)), n0, n1, threads)
        return lambda: lib.mpdata2d_f64(*call)
    return bind


#: the copies of ``stencilpy/bench/c/copy.c``: a loop with ordinary stores (write-allocate: it
#: reads every output line first), a loop with streaming (non-temporal) stores, glibc's memcpy
COPY_KINDS = {"plain": "copy_f64", "streaming": "copy_nt_f64", "memcpy": "memcpy_f64"}


def copy_loop(src, dst, threads, kind="plain"):
    """A C copy of ``src`` into ``dst`` (float64) on ``threads`` threads as a zero-argument
    callable; ``kind``: one of COPY_KINDS."""
    lib = library()
    fn = getattr(lib, COPY_KINDS[kind])
    call = (_ptr(src, np.float64), _ptr(dst, np.float64), src.size, threads)
    return lambda: fn(*call)


def load():
    lib = library()
    return Impl("C", True, {
        "lap2d": _bind_laplacian(lib, 2),
        "lap3d": _bind_laplacian(lib, 3),
        "hdiff": _bind_hdiff(lib),
        "mpdata": _bind_mpdata(lib),
    })


def load_streaming():
    """The Laplacians with streaming stores (``c/lap_nt.c``): not a peer (the C a user writes
    is ``load``'s), the measured reference of the large cases, where stencilpy streams too."""
    lib = library()
    reason = "streaming-store C versions exist for the Laplacians only"
    return Impl("C-streaming", True, {
        "lap2d": _bind_laplacian(lib, 2, "nt_"),
        "lap3d": _bind_laplacian(lib, 3, "nt_"),
    }, {"hdiff": reason, "mpdata": reason})
