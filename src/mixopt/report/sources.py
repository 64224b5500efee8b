"""Sidecar files that tie every table cell or figure point to the records it was computed from.

For an artifact ``tables/x.csv`` the sidecar is ``tables/x.sources.json``::

    {"artifact": "flaherty_table2", "profile": "quick",
     "cells": {"iris1d:neg_log_map|em": {"records": [...], "selected": "...", "rule": "..."}}}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mixopt.io import atomic_write_json


def sources_path(artifact_path: str | Path) -> Path:
    """``tables/x.csv`` -> ``tables/x.sources.json`` (same for ``.md`` or ``.png``)."""
    p = Path(artifact_path)
    return p.with_name(p.name.split(".")[0] + ".sources.json")


def cell_key(row: str, col: str) -> str:
    """Key of a cell in a sidecar."""
    return f"{row}|{col}"


def write_sources(
    artifact_path: str | Path, artifact: str, profile: str, cells: dict[str, dict[str, Any]]
) -> Path:
    """Write the sidecar of ``artifact_path`` and return its path."""
    dest = sources_path(artifact_path)
    atomic_write_json(dest, {"artifact": artifact, "profile": profile, "cells": cells})
    return dest


def read_sources(artifact_path: str | Path) -> dict[str, Any]:
    """Read the sidecar of ``artifact_path`` (clear error when it is missing)."""
    path = sources_path(artifact_path)
    if not path.exists():
        raise FileNotFoundError(
            f"{artifact_path}: no provenance sidecar {path}; rebuild the artifact")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a provenance sidecar (not JSON: {exc})") from None
    _check_sidecar(data, path)
    return dict(data)


def _check_sidecar(data: Any, path: Path) -> None:
    """Raise ValueError naming ``path`` unless ``data`` has the sidecar's shape."""
    problem = None
    if not isinstance(data, dict):
        problem = f"a JSON {type(data).__name__}, expected an object"
    elif missing := [k for k in ("artifact", "profile", "cells") if k not in data]:
        problem = f"missing {missing}"
    elif not isinstance(data["cells"], dict):
        problem = "'cells' is not an object"
    else:
        for key, cell in data["cells"].items():
            if key.count("|") != 1 or not isinstance(cell, dict) or not isinstance(
                    cell.get("records"), list) or not all(
                    isinstance(r, str) for r in cell["records"]):
                problem = f"cell {key!r} is not 'row|col' with a list of record paths"
                break
    if problem is not None:
        raise ValueError(f"{path}: not a provenance sidecar ({problem}); rebuild the artifact")
