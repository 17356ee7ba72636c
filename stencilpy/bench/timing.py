"""Timing helpers: batches sized to a minimum duration, interleaved (round-robin) repeats;
the OpenMP wait policy every benchmark driver sets first."""
import gc
import math
import os
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


def set_omp_wait_policy():
    """Make idle OpenMP threads sleep instead of spin unless the user chose otherwise.

    libgomp (used by the C kernels and numba's omp layer) spin-waits at barriers by default;
    with another process on the second core, a 2-thread call then waits a scheduler
    time slice for its partner (measured here: 23 ms instead of 2 ms for a 1024^2 Laplacian).
    stencilpy's worker pool blocks, so "passive" also compares like with like. Must happen
    before libgomp is loaded; returns a note describing what was done.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        return f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']} (from the environment)"
    with open("/proc/self/maps") as maps:
        if any("libgomp" in line for line in maps):
            return "OMP_WAIT_POLICY unset and libgomp already loaded: OpenMP threads spin-wait"
    os.environ["OMP_WAIT_POLICY"] = "passive"
    return "OMP_WAIT_POLICY=passive (set by the driver; export it to override)"
