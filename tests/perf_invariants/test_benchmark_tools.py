"""The benchmark tools run and check their results (timing itself is never asserted)."""

import shutil

import pytest

from stencilpy.bench import bound

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="the C kernels need gcc")


@needs_gcc
@pytest.mark.parametrize("shape, dtype", [("40x48", "float32"), ("12x10x16", "float64")])
def test_copy_bound_tool_checks_and_reports(capsys, shape, dtype):
    bound.main([shape, dtype, "--repeats", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"{shape} {dtype}, 1 thread")
    names = [line.split("  ")[1].strip() for line in lines[1:]]
    assert names == ["C laplacian", "stencilpy laplacian", "numpy copyto", "stencilpy copy"]
    assert all(line.rstrip().endswith("x C") for line in lines[1:])
