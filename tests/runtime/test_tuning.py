"""Per-machine tuning (runtime/tuning.py, stencilpy/tune.py, 'stencilpy tune'): the choices'
stored form, storing and loading them per CPU in the kernel cache under its trust rules, the
keys that invalidate them, the busy-machine guard (with a fake clock), the CLI, and that every
choice gives the same results (against the numpy backend and a hand-written numpy Laplacian)."""

from __future__ import annotations

import dataclasses
import os
import warnings

import numpy as np
import pytest

import stencilpy as sp
from stencilpy import cli
from stencilpy import tune as T
from stencilpy.runtime import cache as disk
from stencilpy.runtime import tuning

from _support import assert_same, hdiff, laplacian, random_field


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """An empty private kernel cache; tuning on; nothing read yet."""
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STENCILPY_TUNING", "on")
    monkeypatch.delenv("STENCILPY_CACHE", raising=False)
    tuning.forget()
    yield disk.DiskCache()
    tuning.forget()


TUNED = tuning.Choices(vector_bits=256, interleave=2, stream_long="0.5*L3",
                       stream_short="12*L2", chunks_per_thread=4,
                       min_points_per_thread=8192, handoff="pool")


# -- the stored form -------------------------------------------------------------------------

def test_choices_round_trip_through_their_text():
    assert tuning.Choices.parse(TUNED.text()) == TUNED
    assert tuning.Choices.parse("") == tuning.DEFAULT
    assert TUNED.differences()["handoff"] == "pool" and tuning.DEFAULT.differences() == {}


@pytest.mark.parametrize("bad", [dict(vector_bits=384), dict(interleave=3),
                                 dict(stream_long="3*L4"), dict(stream_short="-1*L2"),
                                 dict(stream_long="3MB"), dict(chunks_per_thread=0),
                                 dict(handoff="openmp")])
def test_bad_choices_are_refused(bad):
    with pytest.raises(ValueError):
        tuning.Choices(**bad)


def test_thresholds_are_multiples_of_the_caches_read_at_run_time():
    _, l2, l3 = tuning.cache_sizes()
    assert tuning.bytes_of("3*L2") == 3 * l2
    assert tuning.bytes_of("0.5*L3") == l3 / 2
    assert tuning.bytes_of("never") == float("inf")


