"""Start-up and call latency of stencilpy, each figure measured in fresh processes.

    python -m stencilpy.bench.latency [--repeat 7] [--keep-env]

Prints four figures (median over ``--repeat`` fresh processes; wall time, and in
brackets the process's CPU time, which is less disturbed by other load):

1. ``import stencilpy`` (numpy included, as a user sees it);
2. first call of the 2-D Laplacian with a cold cache (empty ``STENCILPY_CACHE_DIR``):
   the part spent compiling (``runtime.jit.load``: LLVM IR generation, importing
   llvmlite, O3, object code, loading) and the whole decoration + first call;
3. decoration + first call with a warm cache, in a new process;
4. per-call overhead: one call of the Laplacian on a 16 x 16 array (and with ``out=``).

Python's bytecode cache matters a lot for start-up: if ``PYTHONDONTWRITEBYTECODE``
is set, every import recompiles from source.  Unless ``--keep-env`` is given, the
child processes therefore write bytecode under a private ``PYTHONPYCACHEPREFIX``
(as an installed package would have it) and one unmeasured run fills it first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGETS = {"import": 0.3, "cold_compile": 0.2, "warm": 0.010, "per_call": 10e-6}

_CHILD = r'''
import json, sys, time
mode = sys.argv[1]
w0, c0 = time.perf_counter(), time.process_time()
import numpy as np
import stencilpy as sp
w1, c1 = time.perf_counter(), time.process_time()
result = {"import": [w1 - w0, c1 - c0],
          "heavy": sorted(m for m in ("sympy", "xarray", "dask", "matplotlib", "llvmlite.binding")
                          if m in sys.modules)}
if mode != "import":
    compile_time = [0.0, 0.0]
    if mode == "cold":
        from stencilpy.runtime import jit
        original = jit.load
        def timed(*args, **kwargs):
            t, c = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                compile_time[0] += time.perf_counter() - t
                compile_time[1] += time.process_time() - c
        jit.load = timed
    u = np.random.default_rng(0).random((16, 16))
    w2, c2 = time.perf_counter(), time.process_time()

    @sp.stencil
    def laplacian(u):
        return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]

    w3 = time.perf_counter()
    laplacian(u)
    w4, c4 = time.perf_counter(), time.process_time()
    kernels = list(getattr(getattr(laplacian, "compiler", None), "kernels",
                           getattr(laplacian, "_kernels", {})).values())
    result.update(first=[w4 - w2, c4 - c2], decorate=w3 - w2, call=w4 - w3,
                  compile=compile_time,
                  loaded=[(getattr(k.loaded, "loader", "?"), k.loaded.from_cache)
                          for k in kernels if hasattr(k, "loaded")],
                  after=sorted(m for m in ("sympy", "llvmlite.binding") if m in sys.modules))
    if mode == "call":
        import timeit
        out = np.empty_like(u)
        for name, fn in (("per_call", lambda: laplacian(u)),
                         ("per_call_out", lambda: laplacian(u, out=out))):
            timer = timeit.Timer(fn)
            n, _ = timer.autorange()
            wall = min(timer.repeat(repeat=7, number=n)) / n
            cpu_timer = timeit.Timer(fn, timer=time.process_time)
            cpu = min(cpu_timer.repeat(repeat=7, number=n)) / n
            result[name] = [wall, cpu]
print("RESULT " + json.dumps(result))
'''


def _env(cache_dir: Path, pyc_dir: Path | None) -> dict:
    env = dict(os.environ)
    env["STENCILPY_CACHE_DIR"] = str(cache_dir)
    env.pop("STENCILPY_CACHE", None)
    env.pop("STENCILPY_DUMP", None)
    if pyc_dir is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pyc_dir)
    root = str(Path(__file__).resolve().parents[2])      # the folder holding stencilpy/
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _child(script: Path, mode: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True,
                          text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"latency child ({mode}) failed:\n{proc.stdout}\n{proc.stderr}")


def measure(repeat: int = 7, keep_env: bool = False) -> dict:
    """Run the fresh-process measurements; returns the raw per-run results."""
    with tempfile.TemporaryDirectory(prefix="stencilpy-latency-") as tmp:
        tmp = Path(tmp)
        script = tmp / "latency_child.py"
        script.write_text(_CHILD)
        pyc = None if keep_env else tmp / "pyc"
        warm_dir = tmp / "warm-cache"
        _child(script, "cold", _env(tmp / "pyc-fill-cache", pyc))   # fill bytecode, sympy too
        _child(script, "cold", _env(warm_dir, pyc))                  # fill the warm cache
        runs: dict[str, list] = {"import": [], "cold": [], "warm": [], "call": []}
        for k in range(repeat):
            runs["import"].append(_child(script, "import", _env(warm_dir, pyc)))
            runs["cold"].append(_child(script, "cold", _env(tmp / f"cold-{k}", pyc)))
            runs["warm"].append(_child(script, "warm", _env(warm_dir, pyc)))
        runs["call"].append(_child(script, "call", _env(warm_dir, pyc)))
        return runs


def summarise(runs: dict) -> dict:
    med = statistics.median
    cold, warm = runs["cold"], runs["warm"]
    return {
        "import": (med(r["import"][0] for r in runs["import"]),
                   med(r["import"][1] for r in runs["import"])),
        "import_heavy": sorted({m for r in runs["import"] for m in r["heavy"]}),
        "cold_first": (med(r["first"][0] for r in cold), med(r["first"][1] for r in cold)),
        "cold_compile": (med(r["compile"][0] for r in cold), med(r["compile"][1] for r in cold)),
        "warm": (med(r["first"][0] for r in warm), med(r["first"][1] for r in warm)),
        "warm_decorate": med(r["decorate"] for r in warm),
        "warm_call": med(r["call"] for r in warm),
        "warm_loaded": warm[-1]["loaded"],
        "warm_after": sorted({m for r in warm for m in r["after"]}),
        "per_call": runs["call"][0]["per_call"],
        "per_call_out": runs["call"][0]["per_call_out"],
    }


def report(s: dict, repeat: int) -> str:
    ms = lambda x: f"{x * 1e3:7.1f} ms"  # noqa: E731
    ok = lambda x, key: "ok " if x <= TARGETS[key] else "MISS"  # noqa: E731
    lines = [f"stencilpy latency (median of {repeat} fresh processes; wall time [CPU time of the "
             f"process: a fairer figure when other work shares the machine])", ""]
    lines.append(f"{ok(s['import'][0], 'import')} import stencilpy            {ms(s['import'][0])}"
                 f"  [{ms(s['import'][1]).strip()}]   target <= 300 ms; eagerly imported heavy "
                 f"modules: {', '.join(s['import_heavy']) or 'none'}")
    lines.append(f"{ok(s['cold_compile'][0], 'cold_compile')} cold cache: compile          "
                 f"{ms(s['cold_compile'][0])}  [{ms(s['cold_compile'][1]).strip()}]   target "
                 f"<= 200 ms (IR generation, importing llvmlite, O3, object code, loading)")
    lines.append(f"     cold cache: decorate + call {ms(s['cold_first'][0])}  "
                 f"[{ms(s['cold_first'][1]).strip()}]   (includes importing llvmlite; sympy only for offsets that are not ints)")
    lines.append(f"{ok(s['warm'][0], 'warm')} warm cache: decorate + call {ms(s['warm'][0])}  "
                 f"[{ms(s['warm'][1]).strip()}]   target <= 10 ms (decorate "
                 f"{s['warm_decorate'] * 1e3:.1f} ms, first call {s['warm_call'] * 1e3:.1f} ms; "
                 f"loaded {s['warm_loaded']}; also imported: "
                 f"{', '.join(s['warm_after']) or 'none'})")
    lines.append(f"{ok(s['per_call'][0], 'per_call')} per call, 16 x 16           "
                 f"{s['per_call'][0] * 1e6:7.1f} us  [{s['per_call'][1] * 1e6:.1f} us]   target "
                 f"<= 10 us (with out=: {s['per_call_out'][0] * 1e6:.1f} us "
                 f"[{s['per_call_out'][1] * 1e6:.1f} us]; best of 7 batches)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stencilpy.bench.latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per figure")
    parser.add_argument("--keep-env", action="store_true",
                        help="run children with this environment's bytecode settings")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON too")
    args = parser.parse_args(argv)
    summary = summarise(measure(args.repeat, args.keep_env))
    print(report(summary, args.repeat))
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
