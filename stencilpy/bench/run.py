"""Benchmark driver: ``stencilpy bench [--quick] [--kernels ...] [--sizes ...]``.

For every case: make inputs, compute the numpy reference, check each implementation/thread
count against it (a mismatch marks the row FAILED and it is not timed), then time all of them
interleaved and report medians, ratios to C, speed-ups over numpy and effective GB/s.
"""
import argparse
import gc
import math
import sys
import time
from pathlib import Path

import numpy as np

from . import bandwidth, kernels_c, kernels_numba, kernels_pystencils, kernels_stencilpy, report
from .cases import CASES, KERNELS, bytes_moved, compare
from .impl import Unavailable, load_numpy
from .timing import calibrate, median, round_robin, set_omp_wait_policy

LOADERS = {"C": kernels_c.load, "C-streaming": kernels_c.load_streaming,
           "numba": kernels_numba.load,
           "pystencils": kernels_pystencils.load,
           "pystencils-autovec": kernels_pystencils.load_autovec,
           "numpy": load_numpy, "stencilpy": kernels_stencilpy.load}
PEERS = ("C", "numba", "pystencils", "pystencils-autovec")   # "vs best peer": the fastest of these
# not a peer: C-streaming (the Laplacians in C with streaming stores, the reference of the
# large cases, where stencilpy streams its stores too; report.STREAMING_C)
DEFAULT_OUT = Path("stencilpy-output") / "bench"   # in the current directory, as the demo
SEED = 20261127
MAX_INNER = 10000                 # calls per timed batch at most


def _csv(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="stencilpy bench",
        description="Time stencil kernels in stencilpy, C (gcc -O3 -fopenmp), numba, pystencils 2 "
                    "(own vectoriser and gcc-auto-vectorised, when installed) and numpy; "
                    "each output is checked against numpy first. Writes results.md/.json/.png.")
    p.add_argument("--quick", action="store_true", help="small sizes, 3 repeats (< 1 minute)")
    p.add_argument("--kernels", type=_csv, default=[],
                   help=f"comma list of {', '.join(KERNELS)} (or e.g. lap2d_float32)")
    p.add_argument("--sizes", type=_csv, default=[],
                   help="comma list of small, large or shapes such as 1024x1024")
    p.add_argument("--impls", type=_csv, default=list(LOADERS),
                   help=f"comma list of {', '.join(LOADERS)} (numpy is always the reference)")
    p.add_argument("--threads", type=lambda s: tuple(int(t) for t in _csv(s)), default=(1, 2),
                   help="thread counts for the threaded implementations (default 1,2)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per case (default 7 small / 3 large; 3 with --quick)")
    p.add_argument("--min-batch", type=float, default=None,
                   help="seconds per timed batch of back-to-back calls (default 0.05; quick 0.02)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output directory (default ./{DEFAULT_OUT})")
    opts = p.parse_args(argv)
    if opts.min_batch is None:
        opts.min_batch = 0.02 if opts.quick else 0.05
    return opts


def load_impls(names):
    wanted = {n.lower() for n in names}
    impls, notes = [], []
    for name in LOADERS:
        if name.lower() not in wanted:
            continue
        try:
            impl = LOADERS[name]()
        except Unavailable as exc:
            notes.append(f"{name} skipped: {exc}")
            continue
        impls.append(impl)
        notes += [f"{name} {k} skipped: {why}" for k, why in impl.skipped.items()]
    return impls, notes


def _short(text, limit=160):
    first = str(text).strip().split("\n")[0]
    return first if len(first) <= limit else first[:limit - 3] + "..."


def prepare(case, impl, threads, args, out, ref, row, opts, ref_seconds):
    """Bind, run once (compiles), check against `ref`; returns (run, inner) or None.

    numpy computed `ref` itself (in `ref_seconds`): that call is its warm-up and calibration.
    """
    name = case.kernel.name
    if name not in impl.binders:
        row.update(status="skipped", reason=impl.skipped.get(name, "not implemented"))
        return None
    if impl.name == "numpy":
        inner = min(MAX_INNER, math.ceil(opts.min_batch / ref_seconds))
        return impl.binders[name](args, out, threads), inner
    try:
        run = impl.binders[name](args, out, threads)
        out.fill(np.nan)
        run()
    except Exception as exc:                      # noqa: BLE001 - reported, not fatal
        row.update(status="skipped", reason=f"{type(exc).__name__}: {exc}")
        print(f"  {impl.name} {threads}T skipped: {_short(row['reason'])}", flush=True)
        return None
    mismatch = compare(out, ref, case.kernel.interior(case.shape), case.rtol)
    if mismatch:
        row.update(status="FAILED", reason=mismatch)
        print(f"  !!!!! FAILED: {impl.name} {threads}T {case.label}: {mismatch}", flush=True)
        return None
    return run, calibrate(run, opts.min_batch, MAX_INNER)


