"""Shared fixtures: the raw-data mirror and the project root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def mirror_dir() -> Path | None:
    """$MIXOPT_DATA_MIRROR, else ../shared/data beside the project, else None."""
    env = os.environ.get("MIXOPT_DATA_MIRROR")
    if env:
        return Path(env)
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_dir()
    if path is None:
        pytest.skip("no raw-data mirror (set MIXOPT_DATA_MIRROR)")
    return path


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT
