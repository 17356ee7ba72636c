"""The python blocks of docs/boundaries.md run, in order, as one module (line numbers
kept, so a failure points at the page's line); ``<!-- skip-test -->`` skips a block."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "boundaries.md"


def page_as_module(text: str) -> str:
    lines = text.splitlines()
    code = [""] * len(lines)
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith("```python"):
            skipped = i > 0 and "skip-test" in lines[i - 1]
            j = i + 1
            while not lines[j].strip().startswith("```"):
                if not skipped:
                    code[j] = lines[j]
                j += 1
            i = j + 1
        else:
            i += 1
    return "\n".join(code) + "\n"


def test_boundaries_page_runs(tmp_path):
    path = tmp_path / "docs_boundaries.py"
    path.write_text(page_as_module(PAGE.read_text()))
    spec = importlib.util.spec_from_file_location("docs_boundaries", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.diff.halo == ((1, 2),)


def test_pictures_exist():
    for name in ("boundary_modes.png", "boundary_staggered.png", "boundary_fill_valid.png"):
        assert name in PAGE.read_text()
        assert (PAGE.parent / "img" / name).stat().st_size > 1000
