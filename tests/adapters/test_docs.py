"""The code blocks of docs/xarray.md run, in order, as one script."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

pytest.importorskip("xarray")
pytest.importorskip("dask.array")
pytest.importorskip("netCDF4")

DOC = Path(__file__).resolve().parents[2] / "docs" / "xarray.md"


def test_xarray_doc_examples_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    script = tmp_path / "xarray_doc.py"            # a real file: stencils need their source
    script.write_text("\n".join(blocks))
    runpy.run_path(str(script), run_name="xarray_doc")
