"""The ```python blocks of the user docs run as tests: one test per page.

All blocks of a page run, in order, as one module (they share state, as the cells of a
notebook do).  Stencils need their source in a real file, so the module is written to
``tmp_path`` and imported; it keeps the page's line numbers (every line that is not in
a python block is blank), so line N in a traceback or a ``StencilSyntaxError`` is line N
of the markdown page.

Markers, on the line(s) just above a block:

* ``<!-- skip-test -->`` — the block is not run (it needs a file, a cluster, ...);
* ``<!-- requires: xarray -->`` — the block runs only if ``stencilpy.adapters.xarray``
  (and so xarray) imports; otherwise it is left out and ``test_requirements`` reports
  it as skipped.  ``requires: dask`` works the same way.  Keep such blocks at the end
  of a page: later blocks must not depend on them.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ("tutorial.md", "language.md", "index.md", "diagnostics.md", "gpu.md")

#: ``requires: <name>`` -> the module that must import for the block to run
REQUIREMENTS = {"xarray": "stencilpy.adapters.xarray", "dask": "stencilpy.adapters.dask",
                "metpy": "metpy.calc", "matplotlib": "matplotlib"}

#: the modules of the pages run so far: a page's stencils stay alive until the end of the
#: session, as in a notebook.  (Also, with the MCJIT loader, garbage-collecting a compiled
#: stencil frees LLVM's shared target machine and the next compile crashes: reported.)
_RAN: list = []

_FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*(skip-test|requires:\s*[\w.]+)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, 1-based line of its first code line,
    its lines, and the markers written just above it."""

    lang: str
    first_line: int
    lines: tuple[str, ...]
    markers: tuple[str, ...]

    @property
    def requires(self) -> tuple[str, ...]:
        return tuple(m.split(":", 1)[1].strip() for m in self.markers if m.startswith("requires"))

    @property
    def skipped(self) -> bool:
        return "skip-test" in self.markers


def blocks(text: str) -> list[Block]:
    """Every fenced block of a markdown text."""
    lines = text.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).lower()
        markers = []
        j = i - 1
        while j >= 0 and (lines[j].strip() == "" or _MARKER.match(lines[j])):
            if lines[j].strip():
                markers.append(re.sub(r"\s+", " ", _MARKER.match(lines[j]).group(1)))
            j -= 1
        start = i + 1
        i = start
        while i < len(lines) and not lines[i].strip().startswith("```"):
            i += 1
        if i == len(lines):
            raise AssertionError(f"unclosed ``` block opened on line {start}")
        body = tuple(line[len(indent):] if line.startswith(indent) else line
                     for line in lines[start:i])
        found.append(Block(lang, start + 1, body, tuple(markers)))
        i += 1
    return found


def _available(requirement: str) -> bool:
    module = REQUIREMENTS.get(requirement, requirement)
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def page_module(text: str) -> tuple[str, list[Block], list[Block]]:
    """(module source with the page's line numbers, blocks run, blocks left out)."""
    n_lines = len(text.splitlines())
    source = [""] * n_lines
    run, left_out = [], []
    for block in blocks(text):
        if block.lang not in ("python", "py"):
            continue
        if block.skipped or not all(_available(r) for r in block.requires):
            left_out.append(block)
            continue
        run.append(block)
        for k, line in enumerate(block.lines):
            source[block.first_line - 1 + k] = line
    return "\n".join(source) + "\n", run, left_out


def run_page(page: str, tmp_path: Path, monkeypatch) -> list[Block]:
    text = (DOCS / page).read_text(encoding="utf-8")
    source, run, _ = page_module(text)
    assert run, f"docs/{page} has no runnable ```python blocks"
    name = "docs_" + re.sub(r"\W", "_", Path(page).stem)
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.chdir(tmp_path)                      # files a page writes land in tmp_path
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                       # pickling / dataclasses look it up
    _RAN.append(module)
    failure = None
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        failure = _describe(exc, page, text, path)
    finally:
        sys.modules.pop(name, None)
    if failure:
        pytest.fail(failure, pytrace=False)
    return run


def _describe(exc: Exception, page: str, text: str, path: Path) -> str:
    """Where on the page a block failed (with the page's lines around it), and the traceback."""
    line = _page_line(exc, path)
    loc = getattr(exc, "loc", None)               # a StencilSyntaxError points at the code
    if loc is not None and Path(loc.filename) == path:
        line = loc.line
    lines = text.splitlines()
    where = f"docs/{page}, line {line}" if line else f"docs/{page}"
    context = "" if not line else "".join(
        f"{'>' if k == line else ' '} {k:4d} | {lines[k - 1]}\n"
        for k in range(max(1, line - 4), line + 1))
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next))
    return f"a python block failed at {where}:\n{context}\n{tb}"


def _page_line(exc: BaseException, path: Path) -> int | None:
    """The last traceback line in the generated module (= the markdown line)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@pytest.mark.parametrize("page", PAGES)
def test_page(page, tmp_path, monkeypatch):
    run_page(page, tmp_path, monkeypatch)


def _required() -> dict[str, list[str]]:
    """requirement -> the blocks (``docs/page:line``) that need it."""
    needs: dict[str, list[str]] = {}
    for page in PAGES:
        for block in blocks((DOCS / page).read_text(encoding="utf-8")):
            for requirement in block.requires:
                needs.setdefault(requirement, []).append(f"docs/{page}:{block.first_line}")
    return needs


@pytest.mark.parametrize("requirement", sorted(_required()))
def test_requirements(requirement):
    """A requirement is one the runner knows (a misspelt one would leave its blocks out for
    ever), and its blocks run when it is importable; skipped (with the blocks' places) when
    it is not."""
    where = _required()[requirement]
    assert requirement in REQUIREMENTS, (
        f"unknown requirement '{requirement}' at {', '.join(where)}: use one of "
        f"{sorted(REQUIREMENTS)} or add it to REQUIREMENTS")
    if not _available(requirement):
        pytest.skip(f"{REQUIREMENTS[requirement]} is not importable: the blocks at "
                    f"{', '.join(where)} were not run")
    ran = set()
    for page in PAGES:
        _, run, _ = page_module((DOCS / page).read_text(encoding="utf-8"))
        ran |= {f"docs/{page}:{b.first_line}" for b in run if requirement in b.requires}
    assert ran == set(where), f"blocks needing {requirement} that were left out: " \
                              f"{sorted(set(where) - ran)}"


def test_requirement_markers_are_checked():
    """The check above on a made-up page: a known requirement's block runs, a misspelt
    one is left out (and test_requirements would name it)."""
    text = ("<!-- requires: xarray -->\n```python\nx = 1\n```\n"
            "<!-- requires: xarry -->\n```python\ny = 2\n```\n")
    _, run, left_out = page_module(text)
    assert [b.requires for b in left_out] == [("xarry",)] and "xarry" not in REQUIREMENTS
    assert [b.requires for b in run] == ([("xarray",)] if _available("xarray") else [])


def test_block_parser():
    text = ("# t\n\n<!-- skip-test -->\n```python\nx = 1\n```\n\n"
            "<!-- requires: xarray -->\n```python\ny = 2\n```\n```text\nz\n```\n")
    found = blocks(text)
    assert [(b.lang, b.first_line, b.lines, b.markers) for b in found] == [
        ("python", 5, ("x = 1",), ("skip-test",)),
        ("python", 10, ("y = 2",), ("requires: xarray",)),
        ("text", 13, ("z",), ()),
    ]
    assert found[0].skipped and found[1].requires == ("xarray",)
