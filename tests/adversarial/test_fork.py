"""``os.fork()`` while other threads hold stencilpy's locks (issue 15, row 3).

A forked child has only the thread that forked: every lock another thread held stays
held there unless it is reset (``runtime/forksafe.py``).  Each case forks while another
thread compiles, runs or unpickles, then compiles and runs a *new* stencil in the child
(checked against NumPy).  A child that has not finished in 40 s is a hang; the cache is
off (``STENCILPY_CACHE=0``), so every stencil really compiles.
"""

import os

import pytest

from ._harness import assert_ok, child_env, run_cases

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")

CASES = r'''
import os, pickle, threading, time, traceback
from stencilpy import compile
from stencilpy.runtime import jit
from stencilpy.adapters import pickling

def in_child(fn, wait=40.0):
    """Fork; run fn() in the child (exit 0 if it returns True); the child's exit code,
    or "hang"."""
    pid = os.fork()
    if pid == 0:
        code = 2
        import faulthandler
        faulthandler.dump_traceback_later(wait - 5, exit=True)   # where a hang hangs
        try:
            code = 0 if fn() else 1
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "hang"

N = [0]
def fresh_stencil_works():
    """A stencil never compiled before, compiled and run here: right answer?"""
    N[0] += 1
    st = make("@sp.stencil\ndef f(u):\n    return u[1] - %d.0 * u[0] + u[-1]\n" % (N[0] + 2))
    u = np.arange(50.0) ** 2
    got = st(u, boundary="wrap", threads=2)
    return bool(np.allclose(got, np.roll(u, -1) - (N[0] + 2) * u + np.roll(u, 1)))

BIG = "@sp.stencil\ndef f(u):\n    return " + " + ".join(
    "%d.5 * u[%d, %d, %d]" % (k, k % 3 - 1, k % 5 - 2, k % 7 - 3) for k in range(90)) + "\n"

def fork_during_compile():
    big = make(BIG)
    worker = threading.Thread(target=lambda: big(np.ones((8, 8, 8)), boundary="wrap"))
    worker.start()
    deadline = time.monotonic() + 30
    while not compile._COMPILE_LOCK.locked() and time.monotonic() < deadline:
        time.sleep(0.0005)
    assert compile._COMPILE_LOCK.locked(), "the compile was not seen"
    time.sleep(0.05)                        # well inside code generation or LLVM
    status = in_child(fresh_stencil_works)
    worker.join()
    return status, fresh_stencil_works()    # and the parent still works
case(fork_during_compile)

def holding(lock_owner, name, seconds=1.5):
    """A thread that holds lock_owner.<name> for a while (as a long compile would)."""
    held = threading.Event()
    def hold():
        lock = getattr(lock_owner, name)
        with lock:
            held.set()
            time.sleep(seconds)
    t = threading.Thread(target=hold)
    t.start()
    held.wait()
    return t

def fork_while_compile_lock_held():
    t = holding(compile, "_COMPILE_LOCK")
    status = in_child(fresh_stencil_works)
    t.join()
    return status
case(fork_while_compile_lock_held)

def fork_while_llvm_lock_held():
    t = holding(jit, "_LOCK")
    status = in_child(fresh_stencil_works)
    t.join()
    return status
case(fork_while_llvm_lock_held)

def fork_while_unpickling():
    st = make("@sp.stencil\ndef g(u):\n    return u[1] + u[-1]\n", "g")
    payload = pickle.dumps(st)
    t = holding(pickling, "_LOCK")
    def child():
        again = pickle.loads(payload)       # rebuilt by value: takes the pickling lock
        u = np.arange(9.0)
        return bool(np.allclose(again(u, boundary="wrap"), np.roll(u, -1) + np.roll(u, 1)))
    status = in_child(child)
    t.join()
    return status
case(fork_while_unpickling)

def fork_during_threaded_calls():
    st = make("@sp.stencil\ndef h(u):\n    return u[1, 0] + u[-1, 0] - u[0, 1]\n", "h")
    u = np.random.default_rng(0).random((600, 600))
    want = np.roll(u, -1, 0) + np.roll(u, 1, 0) - np.roll(u, -1, 1)
    stop = threading.Event()
    def busy():
        while not stop.is_set():
            st(u, boundary="wrap", threads=2)
    t = threading.Thread(target=busy)
    t.start()
    time.sleep(0.3)
    def child():
        same = all(np.allclose(st(u, boundary="wrap", threads=2), want) for _ in range(3))
        return same and fresh_stencil_works()
    status = in_child(child)
    stop.set()
    t.join()
    return status
case(fork_during_threaded_calls)
'''


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_cases(CASES, timeout=300, env=child_env(tmp_path_factory.mktemp("cache"),
                                                       STENCILPY_CACHE="0"))


def test_fork_while_another_thread_compiles(results):
    child, parent = assert_ok(results, "fork_during_compile")
    assert child == 0, f"the child {'hung' if child == 'hang' else f'exited {child}'}"
    assert parent is True


@pytest.mark.parametrize("name", ["fork_while_compile_lock_held", "fork_while_llvm_lock_held",
                                  "fork_while_unpickling", "fork_during_threaded_calls"])
def test_fork_while_a_lock_is_held(results, name):
    child = assert_ok(results, name)
    assert child == 0, f"the child {'hung' if child == 'hang' else f'exited {child}'}"
