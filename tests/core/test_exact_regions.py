"""Exact regions: under "fill" a point is set to ``fill_value`` exactly when its stencil reads
outside the fields, and under "valid" exactly those points are dropped — per axis and side,
through temporaries read at shifted offsets, with staggered and broadcast fields, and per
output (each output of a tuple return has its own region).

The oracle is independent of the analyzer (``stencilpy/analysis``): the stencil's own Python
function is *run* on ``Reach`` values — each holds the set of ``(field, offset)`` reads the
value at the current point makes; ``t[o]`` shifts every read of ``t`` by ``o`` — and a point
of the domain is computable iff none of its output's reads falls outside a field (checked
point by point).  A perturbation check confirms the oracle: at every computable point the
result does not depend on what lies outside the fields (two different constant paddings
give the same value there).
"""

import os
import tempfile

import numpy as np
import pytest

import stencilpy as sp

from ._util import assert_outputs, pair, stencil_from_source

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: examples of the property; each new stencil compiles in ~0.1-0.5 s
EXAMPLES = int(os.environ.get("STENCILPY_HYPOTHESIS_REGIONS", "60"))
DIMS = ("x", "y", "z")
CONSTANTS = ("0.5", "2.0", "1.25")   # the literals of generated stencils (offsets are ints)
SENTINEL = -777.25          # the fill value: no generated stencil computes it (inputs in [1, 2])


# -- the oracle: run the Python function on read sets ---------------------------------------------

class Reach:
    """The value of an expression at the current point, as the reads it makes."""

    def __init__(self, reads=()):
        self.reads = frozenset(reads)

    def __getitem__(self, offset):
        offset = offset if isinstance(offset, tuple) else (offset,)
        return Reach((name, tuple(a + b for a, b in zip(o, offset))) for name, o in self.reads)

    def _join(self, *others):
        return join(self, *others)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _join
    __truediv__ = __rtruediv__ = __lt__ = __le__ = __gt__ = __ge__ = _join
    __eq__ = __ne__ = _join  # noqa: PIE794

    def __neg__(self):
        return self

    __abs__ = __neg__
    __hash__ = None


def join(*values) -> Reach:
    reads = set()
    for v in values:
        if isinstance(v, Reach):
            reads |= v.reads
    return Reach(reads)


class _FakeSp:
    @staticmethod
    def where(c, x, y):
        return join(c, x, y)


def reads_of(source: str, fields: list[str], ndim: int) -> list[frozenset]:
    """Per output, the (field, offset) reads of the function ``generated`` in ``source``."""
    env = {"sp": _FakeSp, "min": join, "max": join, "abs": lambda v: v, "K": Reach()}
    body = source.replace("import stencilpy as sp\n", "")
    for literal in CONSTANTS:                   # a constant reads nothing (at any offset)
        body = body.replace(literal, "K")
    exec(compile(body, "<oracle>", "exec"), env)                          # noqa: S102
    result = env["generated"](*[Reach({(f, (0,) * ndim)}) for f in fields])
    result = result if isinstance(result, tuple) else (result,)
    return [r.reads if isinstance(r, Reach) else frozenset() for r in result]


def computable(reads, shapes: dict, domain, modes) -> np.ndarray:
    """Boolean mask over the domain: the point reads nothing outside a field along the axes
    whose mode is "fill"/"valid" (a field of length 1 along an axis is broadcast there)."""
    mask = np.zeros(domain, dtype=bool)
    for point in np.ndindex(*domain):
        ok = True
        for name, offset in reads:
            for d, (i, o, n) in enumerate(zip(point, offset, shapes[name])):
                if modes[d] in ("fill", "valid") and not (n == 1 and domain[d] != 1) \
                        and not 0 <= i + o < n:
                    ok = False
        mask[point] = ok
    return mask


