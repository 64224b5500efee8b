"""Helpers shared by the one-node scheduler clusters the tests start (SLURM, Grid Engine)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest


def terminate(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM ``proc``, then SIGKILL when it has not ended after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Poll ``check`` every ``interval`` seconds; True as soon as it holds, False at ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def ensure_plugin(module: str, requirement: str) -> None:
    """Install the executor plugin ``requirement`` unless ``module`` imports; skip the test
    with pip's message when it cannot be installed."""
    if importlib.util.find_spec(module) is not None:
        return
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement],
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot install {requirement}: {proc.stderr.strip()[-300:]}")
