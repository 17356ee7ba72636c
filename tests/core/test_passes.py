"""The passes (``stencilpy/passes``), one by one: the invariant each establishes, the exact IR
it produces for small inputs, and ``ir.verify`` after every pass."""

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.errors import InternalCompilerError
from stencilpy.frontend import parse_stencil
from stencilpy.ir import format_stencil, verify
from stencilpy.ir import nodes as N
from stencilpy.passes.bind_scalars import bind_scalars
from stencilpy.passes.eliminate_dead import eliminate_dead
from stencilpy.passes.fold_constants import fold_constants
from stencilpy.passes.if_to_select import if_to_select
from stencilpy.passes.pipeline import DEFINITION_PASSES, run_definition_passes, specialize
from stencilpy.passes.ssa_rename import ssa_rename

from _support import hdiff
from ._util import assert_outputs, pair, shift


def text(stencil) -> str:
    return format_stencil(stencil)


def body(stencil) -> list[str]:
    """The body and return lines of the canonical text, without the header."""
    return [line.strip() for line in text(stencil).splitlines()[1:]]


def run(stencil, *passes):
    """Apply ``passes`` in order, verifying after each."""
    for p in passes:
        stencil = verify(p(stencil))
    return stencil


# -- sample stencils ---------------------------------------------------------------------------

def branches(u, v):
    x = u
    if u > 0:
        x = 2 * u
        y = v
    elif u < -1:
        x = v[1]
        y = 3.0
    else:
        y = u
    z = x[1] + y
    return z + x


def reassigned(u):
    t = u[1]
    t = t * 2
    s = t[-1] + t
    t = s + 1
    return t + s[1]


def foldable(u):
    a = 2 * 3 + u
    b = (1 + 2) * (4 - 1) / 2 + u * (2 ** 3)
    c = -(5) + u if not False else u
    d = (1 < 2) and u > 0
    return a + b + c, d


def dead(u, v):
    unused = v[2] * 3                 # noqa: F841 - dead, on purpose
    t = u * 2
    t = u * 3
    w = t[1]
    return w


SAMPLES = [branches, reassigned, foldable, dead, hdiff]


# -- if_to_select ------------------------------------------------------------------------------

def test_if_to_select_exact_ir():
    s = run(parse_stencil(branches), if_to_select)
    assert body(s) == [
        "x = u[0]",
        "cond@1 = (u[0] > 0)",
        "x@then2 = (2 * u[0])",
        "y@then3 = v[0]",
        "cond@4@else8 = (u[0] < (-1))",
        "x@then5@else9 = v[1]",
        "y@then6@else10 = 3.0",
        "y@else7@else11 = u[0]",
        "x@else12 = select(cond@4@else8[0], x@then5@else9[0], x[0])",
        "y@else13 = select(cond@4@else8[0], y@then6@else10[0], y@else7@else11[0])",
        "x = select(cond@1[0], x@then2[0], x@else12[0])",
        "y = select(cond@1[0], y@then3[0], y@else13[0])",
        "z = (x[1] + y[0])",
        "return (z[0] + x[0])",
    ]


def test_if_to_select_leaves_straight_line_code():
    for f in SAMPLES:
        s = if_to_select(parse_stencil(f))
        verify(s, straight_line=True)
        assert all(isinstance(st, N.Assign) for st in s.body)


def one_branch(u):
    x = u
    if u > 0:
        x = u[1]
    return x


def test_if_to_select_name_assigned_in_one_branch_keeps_its_value():
    s = run(parse_stencil(one_branch), if_to_select)
    assert body(s)[-2:] == ["x = select(cond@1[0], x@then2[0], x[0])", "return x[0]"]


def reads_before_write(u):
    x = u
    if u > 0:
        y = x[1]
        x = y * 2
        z = x[1] + y
    else:
        z = u
    return x + z


def test_if_to_select_reads_inside_a_branch_see_the_branch_so_far():
    s = run(parse_stencil(reads_before_write), if_to_select)
    lines = body(s)
    assert "y@then2 = x[1]" in lines                     # x before the branch assigned it
    assert "x@then3 = (y@then2[0] * 2)" in lines
    assert "z@then4 = (x@then3[1] + y@then2[0])" in lines


