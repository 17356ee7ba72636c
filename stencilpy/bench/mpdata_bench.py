"""One MPDATA time step on a periodic 2-D grid: stencilpy's solver against the numpy
reference and the C kernel of the benchmark suite, plus the cold compile time.

    python -m stencilpy.bench.mpdata_bench                  # 2048^2, basic and nonoscillatory
    python -m stencilpy.bench.mpdata_bench --large          # also 8192^2 (needs ~6 GB of RAM)
    python -m stencilpy.bench.mpdata_bench --compile        # cold compile time of the kernels
    python -m stencilpy.bench.mpdata_bench --cone           # the rotating-cone table of docs/mpdata.md

What is timed (one call = one full time step, n_iters = 2, G = 1, psi > 0):

* ``stencilpy``: ``stencilpy.mpdata.Solver.run(1)`` - the solver as users call it
  (4 kernel calls per step with the limiter, 3 without);
* ``stencilpy-fused``: the suite's single-stencil basic step
  (``stencilpy/bench/kernels_stencilpy.py``; no limiter), for the cost of the solver's kernel split;
* ``numpy``: ``stencilpy.mpdata.reference`` on pre-validated inputs;
* ``C``: ``stencilpy/bench/c/mpdata.c`` (gcc -O3 -march=native -fopenmp; basic step only).

Every implementation is checked against the numpy reference first (1e-12, relative max
norm).  Repeats are interleaved (round robin, rotating start) and the median is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .timing import median, round_robin, set_omp_wait_policy

OPTIONS = {"basic": dict(n_iters=2), "nonoscillatory": dict(n_iters=2, nonoscillatory=True)}
TOLERANCE = 1e-12


def make_inputs(n: int, seed: int = 20261127):
    """A positive field and a random periodic staggered Courant field (outflow sum <= 0.8)."""
    rng = np.random.default_rng(seed)
    psi = 1.0 + rng.random((n, n))
    c0 = rng.uniform(-0.2, 0.2, (n + 1, n))
    c0[n] = c0[0]
    c1 = rng.uniform(-0.2, 0.2, (n, n + 1))
    c1[:, n] = c1[:, 0]
    return psi, (c0, c1)


# --------------------------------------------------------------------------- implementations


def numpy_step(psi, courant, opts):
    """The reference's step without re-validating its inputs on every call."""
    from stencilpy.mpdata import reference

    prepared = reference._prepare(psi, courant, dict(opts))
    return lambda: reference._step(*prepared)


def stencilpy_solver(psi, courant, opts, threads):
    from stencilpy.mpdata import Solver

    solver = Solver(psi, courant, threads=threads, **opts)
    solver.compile()
    state = {"solver": solver}

    def run():
        solver.run(1)

    def result():                                   # one step from psi, for the check
        check = Solver(psi, courant, threads=threads, **opts)
        check.run(1)
        return check.values.copy()

    state["run"], state["result"] = run, result
    return state


def stencilpy_fused(psi, courant, threads):
    from .kernels_stencilpy import mpdata_step

    out = np.empty_like(psi)
    c0, c1 = courant

    def run():
        mpdata_step(psi, c0, c1, out=out, boundary="periodic", threads=threads)
        return out
    return run


def c_step(psi, courant, threads):
    from .kernels_c import library

    lib = library()
    out = np.empty_like(psi)
    c0, c1 = (np.ascontiguousarray(c) for c in courant)
    call = (psi.ctypes.data, c0.ctypes.data, c1.ctypes.data, out.ctypes.data, *psi.shape,
            threads)

    def run():
        lib.mpdata2d_f64(*call)
        return out
    return run


def _mismatch(got, want) -> float:
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


# --------------------------------------------------------------------------- one size


