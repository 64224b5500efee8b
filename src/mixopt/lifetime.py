"""Process lifetime: a terminated ``mixopt`` takes the processes it started with it.

The global methods solve in a forked child
(:func:`mixopt.methods.map.solvers._solve_isolated`) and ``exact`` with ``threads`` > 1 in a pool
of worker processes. Python's default reaction to SIGTERM ends the
parent at once, without its cleanup, and the children run on. Two mechanisms prevent that:

* :func:`terminate_on_signals` turns SIGTERM and SIGHUP into a :class:`Terminated` exception in the
  main thread, so that the ``finally`` blocks that stop children run and no output is written;
* :func:`die_with_parent` (called in each child) asks Linux to kill the child when its parent
  dies, which covers the uncatchable SIGKILL (``subprocess.run(timeout=...)`` sends it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent import futures
from types import FrameType
from typing import Any

SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_PR_SET_PDEATHSIG = 1   # <linux/prctl.h>


class Terminated(BaseException):  # noqa: N818 (like KeyboardInterrupt: not an error)
    """The process received a termination signal (a BaseException, so that ``except
    Exception`` blocks do not swallow it)."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"terminated by {signal.Signals(self.signum).name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + the signal number."""
        return 128 + self.signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def terminate_on_signals(signals: Iterable[int] = SIGNALS) -> Iterator[None]:
    """While the block runs, SIGTERM/SIGHUP raise :class:`Terminated` in the main thread
    (outside the main thread the block runs unchanged: Python delivers signals there only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, _raise_terminated) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def die_with_parent(parent: int | None = None) -> None:
    """In a child process: default signal handlers, and (Linux) SIGKILL when the parent dies.

    ``parent`` is the pid of the parent at fork time: a child whose parent already died before
    the request exits at once. Elsewhere than Linux only the handlers are reset."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def stop_process(proc: Any, grace_s: float = 3.0) -> None:
    """Terminate a ``multiprocessing`` process (SIGTERM, then SIGKILL after ``grace_s``) and
    reap it; nothing to do when it already ended."""
    if proc.is_alive():
        proc.terminate()
        proc.join(grace_s)
        if proc.is_alive():
            proc.kill()
    proc.join()


@contextlib.contextmanager
def main_script_hidden() -> Iterator[None]:
    """While the block runs, the ``__main__`` module has no ``__file__``, so that processes
    started by the ``spawn`` method do not run the caller's script again.

    A spawned child imports the parent's main script (as ``__mp_main__``) to find functions
    defined there, which runs its top-level code; a script without an ``if __name__ ==
    "__main__"`` guard (every Snakemake ``script:`` job) then starts its work again in the child,
    which fails. The workers here only call functions of this package, so they need nothing
    from the script."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield   # (``python -m``: the child imports the module by name, not the script)
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


class ScriptSafePool(futures.ProcessPoolExecutor):
    """A process pool whose workers never run the caller's main script (see
    :func:`main_script_hidden`; workers are started on ``submit``)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> futures.Future:
        with main_script_hidden():
            return super().submit(fn, *args, **kwargs)


def stop_pool(pool: Any) -> None:
    """Stop a ``concurrent.futures.ProcessPoolExecutor`` now: cancel what is queued and end
    the workers still computing (``shutdown`` alone lets them finish their task)."""
    procs = list((pool._processes or {}).values())  # noqa: SLF001 (public only from 3.14)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        stop_process(proc, grace_s=1.0)
