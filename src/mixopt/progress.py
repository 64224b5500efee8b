"""Rate-limited progress lines of long-running methods, sent to :mod:`logging`.

Every workflow job runs inside :func:`mixopt.smk.job_log`, which sends the ``logging`` root logger
to the job's log file, so these lines land there (and nowhere when nothing configures logging).
A :class:`Progress` writes to the logger ``mixopt.methods.<name>`` at most one line every
``interval_s`` seconds (:data:`INTERVAL_S` by default) and always a final ``done`` line::

    ... INFO mixopt.methods.regression.pclustreg: 5.0 s, expanded 196, created 981, queue 784, ...
    ... INFO mixopt.methods.regression.pclustreg: done (node_limit): 7.9 s, expanded 300, ...

:meth:`Progress.due` costs one clock read, so it can be asked once per iteration of an outer loop
(a node expansion, a batch of restarts); the fields of a line are computed only when it is due.

A run with a known total (EM restarts, tclust and tclustreg starts, pclustreg's node limit) gives
``total`` and passes ``count`` with each line; the record then carries both, and
:class:`StderrProgress` (the CLI's handler) draws a bar ``[=====>    ] 12/40`` in front of the
line when its stream is a terminal. Elsewhere (log files, pipes) the lines are unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import time
from collections.abc import Iterator
from typing import TextIO

INTERVAL_S = 5.0   #: default seconds between two progress lines of one run
TTY_INTERVAL_S = 1.0   #: seconds between two updates of a bar on a terminal (the CLI)
BAR_WIDTH = 20


def rel_gap(incumbent: float | None, bound: float | None) -> float | None:
    """|incumbent - bound| / |incumbent| (None when either is missing or not finite)."""
    if incumbent is None or bound is None or not (math.isfinite(incumbent)
                                                   and math.isfinite(bound)):
        return None
    return abs(incumbent - bound) / max(abs(incumbent), 1e-12)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.8g}"
    return str(value)


class Progress:
    """Progress lines of one run of a method, logged to ``mixopt.methods.<name>``.

    ``t0`` is the run's start (``time.perf_counter()``; default: now) and gives the elapsed
    time at the head of every line. Fields are passed as keywords in the order they are printed
    (underscores become spaces); a float ``gap`` is printed as a percentage. ``total``: the known
    number of steps of the run (restarts, starts, nodes), counted by ``count`` in each line.
    """

    def __init__(self, name: str, interval_s: float | None = None,
                 t0: float | None = None, total: int | None = None) -> None:
        self.log = logging.getLogger(f"mixopt.methods.{name}")
        self.interval = INTERVAL_S if interval_s is None else float(interval_s)
        self.t0 = time.perf_counter() if t0 is None else t0
        self.total = total
        self.enabled = self.log.isEnabledFor(logging.INFO)
        self._next = self.t0 + self.interval
        self.lines = 0

    def due(self) -> bool:
        """True when the next progress line is due (never when INFO is off for the logger)."""
        return self.enabled and time.perf_counter() >= self._next

    def report(self, count: int | None = None, **fields: object) -> None:
        """Log one progress line now (the next one is due ``interval_s`` later); ``count``:
        steps done of ``total``."""
        self._emit("", fields, count)

    def done(self, status: str, count: int | None = None, **fields: object) -> None:
        """Log the final line of the run (always, whatever the rate limit)."""
        self._emit(f"done ({status}): ", fields, count, final=True)

    def _emit(self, head: str, fields: dict[str, object], count: int | None = None,
              final: bool = False) -> None:
        now = time.perf_counter()
        self._next = now + self.interval
        if not self.enabled:
            return
        parts = [f"{now - self.t0:.1f} s"]
        for key, value in fields.items():
            if key == "gap" and isinstance(value, float):
                parts.append(f"gap {100.0 * value:.2f}%")
            else:
                parts.append(f"{key.replace('_', ' ')} {_fmt(value)}")
        self.lines += 1
        bar = {} if self.total is None or count is None or final else {
            "extra": {"progress_count": int(count), "progress_total": int(self.total)}}
        self.log.info("%s%s", head, ", ".join(parts), **bar)


def bar(count: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[=====>    ] 12/40``: ``count`` of ``total`` steps done."""
    filled = min(width, max(0, width * count // total)) if total > 0 else width
    body = "=" * filled + (">" if filled < width else "") + " " * (width - filled - 1)
    return f"[{body[:width]}] {count}/{total}"


class StderrProgress(logging.Handler):
    """The CLI's progress on a stream: on a terminal a line with a known total is drawn as a
    bar in place (carriage return, cut to the terminal's width) and every other line ends it;
    on anything else (a file, a pipe) every line is written as is, one per line."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._open = False       # a bar is drawn and not yet ended by a newline
        self.setFormatter(logging.Formatter("mixopt: %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            total = getattr(record, "progress_total", None)
            if self.tty and total is not None:
                width = shutil.get_terminal_size().columns - 1
                line = f"{bar(record.progress_count, total)} {text}"  # type: ignore[attr-defined]
                self.stream.write(f"\r{line[:width]}\x1b[K")
                self._open = True
            else:
                self.stream.write(("\r\x1b[K" if self._open else "") + text + "\n")
                self._open = False
            self.flush()
        except Exception:  # noqa: BLE001 - logging's contract: report, never raise
            self.handleError(record)

    def close(self) -> None:
        """End an open bar with a newline."""
        if self._open:
            self.stream.write("\n")
            self._open = False
            self.flush()
        super().close()


@contextlib.contextmanager
def progress_to(stream: TextIO, enabled: bool = True) -> Iterator[StderrProgress | None]:
    """Send the methods' progress lines (logger ``mixopt.methods``) to ``stream`` while the
    block runs; on a terminal, bars are updated every :data:`TTY_INTERVAL_S` seconds."""
    global INTERVAL_S
    if not enabled:
        yield None
        return
    log = logging.getLogger("mixopt.methods")
    handler = StderrProgress(stream)
    old_level, old_interval = log.level, INTERVAL_S
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    if handler.tty:
        INTERVAL_S = min(INTERVAL_S, TTY_INTERVAL_S)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        handler.close()
        log.setLevel(old_level)
        INTERVAL_S = old_interval
