"""``stencilpy demo``: the EULAG-style advection test, MPDATA's rotating cone.

Smolarkiewicz (1984): a cone of radius 15 cells and height 4 in solid-body rotation on a
doubly periodic 100 x 100 grid, 628 time steps per revolution.  The demo advances it one
revolution with :class:`stencilpy.mpdata.Solver` (kernels compiled by stencilpy), runs the
same steps with the independent numpy reference (``stencilpy.mpdata.reference``), checks
that the two agree to 1e-12, and writes a CF-1.8 netCDF file and a PNG of the initial
field, the final field and the error.  Everything is built in: no download.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time
from pathlib import Path

import numpy as np

NC_NAME = "rotating_cone.nc"
PNG_NAME = "rotating_cone.png"
#: the grid spacing and time step the Courant numbers stand for (Smolarkiewicz 1984)
DX, DT = 1.0, 0.1
AGREEMENT = 1e-12
#: beyond this the two implementations disagree for real (exit code 1)
DISAGREEMENT = 1e-9


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=100,
                        help="grid cells per axis (default 100, as in Smolarkiewicz 1984)")
    parser.add_argument("--steps", type=int, default=None,
                        help="time steps (default: one revolution, 628 steps for n=100, "
                             "scaled with n to keep the Courant numbers)")
    parser.add_argument("--n-iters", type=int, default=2,
                        help="MPDATA passes per step: 1 upwind, 2 standard (default), 3+")
    parser.add_argument("--nonoscillatory", action=argparse.BooleanOptionalAction,
                        default=True, help="FCT limiter (default on)")
    parser.add_argument("--infinite-gauge", action="store_true",
                        help="infinite-gauge variant (needs --n-iters 1 or 2)")
    parser.add_argument("--third-order-terms", action="store_true",
                        help="third-order terms (a strictly positive field: the cone then "
                             "sits on a background of 1 unless --infinite-gauge)")
    parser.add_argument("--background", type=float, default=None,
                        help="value around the cone (default 0; 1 with --third-order-terms "
                             "without --infinite-gauge)")
    parser.add_argument("--threads", type=int, default=None,
                        help="worker threads of the kernels (default: all cores)")
    parser.add_argument("--output", type=Path, default=Path("stencilpy-output"), metavar="DIR",
                        help="output directory (default ./stencilpy-output)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the numpy reference run (no timing comparison)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars and no report (errors still go to stderr)")


class _Say:
    def __init__(self, quiet: bool):
        self.quiet = quiet

    def __call__(self, text: str = "") -> None:
        if not self.quiet:
            print(text, flush=True)


def _fail(message: str) -> int:
    print(f"stencilpy demo: error: {message}", file=sys.stderr)
    return 2


def run_demo(args) -> int:
    from stencilpy.mpdata import Solver, cases

    say = _Say(args.quiet)
    missing = _missing_packages(plot=not args.no_plot)
    if missing:
        return _fail(missing)
    options = dict(n_iters=args.n_iters, nonoscillatory=args.nonoscillatory,
                   infinite_gauge=args.infinite_gauge, third_order_terms=args.third_order_terms)
    background = args.background
    if background is None:
        background = 1.0 if args.third_order_terms and not args.infinite_gauge else 0.0
    try:
        case = cases.rotating_cone(args.n, background=background)
        steps = case.n_steps if args.steps is None else int(args.steps)
        if steps < 0:
            raise ValueError(f"--steps must be >= 0, got {steps}")
        solver = Solver(case.psi0, case.courant, threads=args.threads, **options)
    except ValueError as err:
        return _fail(str(err))
    exact = _exact_cone(case.params, steps)
    _header(say, case, steps, solver)

    t_compile = solver.compile()
    final, t_solver = _run_solver(solver, steps, args.quiet)

    t_reference = mismatch = None
    if not args.no_reference:
        reference, t_reference = _run_reference(case, steps, options, args.quiet)
        mismatch = float(np.max(np.abs(final - reference)) / max(np.max(np.abs(reference)),
                                                                   np.finfo(float).tiny))
    norms = cases.error_norms(final - background, exact - background)
    norms["mass_rel_change"] = float((final.sum() - case.psi0.sum()) / case.psi0.sum())
    _report(say, case, final, norms, t_compile, t_solver, t_reference, mismatch, steps)

    args.output.mkdir(parents=True, exist_ok=True)
    nc_path = args.output / NC_NAME
    _write_netcdf(nc_path, case, final, exact, steps, options, norms, _command(args, steps))
    say(f"wrote {nc_path}")
    if not args.no_plot:
        png_path = args.output / PNG_NAME
        _write_png(png_path, case, final, exact, steps, options, norms)
        say(f"wrote {png_path}")
    if mismatch is not None and not mismatch <= DISAGREEMENT:
        print(f"stencilpy demo: error: stencilpy and the numpy reference differ by "
              f"{mismatch:.3g} (relative, max norm) > {DISAGREEMENT:g}", file=sys.stderr)
        return 1
    return 0


def _missing_packages(plot: bool) -> str | None:
    """What is missing to write the outputs (checked before the run), or None."""
    import importlib.util

    if importlib.util.find_spec("xarray") is None:
        return "the demo writes netCDF with xarray: pip install 'stencilpy[xarray]'"
    if not any(importlib.util.find_spec(m) for m in ("netCDF4", "h5netcdf")):
        return "writing netCDF needs the netCDF4 or h5netcdf package: pip install netCDF4"
    if plot and importlib.util.find_spec("matplotlib") is None:
        return "the PNG needs matplotlib: pip install matplotlib (or run with --no-plot)"
    return None


# --------------------------------------------------------------------------- the case


def _exact_cone(params: dict, steps: int) -> np.ndarray:
    """The cone rotated by ``steps * omega_dt`` about the rotation centre (counter-clockwise)."""
    n, theta = params["n"], steps * params["omega_dt"]
    if steps % params["steps_per_revolution"] == 0:
        theta = 0.0                                     # whole revolutions: exactly psi0
    (x0, y0), (xc, yc) = params["cone_centre"], params["rotation_centre"]
    cx = xc + (x0 - xc) * math.cos(theta) - (y0 - yc) * math.sin(theta)
    cy = yc + (x0 - xc) * math.sin(theta) + (y0 - yc) * math.cos(theta)
    centres = np.arange(n) + 0.5
    r = np.hypot(centres[:, None] - cx, centres[None, :] - cy)
    return params["background"] + params["height"] * np.maximum(0.0, 1.0 - r / params["radius"])


def _run_solver(solver, steps, quiet):
    from stencilpy.mpdata.progress import ProgressBar

    bar = None if quiet else ProgressBar(steps, label="stencilpy MPDATA ")
    t0 = time.perf_counter()
    if bar is None:
        final = solver.advance(steps)
    else:
        with bar:
            final = solver.advance(steps, progress=lambda done, total: bar.update(done))
    return final, time.perf_counter() - t0


def _run_reference(case, steps, options, quiet):
    from stencilpy.mpdata.progress import ProgressBar
    from stencilpy.mpdata.reference import mpdata_advance

    psi = case.psi0
    chunk = max(1, steps // 50)
    t0 = time.perf_counter()
    bar = None if quiet else ProgressBar(steps, label="numpy reference  ")
    done = 0
    while done < steps:
        k = min(chunk, steps - done)
        psi = mpdata_advance(psi, case.courant, k, **options)
        done += k
        if bar is not None:
            bar.update(done)
    if bar is not None:
        bar.close()
    return psi, time.perf_counter() - t0


# --------------------------------------------------------------------------- text report


def _option_text(solver) -> str:
    o = solver.options
    flags = [name for name in ("nonoscillatory", "infinite_gauge", "third_order_terms")
             if getattr(o, name)]
    return f"n_iters={o.n_iters}" + "".join(f", {f}" for f in flags)


def _header(say, case, steps, solver) -> None:
    p = case.params
    revolutions = steps / p["steps_per_revolution"]
    say(f"MPDATA rotating cone (Smolarkiewicz 1984) on a periodic {p['n']}x{p['n']} grid")
    say(f"  {steps} steps = {revolutions:.3g} revolution(s); omega*dt = {p['omega_dt']:.6f}; "
        f"largest |Cx|+|Cy| = {p['corner_courant_sum']:.4f}")
    say(f"  cone: radius {p['radius']:g} cells, height {p['height']:g}, background "
        f"{p['background']:g}; options: {_option_text(solver)}")


def _report(say, case, final, norms, t_compile, t_solver, t_reference, mismatch, steps):
    psi0 = case.psi0
    say("error norms (normalised by the exact cone, as in the literature):")
    say(f"  L1 = {norms['L1']:.4e}   L2 = {norms['L2']:.4e}   Linf = {norms['Linf']:.4e}")
    say(f"mass change (relative): {norms['mass_rel_change']:+.3e}")
    say(f"min/max: initial {psi0.min():.6g} / {psi0.max():.6g}   final {final.min():.6g} / "
        f"{final.max():.6g}")
    per_step = 1e3 * t_solver / max(steps, 1)
    say(f"stencilpy: {t_solver:.3f} s ({per_step:.3f} ms/step), kernels ready in "
        f"{t_compile:.2f} s (compile or cache load, plus one step)")
    if t_reference is not None:
        speedup = t_reference / t_solver if t_solver > 0 else float("inf")
        say(f"numpy reference: {t_reference:.3f} s -> stencilpy is {speedup:.1f}x faster; "
            f"max |stencilpy - numpy| / max |numpy| = {mismatch:.2e}")
        if mismatch > AGREEMENT:
            say(f"  note: above {AGREEMENT:g}: one-ulp differences (e.g. c*c*c against numpy's "
                "c**3 in the third-order terms) grow in the checkerboard mode of the periodic "
                "corners when the background is not 0 (see stencilpy.mpdata.cases."
                "rotating_cone)")


# --------------------------------------------------------------------------- files


def _bool_attr(value: bool) -> str:
    return "true" if value else "false"


def _command(args, steps) -> str:
    """The demo's command line, with every value spelled out (for the history attribute)."""
    words = ["stencilpy demo", f"--n {args.n}", f"--steps {steps}", f"--n-iters {args.n_iters}",
             "--nonoscillatory" if args.nonoscillatory else "--no-nonoscillatory"]
    words += [flag for flag, on in (("--infinite-gauge", args.infinite_gauge),
                                    ("--third-order-terms", args.third_order_terms)) if on]
    if args.background is not None:
        words.append(f"--background {args.background:g}")
    return " ".join(words)