def test_if_to_select_keeps_semantics(rng=np.random.default_rng(0)):
    u = rng.uniform(-2, 2, 12)
    v = rng.uniform(-2, 2, 12)
    jit, ref = pair(reads_before_write)
    # inside the branch, x[1] reads the branch's own x (2 * u[i + 2]) wherever the condition
    # holds at i + 1 or not: both branches are whole-field computations, selected per point
    x = np.where(u > 0, np.roll(u, -1) * 2, u)
    z = np.where(u > 0, 2 * np.roll(u, -2) + np.roll(u, -1), u)
    assert_outputs(jit(u, boundary="wrap"), x + z)
    assert_outputs(ref(u, boundary="wrap"), x + z)
    jit, ref = pair(branches)
    x = np.where(u > 0, 2 * u, np.where(u < -1, np.roll(v, -1), u))
    y = np.where(u > 0, v, np.where(u < -1, 3.0, u))
    assert_outputs(jit(u, v, boundary="wrap"), np.roll(x, -1) + y + x)


# -- ssa_rename --------------------------------------------------------------------------------

def test_ssa_rename_exact_ir():
    s = run(parse_stencil(reassigned), ssa_rename)
    assert body(s) == [
        "t = u[1]",
        "t'1 = (t[0] * 2)",
        "s = (t'1[-1] + t'1[0])",
        "t'2 = (s[0] + 1)",
        "return (t'2[0] + s[1])",
    ]


def test_ssa_rename_gives_single_assignment():
    for f in SAMPLES:
        s = ssa_rename(if_to_select(parse_stencil(f)))
        verify(s, straight_line=True, ssa=True)
        targets = [st.target for st in s.body]
        assert len(set(targets)) == len(targets)


def test_verify_rejects_double_assignment_after_ssa():
    s = if_to_select(parse_stencil(reassigned))
    with pytest.raises(InternalCompilerError, match="assigned twice"):
        verify(s, ssa=True)


# -- fold_constants ----------------------------------------------------------------------------

def test_fold_constants_exact_ir():
    s = run(parse_stencil(foldable), if_to_select, ssa_rename, fold_constants)
    assert body(s) == [
        "a = (6 + u[0])",
        "b = (4.5 + (u[0] * 8))",
        "c = select(True, (-5 + u[0]), u[0])",
        "d = (True and (u[0] > 0))",
        "return ((a[0] + b[0]) + c[0]), d[0]",
    ]


@pytest.mark.parametrize("expr, expected", [
    (N.BinOp("+", N.Const(1), N.Const(2)), N.Const(3)),
    (N.BinOp("/", N.Const(1), N.Const(4)), N.Const(0.25)),
    (N.BinOp("//", N.Const(-7), N.Const(2)), N.Const(-4)),
    (N.BinOp("%", N.Const(-7), N.Const(2)), N.Const(1)),
    (N.BinOp("**", N.Const(2), N.Const(-1)), N.Const(0.5)),
    (N.BinOp("**", N.Const(2.0), N.Const(0.5)), N.Const(2.0 ** 0.5)),
    (N.Compare("<", N.Const(1), N.Const(2.5)), N.Const(True)),
    (N.UnaryOp("-", N.Const(3.5)), N.Const(-3.5)),
    (N.UnaryOp("not", N.Const(0.0)), N.Const(True)),
    (N.UnaryOp("+", N.Const(2)), N.Const(2)),
    (N.BoolOp("and", (N.Const(True), N.Const(1), N.Const(0.0))), N.Const(False)),
    (N.BoolOp("or", (N.Const(False), N.Const(2.5))), N.Const(True)),
])
def test_fold_constants_folds(expr, expected):
    folded = fold_constants(_wrap(expr)).returns[0]
    assert folded == expected and type(folded.value) is type(expected.value)


