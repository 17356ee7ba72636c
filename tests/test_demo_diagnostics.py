"""``stencilpy demo diagnostics``: netCDF in, lazy diagnostics out, map, accuracy, speed."""

from __future__ import annotations

import pytest

from stencilpy.cli import main

xr = pytest.importorskip("xarray")
pytest.importorskip("dask")
pytest.importorskip("matplotlib")
pytest.importorskip("netCDF4")


def test_demo_diagnostics(tmp_path, capsys):
    with_metpy = pytest.importorskip("metpy") is not None
    code = main(["demo", "diagnostics", "--resolution", "5", "--levels", "2", "--times", "2",
                 "--output", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr()
    for text in ("wrote", "accuracy", "vs numpy", "stencilpy is", "faster"):
        assert text in printed.out, text
    assert "tasks 100%" in printed.err                      # the progress bar
    assert "vs MetPy" in printed.out if with_metpy else True
    assert (tmp_path / "diagnostics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with xr.open_dataset(tmp_path / "diagnostics.nc") as out, \
            xr.open_dataset(tmp_path / "era_like_input.nc") as src:
        assert set(out.data_vars) == {"vorticity", "divergence", "t_advection", "t_laplacian"}
        assert out.vorticity.dims == src.u.dims and out.vorticity.attrs["units"] == "s-1"
        from stencilpy import diagnostics as spd
        want = spd.vorticity(src.u.load(), src.v.load())
        xr.testing.assert_allclose(out.vorticity, want, rtol=1e-13)


def test_numbers(tmp_path):
    from stencilpy.demo_diagnostics import run
    numbers = run(tmp_path, resolution=10.0, levels=1, times=1, plot=False, quiet=True,
                  with_metpy=False)
    assert max(numbers["numpy_diff"].values()) < 1e-9
