"""A dependency-free text progress bar for long runs (written to stderr).

>>> import io
>>> stream = io.StringIO()
>>> with ProgressBar(4, label="demo", stream=stream, interactive=False) as bar:
...     for done in range(1, 5):
...         bar.update(done)
>>> stream.getvalue().splitlines()[-1].startswith("demo [##############################] 4/4")
True
"""

from __future__ import annotations

import sys
import time


def _seconds(t: float) -> str:
    if t < 60.0:
        return f"{t:4.1f}s"
    m, s = divmod(int(round(t)), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


class ProgressBar:
    """``label [#####.....] done/total  pct%  elapsed  ETA``.

    On a terminal the line is redrawn in place (at most every ``min_interval`` seconds);
    otherwise (a log file, a pipe) a line is printed at every 10 % so logs stay short.
    """

    def __init__(self, total: int, *, label: str = "MPDATA", stream=None, width: int = 30,
                 min_interval: float = 0.1, interactive: bool | None = None, unit: str = "steps"):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.unit = unit
        self.min_interval = min_interval
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive
        self.start = time.perf_counter()
        self._last_draw = -1.0
        self._last_decile = -1
        self.done = 0

    def __enter__(self) -> "ProgressBar":
        self.update(0)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def line(self, done: int) -> str:
        total = self.total
        frac = 1.0 if total == 0 else min(max(done / total, 0.0), 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0.0 else float("nan")
        tail = f"ETA {_seconds(eta)}" if 0.0 < frac < 1.0 else ""
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
                f"{self.unit} {100.0 * frac:3.0f}%  {_seconds(elapsed)}  {tail}").rstrip()

    def update(self, done: int) -> None:
        """Report ``done`` units finished (cheap when nothing has to be drawn)."""
        self.done = done
        if self.interactive:
            now = time.perf_counter()
            if now - self._last_draw < self.min_interval and done < self.total:
                return
            self._last_draw = now
            self.stream.write("\r" + self.line(done) + "\x1b[K")
            self.stream.flush()
        else:
            decile = 10 if self.total == 0 else (10 * done) // self.total
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(self.line(done) + "\n")
                self.stream.flush()

    def close(self) -> None:
        """Draw the final state (and end the line on a terminal)."""
        if self.interactive:
            self._last_draw = -1.0
            self.update(self.done)
            self.stream.write("\n")
            self.stream.flush()
        elif self._last_decile < 10 and self.done >= self.total:
            self.update(self.done)