@pytest.mark.parametrize("expr", [
    N.BinOp("//", N.Const(1), N.Const(0)),                # would raise: kept for run time
    N.BinOp("/", N.Const(1.0), N.Const(0.0)),
    N.BinOp("%", N.Const(1), N.Const(0)),
    N.BinOp("+", N.Const(True), N.Const(True)),           # bool + bool is 'or' in NumPy
    N.UnaryOp("-", N.Const(True)),                        # NumPy refuses -bool
    N.BinOp("+", N.Const(1), N.FieldAccess("u", (0,))),
    N.BinOp("**", N.Const(10.0), N.Const(400)),           # OverflowError
])
def test_fold_constants_keeps(expr):
    assert fold_constants(_wrap(expr)).returns[0] == expr


def _wrap(expr) -> N.Stencil:
    return N.Stencil("f", (N.Param("u", True),), (), (expr,), ("dim_0",))


def test_folded_division_by_zero_behaves_like_numpy_at_run_time():
    """``1.0 / 0.0`` and ``1 // 0`` are not folded (Python would raise); they run as NumPy
    computes them: inf, and 0 for integer floor division by zero."""
    jit, ref = pair(divide_by_zero)
    u = np.arange(4.0)
    with np.errstate(all="ignore"):
        want = (u + np.float64(1.0) / 0.0, u * 0 + np.floor_divide(1, np.int64(0)))
    assert_outputs(jit(u), want)
    assert_outputs(ref(u), want)


def divide_by_zero(u):
    return u + 1.0 / 0.0, u * 0 + 1 // 0


# -- eliminate_dead ----------------------------------------------------------------------------

def test_eliminate_dead_exact_ir():
    s = run(parse_stencil(dead), if_to_select, ssa_rename, fold_constants, eliminate_dead)
    assert body(s) == ["t'1 = (u[0] * 3)", "w = t'1[1]", "return w[0]"]


def test_eliminate_dead_removes_unused_branch_temporaries():
    s = run_definition_passes(parse_stencil(branches), verify)
    assert [st.target for st in s.body] == [
        "x", "cond@1", "x@then2", "y@then3", "cond@4@else8", "x@then5@else9",
        "y@else7@else11", "x@else12", "y@else13", "x'1", "y", "z"]   # y@then6@else10 = 3.0 folded
    s = run_definition_passes(parse_stencil(dead), verify)
    assert all(st.target not in ("unused", "t") for st in s.body)
    used = {n.name for st in s.body for n in N.walk(st.value) if isinstance(n, N.FieldAccess)}
    used |= {n.name for r in s.returns for n in N.walk(r) if isinstance(n, N.FieldAccess)}
    assert {st.target for st in s.body} <= used


def test_dead_parameter_reads_do_not_count_in_the_halo():
    assert sp.stencil(dead).halo == ((0, 1),)          # v[2] was dead


# -- constant conditions ----------------------------------------------------------------------

UPWIND = False           # module-level flags, read by the stencils below as constants
ORDER2 = True


def flagged_expression(u):
    return u[2] if UPWIND else u[0]


def flagged_expression_taken(u):
    return u[2] if ORDER2 else u[-3]


def literal_condition(u):
    return u[-1] - u[1] if 1 > 0 else u[3]


def flagged_block(u):
    if UPWIND and not ORDER2:
        t = u[3]                  # read only in the dropped branch: dead after folding
        x = t[1] + 1.0
    else:
        x = u + 1.0
    return x


def flagged_block_taken(u):
    if ORDER2 or UPWIND:
        x = u[1] - u
    else:
        t = u[-4]
        x = t[-1]
    return x


def flagged_mixed_types(i):
    return i[2] if UPWIND else 0.5      # np.where(False, i, 0.5): float64 for integer i


def test_fold_constants_folds_constant_condition_select_exact_ir():
    assert body(run_definition_passes(parse_stencil(flagged_expression), verify)) == [
        "return u[0]"]
    assert body(run_definition_passes(parse_stencil(flagged_block), verify)) == [
        "x@else4 = (u[0] + 1.0)", "x = x@else4[0]", "return x[0]"]   # cond, t, x@then: dead
    # the branches' types may differ (bool - bool is an error, bool + 1.0 is not): the
    # unchosen one stays as a witness of its type, temporaries inlined, offsets 0
    assert body(run_definition_passes(parse_stencil(literal_condition), verify)) == [
        "return select(True, (u[-1] - u[1]), u[0])"]
    assert body(run_definition_passes(parse_stencil(flagged_block_taken), verify)) == [
        "x@then2 = (u[1] - u[0])", "x = select(True, x@then2[0], u[0])", "return x[0]"]


