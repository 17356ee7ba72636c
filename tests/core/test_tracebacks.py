"""Stencil errors raised to a user carry the user's frames only (``errors.trim_traceback``);
``STENCILPY_TRACEBACK=full`` keeps stencilpy's frames, and bugs always keep them."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.compile import Compiler
from stencilpy.errors import PACKAGE_DIR, trim_traceback

THIS = str(Path(__file__).resolve())


def lap(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def method_call(u):
    return u.sum()


LAP = sp.stencil(lap)


def _raised(fn, *args, **kwargs) -> BaseException:
    try:
        fn(*args, **kwargs)
    except BaseException as err:  # noqa: BLE001 - the test inspects what was raised
        return err
    raise AssertionError("nothing was raised")


def _files(err: BaseException) -> list[str]:
    return [f.filename for f in traceback.extract_tb(err.__traceback__)]


def _internal(err: BaseException) -> list[str]:
    return [f for f in _files(err) if f.startswith(PACKAGE_DIR)]


CASES = {
    "bad call": lambda: LAP(np.zeros((5, 5)), np.zeros((5, 5))),            # fast path
    "bad dtype": lambda: LAP(np.zeros((5, 5), complex)),                     # full path
    "bad option": lambda: LAP(np.zeros((5, 5)), boundary="sideways"),
    "too small": lambda: LAP(np.zeros((2, 2)), boundary="valid"),
    "check=True": lambda: LAP(np.zeros((5, 5)), threads=0, check=True),
    "syntax": lambda: sp.stencil(method_call),
    "helper": lambda: sp.function(lambda x: x),
    "decorator options": lambda: sp.stencil(dims=("x", "y"), backend="fortran")(lap),
    "inspect": lambda: sp.inspect(LAP, "bytecode"),
    "method inspect": lambda: LAP.inspect("bytecode"),
}


def _dataset_case():
    import xarray as xr

    from stencilpy.adapters.xarray import apply_to_dataset
    apply_to_dataset(LAP, xr.Dataset({"t": (("y", "x"), np.zeros((4, 4)))}), field="nope")


try:
    import xarray  # noqa: F401
    CASES["apply_to_dataset"] = _dataset_case
except ImportError:  # pragma: no cover - xarray is a test dependency
    pass


@pytest.mark.parametrize("case", CASES)
def test_user_errors_show_the_users_frames_only(case, monkeypatch):
    monkeypatch.delenv("STENCILPY_TRACEBACK", raising=False)
    err = _raised(CASES[case])
    assert isinstance(err, sp.StencilError)
    assert _internal(err) == []
    assert _files(err) == [THIS, THIS]          # _raised, then the function of the case
    assert not getattr(err, "__notes__", None)  # the message is exactly str(err)


@pytest.mark.parametrize("case", CASES)
def test_stencilpy_traceback_full_keeps_every_frame(case, monkeypatch):
    monkeypatch.setenv("STENCILPY_TRACEBACK", "full")
    err = _raised(CASES[case])
    assert isinstance(err, sp.StencilError)
    assert _internal(err)


def test_a_bug_keeps_every_frame(monkeypatch):
    """Only user errors are trimmed: anything else is a bug, and its frames are the report."""
    def broken(self, call, outs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Compiler, "kernel", broken)
    err = _raised(sp.stencil(lap), np.zeros((5, 5)))
    assert isinstance(err, ZeroDivisionError)
    fastpath = os.path.join("stencilpy", "runtime", "fastpath.py")
    assert any(f.endswith(fastpath) for f in _internal(err))
    assert trim_traceback(err) is err and err.__traceback__ is not None


def test_trimming_twice_changes_nothing(monkeypatch):
    monkeypatch.delenv("STENCILPY_TRACEBACK", raising=False)
    err = _raised(LAP, np.zeros((5, 5)), np.zeros((5, 5)))
    before = _files(err)
    assert trim_traceback(err) is err and _files(err) == before == [THIS]


SCRIPT = '''
import numpy as np
import stencilpy as sp


@sp.stencil
def lap(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def step(u):
    return lap(u, np.zeros(3))


step(np.zeros((5, 5)))
'''


@pytest.mark.parametrize("setting", ["", "full"])
def test_the_printed_traceback(tmp_path, setting):
    """What a user sees: the traceback of a script that calls a stencil wrongly."""
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, STENCILPY_TRACEBACK=setting)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(PACKAGE_DIR).parent), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    frames = [line for line in proc.stderr.splitlines() if line.startswith('  File "')]
    assert proc.returncode == 1
    assert "stencilpy.errors.StencilCallError: 'lap' takes 1 arguments (u) but 2 were given" \
        in proc.stderr
    if setting == "full":
        assert any(PACKAGE_DIR in line for line in frames)
    else:
        assert [line.split(", ")[1:] for line in frames] == [["line 15", "in <module>"],
                                                             ["line 12", "in step"]]
        assert proc.stderr.rstrip().endswith("but 2 were given")
