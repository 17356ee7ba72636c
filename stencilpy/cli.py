"""The ``stencilpy`` command: demo, bench, tune, info, cache."""

from __future__ import annotations

import argparse
import os
import sys

from stencilpy.about import cpu_model


def _cmd_info(args) -> int:
    import platform

    import llvmlite
    import numpy

    import stencilpy
    from stencilpy.runtime import jit

    cpu, features = jit.host()
    enabled = [f[1:] for f in features.split(",") if f.startswith("+")]
    simd = [f for f in enabled if f.startswith(("avx", "sse4", "fma", "neon", "sve"))]
    print(f"stencilpy   {stencilpy.__version__}")
    print(f"python      {platform.python_version()} ({platform.platform()})")
    print(f"numpy       {numpy.__version__}")
    print(f"llvmlite    {llvmlite.__version__} (LLVM {jit.llvm_version()})")
    for name in ("sympy", "xarray", "dask", "distributed", "netCDF4", "h5netcdf", "matplotlib",
                 "numba"):
        print(f"{name:<11} {_version(name)}")
    print(f"cpu         {cpu} ({cpu_model()})")
    print(f"simd        {' '.join(sorted(simd)) or '-'}")
    from stencilpy.options import default_threads
    print(f"threads     {default_threads()} (STENCILPY_NUM_THREADS overrides)")
    print(f"cache       {_cache_line()}")
    print(f"gpu         {_gpu_line()}")
    _print_tuning()
    return 0


def _print_tuning() -> None:
    from dataclasses import fields

    from stencilpy.runtime import tuning
    choices, source, notes = tuning.describe()
    print(f"cpu id      {tuning.model_line()} [tuning key {tuning.key()[:12]}]")
    print(f"tuning      {source}")
    for f in fields(choices):
        value = getattr(choices, f.name)
        mark = "" if value == getattr(tuning.DEFAULT, f.name) else "  (tuned)"
        print(f"  {f.name:<22} {value}{mark}")
    for line in notes.splitlines():
        print(f"  | {line}")


def _set_choices(tuning, assignments: list[str]) -> int:
    """``stencilpy tune --set name=value ...``: store choices given by hand (the others as
    stored, else the defaults)."""
    from dataclasses import fields, replace
    stored = tuning.load()
    choices, notes = stored if stored is not None else (tuning.DEFAULT, "")
    kinds = {f.name: f.type for f in fields(choices)}
    changes = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or name not in kinds:
            print(f"stencilpy tune --set: '{item}' is not name=value with a name among "
                  f"{', '.join(kinds)}", file=sys.stderr)
            return 2
        changes[name] = value
    try:
        choices = replace(choices, **{k: int(v) if kinds[k] in ("int", int) else v
                                      for k, v in changes.items()})
    except ValueError as exc:
        print(f"stencilpy tune --set: {exc}", file=sys.stderr)
        return 2
    note = "set by hand: " + ", ".join(assignments)
    if not tuning.store(choices, "\n".join(x for x in (notes, note) if x)):
        print("not stored: the kernel cache is disabled, unwritable or not trusted",
              file=sys.stderr)
        return 1
    print("stored: " + (", ".join(f"{k}={v}" for k, v in choices.differences().items())
                        or "the defaults"))
    return 0


def _cmd_tune(args) -> int:
    from stencilpy.runtime import tuning
    if args.reset:
        tuning.store(tuning.DEFAULT, "reset to the defaults by 'stencilpy tune --reset'")
        print("this CPU's choices reset to the defaults")
        return 0
    if args.set:
        return _set_choices(tuning, args.set)
    if not tuning.enabled():
        print("note: STENCILPY_TUNING=off: the choices are measured and stored, but calls in "
              "processes with that setting use the defaults")
    from stencilpy.tune import tune
    choices, _ = tune(budget=args.budget, store=not args.dry_run)
    diff = choices.differences()
    print("choices: " + (", ".join(f"{k}={v}" for k, v in diff.items()) or "the defaults"))
    return 0


def _gpu_line() -> str:
    """What the GPU backend would use here (no GPU library is imported)."""
    import importlib.util

    from stencilpy.runtime.gpu import ptx
    have = [n for n in ("cupy", "cuda.bindings") if _spec_found(importlib.util, n)]
    lib = ptx.libdevice_path() or "not found (math functions unavailable; STENCILPY_LIBDEVICE)"
    return (f"{', '.join(have) or 'no CuPy / cuda-python'}; libdevice {lib}; "
            f"ptxas {ptx.ptxas_path() or '-'}")


