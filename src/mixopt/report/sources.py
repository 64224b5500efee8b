"""Sidecar files that tie every table cell or figure point to the records it was computed from.

For an artifact ``tables/x.csv`` the sidecar is ``tables/x.sources.json``::

    {"artifact": "flaherty_table2", "profile": "quick",
     "table": {"path": "x.csv", "float_format": "%.10g"},
     "record_stable_sha256": {"results/.../seed0.json": "<sha256>", ...},
     "cells": {"iris1d:neg_log_map|em": {
         "records": [...], "selected": "...", "value": 280.6, "rule": "...",
         "recipe": {"field": "objective", "aggregate": "selected"},
         "table_cell": {"row": {"dataset": "iris1d", "metric": "neg_log_map"}, "column": "em"}}}}

``record_stable_sha256`` holds the stable content hash of every member record when the artifact
was built (:func:`mixopt.provenance.record_stable_sha256`: the record without its timings, host
and clock, so two identical rebuilds give the same sidecar). A cell's ``recipe`` says how its
value follows from its records (:func:`recipe`; a dict of recipes when the value is a dict) and
``table_cell`` where it is printed in ``table`` (:func:`table_cell`). ``mixopt audit`` checks all
three (:mod:`mixopt.audit`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mixopt.io import atomic_write_json
from mixopt.provenance import record_stable_sha256


def sources_path(artifact_path: str | Path) -> Path:
    """``tables/x.csv`` -> ``tables/x.sources.json`` (same for ``.md`` or ``.png``)."""
    p = Path(artifact_path)
    return p.with_name(p.name.split(".")[0] + ".sources.json")


def cell_key(row: str, col: str) -> str:
    """Key of a cell in a sidecar."""
    return f"{row}|{col}"


# How a cell's value follows from its records (see :func:`recipe`).
AGGREGATES = ("single", "selected", "mean", "null")


def recipe(field: str | None, aggregate: str = "single", scale: float | None = None
           ) -> dict[str, Any]:
    """How a cell's value is computed from its records, for the audit to recompute it.

    ``field``: a record field, dotted for nested ones (``objective``, ``metrics.ari``).
    ``aggregate``: ``single`` (the cell's only record), ``selected`` (the record with the lowest
    objective, then the lowest seed: :func:`mixopt.report.table2.select_record`), ``mean`` (mean
    of the finite values over the records, null when there is none) or ``null`` (no value by
    definition, e.g. the oracle's time). ``scale`` multiplies the value (e.g. 100 for %).
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}; one of {AGGREGATES}")
    out: dict[str, Any] = {"field": field, "aggregate": aggregate}
    if scale is not None:
        out["scale"] = scale
    return out


def table_cell(row: dict[str, Any], column: str | dict[str, str]) -> dict[str, Any]:
    """Where a cell is printed in the artifact's CSV: the row whose columns equal ``row``, and
    the column (a dict value-key -> column when the cell's value is a dict)."""
    return {"row": row, "column": column}


def write_sources(
    artifact_path: str | Path, artifact: str, profile: str, cells: dict[str, dict[str, Any]],
    float_format: str | None = None,
) -> Path:
    """Write the sidecar of ``artifact_path`` and return its path.

    Adds the stable sha256 of every member record; for a CSV artifact, ``table`` names it
    (with the ``float_format`` its numbers were written with) for the cells' ``table_cell``."""
    dest = sources_path(artifact_path)
    paths = sorted({p for cell in cells.values() for p in cell.get("records", [])})
    data: dict[str, Any] = {"artifact": artifact, "profile": profile}
    if Path(artifact_path).suffix == ".csv":
        data["table"] = {"path": Path(artifact_path).name, "float_format": float_format}
    data["record_stable_sha256"] = {p: record_stable_sha256(p) for p in paths}
    data["cells"] = cells
    atomic_write_json(dest, data)
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
