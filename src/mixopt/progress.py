"""Rate-limited progress lines of long-running methods, sent to :mod:`logging`.

Every workflow job runs inside :func:`mixopt.smk.job_log`, which sends the ``logging`` root logger
to the job's log file, so these lines land there (and nowhere when nothing configures logging).
A :class:`Progress` writes to the logger ``mixopt.methods.<name>`` at most one line every
``interval_s`` seconds (:data:`INTERVAL_S` by default) and always a final ``done`` line::

    ... INFO mixopt.methods.regression.pclustreg: 5.0 s, expanded 196, created 981, queue 784, ...
    ... INFO mixopt.methods.regression.pclustreg: done (node_limit): 7.9 s, expanded 300, ...

:meth:`Progress.due` costs one clock read, so it can be asked once per iteration of an outer loop
(a node expansion, a batch of restarts); the fields of a line are computed only when it is due.
"""

from __future__ import annotations

import logging
import math
import time

INTERVAL_S = 5.0   #: default seconds between two progress lines of one run


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
    (underscores become spaces); a float ``gap`` is printed as a percentage.
    """

    def __init__(self, name: str, interval_s: float | None = None,
                 t0: float | None = None) -> None:
        self.log = logging.getLogger(f"mixopt.methods.{name}")
        self.interval = INTERVAL_S if interval_s is None else float(interval_s)
        self.t0 = time.perf_counter() if t0 is None else t0
        self.enabled = self.log.isEnabledFor(logging.INFO)
        self._next = self.t0 + self.interval
        self.lines = 0

    def due(self) -> bool:
        """True when the next progress line is due (never when INFO is off for the logger)."""
        return self.enabled and time.perf_counter() >= self._next

    def report(self, **fields: object) -> None:
        """Log one progress line now (the next one is due ``interval_s`` later)."""
        self._emit("", fields)

    def done(self, status: str, **fields: object) -> None:
        """Log the final line of the run (always, whatever the rate limit)."""
        self._emit(f"done ({status}): ", fields)

    def _emit(self, head: str, fields: dict[str, object]) -> None:
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
        self.log.info("%s%s", head, ", ".join(parts))
