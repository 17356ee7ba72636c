"""Where do streaming stores pay on this CPU?  Times 2-D Laplacians (and 3-D ones with short
rows) of growing size with streaming stores forced on and off, interleaved, in one process,
and prints what each threshold rule would pick at every size: the old default (``3*L2``),
the current default (``tuning.DEFAULT``) and the stored ``stencilpy tune`` choice.

    python -m stencilpy.bench.streaming                    # float64 and float32, 1 and 2 threads
    python -m stencilpy.bench.streaming --dtypes float64 --threads 1 --repeats 15

A rule's time at a size is the measured time of what it picks there (on or off), so every
rule is compared on the same samples.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import replace

import numpy as np

from .timing import calibrate, median, time_batch

#: the threshold every release before the L3 rule used (chosen on Sapphire Rapids)
OLD_DEFAULT = "3*L2"


def lap2d(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def lap3d(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u[0, 0, 0])


def shapes_2d(lo_mib: float = 1.0, hi_mib: float = 256.0):
    """Square float64 shapes whose input + output double from ``lo_mib`` to ``hi_mib`` MiB
    (256² .. 4096²); float32 uses the same shapes (half the bytes)."""
    n = 256
    out = []
    while 16 * n * n <= hi_mib * 2 ** 20 * 1.01:
        if 16 * n * n >= lo_mib * 2 ** 20 * 0.99:
            out.append((n, n))
        n = int(round(n * math.sqrt(2)))
    return out


#: a sample is the fastest of this many batches in a row (as in ``stencilpy tune``): a batch
#: another process interrupted does not count
BATCHES = 3


def _rounds(batches: dict, repeats: int) -> dict:
    """key -> seconds per call, one sample per round, round-robin with a rotating start."""
    keys, times = list(batches), {k: [] for k in batches}
    for r in range(repeats):
        shift = r % len(keys)
        for k in keys[shift:] + keys[:shift]:
            run, inner = batches[k]
            times[k].append(min(time_batch(run, inner) for _ in range(BATCHES)))
    return times


def measure(shapes, dtype, threads, repeats, fn, name="stream_long", min_batch=0.02):
    """[(shape, bytes touched, {threads: (seconds on, seconds off)})] medians of interleaved
    batches; each shape's candidates share their arrays."""
    import stencilpy as sp
    from stencilpy.runtime import tuning

    base = tuning.active()
    on, off = replace(base, **{name: "0*L2"}), replace(base, **{name: "never"})
    found = []
    for shape in shapes:
        u = np.random.default_rng(0).random(shape).astype(dtype)
        out = np.empty_like(u)
        batches = {}
        for t in threads:
            for label, choice in (("on", on), ("off", off)):
                st = sp.stencil(fn)     # a stencil per candidate: a call keeps its prepared
                #                         launch (and so its streaming decision) per stencil

                def run(c=choice, t=t, st=st):
                    with tuning.using(c):
                        st(u, out=out, threads=t)
                run()
                batches[(t, label)] = (run, calibrate(run, min_batch))
        times = _rounds(batches, repeats)
        found.append((shape, 2 * u.nbytes,
                      {t: (median(times[(t, "on")]), median(times[(t, "off")])) for t in threads}))
    return found


def rules(stored=None):
    """name -> threshold (bytes) of the rules compared."""
    from stencilpy.runtime import tuning

    out = {f"old default ({OLD_DEFAULT})": tuning.bytes_of(OLD_DEFAULT),
           f"new default ({tuning.DEFAULT.stream_long})": tuning.bytes_of(
               tuning.DEFAULT.stream_long)}
    if stored is not None:
        out[f"tuned ({stored})"] = tuning.bytes_of(stored)
    return out


def table(found, threads, thresholds) -> list[str]:
    """Markdown: per size and thread count, on/off times and each rule's time / the faster."""
    names = list(thresholds)
    lines = ["| grid | bytes | threads | streaming | not streaming | "
             + " | ".join(f"{n} ÷ best" for n in names) + " |",
             "|" + "---|" * (5 + len(names))]
    totals = {n: {t: [] for t in threads} for n in names}
    for shape, nbytes, per in found:
        for t in threads:
            t_on, t_off = per[t]
            best = min(t_on, t_off)
            cells = []
            for n in names:
                picked = t_on if nbytes > thresholds[n] else t_off
                totals[n][t].append(picked / best)
                cells.append(f"{picked / best:.2f}{' (s)' if nbytes > thresholds[n] else ''}")
            lines.append(f"| {'x'.join(map(str, shape))} | {nbytes / 2 ** 20:g} MiB | {t} | "
                         f"{t_on * 1e6:.0f} µs | {t_off * 1e6:.0f} µs | " + " | ".join(cells)
                         + " |")
    for t in threads:
        worst = " | ".join(f"{max(totals[n][t]):.2f} worst, "
                           f"{math.exp(np.mean(np.log(totals[n][t]))):.3f} geo-mean"
                           for n in names)
        lines.append(f"| all | | {t} | | | {worst} |")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--max-mib", type=float, default=256.0)
    p.add_argument("--rules", default="",
                   help="more thresholds to compare, e.g. 0.5*L3,1*L3")
    p.add_argument("--short-rows", action="store_true",
                   help="3-D Laplacians with 128-point rows (the stream_short threshold)")
    args = p.parse_args(argv)
    from stencilpy.runtime import tuning

    threads = tuple(int(t) for t in args.threads.split(","))
    stored = tuning.load()
    name = "stream_short" if args.short_rows else "stream_long"
    l1, l2, l3 = tuning.cache_sizes()
    print(f"CPU: {tuning.model_line()}; load average {os.getloadavg()[0]:.2f} at the start; "
          f"medians of {args.repeats} interleaved rounds; (s): the rule streams there")
    thresholds = rules(getattr(stored[0], name) if stored else None)
    if args.short_rows:
        thresholds = {f"old default (24*L2)": tuning.bytes_of("24*L2"),
                      f"new default ({tuning.DEFAULT.stream_short})":
                          tuning.bytes_of(tuning.DEFAULT.stream_short),
                      **({f"tuned ({stored[0].stream_short})":
                          tuning.bytes_of(stored[0].stream_short)} if stored else {})}
    for extra in filter(None, args.rules.split(",")):
        thresholds[extra] = tuning.bytes_of(extra)
    for dtype in args.dtypes.split(","):
        if args.short_rows:
            shapes = [(k, k, 128) for k in (64, 90, 128, 181, 256, 362)
                      if 2 * 8 * k * k * 128 <= args.max_mib * 2 ** 20 * 1.01]
            found = measure(shapes, dtype, threads, args.repeats, lap3d, name)
        else:
            found = measure(shapes_2d(hi_mib=args.max_mib), dtype, threads, args.repeats, lap2d)
        print(f"\n{dtype}, L2 {l2 >> 20 if l2 >= 2 ** 20 else l2 / 2 ** 20} MiB, "
              f"L3 {l3 >> 20} MiB, load average {os.getloadavg()[0]:.2f} at the end\n")
        print("\n".join(table(found, threads, thresholds)))


if __name__ == "__main__":
    main()