def test_fold_constants_constant_temporaries_are_substituted():
    s = run(parse_stencil(flagged_block), if_to_select, ssa_rename, fold_constants)
    assert body(s)[0] == "cond@1 = False"
    assert body(s)[-2] == "x = x@else4[0]"


@pytest.mark.parametrize("f, halo", [
    (flagged_expression, ((0, 0),)),
    (flagged_expression_taken, ((0, 2),)),
    (literal_condition, ((1, 1),)),
    (flagged_block, ((0, 0),)),
    (flagged_block_taken, ((0, 1),)),
    (flagged_mixed_types, ((0, 0),)),
])
def test_unchosen_branch_does_not_count_in_the_halo(f, halo):
    for k in (sp.stencil(f), sp.stencil(f, backend="numpy")):
        assert k.halo == halo
        assert dict(k.plan.field_extents)[k.ir.params[0].name] == halo
        assert len(k.plan.stages) == 1                 # no stage for a dead temporary
    assert f"halo: {halo}" in sp.inspect(sp.stencil(f), "analysis")


@pytest.mark.parametrize("boundary", [None, "periodic", "valid"])
def test_folded_selects_compute_the_chosen_branch(boundary, rng=np.random.default_rng(3)):
    u = rng.uniform(-2, 2, 13)
    wrap = {"boundary": "periodic"}
    cases = [                           # stencil, periodic result, its halo
        (flagged_expression, u, (0, 0)),
        (flagged_expression_taken, shift(u, 2), (0, 2)),
        (literal_condition, shift(u, -1) - shift(u, 1), (1, 1)),
        (flagged_block, u + 1.0, (0, 0)),
        (flagged_block_taken, shift(u, 1) - u, (0, 1)),
    ]
    for f, periodic, (lo, hi) in cases:
        jit, ref = pair(f)
        call = {} if boundary is None else {"boundary": boundary}
        if boundary == "valid":
            want = periodic[lo:len(u) - hi]
        elif boundary is None:                       # 'fill' with NaN where u[i + o] is outside
            want = periodic.copy()
            want[:lo], want[len(u) - hi:] = np.nan, np.nan
        else:
            want = periodic
        assert_outputs(jit(u, **call), want, what=f.__name__)
        assert_outputs(ref(u, **call), want, what=f.__name__)
        assert_outputs(jit(u, **wrap), ref(u, **wrap), what=f.__name__)


def test_folded_select_keeps_the_where_result_type():
    """``i[2] if False else 0.5`` is ``np.where(False, i, 0.5)``: the unchosen branch still
    decides the dtype (float64 for integers, float32 stays float32); only its reads go."""
    jit, ref = pair(flagged_mixed_types)
    assert body(jit.ir) == ["return select(False, i[0], 0.5)"]
    for data in (np.arange(7, dtype=np.int32), np.arange(7, dtype=np.float32), np.arange(7)):
        want = np.where(False, data, 0.5)
        assert_outputs(jit(data), want)
        assert_outputs(ref(data), want)


def test_fold_constants_select_drops_a_branch_of_the_same_type_only():
    u0, u2, um = (N.FieldAccess("u", (o,)) for o in (0, 2, -1))
    assert fold_constants(_wrap(N.Select(N.Const(0), u2, u0))).returns[0] == u0
    assert fold_constants(_wrap(N.Select(N.Const(True), u2, um))).returns[0] == u2
    other = N.Select(N.Const(True), u2, N.BinOp("*", N.Const(2.0), u0))   # types may differ
    assert fold_constants(_wrap(other)).returns[0] == other
    mixed = N.Select(N.Const(False), N.Const(1), N.Const(True))       # where(False, 1, True)
    assert fold_constants(_wrap(mixed)).returns[0] == mixed
    assert type(fold_constants(_wrap(mixed)).returns[0].if_true.value) is int


