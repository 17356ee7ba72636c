"""Timing helpers: batches sized to a minimum duration, interleaved (round-robin) repeats."""
import gc
import math
import statistics
import time


def time_batch(run, inner):
    """Seconds per call of `run`, averaged over `inner` back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(inner):
        run()
    return (time.perf_counter() - t0) / inner


def calibrate(run, min_batch, max_inner=10000):
    """Calls per batch so that one batch takes at least `min_batch` seconds."""
    t = time_batch(run, 1)
    return max(1, min(max_inner, math.ceil(min_batch / max(t, 1e-9))))


def round_robin(batches, repeats, settle=0.002):
    """Time every entry of `batches` ({key: (run, inner)}) once per repeat, interleaved.

    The starting entry rotates each repeat so no implementation always runs right after the
    same neighbour; `settle` seconds of sleep let the previous entry's spinning OpenMP/numba
    workers go idle. Returns {key: [seconds per call, one per repeat]}.
    """
    keys = list(batches)
    times = {k: [] for k in keys}
    gc.collect()
    gc.disable()
    try:
        for r in range(repeats):
            shift = r % max(1, len(keys))
            for key in keys[shift:] + keys[:shift]:
                run, inner = batches[key]
                time.sleep(settle)
                times[key].append(time_batch(run, inner))
    finally:
        gc.enable()
    return times


def median(samples):
    return statistics.median(samples) if samples else math.nan
