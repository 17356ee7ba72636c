"""PyMPDATA answers for the boundary and G-factor cross-checks, stored for CI.

PyMPDATA (not a dependency of stencilpy) JIT-compiles with Numba for 30-60 s per option
set and boundary combination, so CI compares against answers stored in
``tests/mpdata/pympdata_refs/*.npz`` (a few KB each) that this script writes::

    pip install PyMPDATA                       # 1.7.3 was used
    python -m tests.mpdata.make_pympdata_refs  # rewrites every file (several minutes)
    python -m tests.mpdata.make_pympdata_refs open-2d-it2   # only the cases named
    python -m tests.mpdata.make_pympdata_refs --missing     # only cases without a file

``tests/mpdata/test_pympdata_refs.py`` checks the numpy reference and the stencilpy solver
against the stored files; ``STENCILPY_PYMPDATA_CROSSCHECK=1`` also reruns PyMPDATA live
on every case (``tests/mpdata/test_pympdata_crosscheck.py``).

How our boundaries map onto PyMPDATA's (``PyMPDATA.boundary_conditions``):

* ``periodic`` -> ``Periodic()``;
* ``open`` -> ``Extrapolated(dim, eps=inf)``: PyMPDATA's extrapolation multiplies the edge
  difference by the ratio of the two edge differences when their denominator exceeds
  ``eps``; with ``eps=inf`` the ratio is 0 and the halo is ``max(edge value, 0)``, i.e. zero
  gradient for the non-negative fields used here; its vector halos repeat the edge faces;
* ``rigid`` -> the same, with the Courant numbers of the wall faces set to zero;
* ``Constant(value)`` -> ``Constant(value)`` for the advectee (PyMPDATA's condition is per
  axis, so both sides carry the same value), ``Extrapolated(dim, eps=inf)`` for the advector
  and the G factor (our velocity halos are zero-gradient on a Constant side).

The G factor uses ``g_form="pympdata"`` (PyMPDATA 1.7 leaves 1/G out of the basic
pseudo-velocity; see docs/mpdata.md).  3-D cases use a flow along x only: PyMPDATA keeps one
transverse term per face (docs/mpdata-derivation.md Sec. 5.2), which then coincides with the literature
form.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REF_DIR = Path(__file__).with_name("pympdata_refs")

SHAPES = {1: (23,), 2: (13, 9), 3: (7, 6, 5)}

# option sets: every option appears at least once per boundary kind and rank
OPTION_SETS = {
    "it1": dict(n_iters=1),
    "it2": dict(n_iters=2),
    "it3-fct": dict(n_iters=3, nonoscillatory=True),
    "it2-fct-iga": dict(n_iters=2, nonoscillatory=True, infinite_gauge=True),
    "it2-tot": dict(n_iters=2, third_order_terms=True),
    "it3-fct-tot": dict(n_iters=3, nonoscillatory=True, third_order_terms=True),
    "it2-fct-iga-tot": dict(n_iters=2, nonoscillatory=True, infinite_gauge=True,
                            third_order_terms=True),
}

def _constant(value):
    from stencilpy.mpdata.boundaries import Constant
    return Constant(value)


BOUNDARY_SETS = {
    1: {"open": ("open",), "rigid": ("rigid",), "mixed": (("rigid", "open"),),
        "constant": ("constant:1.5",), "constant0": ("constant:0.0",)},
    2: {"open": ("open", "open"), "rigid": ("rigid", "rigid"),
        "mixed": ("periodic", ("open", "rigid")), "periodic": ("periodic", "periodic"),
        "constant": ("constant:0.25", "periodic"),
        "constant-mixed": ("open", "constant:2.0")},
    3: {"open": ("open",) * 3, "rigid": ("rigid",) * 3,
        "mixed": (("open", "rigid"), "periodic", "open"),
        "constant": ("constant:0.5", "open", "periodic")},
}


def _cases() -> dict:
    """Every boundary kind in every rank with several option sets, and G != 1 (PyMPDATA
    compiles once per option set and combination of boundary-condition types, so the
    rigid and mixed cases mostly reuse the open cases' compilations)."""
    every = ("it1", "it2", "it3-fct", "it2-fct-iga", "it2-tot", "it3-fct-tot",
             "it2-fct-iga-tot")
    plan = [(1, "open", every), (1, "rigid", ("it2", "it3-fct", "it2-fct-iga-tot")),
            (1, "mixed", ("it2-tot", "it3-fct")),
            (2, "open", ("it1", "it2", "it3-fct", "it2-fct-iga-tot")),
            (2, "rigid", ("it2", "it3-fct", "it2-fct-iga-tot")),
            (2, "mixed", ("it3-fct",)),
            (3, "open", ("it3-fct",)), (3, "rigid", ("it3-fct",)), (3, "mixed", ("it3-fct",)),
            # PyMPDATA's Constant (added later: generate with ``--missing``)
            (1, "constant", ("it2", "it3-fct", "it2-fct-iga-tot")),
            (1, "constant0", ("it2-fct-iga",)),
            (2, "constant", ("it3-fct", "it2-tot")), (2, "constant-mixed", ("it2-fct-iga-tot",)),
            (3, "constant", ("it3-fct",))]
    cases = {}
    for ndim, bname, onames in plan:
        for oname in onames:
            cases[f"{bname}-{ndim}d-{oname}"] = dict(ndim=ndim, boundaries=bname,
                                                     options=oname, g=False)
    g_plan = [(1, "open", ("it2-fct-iga-tot",)), (2, "periodic", ("it3-fct",)),
              (2, "open", ("it3-fct",)), (2, "mixed", ("it3-fct",)),
              (2, "constant", ("it3-fct",))]
    for ndim, bname, onames in g_plan:
        for oname in onames:
            cases[f"g-{bname}-{ndim}d-{oname}"] = dict(ndim=ndim, boundaries=bname,
                                                       options=oname, g=True)
    return cases


CASES = _cases()
N_STEPS = 12


def _side(spec):
    """A boundary of ``BOUNDARY_SETS``: a kind, ``"constant:<value>"`` or a pair of them."""
    if isinstance(spec, tuple):
        return tuple(_side(s) for s in spec)
    return _constant(float(spec.split(":")[1])) if spec.startswith("constant:") else spec


def _bcs(ndim, bname):
    from stencilpy.mpdata.boundaries import parse_boundaries
    return parse_boundaries(tuple(_side(s) for s in BOUNDARY_SETS[ndim][bname]), ndim)


def inputs(name):
    """``(psi0, courant, g_factor or None, options, boundaries)`` of case ``name``
    (deterministic: seeded from the name)."""
    spec = CASES[name]
    ndim, shape = spec["ndim"], SHAPES[spec["ndim"]]
    bcs = _bcs(ndim, spec["boundaries"])
    rng = np.random.default_rng(sum(map(ord, name)))
    # positive, rough, non-zero at the boundaries (so that things flow in and out)
    psi = 1.0 + rng.uniform(0.0, 1.0, shape) + np.where(rng.random(shape) < 0.25, 2.0, 0.0)
    g = rng.uniform(0.5, 1.5, shape) if spec["g"] else None
    limit = 0.45 / ndim                           # outflow sum <= 0.9
    courant = []
    for d in range(ndim):
        face_shape = tuple(n + 1 if ax == d else n for ax, n in enumerate(shape))
        comp = rng.uniform(-limit, limit, face_shape)
        if ndim == 3 and d > 0:
            comp[...] = 0.0                       # 3-D: flow along x only (see above)
        if bcs[d][0] == "periodic":
            index = [slice(None)] * ndim
            index[d] = -1
            comp[tuple(index)] = np.take(comp, 0, axis=d)
        for side, entry in zip(bcs[d], (0, shape[d])):
            if side == "rigid":
                index = [slice(None)] * ndim
                index[d] = entry
                comp[tuple(index)] = 0.0
        if g is not None:                         # G C with G averaged to the faces
            gp = np.pad(g, [(1, 1) if ax == d else (0, 0) for ax in range(ndim)],
                        mode="wrap" if bcs[d][0] == "periodic" else "edge")
            lo = [slice(None)] * ndim
            hi = [slice(None)] * ndim
            lo[d], hi[d] = slice(0, shape[d] + 1), slice(1, shape[d] + 2)
            comp = comp * 0.5 * (gp[tuple(lo)] + gp[tuple(hi)])
            if bcs[d][0] == "periodic":
                index = [slice(None)] * ndim
                index[d] = -1
                comp[tuple(index)] = np.take(comp, 0, axis=d)
        courant.append(comp)
    return psi, tuple(courant), g, dict(OPTION_SETS[spec["options"]]), bcs


_STEPPERS = {}


def pympdata_advance(psi, courant, g, options, bcs, n_steps):
    """Run PyMPDATA with the boundary mapping of the module docstring."""
    from PyMPDATA import Options, ScalarField, Solver, Stepper, VectorField
    from PyMPDATA.boundary_conditions import Constant, Extrapolated, Periodic

    from stencilpy.mpdata.boundaries import constant_value
    from PyMPDATA.impl.enumerations import INNER, MID3D, OUTER

    ndim = psi.ndim
    dims = {1: (INNER,), 2: (OUTER, INNER), 3: (OUTER, MID3D, INNER)}[ndim]
    opts = Options(**options)
    key = (opts, ndim, g is not None)
    if key not in _STEPPERS:
        _STEPPERS[key] = Stepper(options=opts, n_dims=ndim, n_threads=1,
                                 non_unit_g_factor=g is not None)
    conds = tuple(Periodic() if low == "periodic" else Extrapolated(dims[d], eps=np.inf)
                  for d, (low, _high) in enumerate(bcs))
    scalar_conds = []
    for d, (low, high) in enumerate(bcs):
        if constant_value(low) is None and constant_value(high) is None:
            scalar_conds.append(conds[d])
        elif low != high:
            raise ValueError(f"axis {d}: PyMPDATA's Constant is per axis; got {low}, {high}")
        else:
            scalar_conds.append(Constant(constant_value(low)))
    solver = Solver(
        stepper=_STEPPERS[key],
        advectee=ScalarField(psi.copy(), halo=opts.n_halo,
                             boundary_conditions=tuple(scalar_conds)),
        advector=VectorField(tuple(c.copy() for c in courant), halo=opts.n_halo,
                             boundary_conditions=conds),
        g_factor=None if g is None else ScalarField(g.copy(), halo=opts.n_halo,
                                                    boundary_conditions=conds),
    )
    solver.advance(n_steps=n_steps)
    return solver.advectee.get().copy()


def write(name) -> Path:
    psi, courant, g, options, bcs = inputs(name)
    t0 = time.perf_counter()
    result = pympdata_advance(psi, courant, g, options, bcs, N_STEPS)
    import PyMPDATA
    stored = [[s if isinstance(s, str) else f"constant:{s.value!r}" for s in pair]
              for pair in bcs]
    meta = dict(case=CASES[name], options=options, boundaries=stored, n_steps=N_STEPS,
                g_form="pympdata", pympdata=getattr(PyMPDATA, "__version__", "1.7.3"))
    arrays = {f"courant{d}": c for d, c in enumerate(courant)}
    if g is not None:
        arrays["g_factor"] = g
    REF_DIR.mkdir(exist_ok=True)
    path = REF_DIR / f"{name}.npz"
    np.savez_compressed(path, psi0=psi, result=result, meta=np.array(json.dumps(meta)),
                        **arrays)
    print(f"{name}: {time.perf_counter() - t0:.1f} s -> {path.name} "
          f"({path.stat().st_size} bytes)", flush=True)
    return path


def load(path):
    """``(psi0, courant, g or None, options, boundaries, n_steps, result)`` of a stored case."""
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        ndim = f["psi0"].ndim
        courant = tuple(f[f"courant{d}"] for d in range(ndim))
        g = f["g_factor"] if "g_factor" in f.files else None
        bcs = tuple(tuple(_side(s) for s in pair) for pair in meta["boundaries"])
        return (f["psi0"], courant, g, meta["options"], bcs, meta["n_steps"], f["result"])


def main(argv) -> int:
    if argv == ["--missing"]:
        argv = [name for name in CASES if not (REF_DIR / f"{name}.npz").exists()]
    elif not argv:
        argv = list(CASES)
    names = argv
    for name in names:
        if name not in CASES:
            print(f"unknown case {name!r}; known: {', '.join(CASES)}", file=sys.stderr)
            return 2
        write(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
