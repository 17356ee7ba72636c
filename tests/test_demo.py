"""``stencilpy demo``: the rotating-cone run writes a CF netCDF file and a PNG."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from stencilpy.cli import main
from stencilpy.demo import _exact_cone
from stencilpy.mpdata import Solver, cases

xr = pytest.importorskip("xarray")
pytest.importorskip("matplotlib")

STEPS = 40


def test_demo_writes_netcdf_and_png(tmp_path, capsys):
    code = main(["demo", "--n", "48", "--steps", str(STEPS), "--output", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr()
    for text in ("L1 =", "L2 =", "Linf =", "mass change", "min/max", "numpy reference:",
                 "faster", "stencilpy:"):
        assert text in printed.out, text
    assert "steps 100%" in printed.err                      # the progress bars

    png = tmp_path / "rotating_cone.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with xr.open_dataset(tmp_path / "rotating_cone.nc") as stored:
        assert stored["psi_final"].dims == ("y", "x")              # CF axis order
        assert stored.attrs["history"].endswith(f"stencilpy demo --n 48 --steps {STEPS} "
                                                "--n-iters 2 --nonoscillatory")
        ds = stored.transpose("x", "y")
        assert set(ds.data_vars) == {"psi_initial", "psi_final", "error"}
        assert ds["x"].attrs["units"] == "m" and ds["y"].attrs["units"] == "m"
        assert ds["psi_final"].dims == ("x", "y") and ds["psi_final"].shape == (48, 48)
        assert ds.attrs["Conventions"] == "CF-1.8"
        for name in ("title", "history", "n_iters", "nonoscillatory", "infinite_gauge",
                     "third_order_terms", "steps"):
            assert name in ds.attrs, name
        assert ds.attrs["nonoscillatory"] == "true" and int(ds.attrs["n_iters"]) == 2
        case = cases.rotating_cone(48)
        expected = Solver(case.psi0, case.courant, nonoscillatory=True).advance(STEPS)
        np.testing.assert_allclose(ds["psi_initial"].values, case.psi0, rtol=0, atol=0)
        np.testing.assert_allclose(ds["psi_final"].values, expected, rtol=0, atol=1e-13)
        exact = _exact_cone(case.params, STEPS)
        np.testing.assert_allclose(ds["error"].values, expected - exact, rtol=0, atol=1e-13)
        assert np.isclose(ds.attrs["mass_relative_change"],
                          (expected.sum() - case.psi0.sum()) / case.psi0.sum(), atol=1e-15)


def test_demo_options_quiet_no_plot_no_reference(tmp_path, capsys):
    code = main(["demo", "--n", "24", "--steps", "10", "--n-iters", "3", "--no-nonoscillatory",
                 "--no-plot", "--no-reference", "--quiet", "--output", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err == ""
    assert not (tmp_path / "rotating_cone.png").exists()
    with xr.open_dataset(tmp_path / "rotating_cone.nc") as stored:
        ds = stored.transpose("x", "y")
        assert int(ds.attrs["n_iters"]) == 3 and ds.attrs["nonoscillatory"] == "false"
        case = cases.rotating_cone(24)
        np.testing.assert_allclose(ds["psi_final"].values,
                                   Solver(case.psi0, case.courant, n_iters=3).advance(10),
                                   rtol=0, atol=1e-13)


def test_demo_third_order_terms_and_infinite_gauge(tmp_path, capsys):
    assert main(["demo", "--n", "24", "--steps", "6", "--third-order-terms", "--no-plot",
                 "--output", str(tmp_path)]) == 0
    assert "background 1" in capsys.readouterr().out           # (13) needs psi > 0
    assert main(["demo", "--n", "24", "--steps", "6", "--infinite-gauge", "--third-order-terms",
                 "--no-plot", "--quiet", "--output", str(tmp_path)]) == 0
    with xr.open_dataset(tmp_path / "rotating_cone.nc") as ds:
        assert ds.attrs["infinite_gauge"] == "true" and ds.attrs["third_order_terms"] == "true"


def test_demo_rejects_bad_options(tmp_path, capsys):
    assert main(["demo", "--n", "24", "--infinite-gauge", "--n-iters", "3",
                 "--output", str(tmp_path)]) == 2
    assert "infinite_gauge" in capsys.readouterr().err
    assert main(["demo", "--n", "3", "--output", str(tmp_path)]) == 2
    assert "n >= 4" in capsys.readouterr().err
    assert main(["demo", "--steps", "-1", "--output", str(tmp_path)]) == 2
    assert "--steps must be >= 0" in capsys.readouterr().err


def test_demo_help_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "stencilpy", "demo", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--n", "--steps", "--n-iters", "--nonoscillatory", "--no-nonoscillatory",
                 "--infinite-gauge", "--third-order-terms", "--output", "--no-plot",
                 "--no-reference", "--quiet"):
        assert flag in proc.stdout, flag


def test_demo_explains_missing_packages(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["demo", "--n", "24", "--steps", "2", "--output", str(tmp_path)]) == 2
    assert "--no-plot" in capsys.readouterr().err
    assert main(["demo", "--n", "24", "--steps", "2", "--no-plot", "--quiet",
                 "--output", str(tmp_path)]) == 0
