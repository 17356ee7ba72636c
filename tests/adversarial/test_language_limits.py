"""Extreme offsets and deep expressions (issue 15, rows 2 and 9).

Offsets are limited to [-2**20, 2**20], also where they add up through temporaries, and
refused when the stencil is decorated; offsets inside the range give the right answer in
every boundary mode, far beyond the array's length.  Expressions nest at most 200
operations deep and helpers at most 20 deep: deeper is a ``StencilSyntaxError``, never a
``RecursionError``; long chains of temporaries are not limited.
"""

import numpy as np
import pytest

from ._harness import assert_error, assert_ok, run_cases

BACKENDS = ("llvm", "numpy")
LIMIT = 2**20

OFFSET_CASES = '''
u = np.arange(7.0) ** 2 + 1
def deco(text, be):
    return make("@sp.stencil(backend=%r)\\ndef f(u):\\n%s\\n" % (be, text))

for be in ("llvm", "numpy"):
    for name, text in [("minus_2_63", "u[-9223372036854775808]"),
                       ("minus_2_63_spelled", "u[-2**63]"),
                       ("plus_2_63", "u[9223372036854775808]"),
                       ("plus_2_64", "u[2**64]"),
                       ("max_int64", "u[9223372036854775807]"),
                       ("huge_power", "u[10**1000]"),
                       ("limit_plus_1", "u[%d]" % (2**20 + 1)),
                       ("minus_limit_minus_1", "u[-%d]" % (2**20 + 1)),
                       ("sum_of_two_in_range", "u[2**19 + 2**19 + 1]"),
                       ("named_axis", None)]:
        if text is None:
            src = ("@sp.stencil(dims=('x',), backend=%r)\\ndef f(u):\\n    return u[x + %d]\\n"
                   % (be, 2**20 + 1))
            case(lambda src=src: make(src), f"{be}_decorate_{name}")
            continue
        case(lambda text=text, be=be: deco("    return " + text, be), f"{be}_decorate_{name}")
    # a chain of temporaries whose offsets add up past the limit (and past 2**63)
    case(lambda be=be: deco("    a = u[600000]\\n    b = a[600000]\\n    return b", be),
         f"{be}_decorate_chain_past_limit")
    case(lambda be=be: deco("    a = u[-600000]\\n    b = a[-600000]\\n    return b[0] + u[1]", be),
         f"{be}_decorate_negative_chain_past_limit")
    case(lambda be=be: deco("    a = u[2**20]\\n    return a[1]", be),
         f"{be}_decorate_chain_one_past_limit")
    # at the limit and far beyond the array: right answers in every padding mode
    for k in (2**20, -2**20, 1000, -1001):
        st = deco("    return u[%d] + 0.5 * u[0]" % k, be)
        for mode in ("edge", "reflect", "symmetric", "wrap", "constant"):
            kw = {"fill_value": -3.0} if mode == "constant" else {}
            case(lambda st=st, mode=mode, kw=kw: st(u, boundary=mode, **kw),
                 f"{be}_offset_{k}_{mode}")
        case(lambda st=st: st(u, boundary="valid"), f"{be}_offset_{k}_valid")
    chain = deco("    a = u[300] + u[-2]\\n    b = a[-700] * 2.0\\n    return b[401] - a[3]", be)
    for mode in ("wrap", "reflect"):
        case(lambda st=chain, mode=mode: st(u, boundary=mode), f"{be}_chain_{mode}")
'''

