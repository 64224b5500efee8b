"""Helpers for the thin Snakemake scripts in ``scripts/``: logging and the configuration hash."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mixopt.provenance import canonical_hash


@contextlib.contextmanager
def job_log(path: str | Path) -> Iterator[None]:
    """Send the job's stdout, stderr and ``logging`` output to ``path``; log failure traces."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as fh, contextlib.redirect_stdout(fh), \
            contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        except BaseException:
            logging.getLogger("mixopt").exception("job failed")
            raise
        finally:
            root.removeHandler(handler)


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the whole validated workflow configuration."""
    return canonical_hash(config)