def fill_times(rows, times, nbytes):
    by_key = {(r["impl"], r["threads"]): r for r in rows}
    for key, samples in times.items():
        t = median(samples)
        by_key[key].update(time_s=t, min_s=min(samples), samples=samples, gbps=nbytes / t / 1e9)
    numpy_t = by_key.get(("numpy", 1), {}).get("time_s")
    for r in rows:
        if r["status"] != "ok":
            continue
        c_t = by_key.get(("C", r["threads"]), {}).get("time_s")
        r["ratio_c"] = r["time_s"] / c_t if c_t else None
        copies = [by_key[(c, r["threads"])]["time_s"] for c in report.COPIES
                  if by_key.get((c, r["threads"]), {}).get("time_s")]
        copy_t = min(copies) if copies else None              # the fastest copy: the bound
        r["ratio_copy"] = r["time_s"] / copy_t if copy_t and r["impl"] not in report.COPIES \
            else None
        peers = [(by_key[(p, r["threads"])]["time_s"], p) for p in PEERS
                 if by_key.get((p, r["threads"]), {}).get("time_s")]
        if peers and r["impl"] not in PEERS + tuple(report.COPIES):
            best_t, best = min(peers)
            r["ratio_peer"], r["best_peer"] = r["time_s"] / best_t, best
        r["speedup_numpy"] = numpy_t / r["time_s"] if numpy_t else None


def _copy_bound(rows, batches, case, nbytes, opts):
    """Add the bound of the case to ``batches`` (when C is among the implementations): the C
    copies (``report.COPIES``: ordinary stores, streaming stores, memcpy; OpenMP) of as many
    bytes as the case reads and writes (half read, half written), at each thread count, timed
    interleaved with the implementations.  Returns the arrays (kept alive)."""
    n = max(1, nbytes // 16)
    src, dst = np.ones(n), np.zeros(n)
    for name, kind in report.COPIES.items():
        for threads in opts.threads:
            row = dict(case=case.label, kernel=case.kernel.name, dtype=case.dtype,
                       shape=list(case.shape), size=case.size, impl=name, threads=threads,
                       status="ok")
            rows.append(row)
            try:
                run = kernels_c.copy_loop(src, dst, threads, kind)
                run()
            except Unavailable as exc:
                row.update(status="skipped", reason=str(exc))
                continue
            batches[(name, threads)] = (run, calibrate(run, opts.min_batch, MAX_INNER))
            row["inner"] = batches[(name, threads)][1]
    return src, dst


def run_case(case, impls, opts):
    repeats = opts.repeats or (3 if opts.quick or case.size == "large" else 7)
    print(f"\n== {case.label} ({repeats} repeats) ==", flush=True)
    args = case.make_args(np.random.default_rng(SEED))
    ref = np.full(case.shape, np.nan, case.dtype)
    t0 = time.perf_counter()
    case.kernel.reference(*args, ref)
    ref_seconds = max(time.perf_counter() - t0, 1e-9)
    out = np.empty_like(ref)
    rows, batches = [], {}
    for impl in impls:
        for threads in (opts.threads if impl.threaded else (1,)):
            row = dict(case=case.label, kernel=case.kernel.name, dtype=case.dtype,
                       shape=list(case.shape), size=case.size, impl=impl.name,
                       threads=threads, status="ok")
            rows.append(row)
            batch = prepare(case, impl, threads, args, out, ref, row, opts, ref_seconds)
            if batch:
                batches[(impl.name, threads)] = batch
                row["inner"] = batch[1]
    nbytes = bytes_moved(args, out)
    copies = _copy_bound(rows, batches, case, nbytes, opts) \
        if any(i.name == "C" for i in impls) else None       # the C toolchain's copy loop
    fill_times(rows, round_robin(batches, repeats), nbytes)
    del copies
    for cells in report.table_rows(rows):
        print("  " + " | ".join(cells[1:]), flush=True)
    return rows


def write_outputs(out_dir, rows, bw, info, notes, opts):
    out_dir.mkdir(parents=True, exist_ok=True)
    md = report.markdown(rows, bw, info, notes)
    (out_dir / "results.md").write_text(md)
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()}
    report.write_json(out_dir / "results.json", rows, bw, info, notes, options)
    try:
        report.plot(out_dir / "results.png", rows)
    except ImportError as exc:
        print(f"plot skipped: {exc}")
    print("\n" + md)
    print(f"written: {out_dir}/results.md, results.json, results.png")


def main(argv=None) -> int:
    opts = parse_args(argv)
    sizes = ["small"] if opts.quick else opts.sizes
    cases = [c for c in CASES if c.matches(opts.kernels, sizes)]
    cases.sort(key=lambda c: c.size != "small")              # all small cases first
    if not cases:
        print(f"no case matches --kernels {opts.kernels} --sizes {sizes}", file=sys.stderr)
        return 2
    omp_note = set_omp_wait_policy()
    info = report.machine_info()
    print(f"{info['cpu_model']}, {info['usable_cores']} cores, load average "
          f"{info['load_average_start']}; {len(cases)} cases", flush=True)
    impls, notes = load_impls(opts.impls)
    notes.append(omp_note)
    for n in notes:
        print(f"note: {_short(n, 300)}", flush=True)
    bw, bw_notes = bandwidth.measure(opts.threads, repeats=3 if opts.quick else 5)
    notes += bw_notes
    print("copy bandwidth: " + ", ".join(f"{k} {v:.1f} GB/s" for k, v in bw.items()), flush=True)
    rows = []
    for case in cases:
        rows += run_case(case, impls, opts)
        gc.collect()
    info["load_average_end"] = report.load_average()
    write_outputs(opts.out, rows, bw, info, notes, opts)
    failed = [r for r in rows if r["status"] == "FAILED"]
    if failed:
        print(f"\n!!!!! {len(failed)} FAILED rows (output mismatch) — see above", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