def bench_size(n, impls, threads, repeats, with_numpy, say):
    psi, courant = make_inputs(n)
    rows = []
    for label, opts in OPTIONS.items():
        limiter = ", nonoscillatory" if opts.get("nonoscillatory") else ""
        say(f"\n{n}x{n}, {label} (n_iters=2{limiter})")
        runs, checks = {}, {}
        reference = None
        if with_numpy:
            t0 = time.perf_counter()
            ref_run = numpy_step(psi, courant, opts)
            reference = ref_run()
            say(f"  numpy reference step: {time.perf_counter() - t0:.2f} s (untimed warm-up)")
            if "numpy" in impls:
                runs["numpy"] = ref_run
        for t in threads:
            if "stencilpy" in impls:
                s = stencilpy_solver(psi, courant, opts, t)
                runs[f"stencilpy t={t}"] = s["run"]
                checks[f"stencilpy t={t}"] = s["result"]
            if label == "basic" and "stencilpy-fused" in impls:
                runs[f"stencilpy-fused t={t}"] = checks[f"stencilpy-fused t={t}"] = \
                    stencilpy_fused(psi, courant, t)
            if label == "basic" and "C" in impls:
                try:
                    runs[f"C t={t}"] = checks[f"C t={t}"] = c_step(psi, courant, t)
                except Exception as err:                 # gcc missing or failing
                    say(f"  C skipped: {err}")
        if reference is not None:
            for key, result in checks.items():
                err = _mismatch(result(), reference)
                status = "ok" if err <= TOLERANCE else "MISMATCH"
                say(f"  check {key:<22} max rel diff {err:.2e} {status}")
                if err > TOLERANCE:
                    runs.pop(key, None)
        times = round_robin({k: (run, 1) for k, run in runs.items()}, repeats)
        base = median(times["numpy"]) if "numpy" in times else None
        c_ref = {k.split("=")[1]: median(v) for k, v in times.items() if k.startswith("C ")}
        for key, samples in times.items():
            m = median(samples)
            row = dict(size=n, options=label, impl=key, median_s=m, samples=samples)
            if base:
                row["speedup_vs_numpy"] = base / m
            t = key.split("=")[1] if "=" in key else None
            if t in c_ref:
                row["ratio_to_C"] = m / c_ref[t]
            rows.append(row)
            extra = "".join([f"  {row['speedup_vs_numpy']:7.1f}x numpy" if base else "",
                             f"  {row['ratio_to_C']:5.2f}x C" if "ratio_to_C" in row else ""])
            say(f"  {key:<22} {1e3 * m:10.1f} ms/step{extra}")
    return rows


# --------------------------------------------------------------------------- compile time

_COLD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from stencilpy.mpdata import Solver, cases
t1 = time.perf_counter()
ndim, opts = int(sys.argv[1]), json.loads(sys.argv[2])
shape = {1: (64,), 2: (64, 48), 3: (16, 12, 10)}[ndim]
psi = cases.smooth_field(shape) + 0.1
if ndim > 1:
    courant = cases.random_nondivergent_courant(shape, 0.5)
else:
    courant = (cases.constant_courant(shape, 0.4)[0].copy(),)
bcs = opts.get("boundaries")
if bcs is not None:                               # "constant:<v>" -> Constant(v)
    from stencilpy.mpdata.boundaries import parse_boundaries
    def side(s):
        if isinstance(s, list):
            return tuple(side(x) for x in s)
        if not s.startswith("constant:"):
            return s
        from stencilpy.mpdata.boundaries import Constant
        return Constant(float(s.split(":")[1]))
    bcs = parse_boundaries([side(s) for s in bcs] if isinstance(bcs, list) else side(bcs),
                           ndim)
    courant = tuple(c.copy() for c in courant)
    for d, pair in enumerate(bcs):                # no flux through a rigid wall
        for s, entry in zip(pair, (0, shape[d])):
            if s == "rigid":
                index = [slice(None)] * ndim
                index[d] = entry
                courant[d][tuple(index)] = 0.0
    opts["boundaries"] = bcs
if opts.pop("g_factor", False):                   # G != 1 (the general path)
    opts["g_factor"] = 1.0 + 0.2 * cases.smooth_field(shape, seed=3) / 4.0
c0, w0 = time.process_time(), time.perf_counter()
solver = Solver(psi, courant, **opts)      # (may analyse a kernel: its halo sizes the arrays)
solver.compile()
cpu, seconds = time.process_time() - c0, time.perf_counter() - w0
from stencilpy.runtime import jit
print(json.dumps(dict(import_s=t1 - t0, compile_s=seconds, compile_cpu_s=cpu,
                      llvm_kernels=len(jit._LOADED), sympy="sympy" in sys.modules)))
