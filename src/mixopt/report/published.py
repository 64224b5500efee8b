"""Published numbers shipped with the package (one YAML file per reproduced artifact)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def load_published(artifact: str) -> dict[str, Any]:
    """Published values of ``artifact`` (e.g. ``"flaherty_table2"``)."""
    path = resources.files("mixopt.published").joinpath(f"{artifact}.yaml")
    try:
        data: dict[str, Any] = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no published values shipped for artifact {artifact!r}") from None
    return data