def box(mask: np.ndarray) -> tuple[slice, ...]:
    """The mask's bounding box (the mask must fill it: a computable region is a box)."""
    if not mask.any():
        return tuple(slice(0, 0) for _ in mask.shape)
    where = np.nonzero(mask)
    index = tuple(slice(int(w.min()), int(w.max()) + 1) for w in where)
    assert mask[index].all(), "the computable points do not form a box"
    return index


def guarded(a: np.ndarray) -> np.ndarray:
    """``a`` as a view into a NaN-filled array 3 points larger on every side: a compiled
    read outside the field sees NaN (and spoils the comparison) instead of other memory."""
    big = np.full(tuple(n + 6 for n in a.shape), np.nan)
    view = big[tuple(slice(3, 3 + n) for n in a.shape)]
    view[...] = a
    return view


# -- the stencils ------------------------------------------------------------------------------

def _sub(name, offsets) -> str:
    return f"{name}[{', '.join(str(o) for o in offsets)}]"


def _leaf(draw, ndim, fields, temps) -> str:
    kind = draw(st.sampled_from(["field", "field", "const"] + ["temp", "temp"] * bool(temps)))
    if kind == "const":
        return draw(st.sampled_from(CONSTANTS))
    # shifted reads are common: a temporary read only above (or below) the point
    offsets = draw(st.tuples(*[st.integers(-2, 2)] * ndim))
    return _sub(draw(st.sampled_from(temps if kind == "temp" else fields)), offsets)


def _expr(draw, ndim, fields, temps, depth) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return _leaf(draw, ndim, fields, temps)
    sub = lambda: _expr(draw, ndim, fields, temps, depth - 1)  # noqa: E731
    op = draw(st.sampled_from(["+", "-", "*", "min", "max", "abs", "where"]))
    if op in ("+", "-", "*"):
        return f"({sub()} {op} {sub()})"
    if op in ("min", "max"):
        return f"{op}({sub()}, {sub()})"
    if op == "abs":
        return f"abs({sub()})"
    # the condition always reads a field: no constant condition (folded away) in the oracle
    cond = _sub(draw(st.sampled_from(fields)), draw(st.tuples(*[st.integers(-2, 2)] * ndim)))
    return f"sp.where({cond} < {sub()}, {sub()}, {sub()})"


@st.composite
def stencils(draw):
    """(source, ndim, fields, number of outputs)."""
    ndim = draw(st.integers(1, 3))
    fields = [f"u{k}" for k in range(draw(st.integers(1, 2)))]
    temps, lines = [], []
    for k in range(draw(st.integers(0, 3))):
        lines.append(f"    t{k} = {_expr(draw, ndim, fields, temps, 2)}")
        temps.append(f"t{k}")
    outputs = [_expr(draw, ndim, fields, temps, 2) for _ in range(draw(st.integers(1, 3)))]
    source = "import stencilpy as sp\n\n\ndef generated(" + ", ".join(fields) + "):\n" \
        + "".join(line + "\n" for line in lines) + f"    return {', '.join(outputs)}\n"
    return source, ndim, fields, len(outputs)


@st.composite
def layouts(draw, ndim, fields):
    """(domain, field shapes (staggered: N + 1; broadcast: 1), modes per axis)."""
    domain = tuple(draw(st.integers(1, 8)) for _ in range(ndim))
    shapes = {}
    for f in fields:
        shapes[f] = tuple(n + draw(st.sampled_from([0, 0, 0, 1])) if f != fields[0] and n > 1
                          and draw(st.integers(0, 4)) == 0 else n + draw(st.sampled_from([0, 0, 1]))
                          for n in domain)
        if f != fields[0] and draw(st.integers(0, 4)) == 0:             # broadcast along one axis
            d = draw(st.integers(0, ndim - 1))
            shapes[f] = shapes[f][:d] + (1,) + shapes[f][d + 1:]
    shapes[fields[0]] = domain if draw(st.booleans()) else shapes[fields[0]]
    modes = tuple(draw(st.sampled_from(["fill", "fill", "valid", "valid", "wrap", "edge"]))
                  for _ in range(ndim))
    return domain, shapes, modes


