"""GPU device checks: correctness against the CPU, then timings side by side.

    python -m stencilpy.bench.gpu       # correctness + timings (about 2 minutes on an H200)
    python -m benchmarks.gpu            # the same, in a checkout
    python -m stencilpy.bench.gpu --quick    # smaller arrays
    python -m stencilpy.bench.gpu --ptx      # PTX statistics per kernel only (no GPU needed)

Skips (exit 0, one line) where CuPy or a CUDA GPU is missing.

Correctness: every boundary mode (2-D and 3-D Laplacians, float32 and float64, staggered
fields, several outputs, scalars, out= snapshot, batch axes, a CuPy-backed DataArray),
hdiff and the MPDATA kernels of 1, 2 and 3 dimensions, each against stencilpy on the CPU.

Timings (CUDA events; each row: the median over repeats of the mean of a burst of calls):
stencilpy (the public call, and the planned launch without Python binding), the same kernel
in plain CUDA C through NVRTC (CuPy RawKernel, one point per thread), CuPy slicing, and the
device copy bandwidth.  "% copy" is the effective bandwidth (bytes of the inputs + the
outputs per call) against a device-to-device copy of the same size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

import stencilpy as sp
from stencilpy.bench import stencils


# -- stencils -------------------------------------------------------------------------------

@sp.stencil
def lap2d(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


@sp.stencil
def lap3d(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u[0, 0, 0])


@sp.stencil
def hdiff(u, coeff):
    lap = 4.0 * u - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap
    flx = 0.0 if flx * (u[1, 0] - u) > 0.0 else flx
    fly = lap[0, 1] - lap
    fly = 0.0 if fly * (u[0, 1] - u) > 0.0 else fly
    return u - coeff * (flx - flx[-1, 0] + fly - fly[0, -1])


@sp.stencil
def stag2d(u, fx, fy):
    return u[0, 0] + fx[1, 0] - fx[-1, 0] + 2 * fy[0, 1] - fy[0, -2]


@sp.stencil
def two_out(u, w, alpha):
    s = u[1, 0] + u[-1, 0]
    return alpha * s * w, sp.exp(-u[0, 1] * u[0, 1]) - s


@sp.stencil
def skew3d(u):
    return u[1, -1, 0] - 2 * u[0, 0, 2] + u[-2, 1, -1]


@sp.stencil
def pair2d(u):                       # outputs with regions of their own under fill/valid
    return u[1, 0] - u[-1, 0], u[0, 1] - u[0, -1]


thomas = sp.stencil(dims=stencils.DIMS)(stencils.thomas)   # a column sweep: tridiagonal solve


CUDA_C = r"""
extern "C" __global__ void lap2d(const double* __restrict__ u, double* __restrict__ out,
                                 long n0, long n1) {
    long j = blockIdx.x * (long)blockDim.x + threadIdx.x;
    long i = blockIdx.y * (long)blockDim.y + threadIdx.y;
    if (i >= 1 && i < n0 - 1 && j >= 1 && j < n1 - 1) {
        long c = i * n1 + j;
        out[c] = u[c + n1] + u[c - n1] + u[c + 1] + u[c - 1] - 4.0 * u[c];
    }
}
extern "C" __global__ void lap3d(const double* __restrict__ u, double* __restrict__ out,
                                 long n0, long n1, long n2) {
    long k = blockIdx.x * (long)blockDim.x + threadIdx.x;
    long j = blockIdx.y * (long)blockDim.y + threadIdx.y;
    long i = blockIdx.z;
    if (i >= 1 && i < n0 - 1 && j >= 1 && j < n1 - 1 && k >= 1 && k < n2 - 1) {
        long p = n1 * n2, c = i * p + j * n2 + k;
        out[c] = u[c + p] + u[c - p] + u[c + n2] + u[c - n2] + u[c + 1] + u[c - 1] - 6.0 * u[c];
    }
}
__device__ double lapf(const double* u, long c, long n) {
    return 4.0 * u[c] - (u[c + n] + u[c - n] + u[c + 1] + u[c - 1]);
}
extern "C" __global__ void hdiff(const double* __restrict__ u, double* __restrict__ out,
                                 long nb, long n0, long n1, double coeff) {
    long j = blockIdx.x * (long)blockDim.x + threadIdx.x;
    long i = blockIdx.y * (long)blockDim.y + threadIdx.y;
    long b = blockIdx.z;
    if (i >= 2 && i < n0 - 2 && j >= 2 && j < n1 - 2) {
        const double* v = u + b * n0 * n1;
        long c = i * n1 + j;
        double l = lapf(v, c, n1), le = lapf(v, c + n1, n1), lw = lapf(v, c - n1, n1);
        double ln = lapf(v, c + 1, n1), ls = lapf(v, c - 1, n1);
        double flx = le - l;   if (flx * (v[c + n1] - v[c]) > 0.0) flx = 0.0;
        double flxw = l - lw;  if (flxw * (v[c] - v[c - n1]) > 0.0) flxw = 0.0;
        double fly = ln - l;   if (fly * (v[c + 1] - v[c]) > 0.0) fly = 0.0;
        double flys = l - ls;  if (flys * (v[c] - v[c - 1]) > 0.0) flys = 0.0;
        out[b * n0 * n1 + c] = v[c] - coeff * (flx - flxw + fly - flys);
    }
}
#define TX 32
#define TY 8
extern "C" __global__ void hdiff_smem(const double* __restrict__ u, double* __restrict__ out,
                                      long nb, long n0, long n1, double coeff) {
    __shared__ double lap[TY + 2][TX + 2];
    const double* v = u + blockIdx.z * n0 * n1;
    long j0 = (long)blockIdx.x * TX, i0 = (long)blockIdx.y * TY;
    for (int t = threadIdx.y * TX + threadIdx.x; t < (TY + 2) * (TX + 2); t += TX * TY) {
        int li = t / (TX + 2), lj = t % (TX + 2);
        long i = i0 + li - 1, j = j0 + lj - 1;
        double val = 0.0;
        if (i >= 1 && i < n0 - 1 && j >= 1 && j < n1 - 1) {
            long c = i * n1 + j;
            val = 4.0 * v[c] - (v[c + n1] + v[c - n1] + v[c + 1] + v[c - 1]);
        }
        lap[li][lj] = val;
    }
    __syncthreads();
    long i = i0 + threadIdx.y, j = j0 + threadIdx.x;
    if (i >= 2 && i < n0 - 2 && j >= 2 && j < n1 - 2) {
        int li = threadIdx.y + 1, lj = threadIdx.x + 1;
        long c = i * n1 + j;
        double l = lap[li][lj];
        double flx = lap[li + 1][lj] - l;   if (flx * (v[c + n1] - v[c]) > 0.0) flx = 0.0;
        double flxw = l - lap[li - 1][lj];  if (flxw * (v[c] - v[c - n1]) > 0.0) flxw = 0.0;
        double fly = lap[li][lj + 1] - l;   if (fly * (v[c + 1] - v[c]) > 0.0) fly = 0.0;
        double flys = l - lap[li][lj - 1];  if (flys * (v[c] - v[c - 1]) > 0.0) flys = 0.0;
        out[blockIdx.z * n0 * n1 + c] = v[c] - coeff * (flx - flxw + fly - flys);
    }
}
extern "C" __global__ void thomas(const double* __restrict__ a, const double* __restrict__ b,
                                  const double* __restrict__ c, const double* __restrict__ d,
                                  double* __restrict__ cp, double* __restrict__ dp,
                                  double* __restrict__ x, long nlev, long ncol) {
    long j = blockIdx.x * (long)blockDim.x + threadIdx.x;
    if (j >= ncol) return;
    cp[j] = c[j] / b[j];
    dp[j] = d[j] / b[j];
    for (long k = 1; k < nlev; k++) {
        long q = k * ncol + j;
        double m = b[q] - a[q] * cp[q - ncol];
        cp[q] = c[q] / m;
        dp[q] = (d[q] - a[q] * dp[q - ncol]) / m;
    }
    long q = (nlev - 1) * ncol + j;
    x[q] = dp[q];
    for (long k = nlev - 2; k >= 0; k--) {
        q = k * ncol + j;
        x[q] = dp[q] - cp[q] * x[q + ncol];
    }
}
__device__ double donor(double v, double l, double r) {
    return (v > 0.0 ? v : 0.0) * l + (v < 0.0 ? v : 0.0) * r;
}
extern "C" __global__ void upwind2d(const double* __restrict__ p, const double* __restrict__ c0,
                                    const double* __restrict__ c1, double* __restrict__ out,
                                    long n0, long n1) {
    long j = blockIdx.x * (long)blockDim.x + threadIdx.x;
    long i = blockIdx.y * (long)blockDim.y + threadIdx.y;
    if (i < n0 && j < n1) {
        long c = i * n1 + j;
        long ip = (i + 1 == n0 ? 0 : i + 1) * n1 + j, im = (i == 0 ? n0 - 1 : i - 1) * n1 + j;
        long jp = i * n1 + (j + 1 == n1 ? 0 : j + 1), jm = i * n1 + (j == 0 ? n1 - 1 : j - 1);
        out[c] = p[c] - ((donor(c0[ip], p[c], p[ip]) - donor(c0[c], p[im], p[c]))
                         + (donor(c1[jp], p[c], p[jp]) - donor(c1[c], p[jm], p[c])));
    }
}
"""


# -- helpers ----------------------------------------------------------------------------------

def _timeit(cp, fn, burst=10, repeats=5) -> float:
    """Median over ``repeats`` of the mean time (ms) of ``burst`` back-to-back calls."""
    fn()
    cp.cuda.Device().synchronize()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    times = []
    for _ in range(repeats):
        start.record()
        for _ in range(burst):
            fn()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end) / burst)
    return float(np.median(times))


class Report:
    def __init__(self):
        self.failures = 0
        self.lines = []

    def check(self, what, got, want, rtol=1e-10):
        got = np.asarray(got)
        ok = got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=rtol * 1e-3,
                                                     equal_nan=True)
        if not ok:
            self.failures += 1
            diff = np.nanmax(np.abs(got - want)) if got.shape == want.shape else "shape"
            print(f"  FAIL {what}: max |diff| {diff}", flush=True)
        else:
            print(f"  ok   {what}", flush=True)
        return ok


# -- correctness -----------------------------------------------------------------------------

def correctness(cp, rep: Report) -> None:
    print("== correctness against stencilpy on the CPU", flush=True)
    rng = np.random.default_rng(1)
    modes = ["fill", "valid", "constant", "wrap", "edge", "reflect", "symmetric"]
    u2 = rng.random((301, 517))
    u3 = rng.random((37, 45, 70))
    d2, d3 = cp.asarray(u2), cp.asarray(u3)
    for mode in modes:
        rep.check(f"lap2d f64 {mode}", lap2d(d2, boundary=mode).get(), lap2d(u2, boundary=mode))
        rep.check(f"lap3d f64 {mode}", lap3d(d3, boundary=mode).get(), lap3d(u3, boundary=mode))
        rep.check(f"skew3d f64 {mode}", skew3d(d3, boundary=mode, fill_value=0.5).get(),
                  skew3d(u3, boundary=mode, fill_value=0.5))
        f32 = u2.astype(np.float32)
        rep.check(f"lap2d f32 {mode}", lap2d(cp.asarray(f32), boundary=mode).get(),
                  lap2d(f32, boundary=mode), rtol=1e-5)
    mixed = {"x": "periodic", "y": "reflect"}
    rep.check("lap2d mixed modes", lap2d(d2, boundary={0: "wrap", 1: "reflect"}).get(),
              lap2d(u2, boundary={0: "wrap", 1: "reflect"}))
    del mixed
    fx, fy = rng.random((302, 517)), rng.random((301, 518))
    for mode in ("wrap", "edge", "fill"):
        rep.check(f"staggered {mode}", stag2d(d2, cp.asarray(fx), cp.asarray(fy), boundary=mode).get(),
                  stag2d(u2, fx, fy, boundary=mode))
    w = rng.random(517)
    got = two_out(d2, cp.asarray(w), 0.5, boundary="edge")
    want = two_out(u2, w, 0.5, boundary="edge")
    rep.check("two outputs + broadcast + scalar [0]", got[0].get(), want[0])
    rep.check("two outputs + broadcast + scalar [1]", got[1].get(), want[1])
    batch = rng.random((3, 4, 50, 60))
    rep.check("batch axes", lap2d(cp.asarray(batch), boundary="symmetric").get(),
              lap2d(batch, boundary="symmetric"))
    tr = cp.asarray(u2).T
    rep.check("transposed (strided) input", lap2d(tr, boundary="wrap").get(),
              lap2d(u2.T, boundary="wrap"))
    for trial in range(3):                       # the second and third calls take the call plan
        v = rng.random((301, 517))
        rep.check(f"call plan, new data {trial}", two_out(cp.asarray(v), cp.asarray(w), 0.25 * trial,
                                                          boundary="edge")[1].get(),
                  two_out(v, w, 0.25 * trial, boundary="edge")[1])
    inplace = cp.asarray(u2)
    lap2d(inplace, boundary="wrap", out=inplace)
    rep.check("out= is the input (snapshot)", inplace.get(), lap2d(u2, boundary="wrap"))
    try:
        lap2d(d2, boundary="edge", check=True)
        print("  ok   check=True", flush=True)
    except sp.StencilError as exc:
        rep.failures += 1
        print(f"  FAIL check=True: {exc}", flush=True)
    try:
        import xarray as xr
        da = xr.DataArray(cp.asarray(u2), dims=("y", "x"))
        r = lap2d(da, boundary="wrap")
        ok = isinstance(r, xr.DataArray) and hasattr(r.data, "__cuda_array_interface__")
        rep.check(f"CuPy-backed DataArray (result on GPU: {ok})", r.data.get(),
                  lap2d(u2, boundary="wrap"))
        if not ok:
            rep.failures += 1
    except Exception as exc:          # noqa: BLE001 - report and go on
        rep.failures += 1
        print(f"  FAIL CuPy-backed DataArray: {type(exc).__name__}: {exc}", flush=True)
    h = rng.random((4, 130, 150))
    for mode in ("fill", "wrap", "edge"):
        rep.check(f"hdiff {mode}", hdiff(cp.asarray(h), 0.1, boundary=mode).get(),
                  hdiff(h, 0.1, boundary=mode))
    correctness_new_paths(cp, rep, rng)
    from stencilpy.mpdata.kernels import kernels
    for ndim, shape in ((1, (1000,)), (2, (120, 140)), (3, (30, 34, 40))):
        for gauge in ((False, True) if ndim < 3 else (False,)):
            for k in kernels(ndim, gauge).all():
                args = []
                for p in k.ir.params:
                    if p.name == "eps":
                        args.append(1e-10)
                    elif p.name.startswith("c") or p.name.startswith("v"):
                        args.append(0.4 * (rng.random(shape) - 0.5))
                    else:
                        args.append(1.0 + rng.random(shape))
                dev = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
                got = k(*dev, boundary="periodic")
                want = k(*args, boundary="periodic")
                got = got if isinstance(got, tuple) else (got,)
                want = want if isinstance(want, tuple) else (want,)
                for q, (g, e) in enumerate(zip(got, want)):
                    rep.check(f"mpdata {ndim}-D {k.ir.name}{' gauge' if gauge else ''} [{q}]",
                              g.get(), e, rtol=1e-9)


def correctness_new_paths(cp, rep: Report, rng=None) -> None:
    """Boundary "extrapolate", outputs with regions of their own, a column sweep, and the
    MPDATA steps both fused and staged, each against stencilpy on the CPU (CI runs this part
    on host-emulated arrays: ``tests/gpu/test_bench_script.py``)."""
    rng = np.random.default_rng(2) if rng is None else rng
    u2 = rng.random((301, 517))
    u3 = rng.random((37, 45, 70))
    d2, d3 = cp.asarray(u2), cp.asarray(u3)
    for mode in ("extrapolate", {0: "extrapolate", 1: "wrap"}):
        rep.check(f"lap2d f64 {mode}", lap2d(d2, boundary=mode).get(), lap2d(u2, boundary=mode))
    rep.check("skew3d f64 extrapolate", skew3d(d3, boundary="extrapolate").get(),
              skew3d(u3, boundary="extrapolate"))
    for mode in ("fill", "valid", {0: "valid", 1: "fill"}):
        got, want = pair2d(d2, boundary=mode), pair2d(u2, boundary=mode)
        for q in range(2):
            rep.check(f"per-output regions {mode} [{q}]", got[q].get(), want[q])
    sa, sc = -rng.random((40, 30, 50)), -rng.random((40, 30, 50))
    sb, sd = 3.0 + rng.random((40, 30, 50)), rng.random((40, 30, 50))
    rep.check("column sweep (thomas)", thomas(*(cp.asarray(x) for x in (sa, sb, sc, sd))).get(),
              thomas(sa, sb, sc, sd))
    from stencilpy.mpdata.kernels import kernels
    from stencilpy.runtime.gpu import execute as E
    K2 = kernels(2)
    shape = (120, 140)
    args = [1.0 + rng.random(shape), 0.4 * (rng.random(shape) - 0.5),
            0.4 * (rng.random(shape) - 0.5)]
    for forced in (False, True):
        E.STAGED = forced
        try:
            for k in (K2.step, K2.step_fct):
                rep.check(f"mpdata 2-D {k.ir.name} {'staged' if forced else 'fused'}",
                          k(*(cp.asarray(a) for a in args), 1e-10, boundary="periodic").get(),
                          k(*args, 1e-10, boundary="periodic"), rtol=1e-9)
        finally:
            E.STAGED = None


# -- PTX statistics (no GPU needed) ------------------------------------------------------------

def _ptx_entries(text: str) -> dict:
    return {part.split("(")[0]: part for part in text.split(".entry ")[1:]}


def _ptx_counts(body: str) -> dict:
    from collections import Counter
    lines = (x.strip() for x in body.splitlines())
    return Counter(x.split()[0] for x in lines if x and not x.startswith(("//", ".", "{", "}", "$", ")"))
                   and not x.endswith(":"))


def _ptxas_info(text: str) -> dict:
    """entry -> (registers, spill store bytes), from ``ptxas -v`` (empty without ptxas)."""
    import re

    from stencilpy.runtime.gpu import ptx
    if ptx.ptxas_path() is None:
        return {}
    out, cur = {}, None
    for line in ptx.ptxas_check(text).splitlines():
        m = re.search(r"entry function '(\w+)'", line)
        if m:
            cur = m.group(1)
        m = re.search(r"(\d+) bytes spill stores", line)
        if m and cur:
            out.setdefault(cur, [0, 0])[1] = int(m.group(1))
        m = re.search(r"Used (\d+) registers", line)
        if m and cur:
            out.setdefault(cur, [0, 0])[0] = int(m.group(1))
    return out


def ptx_report() -> None:
    """Per kernel, the PTX of the launches a call runs: instructions, global loads/stores and
    fp64 divisions per output point, registers and spills (ptxas), for stencilpy and, where
    nvcc is installed, the CUDA C baselines of this script."""
    import shutil

    from stencilpy.mpdata.kernels import kernels
    from stencilpy.runtime.gpu import execute as E

    print("== PTX per output point (interior kernel; staged: all launches summed)", flush=True)

    def show(name, text, entries, per):
        info = _ptxas_info(text)
        total: dict = {}
        for e in entries:
            for k, v in _ptx_counts(_ptx_entries(text)[e]).items():
                total[k] = total.get(k, 0) + v

        def g(prefix):
            return sum(v for k, v in total.items() if k.startswith(prefix)) / per
        regs = ", ".join(f"{e}: {info[e][0]} regs/{info[e][1]} B spill" for e in entries
                         if e in info)
        print(f"  {name:34s} {g(''):7.1f} instr  {g('ld.global'):5.1f} ld  {g('st.global'):4.1f} st "
              f" {g('div'):5.2f} div  {g('selp') + g('setp'):6.1f} setp/selp  [{regs}]", flush=True)

    p2, p3 = np.ones((64, 64)), np.ones((24, 24, 24))
    jobs = [("lap2d", lap2d, (p2,), {}), ("hdiff", hdiff, (p2, 0.1), {})]
    for nd, p in ((2, p2), (3, p3)):
        K = kernels(nd)
        jobs.append((f"mpdata upwind {nd}-D", K.upwind, (p,) * (nd + 1), {"boundary": "periodic"}))
        for k in (K.step, K.step_fct):
            jobs.append((f"mpdata {k.ir.name}", k, (p,) * (nd + 1) + (1e-10,),
                         {"boundary": "periodic"}))
    for name, k, args, kw in jobs:
        for forced in ((False, True) if name.startswith("mpdata step") else (None,)):
            from stencilpy.inspection import gpu_example_spec
            E.STAGED = forced
            try:
                text = sp.inspect(k, "ptx", *args, **kw)
                spec = gpu_example_spec(k, args, kw)
            finally:
                E.STAGED = None
            ents = _ptx_entries(text)
            if "stencil_gpu" in ents:
                rows = spec.rows
                show(f"{name} fused rows={rows}", text, ["stencil_gpu"], rows)
            else:
                show(f"{name} staged", text, [e for e in ents if e.startswith("sp_col_")], 1)
    a = np.ones((16, 8, 8))
    text = sp.inspect(thomas, "ptx", a, a, a, a)
    for e in sorted(x for x in _ptx_entries(text) if x.startswith("sp_col_")):
        show(f"thomas {e} (static count)", text, [e], 1)
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        print("  (no nvcc: CUDA C baselines not shown)", flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "base.cu")
        with open(src, "w") as f:
            f.write(CUDA_C)
        out = subprocess.run([nvcc, "-ptx", "-arch=sm_90", "-O3", src, "-o",
                              os.path.join(tmp, "base.ptx")], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  (nvcc failed: {out.stderr[-300:]})", flush=True)
            return
        with open(os.path.join(tmp, "base.ptx")) as f:
            text = f.read()
    for e in ("lap2d", "hdiff", "upwind2d", "thomas"):
        show(f"CUDA C {e}", text, [e], 1)


# -- timings ----------------------------------------------------------------------------------

def timings(cp, quick: bool) -> list:
    from stencilpy.runtime.gpu import execute as E

    print("== timings (ms per call; float64)", flush=True)
    mod = cp.RawModule(code=CUDA_C, options=("-O3",) if False else ())
    n2 = 8192 if quick else 16384
    n3 = 320 if quick else 640
    rows = []

    def copy_ms(a):
        b = cp.empty_like(a)
        return _timeit(cp, lambda: cp.copyto(b, a))

    def line(name, nbytes, t_sp, t_plan, t_c, t_cupy, t_copy):
        def pct(t):
            return f"{100 * t_copy / t:5.1f}%" if t else "   - "
        row = (name, t_sp, t_plan, t_c, t_cupy, t_copy, nbytes / t_plan / 1e6 if t_plan else 0,
               pct(t_plan), (t_c / t_plan) if (t_c and t_plan) else 0)
        rows.append(row)
        print(f"  {name:28s} stencilpy {t_sp:8.3f}  planned {t_plan:8.3f}  CUDA C "
              f"{t_c or float('nan'):8.3f}  CuPy {t_cupy or float('nan'):8.3f}  copy {t_copy:7.3f}"
              f"  {row[6]:7.0f} GB/s  {pct(t_plan)} of copy  C/stencilpy {row[8]:.2f}x",
              flush=True)

    # copy bandwidth
    big = cp.random.random((n2, n2))
    t_copy2 = copy_ms(big)
    print(f"  device copy {big.nbytes / 2**30:.2f} GiB: {t_copy2:.3f} ms = "
          f"{2 * big.nbytes / t_copy2 / 1e6:.0f} GB/s", flush=True)

    # 2-D Laplacian
    u = big
    out = cp.empty_like(u)
    run = E.prepare(lap2d, {"u": u}, out)
    t_sp = _timeit(cp, lambda: lap2d(u, out=out))
    t_plan = _timeit(cp, run)
    k = mod.get_function("lap2d")
    grid = ((n2 + 31) // 32, (n2 + 7) // 8)
    t_c = _timeit(cp, lambda: k(grid, (32, 8), (u, out, np.int64(n2), np.int64(n2))))
    ref = out.copy()
    lap2d(u, out=out)
    assert bool(cp.allclose(out[1:-1, 1:-1], ref[1:-1, 1:-1]))

    def lap2d_cupy():
        out[1:-1, 1:-1] = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]
    t_cupy = _timeit(cp, lap2d_cupy, burst=3, repeats=3)
    line(f"lap2d {n2}^2", 2 * u.nbytes, t_sp, t_plan, t_c, t_cupy, t_copy2)
    # variants of the loop mapping
    saved = dict(E.TUNING)
    for r, bx, by in ((1, 256, 1), (1, 32, 8), (4, 128, 1), (4, 256, 1), (8, 128, 1), (8, 256, 1),
                      (8, 64, 2), (8, 32, 4), (16, 128, 1), (16, 64, 2), (32, 128, 1)):
        E.TUNING[2] = (r, bx, by)
        run_v = E.prepare(lap2d, {"u": u}, out)
        t = _timeit(cp, run_v)
        print(f"    lap2d variant rows={r:2d} block=({bx},{by}): {t:.3f} ms "
              f"{100 * t_copy2 / t:5.1f}% of copy", flush=True)
    E.TUNING.clear()
    E.TUNING.update(saved)
    del big, out, ref

    # 3-D Laplacian
    u = cp.random.random((n3, n3, n3))
    out = cp.empty_like(u)
    t_copy3 = copy_ms(u)
    run = E.prepare(lap3d, {"u": u}, out)
    t_sp = _timeit(cp, lambda: lap3d(u, out=out))
    t_plan = _timeit(cp, run)
    k = mod.get_function("lap3d")
    grid = ((n3 + 31) // 32, (n3 + 3) // 4, n3)
    t_c = _timeit(cp, lambda: k(grid, (32, 4, 1), (u, out, np.int64(n3), np.int64(n3), np.int64(n3))))

    def lap3d_cupy():
        out[1:-1, 1:-1, 1:-1] = (u[2:, 1:-1, 1:-1] + u[:-2, 1:-1, 1:-1] + u[1:-1, 2:, 1:-1]
                                 + u[1:-1, :-2, 1:-1] + u[1:-1, 1:-1, 2:] + u[1:-1, 1:-1, :-2]
                                 - 6.0 * u[1:-1, 1:-1, 1:-1])
    t_cupy = _timeit(cp, lap3d_cupy, burst=3, repeats=3)
    line(f"lap3d {n3}^3", 2 * u.nbytes, t_sp, t_plan, t_c, t_cupy, t_copy3)
    saved = dict(E.TUNING)
    for r, bx, by in ((1, 32, 4), (1, 64, 4), (1, 128, 2), (2, 32, 4), (4, 32, 4), (4, 64, 2),
                      (4, 128, 1), (8, 32, 4), (8, 64, 2), (8, 128, 1), (8, 32, 8), (16, 32, 4),
                      (16, 64, 2)):
        E.TUNING[3] = (r, bx, by)
        E.TUNING[2] = saved[2]
        run_v = E.prepare(lap3d, {"u": u}, out)
        t = _timeit(cp, run_v)
        print(f"    lap3d variant rows={r:2d} block=({bx},{by}): {t:.3f} ms "
              f"{100 * t_copy3 / t:5.1f}% of copy", flush=True)
    E.TUNING.clear()
    E.TUNING.update(saved)
    del u, out

    # hdiff (batch of 2-D planes)
    nb, nh = (16, 1024) if quick else (80, 1024)
    u = cp.random.random((nb, nh, nh))
    out = cp.empty_like(u)
    t_copyh = copy_ms(u)
    run = E.prepare(hdiff, {"u": u, "coeff": 0.025}, out)
    t_sp = _timeit(cp, lambda: hdiff(u, 0.025, out=out))
    t_plan = _timeit(cp, run)
    k = mod.get_function("hdiff")
    grid = ((nh + 31) // 32, (nh + 7) // 8, nb)
    t_c = _timeit(cp, lambda: k(grid, (32, 8), (u, out, np.int64(nb), np.int64(nh), np.int64(nh),
                                                np.float64(0.025))))
    ref = out.copy()
    hdiff(u, 0.025, out=out)
    assert bool(cp.allclose(out[:, 2:-2, 2:-2], ref[:, 2:-2, 2:-2]))
    ks = mod.get_function("hdiff_smem")        # the temporary through shared memory
    t_smem = _timeit(cp, lambda: ks(grid, (32, 8), (u, out, np.int64(nb), np.int64(nh),
                                                    np.int64(nh), np.float64(0.025))))
    assert bool(cp.allclose(out[:, 2:-2, 2:-2], ref[:, 2:-2, 2:-2]))
    print(f"    hdiff CUDA C, lap through shared memory: {t_smem:.3f} ms (recomputed: "
          f"{t_c:.3f} ms)", flush=True)

    def hdiff_cupy():
        c = u[:, 1:-1, 1:-1]
        lap = 4.0 * c - (u[:, 2:, 1:-1] + u[:, :-2, 1:-1] + u[:, 1:-1, 2:] + u[:, 1:-1, :-2])
        flx = lap[:, 1:, :] - lap[:, :-1, :]
        flx = cp.where(flx * (c[:, 1:, :] - c[:, :-1, :]) > 0, 0.0, flx)
        fly = lap[:, :, 1:] - lap[:, :, :-1]
        fly = cp.where(fly * (c[:, :, 1:] - c[:, :, :-1]) > 0, 0.0, fly)
        out[:, 2:-2, 2:-2] = c[:, 1:-1, 1:-1] - 0.025 * (flx[:, 1:, 1:-1] - flx[:, :-1, 1:-1]
                                                         + fly[:, 1:-1, 1:] - fly[:, 1:-1, :-1])
    t_cupy = _timeit(cp, hdiff_cupy, burst=2, repeats=3)
    line(f"hdiff {nb}x{nh}^2", 2 * u.nbytes, t_sp, t_plan, t_c, t_cupy, t_copyh)
    saved = dict(E.TUNING)
    for r, bx, by in ((1, 128, 1), (1, 32, 8), (4, 128, 1), (8, 64, 2), (8, 32, 4), (16, 64, 1)):
        E.TUNING[2] = (r, bx, by)
        run_v = E.prepare(hdiff, {"u": u, "coeff": 0.025}, out)
        t = _timeit(cp, run_v)
        print(f"    hdiff variant rows={r:2d} block=({bx},{by}): {t:.3f} ms "
              f"{100 * t_copyh / t:5.1f}% of copy", flush=True)
    E.TUNING.clear()
    E.TUNING.update(saved)
    del u, out, ref

    # MPDATA 2-D: donor-cell pass (C and CuPy too) and the fused steps
    from stencilpy.mpdata.kernels import kernels
    K = kernels(2)
    nm = 4096 if quick else 8192
    p = 1.0 + cp.random.random((nm, nm))
    c0 = 0.4 * (cp.random.random((nm, nm)) - 0.5)
    c1 = 0.4 * (cp.random.random((nm, nm)) - 0.5)
    out = cp.empty_like(p)
    t_copym = copy_ms(p)
    run = E.prepare(K.upwind, {"p": p, "c0": c0, "c1": c1}, out, boundary="periodic")
    t_sp = _timeit(cp, lambda: K.upwind(p, c0, c1, boundary="periodic", out=out))
    t_plan = _timeit(cp, run)
    k = mod.get_function("upwind2d")
    grid = ((nm + 31) // 32, (nm + 7) // 8)
    t_c = _timeit(cp, lambda: k(grid, (32, 8), (p, c0, c1, out, np.int64(nm), np.int64(nm))))
    ref = out.copy()
    K.upwind(p, c0, c1, boundary="periodic", out=out)
    assert bool(cp.allclose(out, ref))

    def donor(v, left, right):
        return cp.maximum(v, 0.0) * left + cp.minimum(v, 0.0) * right

    def upwind_cupy():
        pxp, pxm = cp.roll(p, -1, 0), cp.roll(p, 1, 0)
        pyp, pym = cp.roll(p, -1, 1), cp.roll(p, 1, 1)
        out[...] = p - ((donor(cp.roll(c0, -1, 0), p, pxp) - donor(c0, pxm, p))
                        + (donor(cp.roll(c1, -1, 1), p, pyp) - donor(c1, pym, p)))
    t_cupy = _timeit(cp, upwind_cupy, burst=2, repeats=3)
    line(f"mpdata upwind {nm}^2", 4 * p.nbytes, t_sp, t_plan, t_c, t_cupy, 2 * t_copym)
    saved = dict(E.TUNING)
    for r, bx, by in ((1, 128, 1), (1, 32, 8), (4, 128, 1), (8, 64, 2), (8, 32, 4)):
        E.TUNING[2] = (r, bx, by)
        run_v = E.prepare(K.upwind, {"p": p, "c0": c0, "c1": c1}, out, boundary="periodic")
        t = _timeit(cp, run_v)
        print(f"    upwind variant rows={r:2d} block=({bx},{by}): {t:.3f} ms "
              f"{100 * t_copym * 2 / t:5.1f}% of copy", flush=True)
    E.TUNING.clear()
    E.TUNING.update(saved)
    for kern in (K.step, K.step_fct):
        for forced in (False, True):                 # one fused kernel / staged kernels
            E.STAGED = forced
            try:
                t_sp = _timeit(cp, lambda: kern(p, c0, c1, 1e-10, boundary="periodic",
                                                out=out), burst=3, repeats=3)
            finally:
                E.STAGED = None
            line(f"mpdata {kern.ir.name} {nm}^2 {'staged' if forced else 'fused'}",
                 4 * p.nbytes, t_sp, t_sp, None, None, 2 * t_copym)
        print(f"    ({kern.ir.name} runs {'staged' if E.staged(kern.compiler.call_ir(frozenset({'eps'}))) else 'fused'} by default)", flush=True)
        run = E.prepare(kern, {"p": p, "c0": c0, "c1": c1, "eps": 1e-10}, out,
                        boundary="periodic")
        t_plan = _timeit(cp, run, burst=3, repeats=3)
        line(f"mpdata {kern.ir.name} {nm}^2 fused, planned", 4 * p.nbytes, t_plan, t_plan,
             None, None, 2 * t_copym)
        saved = dict(E.TUNING)
        for r, bx, by in ((1, 128, 1), (1, 32, 4), (4, 64, 2)):
            E.TUNING[2] = (r, bx, by)
            run_v = E.prepare(kern, {"p": p, "c0": c0, "c1": c1, "eps": 1e-10}, out,
                              boundary="periodic")
            t = _timeit(cp, run_v, burst=3, repeats=3)
            print(f"    {kern.ir.name} variant rows={r:2d} block=({bx},{by}): {t:.3f} ms",
                  flush=True)
        E.TUNING.clear()
        E.TUNING.update(saved)
    del p, c0, c1, out

    # a column sweep: tridiagonal solve, stencilpy / CUDA C (a thread per column) / CuPy levels
    nl, nh = (40, 512) if quick else (80, 1024)
    a = -cp.random.random((nl, nh, nh))
    c = -cp.random.random((nl, nh, nh))
    b = 3.0 + cp.random.random((nl, nh, nh))
    d = cp.random.random((nl, nh, nh))
    x = cp.empty_like(d)
    t_sp = _timeit(cp, lambda: thomas(a, b, c, d, out=x), burst=2, repeats=3)
    ref = x.copy()
    cpb, dpb = cp.empty_like(d), cp.empty_like(d)
    k = mod.get_function("thomas")
    ncol = nh * nh
    t_c = _timeit(cp, lambda: k(((ncol + 127) // 128,), (128,),
                                (a, b, c, d, cpb, dpb, x, np.int64(nl), np.int64(ncol))),
                  burst=2, repeats=3)
    assert bool(cp.allclose(x, ref))

    def thomas_cupy():
        cpb[0] = c[0] / b[0]
        dpb[0] = d[0] / b[0]
        for lev in range(1, nl):
            m = b[lev] - a[lev] * cpb[lev - 1]
            cpb[lev] = c[lev] / m
            dpb[lev] = (d[lev] - a[lev] * dpb[lev - 1]) / m
        x[-1] = dpb[-1]
        for lev in range(nl - 2, -1, -1):
            x[lev] = dpb[lev] - cpb[lev] * x[lev + 1]
    t_cupy = _timeit(cp, thomas_cupy, burst=1, repeats=3)
    line(f"thomas (sweeps) {nl}x{nh}^2", 5 * d.nbytes, t_sp, t_sp, t_c, t_cupy,
         2.5 * copy_ms(d))
    return rows


def cold(cp) -> None:
    """One cold compile: a stencil never seen before, an empty cache, a fresh process."""
    src = textwrap.dedent('''
        import time
        t0 = time.perf_counter()
        import cupy as cp, stencilpy as sp
        u = cp.random.random((1024, 1024)); cp.cuda.Device().synchronize()
        t1 = time.perf_counter()
        @sp.stencil
        def cold_lap(u):
            return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]
        t2 = time.perf_counter()
        r = cold_lap(u); cp.cuda.Device().synchronize()
        t3 = time.perf_counter()
        r = cold_lap(u); cp.cuda.Device().synchronize()
        t4 = time.perf_counter()
        from stencilpy.runtime.gpu import ptx
        from stencilpy.inspection import gpu_example_spec
        import numpy as np
        spec = gpu_example_spec(cold_lap, (np.zeros((1024, 1024)),), {})
        t5 = time.perf_counter(); text = ptx.compile_ptx(ptx.llvm_ir(spec)); t6 = time.perf_counter()
        @sp.stencil
        def cold_other(u):
            return 0.25 * (u[2, 0] + u[-2, 0] + u[0, 2] + u[0, -2]) - u[1, 1]
        t7 = time.perf_counter()
        r = cold_other(u, boundary="wrap"); cp.cuda.Device().synchronize()
        t8 = time.perf_counter()
        from stencilpy.runtime.gpu import driver
        d = driver.cuda_device()
        spec2 = gpu_example_spec(cold_other, (np.zeros((64, 64)),), {"boundary": "wrap"})
        k2, text2 = ptx.ptx_for(spec2, d.arch())
        t9 = time.perf_counter(); driver._load_cuda_python(cp, spec2, k2, text2); t10 = time.perf_counter()
        print(f"COLD first call {t3 - t2:.3f} s (imports {t1 - t0:.3f} s, decorate {t2 - t1:.3f} s, "
              f"sympy analysis included), second call {1e3 * (t4 - t3):.2f} ms; lowering+PTX alone "
              f"{t6 - t5:.3f} s; a second new stencil's first call {t8 - t7:.3f} s "
              f"(driver PTX load {t10 - t9:.3f} s)")
    ''')
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cold_case.py")
        with open(path, "w") as f:
            f.write(src)
        env = dict(os.environ, STENCILPY_CACHE_DIR=os.path.join(tmp, "cache"))
        env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
        for _ in range(2):
            out = subprocess.run([sys.executable, path], env=env, capture_output=True, text=True,
                                 timeout=120)
            print("  " + (out.stdout.strip() or out.stderr.strip()[-800:]), flush=True)
            env["STENCILPY_CACHE_DIR"] = os.path.join(tmp, "cache2")


def smoke(cp, dev) -> None:
    """One small call; if the cuda-python path fails, fall back to CuPy's module loader."""
    u = np.random.default_rng(0).random((64, 80))
    for attempt in range(2):
        try:
            got = lap2d(cp.asarray(u), boundary="wrap").get()
            ok = np.allclose(got, lap2d(u, boundary="wrap"))
            print(f"smoke test through {dev.driver}: {'ok' if ok else 'WRONG'}", flush=True)
            return
        except Exception:          # noqa: BLE001
            import traceback
            traceback.print_exc()
            if attempt == 0:
                print("retrying with CuPy's module loader", flush=True)
                dev.driver = "cupy"
                dev._loaded.clear()
                lap2d.__dict__.pop("_gpu_kernels", None)
                lap2d.__dict__.pop("_gpu_plans", None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller arrays")
    ap.add_argument("--skip-correctness", action="store_true")
    ap.add_argument("--skip-timings", action="store_true")
    ap.add_argument("--ptx", action="store_true",
                    help="only the PTX statistics per kernel (no GPU needed)")
    args = ap.parse_args(argv)
    if args.ptx:
        ptx_report()
        return 0
    try:
        import cupy as cp
        ndev = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:      # noqa: BLE001 - any failure means: no usable GPU here
        print(f"SKIP: no CUDA GPU usable through CuPy ({type(exc).__name__}: {exc})")
        return 0
    if ndev == 0:
        print("SKIP: no CUDA GPU")
        return 0
    from stencilpy.runtime.gpu import driver, ptx
    props = cp.cuda.runtime.getDeviceProperties(0)
    dev = driver.cuda_device()
    print(f"device: {props['name'].decode()} cc {dev.arch()}  CuPy {cp.__version__}  "
          f"driver path: {dev.driver}  libdevice: {ptx.libdevice_path()}  ptxas: {ptx.ptxas_path()}",
          flush=True)
    rep = Report()
    t0 = time.perf_counter()
    smoke(cp, dev)
    try:
        ptx_report()
    except Exception:              # noqa: BLE001 - statistics only
        import traceback
        traceback.print_exc()
    print("== cold compile", flush=True)
    cold(cp)
    if not args.skip_timings:
        try:
            timings(cp, args.quick)
        except Exception:          # noqa: BLE001 - report, then still check correctness
            import traceback
            traceback.print_exc()
            rep.failures += 1
    if not args.skip_correctness:
        t1 = time.perf_counter()
        correctness(cp, rep)
        print(f"correctness: {rep.failures} failure(s) ({time.perf_counter() - t1:.1f} s)",
              flush=True)
    print(f"total {time.perf_counter() - t0:.1f} s", flush=True)
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