@pytest.mark.parametrize("caches", [(32 << 10, 1 << 20, 32 << 20), (48 << 10, 2 << 20, 260 << 20)])
def test_untuned_calls_stream_beyond_half_the_last_level_cache(monkeypatch, caches):
    """The default thresholds follow the L3 size read at run time (not the L2's, not a byte
    count): a call whose arrays fill more than half the L3 streams its stores, one below
    does not, for long and short rows."""
    from stencilpy.runtime import launch
    monkeypatch.setattr(tuning, "cache_sizes", lambda: caches)
    monkeypatch.setattr(launch.platform, "machine", lambda: "x86_64")
    half = caches[2] // 2
    below, above = np.empty(half // 16), np.empty(half // 16 + 64)   # in + out: 2 arrays
    with tuning.using(tuning.DEFAULT):
        for row in (launch.SHORT_ROW, launch.SHORT_ROW - 1):
            assert not launch.wants_streaming([below], [below], row)
            assert launch.wants_streaming([above], [above], row)
            assert not launch.wants_streaming([np.empty(3 * caches[1] // 8)], (), row)


def test_identity_names_the_model_flags_and_caches():
    ident = tuning.identity()
    assert "caches L1d=" in ident and "L3=" in ident
    if os.path.exists("/proc/cpuinfo"):
        assert "flags=" in ident or "Features=" in ident


# -- storing, loading, keys, trust -----------------------------------------------------------

def test_store_then_load_and_active(private_cache):
    assert tuning.load() is None and tuning.active() == tuning.DEFAULT
    assert tuning.store(TUNED, "measured: something")
    choices, notes = tuning.load()
    assert choices == TUNED and notes == "measured: something"
    assert tuning.active() == TUNED                      # store() makes the next read fresh
    choices, source, notes = tuning.describe()
    assert choices == TUNED and "stencilpy tune" in source


def test_tuning_off_uses_the_defaults(private_cache, monkeypatch):
    tuning.store(TUNED)
    monkeypatch.setenv("STENCILPY_TUNING", "off")
    tuning.forget()
    assert tuning.active() == tuning.DEFAULT
    assert "STENCILPY_TUNING=off" in tuning.describe()[1]


def test_another_cpu_or_compiler_does_not_see_the_choices(private_cache, monkeypatch):
    tuning.store(TUNED)
    key = tuning.key()
    assert tuning.key("model name=Another CPU\ncaches L1d=1 L2=2 L3=3") != key
    monkeypatch.setattr(tuning, "identity", lambda: "model name=Another CPU")
    assert tuning.load() is None
    monkeypatch.undo()
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(private_cache.path))
    monkeypatch.setenv("STENCILPY_TUNING", "on")
    assert tuning.load()[0] == TUNED
    monkeypatch.setattr(disk, "_code_version", "0.0.0+edited-compiler")
    assert tuning.key() != key and tuning.load() is None


def test_a_foreign_or_damaged_entry_is_a_miss(private_cache):
    private_cache.store(tuning.key(), b"something else\nvector_bits=256\n")
    assert tuning.load() is None
    private_cache.store(tuning.key(), f"{tuning.FORMAT}\nvector_bits=999\n".encode())
    assert tuning.load() is None and tuning.active() == tuning.DEFAULT


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_cache_others_can_write_is_not_trusted(private_cache):
    tuning.store(TUNED)
    os.chmod(private_cache.path, 0o777)
    disk._distrusted_warned.discard(str(private_cache.path))
    tuning.forget()
    with pytest.warns(RuntimeWarning, match="does not use its kernel cache"):
        assert tuning.load() is None
    assert tuning.active() == tuning.DEFAULT
    os.chmod(private_cache.path, 0o700)


# -- choices reach the kernels ---------------------------------------------------------------

def test_codegen_choices_are_part_of_the_kernel_key_and_the_code():
    from stencilpy import inspect
    u = random_field((64, 64))
    st = sp.stencil(laplacian)
    with tuning.using(tuning.DEFAULT):
        plain = inspect(st, "llvm", u)
    with tuning.using(tuning.DEFAULT, vector_bits=256, interleave=2):
        tuned = inspect(st, "llvm", u)
    assert '"prefer-vector-width"="512"' in plain and "interleave.count" not in plain
    assert '"prefer-vector-width"="256"' in tuned and '!"llvm.loop.interleave.count", i32 2' in tuned
    call, outs = st._bind_with_outputs({"u": u}, None, None, None, None)
    kernels = []
    for bits, inter in ((0, 0), (256, 2)):
        with tuning.using(tuning.DEFAULT, vector_bits=bits, interleave=inter):
            kernels.append(st.compiler.kernel(call, outs))
    texts = [k.spec.fingerprint_text() for k in kernels]
    assert kernels[0] is not kernels[1] and "tuned=" not in texts[0] and "tuned=256,2" in texts[1]


# -- every choice, the same results ----------------------------------------------------------

VARIANTS = [tuning.DEFAULT, TUNED,
            tuning.Choices(interleave=1, stream_long="0*L2", stream_short="0*L2",
                           chunks_per_thread=2, min_points_per_thread=1),
            tuning.Choices(interleave=4, vector_bits=512, stream_long="never",
                           stream_short="never", chunks_per_thread=32, min_points_per_thread=1,
                           handoff="pool")]


def _lap3(w):
    return w[1, 0, 0] + w[-1, 0, 0] + w[0, 1, 0] + w[0, -1, 0] + w[0, 0, 1] + w[0, 0, -1] - 6.0 * w


def _numpy_laplacian(u):
    return u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * u[1:-1, 1:-1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_do_not_depend_on_the_choices(dtype):
    u = random_field((203, 317), dtype, seed=3)
    u3 = random_field((21, 17, 45), dtype, seed=4)
    ref2 = sp.stencil(laplacian, backend="numpy")(u)
    refh = sp.stencil(hdiff, backend="numpy")(u, 0.05)
    got = []
    for choices in VARIANTS:
        with tuning.using(choices):
            lap, hd = sp.stencil(laplacian), sp.stencil(hdiff)
            lap3 = sp.stencil(_lap3)
            got.append([lap(u, threads=2), hd(u, 0.05, threads=2), lap3(u3, threads=2)])
    for g in got:
        assert_same(g[0], ref2, what="laplacian vs numpy backend")
        assert_same(g[0][1:-1, 1:-1], _numpy_laplacian(u), what="laplacian vs numpy slicing")
        assert_same(g[1], refh, what="hdiff vs numpy backend")
        for a, b in zip(g, got[0]):
            np.testing.assert_array_equal(a, b)          # bit for bit across the choices


# -- the busy-machine guard and the decisions (fake clock) -----------------------------------

class FakeClock:
    """A clock that each run advances by the next of its candidate's durations."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def runner(self, durations):
        it = iter(durations)

        def run():
            self.now += next(it)
        return run


def _cycle(values, n=10000):
    return [values[i % len(values)] for i in range(n)]


def test_a_clearly_faster_candidate_is_chosen():
    clock = FakeClock()
    bench = T.Bench(rounds=9, timer=clock)
    runs = {0: clock.runner(_cycle([1e-3, 1.01e-3])), 256: clock.runner(_cycle([0.8e-3, 0.81e-3]))}
    samples, key, why, spread = bench.compare(runs, 0)
    assert key == 256 and "faster" in why and spread < T.MAX_SPREAD


def test_a_gain_within_the_noise_keeps_the_default():
    clock = FakeClock()
    bench = T.Bench(rounds=9, timer=clock)
    runs = {0: clock.runner(_cycle([1e-3, 1.05e-3, 0.97e-3])),
            1: clock.runner(_cycle([0.99e-3, 1.04e-3, 0.96e-3]))}
    assert bench.compare(runs, 0)[1] == 0


def test_a_busy_machine_is_refused_and_the_tuner_keeps_defaults(monkeypatch):
    clock = FakeClock()
    noisy = _cycle([1e-3, 3e-3, 1.5e-3, 0.6e-3, 2.2e-3])       # another process took turns
    bench = T.Bench(rounds=9, timer=clock)
    with pytest.raises(T.Busy, match="busy"):
        bench.compare({0: clock.runner(noisy), 256: clock.runner(noisy[1:])}, 0)

    said = []
    tuner = T.Tuner(budget=60, bench=bench, say=said.append, threads=1)
    monkeypatch.setattr(T, "_call", lambda fn, shape, choices, threads, dtype=None:
                        clock.runner(_cycle([1e-3, 3e-3, 1.5e-3, 0.6e-3, 2.2e-3])))
    choices = tuner.run()
    assert choices == tuning.DEFAULT
    assert any("not tuned" in s and "busy" in s for s in said)
    assert "chunks_per_thread" not in {o.name for o in tuner.outcomes}   # threads=1: not measured
    assert {o.name for o in tuner.outcomes} >= {"vector_bits", "interleave"}


def test_the_stream_threshold_is_found_in_multiples_of_l2(monkeypatch):
    clock = FakeClock()
    said = []
    tuner = T.Tuner(budget=60, bench=T.Bench(rounds=5, timer=clock), say=said.append, threads=1)

    def fake_call(fn, shape, choices, threads, dtype=None):
        big = np.prod(shape) * 16 > 10 * tuning.cache_sizes()[1]     # streaming wins above 10x L2
        on = choices.stream_long == "0*L2"
        return clock.runner(_cycle([0.5e-3 if (on == big) else 1e-3]))

    monkeypatch.setattr(T, "_call", fake_call)
    chosen = tuner.stream_long(tuning.DEFAULT, tuning.cache_sizes()[1])
    factor = tuning.bytes_of(chosen.stream_long) / tuning.cache_sizes()[1]
    assert 8 <= factor <= 16, chosen.stream_long


# -- the command line ------------------------------------------------------------------------

def test_cli_tune_stores_and_info_shows_the_choices(private_cache, capsys):
    assert cli.main(["tune", "--budget", "0"]) == 0           # no time: every choice default
    out = capsys.readouterr().out
    assert "budget" in out and "stored for this CPU" in out
    assert tuning.load()[0] == tuning.DEFAULT
    tuning.store(TUNED, "tuned by a test")
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "cpu id" in out and "L2" in out and "handoff" in out and "pool  (tuned)" in out
    assert "tuned by a test" in out
    assert cli.main(["tune", "--reset"]) == 0
    assert tuning.load()[0] == tuning.DEFAULT


def test_cli_tune_set_stores_choices_by_hand(private_cache, capsys):
    assert cli.main(["tune", "--set", "stream_long=12*L2", "chunks_per_thread=8"]) == 0
    assert "stream_long=12*L2" in capsys.readouterr().out
    choices, notes = tuning.load()
    assert choices == tuning.Choices(stream_long="12*L2", chunks_per_thread=8)
    assert "set by hand" in notes
    assert cli.main(["tune", "--set", "handoff=pool"]) == 0          # the others are kept
    assert tuning.load()[0] == tuning.Choices(stream_long="12*L2", chunks_per_thread=8,
                                              handoff="pool")
    assert cli.main(["tune", "--set", "stream_long=12MB"]) == 2
    assert cli.main(["tune", "--set", "colour=blue"]) == 2
    err = capsys.readouterr().err
    assert "stream_long must be" in err and "'colour=blue' is not name=value" in err
    assert tuning.load()[0].handoff == "pool"                         # refused: nothing stored


def test_a_noisy_size_is_skipped_in_a_sweep(monkeypatch):
    """One size too noisy to decide does not stop the streaming sweep; the threshold comes
    from the sizes measured.  Most sizes noisy: the choice is not tuned."""
    clock = FakeClock()
    l2 = tuning.cache_sizes()[1]

    def fake_call(fn, shape, choices, threads, dtype=None, noisy=(4,)):
        factor = round(np.prod(shape) * 16 / l2)
        if any(abs(factor - f) <= f / 4 for f in noisy):          # another process took turns
            return clock.runner(1e-3 * np.random.default_rng(factor).lognormal(0, 1, 10000))
        big = factor > 10
        on = choices.stream_long == "0*L2"
        return clock.runner(_cycle([0.5e-3 if on == big else 1e-3]))

    monkeypatch.setattr(T, "_call", fake_call)
    tuner = T.Tuner(budget=60, bench=T.Bench(rounds=5, timer=clock), say=lambda s: None,
                    threads=1)
    chosen = tuner.stream_long(tuning.DEFAULT, l2)
    assert 8 <= tuning.bytes_of(chosen.stream_long) / l2 <= 16
    assert "4xL2: noisy" in tuner.outcomes[-1].why
    monkeypatch.setattr(T, "_call", lambda *a, **k: fake_call(*a, noisy=(2, 4, 8, 16)))
    with pytest.raises(T.Busy, match="4 of 6 sizes"):
        tuner.stream_long(tuning.DEFAULT, l2)


def test_noisy_sizes_below_the_first_win_are_split_by_the_threshold(monkeypatch):
    """Streaming wins from 16x L2 on, 4x and 8x are too noisy to decide, 2x loses: the
    threshold lies between the last loss and the first win (sqrt(2 * 16) = 5.7x L2), not
    just below the first win, which would leave every undecided size unstreamed."""
    clock = FakeClock()
    l2 = tuning.cache_sizes()[1]

    def fake_call(fn, shape, choices, threads, dtype=None):
        factor = round(np.prod(shape) * 16 / l2)
        if factor in (4, 8):
            return clock.runner(1e-3 * np.random.default_rng(factor).lognormal(0, 1, 10000))
        on = choices.stream_long == "0*L2"
        return clock.runner(_cycle([0.5e-3 if on == (factor >= 16) else 1e-3]))

    monkeypatch.setattr(T, "_call", fake_call)
    tuner = T.Tuner(budget=60, bench=T.Bench(rounds=5, timer=clock), say=lambda s: None,
                    threads=1)
    chosen = tuner.stream_long(tuning.DEFAULT, l2)
    assert "2xL2: no, 4xL2: noisy, 8xL2: noisy, 16xL2: yes" in tuner.outcomes[-1].why
    assert 5.5 <= tuning.bytes_of(chosen.stream_long) / l2 <= 5.9, chosen.stream_long


def test_the_thread_split_is_the_smallest_share_where_all_threads_win(monkeypatch):
    clock = FakeClock()

    def fake_call(fn, shape, choices, threads, dtype=None):
        points = np.prod(shape)
        faster = threads == 2 and points >= 2 * 60000         # the hand-off pays from here
        return clock.runner(_cycle([0.6e-3 if faster else 1e-3]))

    monkeypatch.setattr(T, "_call", fake_call)
    tuner = T.Tuner(budget=60, bench=T.Bench(rounds=5, timer=clock), say=lambda s: None,
                    threads=2)
    chosen = tuner.min_points(tuning.DEFAULT, tuning.cache_sizes()[1])
    assert chosen.min_points_per_thread == 65536
    assert "16384: no" in tuner.outcomes[-1].why and "131072: yes" in tuner.outcomes[-1].why
