"""Bad uses of sweeps are StencilSyntaxErrors at decoration, with the caret and a hint."""

import pytest

import stencilpy as sp

NL = 2


def _error(func, dims=("lev", "lat", "lon")) -> sp.StencilSyntaxError:
    with pytest.raises(sp.StencilSyntaxError) as info:
        sp.stencil(func, dims=dims, backend="numpy")
    return info.value


def test_read_of_a_level_not_yet_computed():
    def f(a):
        with sp.forward("lev"):
            with sp.levels(0, -1):
                t = a
                u = t[lev + 1]
        return a
    err = _error(f)
    assert "not computed yet" in str(err) and "t[lev + 1]" in str(err)
    assert "^" in str(err) and "sp.backward" in err.hint


def test_backward_sweep_cannot_read_below():
    def f(a):
        with sp.backward("lev"):
            with sp.levels(-1, None):
                x = a
            with sp.levels(0, -1):
                x = x[lev - 1]
        return x
    err = _error(f)
    assert "backward sweep has not computed yet" in str(err)


def test_overlapping_ranges():
    def f(a):
        with sp.forward("lev"):
            with sp.levels(0, 2):
                x = a
            with sp.levels(1, None):
                x = a
        return x
    err = _error(f)
    assert "overlap" in str(err) and "sp.levels(1, None)" in str(err)
    assert err.loc.line == f.__code__.co_firstlineno + 4


def test_sweep_over_an_undeclared_axis():
    def f(a):
        with sp.forward("z"):
            x = a
        return x
    err = _error(f)
    assert "'z', which is not a dimension" in str(err) and "dims=" in err.hint
    err = _error(f, dims=None)
    assert "declares no dims" in str(err)


def test_axis_position_out_of_range():
    def f(a):
        with sp.forward(3):
            x = a[0, 0]
        return x
    err = _error(f, dims=None)
    assert "axis 3" in str(err) and "2 dimensions" in str(err)


def test_temporary_read_outside_its_levels():
    def f(a):
        with sp.forward("lev"):
            with sp.levels(0, 1):
                x = a
        return x
    err = _error(f)
    assert "outside the 'lev' levels where it is defined" in str(err)
    assert "by 'return'" in str(err)


def test_read_below_the_first_level():
    def f(a):
        with sp.forward("lev"):
            x = x[lev - 1] + a
        return x
    err = _error(f)
    assert "not computed" in str(err) or "before it is assigned" in str(err)


def test_first_level_read_at_lev_minus_one():
    def f(a):
        with sp.forward("lev"):
            with sp.levels(0, None):
                x = a
                y = x[lev - 1]
        return y
    err = _error(f)
    assert "not computed at all the levels this range reads" in str(err)


def test_horizontal_offset_of_a_temporary_of_the_same_sweep():
    def f(a):
        with sp.forward("lev"):
            x = a
            y = x[lon + 1]
        return y
    err = _error(f)
    assert "another column" in str(err) and "before the sweep" in err.hint


def test_assigned_in_another_range_not_this_level():
    def f(a):
        with sp.forward("lev"):
            with sp.levels(0, 1):
                x = a
            with sp.levels(1, None):
                y = x
        return a
    err = _error(f)
    assert "not computed at this level yet" in str(err)


@pytest.mark.parametrize("body, message", [
    ("with sp.levels(0, 1):\n        x = a\n    return x", "not directly inside a sweep"),
    ("with sp.forward('lev'):\n        with sp.forward('lev'):\n            x = a\n    return a",
     "sweeps do not nest"),
    ("if a > 0:\n        with sp.forward('lev'):\n            x = a\n    return a",
     "inside an 'if'"),
    ("with sp.forward('lev'):\n        with sp.levels(2, 1):\n            x = a\n    return a",
     "empty range"),
    ("with sp.forward('lev'):\n        with sp.levels(0, a):\n            x = a\n    return a",
     "not an integer known"),
    ("with open('x'):\n        x = a\n    return a", "'with' blocks are not supported"),
    ("with sp.forward('lev') as s:\n        x = a\n    return a", "takes no 'as'"),
])
def test_misplaced_blocks(tmp_path, body, message):
    import importlib.util
    path = tmp_path / "mod.py"
    path.write_text("import stencilpy as sp\n\ndef f(a):\n    " + body + "\n")
    spec = importlib.util.spec_from_file_location("mod_columns_err", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    err = _error(mod.f)
    assert message in str(err), str(err)
    assert err.hint and err.loc.filename == str(path)


def test_helper_cannot_open_a_sweep():
    @sp.function
    def helper(a):
        with sp.forward(0):
            x = a
        return x

    def f(a):
        return helper(a)
    err = _error(f)
    assert "opens a sweep" in str(err)


def test_captured_int_level_bounds():
    def f(a):
        with sp.forward("lev"):
            with sp.levels(0, NL):
                x = a
            with sp.levels(NL, None):
                x = x[lev - NL] + a
        return x
    k = sp.stencil(f, dims=("lev", "lat", "lon"), backend="numpy")
    assert k.halo == ((0, 0), (0, 0), (0, 0))


def test_compiled_backend_runs_and_inspects():
    import numpy as np

    @sp.stencil(dims=("lev", "x"))
    def running(a):
        s = a
        with sp.forward("lev"):
            with sp.levels(1, None):
                s = s + s[lev - 1]
        return s
    np.testing.assert_allclose(running(np.ones((3, 4))), np.cumsum(np.ones((3, 4)), axis=0))
    assert "define void @\"sp_columns\"" in sp.inspect(running, "llvm") or \
        "define void @sp_columns" in sp.inspect(running, "llvm")
    assert "forward axis 0" in sp.inspect(running, "ir")