def _write_netcdf(path, case, final, exact, steps, options, norms, command) -> None:
    import xarray as xr

    import stencilpy

    n = case.params["n"]
    centres = (np.arange(n) + 0.5) * DX
    coords = {
        "x": ("x", centres, {"units": "m", "axis": "X", "long_name": "x of cell centre",
                             "standard_name": "projection_x_coordinate"}),
        "y": ("y", centres.copy(), {"units": "m", "axis": "Y", "long_name": "y of cell centre",
                                    "standard_name": "projection_y_coordinate"}),
    }
    dims = ("y", "x")                          # CF order; the arrays are indexed [x, y]
    data = {
        "psi_initial": (dims, case.psi0.T, {"long_name": "advected scalar at t = 0",
                                            "units": "1"}),
        "psi_final": (dims, final.T, {"long_name": f"advected scalar after {steps} steps "
                                                   f"(stencilpy MPDATA)", "units": "1"}),
        "error": (dims, (final - exact).T, {"long_name": "psi_final minus the exact solution",
                                            "units": "1"}),
    }
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    attrs = {
        "title": "MPDATA rotating cone (Smolarkiewicz 1984) computed with stencilpy",
        "Conventions": "CF-1.8",
        "history": f"{now}: {command}",
        "source": f"stencilpy {stencilpy.__version__}, stencilpy.mpdata.Solver",
        "references": "Smolarkiewicz, P. K. (1984), J. Comput. Phys. 54, 325-362",
        "grid": f"{n} x {n} periodic, dx = dy = {DX:g} m, dt = {DT:g} s",
        "steps": np.int32(steps),
        "omega_dt": case.params["omega_dt"],
        "n_iters": np.int32(options["n_iters"]),
        "nonoscillatory": _bool_attr(options["nonoscillatory"]),
        "infinite_gauge": _bool_attr(options["infinite_gauge"]),
        "third_order_terms": _bool_attr(options["third_order_terms"]),
        "epsilon": 1e-15,
        "error_L1": norms["L1"], "error_L2": norms["L2"], "error_Linf": norms["Linf"],
        "mass_relative_change": norms["mass_rel_change"],
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    encoding = {name: {"zlib": True, "complevel": 4} for name in data}
    ds.to_netcdf(path, engine=_netcdf_engine(), encoding=_engine_encoding(encoding))


def _netcdf_engine() -> str:
    import importlib.util
    for engine, module in (("netcdf4", "netCDF4"), ("h5netcdf", "h5netcdf")):
        if importlib.util.find_spec(module) is not None:
            return engine
    raise RuntimeError("writing netCDF needs the netCDF4 or h5netcdf package: "
                       "pip install netCDF4")


def _engine_encoding(encoding: dict) -> dict:
    if _netcdf_engine() == "h5netcdf":
        return {k: {"compression": "gzip", "compression_opts": 4} for k in encoding}
    return encoding


def _write_png(path, case, final, exact, steps, options, norms) -> None:
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    n = case.params["n"]
    extent = (0.0, n * DX, 0.0, n * DX)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    lo = min(case.psi0.min(), final.min())
    hi = max(case.psi0.max(), final.max())
    error = final - exact
    bound = max(float(np.max(np.abs(error))), 1e-300)
    panels = [(case.psi0, "initial field", "viridis", lo, hi),
              (final, f"after {steps} steps", "viridis", lo, hi),
              (error, "error (final - exact)", "RdBu_r", -bound, bound)]
    for ax, (field, title, cmap, vmin, vmax) in zip(axes, panels):
        im = ax.imshow(field.T, origin="lower", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title)
        ax.set_xlabel("x [m]")
        ax.set_ylabel("y [m]")
        fig.colorbar(im, ax=ax, shrink=0.85)
    flags = [k for k in ("nonoscillatory", "infinite_gauge", "third_order_terms") if options[k]]
    fig.suptitle(f"MPDATA rotating cone, n_iters={options['n_iters']}"
                 f"{''.join(', ' + f for f in flags)}: L1 {norms['L1']:.3g}, "
                 f"L2 {norms['L2']:.3g}, Linf {norms['Linf']:.3g}")
    fig.savefig(path, dpi=100)
    plt.close(fig)
