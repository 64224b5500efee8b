"""Helpers for the thin Snakemake scripts in ``scripts/``: logging and the configuration hash."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from mixopt.provenance import canonical_hash


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (output of C extensions still held in ``stdout``)."""
    # no C library handle (e.g. Windows): nothing to flush
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def redirect_fds(fh: TextIO) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``fh``'s file while the block runs; restore them after.

    Catches what C and C++ extensions (SCIP, HiGHS) write to the process's stdout/stderr, which
    :func:`contextlib.redirect_stdout` (a Python-level swap of ``sys.stdout``) does not. The
    descriptors share ``fh``'s open file (one file offset), so nothing is overwritten. Each
    Snakemake ``script:`` job is its own Python process; in-process callers get their
    descriptors back on exit.
    """
    for stream in (sys.stdout, sys.stderr, fh):
        with contextlib.suppress(Exception):
            stream.flush()
    _flush_c_stdio()
    saved: list[tuple[int, int | None]] = []
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
            except OSError:       # the descriptor was closed: close it again on exit
                saved.append((fd, None))
            os.dup2(fh.fileno(), fd)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr, fh):
            with contextlib.suppress(Exception):
                stream.flush()
        _flush_c_stdio()
        for fd, old in reversed(saved):
            if old is None:
                os.close(fd)
            else:
                os.dup2(old, fd)
                os.close(old)


@contextlib.contextmanager
def job_log(path: str | Path) -> Iterator[None]:
    """Send the job's stdout, stderr and ``logging`` output to ``path``; log failure traces.

    Python-level output (``print``, ``logging`` at INFO, warnings) and what C extensions write
    to file descriptors 1 and 2 (SCIP's and HiGHS's messages) all go to the file; see
    :func:`redirect_fds`. The methods' progress lines (:mod:`mixopt.progress`) are INFO records.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as fh, redirect_fds(fh), contextlib.redirect_stdout(fh), \
            contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        except BaseException:
            logging.getLogger("mixopt").exception("job failed")
            raise
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the whole validated workflow configuration."""
    return canonical_hash(config)


def non_finite_keys(config: Any, where: str = "") -> list[str]:
    """Keys (``['a']['b']``) of every NaN or infinite number in ``config``, at any depth.

    JSON schema cannot express NaN, and YAML's ``.nan`` passes every ``minimum`` check."""
    if isinstance(config, dict):
        return [k for key, v in config.items() for k in non_finite_keys(v, f"{where}['{key}']")]
    if isinstance(config, list | tuple):
        return [k for i, v in enumerate(config) for k in non_finite_keys(v, f"{where}[{i}]")]
    if isinstance(config, float) and not math.isfinite(config):
        return [f"{where} = {config}"]
    return []


def check_finite_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming every key whose value is NaN or infinite (after the schema)."""
    bad = non_finite_keys(config)
    if bad:
        raise ValueError("Error validating config file: numbers must be finite, but "
                         + "; ".join(f"config{k}" for k in bad))
