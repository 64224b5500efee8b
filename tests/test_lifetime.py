"""A terminated ``mixopt`` stops every process it started and writes nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mixopt.lifetime import Terminated, terminate_on_signals

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
GRACE_S = 15.0   # generous: "within a few seconds" on a loaded machine


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):   # the task ended meanwhile
            out += [int(x) for x in task.read_text().split()]
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie left to a non-reaping init counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_until(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def _write_points(path: Path, n: int, d: int) -> Path:
    x = np.random.default_rng(0).normal(0, 1, (n, d))
    names = ",".join(f"x{j}" for j in range(d))
    path.write_text(names + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n"
                                           for row in x))
    return path


def _start(tmp_path: Path, args: list[str]) -> tuple[subprocess.Popen[str], Path]:
    out = tmp_path / "out.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "log.txt").open("w")   # a file, not a pipe: nothing dies of SIGPIPE
    proc = subprocess.Popen([sys.executable, "-m", "mixopt.cli", *args, "--out", str(out)],
                            stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    log.close()
    return proc, out


def _kill_and_check(proc: subprocess.Popen[str], out: Path, n_children: int,
                    sig: int) -> list[int]:
    """Wait for ``n_children`` descendants, send ``sig`` to the CLI, return the survivors
    (killed before returning: a failing run leaves no orphans behind)."""
    family: list[int] = []
    try:
        assert _wait_until(lambda: len(_descendants(proc.pid)) >= n_children, 120), \
            f"no solver process started: {(out.parent / 'log.txt').read_text()[-2000:]}"
        time.sleep(1.0)   # let the solve get going
        family = _descendants(proc.pid)
        os.kill(proc.pid, sig)
        proc.wait(GRACE_S)
        _wait_until(lambda: not any(_alive(p) for p in family), GRACE_S)
        return [p for p in family if _alive(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in family:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _no_output(out: Path) -> bool:
    return not out.exists() and not list(out.parent.glob(f".{out.name}.*"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_terminated_miqp_leaves_no_solver_process(tmp_path, sig):
    data = _write_points(tmp_path / "points.csv", 80, 1)
    proc, out = _start(tmp_path, ["cluster", "--data", str(data), "--k", "4", "--sigma", "0.3",
                                  "--method", "miqp", "--time-limit", "120",
                                  "--options", '{"backend": "scip"}'])
    survivors = _kill_and_check(proc, out, 1, sig)
    assert survivors == []
    assert _no_output(out)
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
        last = (tmp_path / "log.txt").read_text().strip().splitlines()[-1]
        assert last == "mixopt cluster: error: terminated by SIGTERM"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_terminated_exact_stops_its_workers(tmp_path, sig):
    data = _write_points(tmp_path / "points.csv", 120, 2)
    proc, out = _start(tmp_path, ["cluster", "--data", str(data), "--k", "4", "--sigma", "0.5",
                                  "--method", "exact", "--time-limit", "300",
                                  "--options", '{"threads": 2}'])
    survivors = _kill_and_check(proc, out, 2, sig)   # two workers (and a resource tracker)
    assert survivors == []
    assert _no_output(out)
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM


def test_terminate_on_signals_raises_in_the_main_thread():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as info, terminate_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)   # interrupted by the handler
    assert info.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is before
