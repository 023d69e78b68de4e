"""Progress of the long loops (training epochs, Lanczos steps, top-k blocks, subspace
iterations, data passes), defined once.

A `Progress` drives a tqdm bar when progress bars are on and, whatever the bar, writes an INFO
line to the `crossclass.progress` logger at most every `log_interval` seconds (default 60,
`set_log_interval`; the CLI sets it from `--log-interval` and sends the `crossclass` loggers to
stderr, which each rule redirects into its job log):

    Lanczos (operator G): step 512/2048 (25.0%), elapsed 1:02:11, remaining 3:06:33

what ran, in which `context` (the operator of a spectrum), steps done of the total, wall time
since the loop started and the remaining time at the loop's mean rate so far, then any status
the loop reports (training: the loss and errors of the last measured epoch). A loop that logged
at all logs once more when it ends, so a job log shows where each long stage finished.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

log = logging.getLogger(__name__)
DEFAULT_LOG_INTERVAL = 60.0
FORMAT = "%(asctime)s %(levelname)s %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

_interval: float | None = DEFAULT_LOG_INTERVAL
_labels: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("labels", default=())
T = TypeVar("T")


def set_log_interval(seconds: float | None) -> float | None:
    """Seconds between the log lines of every Progress created from now on (0: every step;
    None: none); returns the previous setting."""
    global _interval
    if seconds is not None and not seconds >= 0:
        raise ValueError(f"the log interval must be >= 0 seconds, got {seconds}")
    previous, _interval = _interval, None if seconds is None else float(seconds)
    return previous


def log_interval() -> float | None:
    """The current setting of set_log_interval."""
    return _interval


@contextlib.contextmanager
def context(label: str) -> Iterator[None]:
    """Name what the loops inside work on (e.g. "operator G"): their bars and log lines show
    it after their own description; nested contexts are joined."""
    token = _labels.set((*_labels.get(), label))
    try:
        yield
    finally:
        _labels.reset(token)


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is at the time of each record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def log_to_stderr() -> None:
    """INFO and above of the `crossclass` loggers to stderr, time-stamped (once per process)."""
    root = logging.getLogger("crossclass")
    if not any(isinstance(h, _Stderr) for h in root.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.INFO)


def duration(seconds: float) -> str:
    """H:MM:SS, with a day count past 24 hours ("2d 03:04:05")."""
    if not math.isfinite(seconds):
        return "?"
    s = round(max(seconds, 0.0))
    days, s = divmod(s, 86400)
    text = f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{days}d {text:0>8}" if days else text


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class Progress:
    """Steps of one loop: `update(n, **status)` after each; `close()` (or `with`) at the end.

    total: the steps expected (None: unknown, no percentage or remaining time); initial: steps
    already done before this process (a resumed run), not counted in the rate. progress: show
    a tqdm bar. interval: seconds between log lines (default: set_log_interval's). clock: the
    time source (seconds; tests pass a fake one).
    """

    def __init__(self, total: int | None, desc: str, *, progress: bool = False,
                 unit: str = "step", initial: int = 0, leave: bool = False,
                 interval: float | None = None, clock: Callable[[], float] = time.monotonic):
        labels = _labels.get()
        self.desc = f"{desc} ({', '.join(labels)})" if labels else desc
        self.total, self.unit, self.n, self.initial = total, unit, initial, initial
        self.interval = log_interval() if interval is None else float(interval)
        self.status: dict[str, Any] = {}
        self._clock = clock
        self._start = self._last = clock()
        self._logged: int | None = None
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=self.desc, unit=unit,
                             leave=leave)

    def update(self, n: int = 1, **status: Any) -> None:
        """`n` more steps done; status: values shown after the counts (bar and log line)."""
        self.n += n
        if status:
            self.status = status
        if self._bar is not None:
            self._bar.update(n)
            if status:
                self._bar.set_postfix({k: _value(v) for k, v in status.items()}, refresh=False)
        now = self._clock()
        if self.interval is not None and now - self._last >= self.interval:
            self._last = now
            self._log(now)

    def line(self, now: float | None = None) -> str:
        """The log line of the steps done so far."""
        elapsed = (self._clock() if now is None else now) - self._start
        done = self.n - self.initial
        count, remaining = f"{self.unit} {self.n}", math.nan
        if self.total is not None:
            count += f"/{self.total} ({100 * self.n / max(self.total, 1):.1f}%)"
            if done > 0:
                remaining = max(self.total - self.n, 0) * elapsed / done
        text = f"{self.desc}: {count}, elapsed {duration(elapsed)}"
        if self.total is not None:
            text += f", remaining {duration(remaining)}"
        return ", ".join([text, *(f"{k} {_value(v)}" for k, v in self.status.items())])

    def _log(self, now: float) -> None:
        self._logged = self.n
        log.info("%s", self.line(now))

    def close(self) -> None:
        """End the bar; a loop that logged logs its final count (unless just logged)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._logged is not None and self._logged != self.n:
            self._log(self._clock())
        self._logged = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(items: Iterable[T], desc: str, *, total: int | None = None, progress: bool = False,
          unit: str = "step", leave: bool = False) -> Iterator[T]:
    """Yield `items`, one step of a Progress each (counted when the caller asks for the next);
    total defaults to len(items)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with Progress(total, desc, progress=progress, unit=unit, leave=leave) as bar:
        for item in items:
            yield item
            bar.update()