DEEP_CASES = '''
import sys
u = np.arange(9.0)
def deco(body, be, pre=""):
    return make(pre + "@sp.stencil(backend=%r)\\ndef f(u):\\n%s\\n" % (be, body))

def sum_of(n):
    return " + ".join("u[%d]" % (k % 3 - 1) for k in range(n))

for be in ("llvm", "numpy"):
    for n in (201, 350, 1000):
        case(lambda n=n, be=be: deco("    return " + sum_of(n), be), f"{be}_sum_{n}")
    case(lambda be=be: deco("    return " + sum_of(200), be)(u, boundary="wrap"), f"{be}_sum_200")
    case(lambda be=be: deco("    return " + "- " * 500 + "u[1]", be), f"{be}_neg_500")
    case(lambda be=be: deco("    return " + " ** ".join(["u[1]"] * 300), be), f"{be}_pow_300")
    case(lambda be=be: deco("    return " + "-(" * 150 + "u[1]" + ")" * 150, be)(u, boundary="wrap"),
         f"{be}_neg_150")
    case(lambda be=be: deco("    return u[" + "+".join(["1"] * 400) + "]", be),
         f"{be}_offset_expression_400")
    case(lambda be=be: deco("    return u[0] if " + " and ".join(["u[1] > %d" % k for k in range(300)])
                            + " else u[1]", be)(u, boundary="wrap"), f"{be}_flat_boolop_300")
    def helpers(n):
        src = "@sp.function\\ndef h0(x):\\n    return x\\n"
        src += "".join("@sp.function\\ndef h%d(x):\\n    return h%d(x) + 1.0\\n" % (k, k - 1)
                       for k in range(1, n))
        return src
    case(lambda be=be: deco("    return h19(u)", be, helpers(20))(u, boundary="wrap"),
         f"{be}_helpers_20")
    for n in (21, 100, 300):
        case(lambda n=n, be=be: deco("    return h%d(u)" % (n - 1), be, helpers(n)),
             f"{be}_helpers_{n}")
    # long chains of temporaries cost no depth
    body = "    t0 = u[1]\\n" + "".join("    t%d = t%d + u[%d]\\n" % (k + 1, k, k % 3 - 1)
                                     for k in range(600)) + "    return t600"
    case(lambda be=be, body=body: deco(body, be)(u, boundary="wrap"), f"{be}_temps_600")
    # a deep expression defined from deep inside the caller's own recursion
    def nested(depth, be=be):
        if depth:
            return nested(depth - 1, be)
        return deco("    return " + sum_of(150), be)(u, boundary="wrap")
    case(lambda: nested(sys.getrecursionlimit() - 150), f"{be}_sum_150_from_a_deep_stack")
    nest = "".join("    " * (k + 1) + "if u[%d] > %d:\\n" % (k % 3 - 1, k) for k in range(60))
    nest += "    " * 61 + "t = u[1]\\n" + "    t = u[0] if False else u[0]\\n"
    # all the ifs assign t in one branch only: t is defined before, so always defined
    body = "    t = u[0]\\n" + nest.replace("    t = u[0] if False else u[0]\\n", "") + "    return t"
    case(lambda be=be, body=body: deco(body, be)(u, boundary="wrap"), f"{be}_nested_if_60")
'''


@pytest.fixture(scope="module")
def offsets():
    return run_cases(OFFSET_CASES)


@pytest.fixture(scope="module")
def deep():
    return run_cases(DEEP_CASES)


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("name", ["minus_2_63", "minus_2_63_spelled", "plus_2_63", "plus_2_64",
                                  "max_int64", "huge_power", "limit_plus_1",
                                  "minus_limit_minus_1", "sum_of_two_in_range", "named_axis"])
def test_offsets_out_of_range_are_refused_at_decoration(offsets, be, name):
    assert_error(offsets, f"{be}_decorate_{name}", "out of range", "StencilSyntaxError")


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("name", ["chain_past_limit", "negative_chain_past_limit",
                                  "chain_one_past_limit"])
def test_offsets_adding_up_past_the_limit_are_refused_at_decoration(offsets, be, name):
    assert_error(offsets, f"{be}_decorate_{name}", "halo would be", "StencilSyntaxError")


