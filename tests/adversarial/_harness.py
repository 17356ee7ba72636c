"""Run risky cases in a child Python process with a timeout.

A hang (the timeout) or a crash (a signal: SIGSEGV, SIGILL, SIGABRT...) fails the test
that ran the case; it never takes the test run down with it.  The child imports the
stencilpy of this checkout.

``run_cases(body)`` runs many cheap cases in one child: ``body`` defines them with the
``@case`` decorator of ``PRELUDE``; each records ``("ok", value)`` or
``("error", "ExceptionType", message)``, and the child prints them as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: the checkout whose stencilpy the children import (override: to run the suite against
#: another copy, e.g. the code before a fix, to see the suite fail there)
ROOT = Path(os.environ.get("STENCILPY_ADVERSARIAL_ROOT") or Path(__file__).resolve().parents[2])

PRELUDE = '''
import json, sys, warnings
import numpy as np
import stencilpy as sp
RESULTS = {}

def case(fn, name=None):
    """Run fn() now; record (under ``name``, default its __name__) its value, made
    JSON-friendly, or its exception."""
    name = name or fn.__name__
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn()
        RESULTS[name] = ["ok", _plain(value), [str(w.message) for w in caught]]
    except BaseException as exc:  # noqa: BLE001 - recorded for the parent
        RESULTS[name] = ["error", type(exc).__name__, str(exc)[-20000:],
                                [c.__name__ for c in type(exc).__mro__]]
    return fn

def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value

def make(source, name="f", **globals_):
    """Define the stencil(s) in ``source`` from a real file (the frontend reads source)."""
    import importlib.util, os, tempfile
    path = os.path.join(tempfile.mkdtemp(), "case_module.py")
    with open(path, "w") as fh:
        fh.write("import stencilpy as sp\\nimport numpy as np\\n" + source)
    spec = importlib.util.spec_from_file_location("case_module_%d" % len(RESULTS), path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(globals_)
    spec.loader.exec_module(module)
    return getattr(module, name)
'''

EPILOGUE = '''
def _fallback(o):
    try:
        return float(o)
    except Exception:
        return repr(o)
print("RESULTS " + json.dumps(RESULTS, default=_fallback))
'''


def child_env(cache_dir: Path | str | None = None, **extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in
                                                       env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["PYTHONFAULTHANDLER"] = "1"
    if cache_dir is not None:
        env["STENCILPY_CACHE_DIR"] = str(cache_dir)
    env.update(extra)
    return env


def run_python(code: str, *, timeout: float = 90, env: dict | None = None,
               args: tuple = (), check: bool = True) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (its own process group, killed whole on timeout).

    Fails the calling test on a timeout (a hang) or a death by signal (a crash), and with
    ``check`` on any non-zero exit status."""
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env if env is not None else child_env(), cwd=str(ROOT),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with_group(proc, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"HANG: the case did not finish within {timeout} s\n--- stdout\n{out[-3000:]}"
                    f"\n--- stderr\n{err[-3000:]}")
    with_group(proc, signal.SIGKILL)            # any forked grandchild left behind
    if proc.returncode < 0:
        pytest.fail(f"CRASH: the case died of signal {-proc.returncode} "
                    f"({signal.Signals(-proc.returncode).name})\n--- stderr\n{err[-3000:]}")
    if check and proc.returncode != 0:
        pytest.fail(f"the case exited with status {proc.returncode}\n--- stdout\n{out[-3000:]}"
                    f"\n--- stderr\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def with_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_cases(body: str, *, timeout: float = 180, env: dict | None = None) -> dict:
    """Run the ``@case`` functions of ``body`` in one child; their outcomes by name."""
    code = PRELUDE + textwrap.dedent(body) + EPILOGUE
    proc = run_python(code, timeout=timeout, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULTS "):
            return json.loads(line[len("RESULTS "):])
    pytest.fail(f"the cases printed no results\n--- stderr\n{proc.stderr[-3000:]}")


def outcome(results: dict, name: str) -> list:
    assert name in results, f"case {name} did not run (results: {sorted(results)})"
    return results[name]


def assert_ok(results: dict, name: str):
    got = outcome(results, name)
    assert got[0] == "ok", f"{name}: expected a result, got {got[1]}: {got[2]}"
    return got[1]


def assert_error(results: dict, name: str, match: str = "", kind: str = "StencilError"):
    """The case raised ``kind`` (or a subclass) whose message contains ``match``."""
    got = outcome(results, name)
    assert got[0] == "error", f"{name}: expected {kind}, got a result: {str(got[1])[:300]}"
    assert kind in got[3], f"{name}: expected {kind}, got {got[1]}: {got[2][:500]}"
    assert match in got[2], f"{name}: message lacks {match!r}: {got[2][:500]}"
    return got[2]