def test_fold_constants_leaves_a_big_unchosen_branch(monkeypatch):
    from stencilpy.passes import fold_constants as module
    expr = N.Select(N.Const(True), N.FieldAccess("u", (0,)), N.Const(0.5))
    assert fold_constants(_wrap(expr)).returns[0] == expr          # the witness: 0.5 itself
    expr = N.Select(N.Const(True), N.Const(0.5), N.FieldAccess("u", (3,)))
    assert fold_constants(_wrap(expr)).returns[0].if_false == N.FieldAccess("u", (0,))
    monkeypatch.setattr(module, "_WITNESS_NODES", 0)
    assert fold_constants(_wrap(expr)).returns[0] == expr


# -- bind_scalars and the pipeline -------------------------------------------------------------

def scalar_params(u, a, b):
    t = a * u[1] + b
    return t * a


def test_bind_scalars_exact_ir():
    s = run(run_definition_passes(parse_stencil(scalar_params)))
    s = verify(bind_scalars(s, frozenset({"a", "b"})))
    assert body(s) == ["t = ((a * u[1]) + b)", "return (t[0] * a)"]
    refs = [n for r in (s.body[0].value, s.returns[0]) for n in N.walk(r)
            if isinstance(n, N.ScalarRef)]
    assert sorted(n.name for n in refs) == ["a", "a", "b"]
    assert all(not isinstance(n, N.FieldAccess) or n.name not in ("a", "b")
               for r in (s.body[0].value, s.returns[0]) for n in N.walk(r))


def test_bind_scalars_refuses_subscripted_parameters():
    s = run_definition_passes(parse_stencil(scalar_params))
    with pytest.raises(ValueError, match=r"parameters \['u'\] are read at offsets"):
        bind_scalars(s, frozenset({"u"}))


def const_scalar(u, a):
    return u * (a * 0 + 2 * 3)


def test_specialize_binds_and_folds():
    s = run_definition_passes(parse_stencil(const_scalar), verify)
    spec = verify(specialize(s, frozenset({"a"})))
    assert body(spec) == ["return (u[0] * ((a * 0) + 6))"]
    assert isinstance(spec.returns[0].right.left.left, N.ScalarRef)


def test_pipeline_lists_the_passes_in_order():
    assert DEFINITION_PASSES == (if_to_select, ssa_rename, fold_constants, eliminate_dead)


@pytest.mark.parametrize("f", SAMPLES + [one_branch, reads_before_write, scalar_params])
def test_every_pass_keeps_the_ir_valid(f):
    s = verify(parse_stencil(f))
    s = run_definition_passes(s, verify)
    verify(s, straight_line=True, ssa=True)
    assert sp.stencil(f).ir == s


def test_passes_are_pure():
    original = parse_stencil(branches)
    copy = parse_stencil(branches)
    run_definition_passes(original, verify)
    assert original == copy


def test_verify_catches_broken_ir():
    good = _wrap(N.FieldAccess("u", (0,)))
    verify(good)
    with pytest.raises(InternalCompilerError, match="rank 2, not 1"):
        verify(_wrap(N.FieldAccess("u", (0, 0))))
    with pytest.raises(InternalCompilerError, match="'t' read before it is defined"):
        verify(_wrap(N.FieldAccess("t", (0,))))
    with pytest.raises(InternalCompilerError, match="bad call sqrt/2"):
        verify(_wrap(N.Call("sqrt", (N.Const(1.0), N.Const(2.0)))))
    with pytest.raises(InternalCompilerError, match="unknown binary operator @"):
        verify(_wrap(N.BinOp("@", N.Const(1.0), N.Const(2.0))))
    with pytest.raises(InternalCompilerError, match="If statement left"):
        s = N.Stencil("f", (N.Param("u", True),), (N.If(N.Const(True), (), ()),),
                      (N.FieldAccess("u", (0,)),), ("dim_0",))
        verify(s, straight_line=True)