def _spec_found(util, name: str) -> bool:
    try:
        return util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _cache_line() -> str:
    from stencilpy.runtime import cache
    c = cache.DiskCache()
    where = f"{c.path} ({_cache_size(c)}, limit {c.max_bytes / 2**20:.0f} MiB)"
    if not cache.cache_enabled():
        return f"disabled by STENCILPY_CACHE=0 (would be {where})"
    source = "STENCILPY_CACHE_DIR" if os.environ.get("STENCILPY_CACHE_DIR", "").strip() \
        else "default; STENCILPY_CACHE_DIR overrides"
    return f"{where} [{source}]"


def _cache_size(c) -> str:
    return f"{c.entries()} entries, {c.size_bytes() / 2**20:.1f} MiB"


def _version(name: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cmd_cache(args) -> int:
    from stencilpy.runtime import cache
    c = cache.DiskCache()
    if args.action == "clear":
        print(f"removed {c.clear()} cache entries (compiled kernels and analyses) from {c.path}")
    else:
        state = "" if cache.cache_enabled() else " (disabled by STENCILPY_CACHE=0)"
        print(f"{c.path}: {_cache_size(c)}{state}")
    return 0


def _cmd_demo(args) -> int:
    if args.case == "diagnostics":
        from stencilpy.demo_diagnostics import run_from_args
        return run_from_args(args)
    from stencilpy.demo import run_demo
    return run_demo(args)


def _bench(argv: list[str]) -> int:
    from stencilpy.bench.run import main as bench_main
    return bench_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stencilpy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="EULAG-style advection of a rotating cone (MPDATA), "
                                       "compared with the numpy reference")
    demo.add_argument("case", nargs="?", choices=("advection", "diagnostics"),
                      default="advection",
                      help="'advection' (default): the MPDATA rotating cone; 'diagnostics': "
                           "vorticity, divergence, advection and Laplacian of a synthetic "
                           "global dataset (netCDF + dask), against MetPy and numpy")
    from stencilpy.demo import add_arguments
    add_arguments(demo)
    diag = demo.add_argument_group("diagnostics case")
    diag.add_argument("--resolution", type=float, default=0.5,
                      help="grid spacing in degrees (default 0.5)")
    diag.add_argument("--levels", type=int, default=4, help="pressure levels (default 4)")
    diag.add_argument("--times", type=int, default=3, help="time steps (default 3)")
    diag.add_argument("--no-metpy", action="store_true", help="skip the MetPy comparison")
    demo.set_defaults(fn=_cmd_demo)
    # listed for the help only: main() hands everything after "bench" to stencilpy.bench.run
    sub.add_parser("bench", help="side-by-side benchmarks (stencilpy, numpy, numba, C); "
                                 "'stencilpy bench --help' for their options")
    tune = sub.add_parser("tune", help="measure the per-machine choices (vector width, "
                                       "interleave, streaming threshold, thread split, hand-off) "
                                       "on this CPU and store them next to the kernels")
    tune.add_argument("--budget", type=float, default=60.0,
                      help="seconds to spend (checked before each choice; default 60): choices "
                           "not measured in time keep their defaults")
    tune.add_argument("--dry-run", action="store_true", help="measure and print, store nothing")
    tune.add_argument("--set", nargs="+", metavar="NAME=VALUE",
                      help="store choices by hand instead of measuring (e.g. stream_long=12*L2)")
    tune.add_argument("--reset", action="store_true",
                      help="store the defaults for this CPU (undo a tuning)")
    tune.set_defaults(fn=_cmd_tune)
    info = sub.add_parser("info", help="versions, CPU features and identity, tuned choices, "
                                       "threads, cache location and size")
    info.set_defaults(fn=_cmd_info)
    cache = sub.add_parser("cache", help="show ('stencilpy cache') or empty ('stencilpy cache "
                                         "clear') the on-disk cache of compiled kernels")
    cache.add_argument("action", choices=("info", "clear"), nargs="?", default="info",
                       help="'info' (default): location and size; 'clear': delete every entry")
    cache.set_defaults(fn=_cmd_cache)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # everything after "bench" belongs to stencilpy.bench.run (argparse would take options
        # such as --quick for its own and refuse them)
        return _bench(argv[1:])
    args = build_parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