def _padded_read(u, k, mode, fill=-3.0):
    """u[i + k] for every i, with NumPy's own padding (independent of stencilpy)."""
    n = len(u)
    width = abs(k)
    kw = {"constant_values": fill} if mode == "constant" else {}
    p = np.pad(u, width, mode=mode, **kw)
    return p[width + k:width + k + n]


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("k", [LIMIT, -LIMIT, 1000, -1001])
@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap", "constant"])
def test_offsets_far_beyond_the_array_are_right(offsets, be, k, mode):
    u = np.arange(7.0) ** 2 + 1
    got = np.asarray(assert_ok(offsets, f"{be}_offset_{k}_{mode}"))
    np.testing.assert_array_equal(got, _padded_read(u, k, mode) + 0.5 * u)


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("k", [LIMIT, -LIMIT, 1000, -1001])
def test_offsets_beyond_the_array_with_valid_say_too_small(offsets, be, k):
    assert_error(offsets, f"{be}_offset_{k}_valid", "too small", "StencilCallError")


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("mode", ["wrap", "reflect"])
def test_chains_of_large_offsets_are_right(offsets, be, mode):
    u = np.arange(7.0) ** 2 + 1

    def at(x, k):
        return _padded_read(x, k, mode) if mode != "wrap" else np.roll(x, -k)

    # the stencil's temporaries are computed on the padded domain: a = u[300] + u[-2] read
    # at -700 is (u[-400] + u[-702]) in box coordinates, as the reference's stages
    a_m700 = at(u, -400) + at(u, -702)
    a_3 = at(u, 303) + at(u, 1)
    b_401 = 2.0 * (at(u, 1) + at(u, -301))
    want = b_401 - a_3
    got = np.asarray(assert_ok(offsets, f"{be}_chain_{mode}"))
    if mode == "wrap":                  # periodic: composing shifts is exact
        np.testing.assert_array_equal(got, want)
    else:                               # both backends agree with each other
        other = np.asarray(assert_ok(offsets, f"{'numpy' if be == 'llvm' else 'llvm'}_chain_{mode}"))
        np.testing.assert_array_equal(got, other)
    assert a_m700 is not None


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("n", [201, 350, 1000])
def test_long_sums_are_a_syntax_error(deep, be, n):
    assert_error(deep, f"{be}_sum_{n}", "nested more than 200", "StencilSyntaxError")


@pytest.mark.parametrize("be", BACKENDS)
def test_a_sum_of_200_terms_is_right(deep, be):
    u = np.arange(9.0)
    want = sum(np.roll(u, -(k % 3 - 1)) for k in range(200))
    np.testing.assert_allclose(assert_ok(deep, f"{be}_sum_200"), want, rtol=1e-13)


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("name", ["neg_500", "pow_300"])
def test_deep_nesting_is_a_syntax_error(deep, be, name):
    assert_error(deep, f"{be}_{name}", "nested more than", "StencilSyntaxError")


@pytest.mark.parametrize("be", BACKENDS)
def test_nesting_within_the_limit_and_flat_boolops_are_right(deep, be):
    u = np.arange(9.0)
    np.testing.assert_array_equal(assert_ok(deep, f"{be}_neg_150"), np.roll(u, -1))
    cond = np.roll(u, -1) > 299
    np.testing.assert_array_equal(assert_ok(deep, f"{be}_flat_boolop_300"),
                                  np.where(cond, u, np.roll(u, -1)))


@pytest.mark.parametrize("be", BACKENDS)
def test_deep_offset_expression_is_a_syntax_error(deep, be):
    assert_error(deep, f"{be}_offset_expression_400", "nests more than", "StencilSyntaxError")


@pytest.mark.parametrize("be", BACKENDS)
def test_twenty_nested_helpers_work(deep, be):
    np.testing.assert_array_equal(assert_ok(deep, f"{be}_helpers_20"), np.arange(9.0) + 19)


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("n", [21, 100, 300])
def test_deeper_helper_chains_are_a_syntax_error(deep, be, n):
    assert_error(deep, f"{be}_helpers_{n}", "helpers deep", "StencilSyntaxError")


@pytest.mark.parametrize("be", BACKENDS)
def test_long_chains_of_temporaries_work(deep, be):
    u = np.arange(9.0)
    want = np.roll(u, -1) + sum(np.roll(u, -(k % 3 - 1)) for k in range(600))
    np.testing.assert_allclose(assert_ok(deep, f"{be}_temps_600"), want, rtol=1e-13)


@pytest.mark.parametrize("be", BACKENDS)
def test_no_recursion_error_from_a_deep_caller(deep, be):
    """Whatever the caller's stack: a result or a StencilSyntaxError, not RecursionError."""
    got = deep[f"{be}_sum_150_from_a_deep_stack"]
    if got[0] == "ok":
        u = np.arange(9.0)
        want = sum(np.roll(u, -(k % 3 - 1)) for k in range(150))
        np.testing.assert_allclose(got[1], want, rtol=1e-13)
    else:
        assert "StencilSyntaxError" in got[3], got[1:3]


@pytest.mark.parametrize("be", BACKENDS)
def test_sixty_nested_ifs(deep, be):
    got = deep[f"{be}_nested_if_60"]
    if got[0] == "error":
        assert "StencilSyntaxError" in got[3], got[1:3]
        return
    u = np.arange(9.0)
    cond = np.ones(9, bool)
    for k in range(60):
        cond &= np.roll(u, -(k % 3 - 1)) > k
    np.testing.assert_array_equal(got[1], np.where(cond, np.roll(u, -1), u))
