"""The scripts in dsl_examples/ run, and each agrees with its hand-written NumPy version."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "dsl_examples"
NAMES = ["laplacian", "hdiff", "donor_cell", "vorticity", "smoothing", "conditional",
         "mpdata_winds", "tridiagonal", "geopotential", "omega", "column_integral", "first_level"]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"dsl_examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_listed():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example(name, capsys):
    module = load(name)
    assert module.__doc__ and "Run it" in module.__doc__
    results = module.main()
    assert results
    for case, (got, want) in results.items():
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype == np.float64, case
        assert got.shape == want.shape, case
        assert np.isfinite(want).all(), case
        scale = np.max(np.abs(want))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale, err_msg=case)
    assert "max relative difference" in capsys.readouterr().out