"""

#: every configuration class: the fused periodic kernels, and the general path (explicit
#: halos) with every boundary kind (open, rigid, Constant, mixed per axis and side) and G
COMPILE_CONFIGS = [(2, dict(n_iters=2)), (2, dict(n_iters=2, nonoscillatory=True)),
                   (2, dict(n_iters=3, nonoscillatory=True)),
                   (2, dict(n_iters=2, nonoscillatory=True, infinite_gauge=True)),
                   (2, dict(n_iters=2, third_order_terms=True)),
                   (1, dict(n_iters=2, nonoscillatory=True)),
                   (3, dict(n_iters=2)), (3, dict(n_iters=2, nonoscillatory=True)),
                   (3, dict(n_iters=3, nonoscillatory=True)),
                   # open
                   (1, dict(n_iters=2, nonoscillatory=True, boundaries="open")),
                   (2, dict(n_iters=2, boundaries="open")),
                   (2, dict(n_iters=2, nonoscillatory=True, boundaries="open")),
                   (2, dict(n_iters=2, nonoscillatory=True, infinite_gauge=True,
                            boundaries="open")),
                   (2, dict(n_iters=3, nonoscillatory=True, third_order_terms=True,
                            boundaries="open")),
                   (3, dict(n_iters=2, boundaries="open")),
                   (3, dict(n_iters=2, nonoscillatory=True, boundaries="open")),
                   # rigid
                   (1, dict(n_iters=2, nonoscillatory=True, boundaries="rigid")),
                   (2, dict(n_iters=2, nonoscillatory=True, boundaries="rigid")),
                   (3, dict(n_iters=2, nonoscillatory=True, boundaries="rigid")),
                   # Constant
                   (1, dict(n_iters=2, nonoscillatory=True, boundaries="constant:0.5")),
                   (2, dict(n_iters=2, nonoscillatory=True, boundaries="constant:0.5")),
                   (3, dict(n_iters=2, nonoscillatory=True, boundaries="constant:0.5")),
                   # mixed per axis and side
                   (2, dict(n_iters=2, nonoscillatory=True,
                            boundaries=["periodic", ["open", "rigid"]])),
                   (3, dict(n_iters=2, nonoscillatory=True,
                            boundaries=[["constant:1.0", "open"], "periodic", "rigid"])),
                   # G
                   (1, dict(n_iters=2, nonoscillatory=True, g_factor=True)),
                   (2, dict(n_iters=2, nonoscillatory=True, g_factor=True)),
                   (2, dict(n_iters=2, nonoscillatory=True, g_factor=True, g_form="pympdata",
                            boundaries="open")),
                   (3, dict(n_iters=2, nonoscillatory=True, g_factor=True, boundaries="open"))]


def _cold_once(ndim, opts, pythonpath=None):
    """One cold compile in a fresh process with an empty cache; None if that tree cannot
    run the configuration (a baseline without the feature)."""
    tree = Path(__file__).resolve().parents[2] if pythonpath is None else Path(pythonpath)
    with tempfile.TemporaryDirectory(prefix="stencilpy-cold-") as cache:
        env = dict(os.environ, STENCILPY_CACHE_DIR=cache, PYTHONPATH=str(tree))
        # cwd: "python -c" puts it first on sys.path
        proc = subprocess.run([sys.executable, "-c", _COLD_CHILD, str(ndim), json.dumps(opts)],
                              capture_output=True, text=True, env=env, timeout=600, cwd=tree)
    if proc.returncode != 0:
        if pythonpath is not None:
            return None
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def config_label(ndim, opts) -> str:
    """``3-D it2 fct open`` style label of a configuration."""
    parts = [f"{ndim}-D", f"it{opts.get('n_iters', 2)}"]
    parts += [short for key, short in (("nonoscillatory", "fct"), ("infinite_gauge", "iga"),
                                       ("third_order_terms", "tot")) if opts.get(key)]
    if opts.get("g_factor"):
        parts.append("G" + ("(pympdata)" if opts.get("g_form") == "pympdata" else ""))
    bcs = opts.get("boundaries", "periodic")
    parts.append(bcs if isinstance(bcs, str) else json.dumps(bcs).replace('"', ""))
    return " ".join(parts)


def cold_compile(say, repeats=1, baseline=None):
    """Each configuration in a fresh process with an empty cache directory, best of
    ``repeats`` (wall time); with ``baseline`` (a source tree) the same configurations
    with that tree, interleaved run by run, in a second column."""
    rows = []
    head = "| configuration | compile s (cpu s) | LLVM kernels | sympy |"
    if baseline is not None:
        head = ("| configuration | baseline compile s (cpu s) | kernels | compile s (cpu s) "
                "| kernels | sympy |")
    say(head)
    say("|" + "---|" * (head.count("|") - 1))
    for ndim, opts in COMPILE_CONFIGS:
        best, base = None, None
        for _ in range(repeats):
            if baseline is not None:
                result = _cold_once(ndim, dict(opts), baseline)
                if result is not None and (base is None or result["compile_s"] < base["compile_s"]):
                    base = result
            result = _cold_once(ndim, dict(opts))
            if best is None or result["compile_s"] < best["compile_s"]:
                best = result
        row = dict(ndim=ndim, options=opts, label=config_label(ndim, opts), **best)
        cells = [row["label"]]
        if baseline is not None:
            row["baseline"] = base
            cells += ["n/a", "-"] if base is None else \
                [f"{base['compile_s']:.2f} ({base['compile_cpu_s']:.2f})",
                 str(base.get("llvm_kernels", "?"))]
        cells += [f"{best['compile_s']:.2f} ({best['compile_cpu_s']:.2f})",
                  str(best["llvm_kernels"]), "yes" if best["sympy"] else "no"]
        say("| " + " | ".join(cells) + " |")
        rows.append(row)
    worst = max(rows, key=lambda r: r["compile_s"])
    say(f"slowest: {worst['label']} {worst['compile_s']:.2f} s; import of stencilpy.mpdata "
        f"{min(r['import_s'] for r in rows):.2f}-{max(r['import_s'] for r in rows):.2f} s "
        "(not included)")
    return rows


# --------------------------------------------------------------------------- rotating cone

CONE_CONFIGS = [dict(n_iters=1), dict(n_iters=2), dict(n_iters=3),
                dict(n_iters=2, nonoscillatory=True), dict(n_iters=3, nonoscillatory=True),
                dict(n_iters=2, nonoscillatory=True, infinite_gauge=True),
                dict(n_iters=2, nonoscillatory=True, infinite_gauge=True, third_order_terms=True),
                dict(n_iters=2, nonoscillatory=True, third_order_terms=True),
                dict(n_iters=3, nonoscillatory=True, third_order_terms=True)]


def cone_table(say, n=100):
    """Smolarkiewicz (1984) rotating cone, one revolution, every option set of the docs
    table; stencilpy and the numpy reference on the same steps (markdown rows)."""
    from stencilpy.mpdata import Solver, cases
    from stencilpy.mpdata.reference import mpdata_advance

    rows = []
    say("| options | background | L1 | L2 | Linf | min | max | mass change | stencilpy s "
        "| numpy s | speed-up | vs numpy |")
    say("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for opts in CONE_CONFIGS:
        background = 1.0 if opts.get("third_order_terms") and not opts.get("infinite_gauge") \
            else 0.0
        case = cases.rotating_cone(n, background=background)
        solver = Solver(case.psi0, case.courant, **opts)
        solver.compile()
        t0 = time.perf_counter()
        solver.run(case.n_steps)
        t_sp = time.perf_counter() - t0
        out = solver.state
        t0 = time.perf_counter()
        ref = mpdata_advance(case.psi0, case.courant, case.n_steps, **opts)
        t_np = time.perf_counter() - t0
        mismatch = _mismatch(out, ref)
        e = cases.error_norms(out - background, case.exact - background)
        mass = (out.sum() - case.psi0.sum()) / case.psi0.sum()
        label = ", ".join(f"{k}" if v is True else f"{k}={v}" for k, v in opts.items())
        rows.append(dict(options=opts, background=background, norms=e, mass=mass,
                         stencilpy_s=t_sp, numpy_s=t_np, mismatch=mismatch))
        say(f"| {label} | {background:g} | {e['L1']:.4f} | {e['L2']:.4f} | {e['Linf']:.4f} | "
            f"{e['min'] + background:.3g} | {e['max'] + background:.4f} | {mass:.1e} | "
            f"{t_sp:.3f} | {t_np:.2f} | {t_np / t_sp:.0f}x | {mismatch:.0e} |")
    return rows


# --------------------------------------------------------------------------- driver


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m stencilpy.bench.mpdata_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="2048", help="comma list of grid sizes n (n x n)")
    p.add_argument("--large", action="store_true", help="also 8192 x 8192")
    p.add_argument("--numpy-large", action="store_true",
                   help="run the numpy reference at 8192^2 too (slow, ~10 GB of temporaries)")
    p.add_argument("--impls", default="stencilpy,stencilpy-fused,numpy,C",
                   help="comma list of stencilpy, stencilpy-fused, numpy, C")
    p.add_argument("--threads", default=None,
                   help="comma list of thread counts (default: 1 and all cores)")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    p.add_argument("--repeats-compile", type=int, default=1,
                   help="with --compile: cold runs per configuration, the best kept (default 1)")
    p.add_argument("--compile", action="store_true",
                   help="measure the cold compile time of the MPDATA kernels instead")
    p.add_argument("--baseline", type=Path, default=None,
                   help="with --compile: also time this source tree (e.g. an exported older "
                        "commit), interleaved, in a second column")
    p.add_argument("--cone", action="store_true",
                   help="the rotating-cone table (error norms, mass, time vs numpy) instead")
    p.add_argument("--json", type=Path, default=None, help="write the results to this file")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    set_omp_wait_policy()
    say = lambda text="": print(text, flush=True)          # noqa: E731
    if args.compile:
        say("cold compile of every kernel a configuration uses (fresh process, empty cache; "
            f"best of {args.repeats_compile}):")
        rows = cold_compile(say, args.repeats_compile, args.baseline)
    elif args.cone:
        rows = cone_table(say)
    else:
        from stencilpy.options import default_threads
        cores = default_threads()
        threads = sorted({1, cores}) if args.threads is None else \
            [int(t) for t in args.threads.split(",")]
        impls = {s.strip() for s in args.impls.split(",") if s.strip()}
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        if args.large and 8192 not in sizes:
            sizes.append(8192)
        rows = []
        for n in sizes:
            rows += bench_size(n, impls, threads, args.repeats,
                               with_numpy=n < 8192 or args.numpy_large, say=say)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))
        say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