@pytest.fixture(scope="module")
def source_dir():
    """Generated stencil modules, and a private kernel cache (random kernels are not kept)."""
    saved = os.environ.get("STENCILPY_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="sp-regions-") as tmp:
        os.environ["STENCILPY_CACHE_DIR"] = os.path.join(tmp, "cache")
        try:
            yield tmp
        finally:
            if saved is None:
                os.environ.pop("STENCILPY_CACHE_DIR", None)
            else:
                os.environ["STENCILPY_CACHE_DIR"] = saved


def _padded(modes, constant_on):
    """The modes with "fill"/"valid" axes replaced by ``constant_on``."""
    return tuple(constant_on if m in ("fill", "valid") else m for m in modes)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=stencils(), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_computed_region_is_the_computable_region(source_dir, spec, data, seed):
    source, ndim, fields, n_out = spec
    domain, shapes, modes = data.draw(layouts(ndim, fields))
    note(source)
    note(f"domain={domain} shapes={shapes} modes={modes}")
    rng = np.random.default_rng(seed)
    args = [guarded(rng.uniform(1, 2, size=shapes[f])) for f in fields]
    jit, ref = stencil_from_source(source, "generated", source_dir, dims=DIMS[:ndim])
    masks = [computable(r, shapes, domain, modes) for r in reads_of(source, fields, ndim)]
    boundary = dict(zip(DIMS, modes))
    call = dict(boundary=boundary, fill_value=SENTINEL, domain=domain)
    if not all(m.any() for m in masks):            # an output computable nowhere: refused
        for k in (jit, ref):
            with pytest.raises(sp.StencilCallError, match="too small"):
                k(*args, **call)
        return
    # perturbation: at computable points the value does not depend on what lies outside
    pads = [ref(*args, boundary=dict(zip(DIMS, _padded(modes, "constant"))), fill_value=v,
                domain=domain) for v in (-1e6, 3e7)]
    pads = [p if isinstance(p, tuple) else (p,) for p in pads]
    fill_call = dict(call, boundary=dict(zip(DIMS, _padded(modes, "fill"))))
    results = {}
    for name, k in (("jit", jit), ("numpy", ref)):
        filled = k(*args, **fill_call)
        valid = k(*args, **call)
        filled = filled if isinstance(filled, tuple) else (filled,)
        valid = valid if isinstance(valid, tuple) else (valid,)
        assert len(filled) == n_out
        for j, mask in enumerate(masks):
            what = f"{name} output {j}"
            np.testing.assert_array_equal(filled[j] != SENTINEL, mask, err_msg=what)
            np.testing.assert_allclose(pads[0][j][mask], pads[1][j][mask], rtol=1e-12,
                                       err_msg=f"{what}: the oracle's region reads outside")
            np.testing.assert_allclose(filled[j][mask], pads[0][j][mask], rtol=1e-12,
                                       err_msg=what)
            index = tuple(b if m == "valid" else slice(None) for b, m in zip(box(mask), modes))
            want = np.where(mask, filled[j], SENTINEL)[index]
            assert valid[j].shape == want.shape, f"{what}: 'valid' shape"
            np.testing.assert_allclose(valid[j], want, rtol=1e-12, err_msg=f"{what} 'valid'")
        results[name] = filled, valid
    assert_outputs(results["jit"][0], results["numpy"][0], what="fill, jit vs numpy")
    assert_outputs(results["jit"][1], results["numpy"][1], what="valid, jit vs numpy")


# -- pinned examples, checked by hand -----------------------------------------------------------

def shifted_pair(f0, f1):
    t0 = f0[-1] + f1[-1]
    t1 = min(f1[-1], t0[-1] * f1[1])
    return t1[1]


def test_shifted_temporaries_reach_only_what_they_read():
    """out[i] = min(f1[i], (f0[i-1] + f1[i-1]) * f1[i+2]): halo (1, 2), and the point i = 1
    (which a box containing offset 0 at every temporary would fill) is computed."""
    jit, ref = pair(shifted_pair)
    assert jit.halo == ref.halo == ((1, 2),)
    rng = np.random.default_rng(0)
    f0, f1 = rng.random(10), rng.random(10)
    want = np.full(10, np.nan)
    want[1:-2] = np.minimum(f1[1:-2], (f0[:-3] + f1[:-3]) * f1[3:])
    for k in (jit, ref):
        assert_outputs(k(f0, f1), want)
        assert_outputs(k(f0, f1, boundary="valid"), want[1:-2])


def issue_example(f1):
    t0 = f1[-2]
    t1 = min(f1[-1], t0[-1] * f1[1])
    return t1[1]


def test_the_example_of_the_issue():
    """out[i] = min(f1[i], f1[i-2] * f1[i+2]) reaches 2 cells left (the halo was (3, 2))."""
    jit, ref = pair(issue_example)
    assert jit.halo == ref.halo == ((2, 2),)
    f1 = np.random.default_rng(6).random(12)
    want = np.full(12, np.nan)
    want[2:-2] = np.minimum(f1[2:-2], f1[:-4] * f1[4:])
    for k in (jit, ref):
        assert_outputs(k(f1), want)
        assert_outputs(k(f1, check=True), want)


def gradient(u, dlat, dlon):
    return (u[lon + 1] - u[lon - 1]) / (2 * dlon), (u[lat + 1] - u[lat - 1]) / (2 * dlat)  # noqa: F821


def test_each_output_has_its_own_region():
    """d/dlon is defined on the pole rows (its sibling d/dlat is not); under "valid" each
    output keeps the points it can compute."""
    jit, ref = pair(gradient, dims=("lat", "lon"))
    u = np.random.default_rng(2).random((7, 12))
    ddlon = (np.roll(u, -1, 1) - np.roll(u, 1, 1)) / 0.5
    ddlat = np.full_like(u, np.nan)
    ddlat[1:-1] = (u[2:] - u[:-2]) / 0.25
    for k in (jit, ref):
        got = k(u, 0.125, 0.25, boundary={"lon": "periodic"})
        assert_outputs(got, (ddlon, ddlat), what=k.backend)
        got = k(u, 0.125, 0.25, boundary={"lon": "periodic", "lat": "valid"})
        assert_outputs(got, (ddlon, ddlat[1:-1]), what=k.backend)
        assert_outputs(k(u, 0.125, 0.25, boundary={"lon": "periodic"}, check=True),
                       (ddlon, ddlat))
        out = (np.zeros_like(u), np.zeros((5, 12)))
        assert k(u, 0.125, 0.25, boundary={"lon": "periodic", "lat": "valid"}, out=out) is out
        assert_outputs(out, (ddlon, ddlat[1:-1]))


def three_outputs(u, v):
    t = u[1, 0] * v[0, 1]
    return t[-1, 0] + v, t[1, 1], u[0, -2] - t


def test_three_outputs_with_a_shifted_temporary_against_numpy():
    u, v = np.random.default_rng(3).random((2, 8, 9))
    t = u[1:, :-1] * v[:-1, 1:]                          # t[i, j] for i < 7, j < 8
    a = np.full_like(u, np.nan)
    a[1:, :-1] = t + v[1:, :-1]                          # t[i-1, j]: i >= 1
    b = np.full_like(u, np.nan)
    b[:-2, :-2] = t[1:, 1:]                              # t[i+1, j+1]: i < 6, j < 7
    c = np.full_like(u, np.nan)
    c[:-1, 2:-1] = u[:-1, :-3] - t[:, 2:]                # u[i, j-2]: j >= 2
    for k in pair(three_outputs):
        assert_outputs(k(u, v), (a, b, c), what=getattr(k, "backend", ""))
        valid = k(u, v, boundary="valid")
        assert_outputs(valid, (a[1:, :-1], b[:-2, :-2], c[:-1, 2:-1]))


def test_an_output_too_small_for_its_own_halo_is_refused():
    jit, ref = pair(gradient, dims=("lat", "lon"))
    for k in (jit, ref):
        with pytest.raises(sp.StencilCallError, match="halo of output 1"):
            k(np.ones((2, 5)), 1.0, 1.0, boundary={"lon": "periodic"})


def test_regions_of_their_own_on_the_repeated_call_path():
    """The prepared call (``runtime/fastpath.py``) runs the strips too, with new data
    and into ``out=``."""
    from stencilpy.runtime.fastpath import PreparedCall

    k = sp.stencil(gradient, dims=("lat", "lon"))
    rng = np.random.default_rng(4)
    out = (np.empty((9, 8)), np.empty((9, 8)))
    for _ in range(3):
        u = rng.random((9, 8))
        want = ((np.roll(u, -1, 1) - np.roll(u, 1, 1)) / 0.5, np.full_like(u, np.nan))
        want[1][1:-1] = (u[2:] - u[:-2]) / 0.25
        assert_outputs(k(u, 0.125, 0.25, boundary={"lon": "periodic"}), want)
        k(u, 0.125, 0.25, boundary={"lon": "periodic"}, out=out)
        assert_outputs(out, want)
    plans = [p for p in k._fast.prepared.values() if isinstance(p, PreparedCall)]
    assert plans and all(p.extra for p in plans)


def ahead2d(u, v):
    a = u[2, 1] * v[1, 0]              # read only at negative offsets below: shifted region
    b = a[-3, 0] - a[-2, -1]
    c = u[-1, 2] + b[1, 1]
    return c[2, -2] + b[-1, 0] * v, a[-2, 0]


def ahead1d(u):
    a = u[3] - u[2]
    b = a[-1] * a[-2]
    return b[-2] + u[1]


def ahead3d(u):
    a = u[1, 2, -1] * 0.5
    return a[-1, -2, 0] + a[-1, -1, 1], a[-1, 0, 0] - u[0, 1, 0]


@pytest.mark.parametrize("f, shape", [(ahead2d, (1000, 40)), (ahead1d, (100003,)),
                                      (ahead3d, (300, 9, 11))])
@pytest.mark.parametrize("threads", [1, 4])
def test_shifted_temporaries_across_chunks_rows_and_tiles(f, shape, threads):
    """Temporaries needed on regions that do not contain the output region (negative on a
    side), on arrays long enough for several chunks of rows per thread (rolling buffers
    refilled per chunk) and, in 1-D, several tiles."""
    jit, ref = pair(f)
    rng = np.random.default_rng(5)
    args = [rng.random(shape) for _ in range(f.__code__.co_argcount)]
    for boundary in ("fill", "valid", "wrap", {0: "valid", -1: "edge"}):
        want = ref(*args, boundary=boundary)
        assert_outputs(jit(*args, boundary=boundary, threads=threads), want, what=str(boundary))


def others_temporaries(u):
    a = u[2, 0]
    b = a[1, 0] * a[-1, 0]                      # u[i+3] * u[i+1]: rows 0 .. N-4
    return b, u[0, 1] - u[0, -1]                # every row


def test_strips_of_one_output_do_not_compute_the_others_temporaries():
    """The kernel of output 1's strips (rows N-3 .. N-1) must not compute ``a``, whose reads
    there fall outside ``u``: the fields are views into NaN, a read outside shows."""
    jit, ref = pair(others_temporaries)
    u = guarded(np.random.default_rng(7).random((12, 9)))
    b = np.full(u.shape, np.nan)
    b[:-3] = u[3:] * u[1:-2]
    d = np.full(u.shape, np.nan)
    d[:, 1:-1] = u[:, 2:] - u[:, :-2]
    for k in (jit, ref):
        for _ in range(2):                          # the full path, then the cached call plan
            assert_outputs(k(u), (b, d))
        assert_outputs(k(u, boundary="valid"), (b[:-3, :], d[:, 1:-1]))
