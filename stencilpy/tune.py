"""``stencilpy tune``: measure the per-machine choices of ``runtime/tuning.py`` on this CPU.

    guard        is the machine quiet enough? (load average; the spread of repeated timings)
    each choice  its candidates timed on Laplacians, interleaved round-robin, medians;
                 a candidate replaces the default only when it is faster by more than the
                 noise (and at least MIN_GAIN): what measurements do not show to matter stays
    store        the choices, with what was measured, in the kernel cache for this CPU

Every choice is measured on small kernels sized from the caches read at run time (the
streaming threshold at multiples of the L2 size, the thread split on grids around the
current minimum), within a time budget: when it runs out, the remaining choices keep their
defaults.  Results never depend on the choices (tests check it against the numpy backend).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

import stencilpy as sp
from stencilpy.runtime import tuning

#: a candidate must beat the default by at least this fraction (and by more than the spread)
MIN_GAIN = 0.05
#: relative spread ((upper - lower quartile) / median) above which the machine counts as busy
MAX_SPREAD = 0.10
#: seconds one timed batch lasts (the calls in it are averaged); a sample is the fastest of
#: BATCHES batches in a row (a batch another process interrupted does not count)
BATCH_SECONDS = 0.004
BATCHES = 3


def _lap2d(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def _lap3d(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u[0, 0, 0])


#: tuner step -> the choice it sets
_NAMES = {"min_points": "min_points_per_thread", "chunks": "chunks_per_thread"}


class Busy(RuntimeError):
    """The timings of one choice varied too much to decide it."""


@dataclass
class Outcome:
    """What was measured for one choice: the median seconds per candidate, the spread, the
    value kept and why."""

    name: str
    medians: dict = field(default_factory=dict)
    spread: float = 0.0
    chosen: object = None
    why: str = ""

    def line(self) -> str:
        if not self.medians:
            return f"{self.name} = {self.chosen} ({self.why})"
        times = ", ".join(f"{k}: {v * 1e6:.0f} us" for k, v in self.medians.items())
        return f"{self.name} = {self.chosen} ({self.why}; {times}; spread {self.spread:.1%})"


# -- deciding from samples -------------------------------------------------------------------

def spread(samples) -> float:
    """(upper quartile - lower quartile) / median of ``samples`` (0 for fewer than 4)."""
    if len(samples) < 4:
        return 0.0
    q = statistics.quantiles(samples, n=4)
    return (q[2] - q[0]) / statistics.median(samples)


def decide(samples: dict, default) -> tuple[object, str, float]:
    """The candidate to keep, given seconds per candidate (``samples``: key -> list):
    ``(key, why, spread)``.  The default stays unless a candidate's median beats it by more
    than MIN_GAIN and the largest spread; raises Busy when that spread exceeds MAX_SPREAD.

    >>> decide({512: [1.0, 1.01, 0.99, 1.0], 256: [0.8, 0.81, 0.79, 0.8]}, 512)[:2]
    (256, '20% faster than 512')
    """
    worst = max(spread(s) for s in samples.values())
    if worst > MAX_SPREAD:
        raise Busy(f"timings spread {worst:.0%} (> {MAX_SPREAD:.0%}): the machine is busy")
    med = {k: statistics.median(s) for k, s in samples.items()}
    best = min(med, key=med.get)
    margin = max(MIN_GAIN, worst)
    if best != default and med[best] < med[default] * (1 - margin):
        return best, f"{1 - med[best] / med[default]:.0%} faster than {default}", worst
    return default, "no candidate faster by more than the noise", worst


# -- timing ----------------------------------------------------------------------------------

class Bench:
    """Interleaved, repeated timings of candidates (``timer``: a clock in seconds)."""

    def __init__(self, rounds: int = 9, timer: Callable[[], float] = time.perf_counter):
        self.rounds, self.timer = rounds, timer

    def batch(self, run: Callable[[], None], inner: int) -> float:
        t0 = self.timer()
        for _ in range(inner):
            run()
        return (self.timer() - t0) / inner

    def sample(self, runs: dict) -> dict:
        """key -> seconds per call of ``runs[key]()``, one per round, round-robin."""
        inner = {}
        for k, run in runs.items():
            run()                                           # compile / prepare / warm up
            once = max(self.batch(run, 1), 1e-7)
            inner[k] = max(1, min(2000, math.ceil(BATCH_SECONDS / once)))
        keys, times = list(runs), {k: [] for k in runs}
        for r in range(self.rounds):
            shift = r % len(keys)
            for k in keys[shift:] + keys[:shift]:
                times[k].append(min(self.batch(runs[k], inner[k]) for _ in range(BATCHES)))
        return times

    def compare(self, runs: dict, default) -> tuple[dict, object, str, float]:
        """Sample ``runs`` and decide (one retry when the spread says busy)."""
        for attempt in (0, 1):
            samples = self.sample(runs)
            try:
                key, why, s = decide(samples, default)
                return samples, key, why, s
            except Busy:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


#: (shape, dtype) -> (input, output) shared by the candidates (the relative placement of the
#: arrays changes a kernel's speed by itself, e.g. loads 4 KiB apart from stores)
_ARRAYS: dict = {}


def _call(fn, shape, choices: tuning.Choices, threads: int, dtype=np.float64):
    """A prepared Laplacian call on a fresh stencil, compiled and prepared under ``choices``;
    the returned function runs it under ``choices`` too."""
    key = (tuple(shape), np.dtype(dtype).str)
    if key not in _ARRAYS:        # the same arrays for every candidate: the same addresses
        u = np.random.default_rng(0).random(shape).astype(dtype)
        _ARRAYS[key] = u, np.empty_like(u)
    u, out = _ARRAYS[key]
    st = sp.stencil(fn)

    def run():
        with tuning.using(choices):
            st(u, out=out, threads=threads)
    return run


# -- the choices -----------------------------------------------------------------------------

@dataclass
class Tuner:
    """Measures the choices one after the other within ``budget`` seconds."""

    budget: float = 60.0
    bench: Bench = field(default_factory=Bench)
    threads: int = field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 2)))
    say: Callable[[str], None] = print
    outcomes: list = field(default_factory=list)

    def run(self) -> tuning.Choices:
        start = time.perf_counter()
        choices = tuning.DEFAULT
        l2 = tuning.cache_sizes()[1]
        steps = [self.vector_bits, self.interleave, self.stream_long, self.stream_short]
        if self.threads > 1:
            steps += [self.min_points, self.chunks, self.handoff]
        for step in steps:
            if time.perf_counter() - start > self.budget:
                self.say(f"time budget ({self.budget:.0f} s) spent: the remaining choices "
                         "keep their defaults")
                break
            try:
                choices = step(choices, l2)
            except Busy as exc:
                name = _NAMES.get(step.__name__, step.__name__)
                out = Outcome(name, chosen=getattr(choices, name),
                              why=f"default kept, not tuned: {exc}")
                self.outcomes.append(out)
                self.say(out.line())
        return choices

    def _choose(self, name: str, choices: tuning.Choices, make, values, default):
        runs = {v: make(replace(choices, **{name: v})) for v in values}
        samples, key, why, s = self.bench.compare(runs, default)
        med = {str(k): statistics.median(v) for k, v in samples.items()}
        out = Outcome(name, med, s, key, why)
        self.outcomes.append(out)
        self.say(out.line())
        return replace(choices, **{name: key})

    def _side(self, l2: int) -> int:
        """Side of a square float64 grid whose two arrays fill about half the L3 cache."""
        return int(max(256, min(1024, math.sqrt(tuning.cache_sizes()[2] / 4 / 16))))

    def vector_bits(self, choices, l2):
        n = self._side(l2)
        return self._choose("vector_bits", choices,
                            lambda c: _call(_lap2d, (n, n), c, 1), (0, 256), choices.vector_bits)

    def interleave(self, choices, l2):
        n = self._side(l2)
        return self._choose("interleave", choices,
                            lambda c: _call(_lap2d, (n, n), c, 1), (0, 1, 2, 4), choices.interleave)

    def _sweep(self, points, make_runs, default, candidate) -> list:
        """For each point, whether ``candidate`` beats ``default`` (None where the timings
        were too noisy to say); Busy when more than half the points were."""
        found = []
        for p in points:
            try:
                found.append(self.bench.compare(make_runs(p), default)[1] == candidate)
            except Busy:
                found.append(None)
        busy = sum(w is None for w in found)
        if 2 * busy > len(found):
            raise Busy(f"timings too noisy at {busy} of {len(found)} sizes: the machine is busy")
        return found

    @staticmethod
    def _first_win(wins) -> int | None:
        """The first index from which the candidate wins at every measured (not None) point."""
        return next((i for i in range(len(wins)) if wins[i]
                     and all(w is not False for w in wins[i:])), None)

    @staticmethod
    def _marks(labels, wins) -> str:
        return ", ".join(f"{x}: {'noisy' if w is None else 'yes' if w else 'no'}"
                         for x, w in zip(labels, wins))

    def _stream(self, name, choices, shapes, fn):
        """The smallest size (in multiples of L2) from which streaming wins at every larger
        measured size; the threshold is the geometric mean of it and the largest size below
        where streaming measurably lost (sizes too noisy to decide lie between: the threshold
        splits them, never all of them on one side; lap3d 128^3, 32 MiB, noisy on a shared
        Zen 4, runs in 1.3 ms streamed and 2.1 ms not)."""
        l2, l3 = tuning.cache_sizes()[1:]

        def runs(item):        # one thread: two-thread timings of small calls spread too much
            shape = item[1]    # on a shared machine (and streamed more often they lost there)
            return {"on": _call(fn, shape, replace(choices, **{name: "0*L2"}), 1),
                    "off": _call(fn, shape, replace(choices, **{name: "never"}), 1)}
        wins = self._sweep(shapes, runs, "off", "on")
        first = self._first_win(wins)
        if first is None:
            chosen, why = getattr(choices, name), "streaming did not win at the sizes measured"
        else:
            lost = [i for i in range(first) if wins[i] is False]
            lo = shapes[lost[-1]][0] if lost else shapes[0][0] / 2
            threshold = math.sqrt(lo * shapes[first][0]) * l2
            chosen = f"{threshold / l2:.3g}*L2" if threshold < l3 else f"{threshold / l3:.3g}*L3"
            why = f"streaming wins from {shapes[first][0]:g}x L2 on"
        marks = self._marks([f"{f:g}xL2" for f, _ in shapes], wins)
        out = Outcome(name, {}, 0.0, chosen, f"{why}; streaming faster at {marks}")
        self.outcomes.append(out)
        self.say(out.line())
        return replace(choices, **{name: chosen})

    def stream_long(self, choices, l2):
        shapes = []
        for factor in (2, 4, 8, 16, 32, 64):
            n = int(math.sqrt(factor * l2 / 16))
            shapes.append((factor, (n, max(n, 256))))
        return self._stream("stream_long", choices, shapes, _lap2d)

    def stream_short(self, choices, l2):
        shapes = []
        for factor in (4, 8, 16, 32, 64):
            planes = max(4, int(math.sqrt(factor * l2 / 16 / 128)))
            shapes.append((factor, (planes, planes, 128)))
        return self._stream("stream_short", choices, shapes, _lap3d)

    def min_points(self, choices, l2):
        """The smallest per-thread share at which all threads beat one thread (and at every
        larger size measured)."""
        values = (8192, 16384, 32768, 65536, 131072, 262144)
        forced = replace(choices, min_points_per_thread=1)

        def runs(v):
            n = int(math.sqrt(v * self.threads))
            return {1: _call(_lap2d, (n, n), forced, 1),
                    self.threads: _call(_lap2d, (n, n), forced, self.threads)}
        wins = self._sweep(values, runs, 1, self.threads)
        first = self._first_win(wins)
        chosen = values[first] if first is not None else choices.min_points_per_thread
        why = (f"{self.threads} threads faster from {chosen} points per thread on"
               if first is not None else "more threads did not win at the sizes measured")
        out = Outcome("min_points_per_thread", {}, 0.0, chosen,
                      f"{why}; {self.threads} threads faster at {self._marks(values, wins)}")
        self.outcomes.append(out)
        self.say(out.line())
        return replace(choices, min_points_per_thread=chosen)

    def chunks(self, choices, l2):
        n = self._side(l2)
        return self._choose("chunks_per_thread", choices,
                            lambda c: _call(_lap2d, (n, n), c, self.threads),
                            (2, 4, 8, 16, 32), choices.chunks_per_thread)

    def handoff(self, choices, l2):
        n = int(math.sqrt(4 * self.threads * choices.min_points_per_thread))
        return self._choose("handoff", choices,
                            lambda c: _call(_lap2d, (n, n), c, self.threads),
                            ("helpers", "pool"), choices.handoff)


def busy_note() -> str | None:
    """A warning when the load average says other work runs (None when quiet)."""
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return None
    cores = os.cpu_count() or 1
    if load > max(0.5, cores - 1.0):
        return (f"load average {load:.2f} on {cores} cores: other work is running, the "
                "measurements may be noisy (choices that do not beat the noise keep defaults)")
    return None


def tune(budget: float = 60.0, store: bool = True, say: Callable[[str], None] = print,
         bench: Bench | None = None) -> tuple[tuning.Choices, str]:
    """Measure the choices on this CPU and (``store``) keep them in the kernel cache;
    returns the choices and the notes stored with them."""
    note = busy_note()
    if note:
        say(f"warning: {note}")
    say(f"CPU: {tuning.model_line()}")
    tuner = Tuner(budget=budget, bench=bench or Bench(), say=say)
    t0 = time.perf_counter()
    try:
        with tuning.using(tuning.DEFAULT):
            choices = tuner.run()
    finally:
        _ARRAYS.clear()
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    lines = [f"tuned {stamp} in {time.perf_counter() - t0:.0f} s"
             + (f"; {note}" if note else "")] + [o.line() for o in tuner.outcomes]
    notes = "\n".join(lines)
    if store:
        if tuning.store(choices, notes):
            say(f"stored for this CPU in the kernel cache ({tuning.key()[:12]}...)")
        else:
            say("not stored: the kernel cache is disabled, unwritable or not trusted")
    return choices, notes
