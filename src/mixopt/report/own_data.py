"""Your own data sets (:mod:`mixopt.studies.own_data`): one table row per (data set, method, seed)
and one clustering figure per (data set, method), built from the run records only.

Every table row is one cell of ``tables/own_data.sources.json`` (row ``<data set>:seed<s>``,
column the method), so ``mixopt audit tables/own_data.csv --row blobs:seed0 --col em`` traces it
to its record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixopt.audit import field_value
from mixopt.io import atomic_write_text
from mixopt.report.sources import cell_key, recipe, table_cell, write_sources

ARTIFACT = "own_data"
CSV_FLOAT_FORMAT = "%.10g"
#: CSV column -> record field (dotted); every one is audited.
FIELDS = {"neg_log_map": "objective", "lower_bound": "lower_bound", "gap": "gap",
          "time_s": "wall_time_s", "ari": "metrics.ari", "accuracy": "metrics.accuracy"}
NOTES = [
    "neg_log_map: the negative log MAP objective of Problem (4) at the method's clustering "
    "(lower is better); lower_bound and gap: certified by the global methods only.",
    "covariance: the known sigma (Lambda = I / sigma^2) or `estimate` (tied-covariance Gaussian "
    "mixture; the record's first note says how).",
    "ari, accuracy: only when the sheet names a label column (accuracy when K equals the number "
    "of classes).",
]


def _covariance(rec: dict[str, Any]) -> str:
    spec = rec["params"]["settings"]["precision"]
    return "estimate" if "estimate" in spec else f"sigma {spec.get('sigma')}"


def own_rows(records: list[dict[str, Any]], paths: list[str]
             ) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The table (one row per record, in the given order) and the sources of every row."""
    rows, cells = [], {}
    for rec, path in zip(records, paths, strict=True):
        mu = rec["params"].get("mu")
        key = {"dataset": rec["dataset"], "method": rec["method"], "seed": rec["seed"]}
        values = {col: field_value(rec, f) for col, f in FIELDS.items()}
        rows.append({**key, "n": len(rec.get("assignment") or []),
                     "d": int(np.asarray(mu).shape[1]) if mu is not None else None,
                     "k": rec["params"]["k"], "covariance": _covariance(rec),
                     "status": rec["status"], **values})
        cells[cell_key(f"{rec['dataset']}:seed{rec['seed']}", rec["method"])] = {
            "records": [path], "value": values,
            "rule": "the record's own fields (one record per row)",
            "recipe": {col: recipe(f, "single") for col, f in FIELDS.items()},
            "table_cell": table_cell(key, {col: col for col in FIELDS}),
        }
    return pd.DataFrame(rows), cells


def _md(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def own_markdown(df: pd.DataFrame, profile: str) -> str:
    """The table in Markdown, with its notes."""
    head = list(df.columns)
    lines = [f"# Your data sets: MAP clustering, profile `{profile}`", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join([*lines, "", "Notes:", "", *[f"- {n}" for n in NOTES]]) + "\n"


def write_own_table(records: list[dict[str, Any]], paths: list[str], csv_path: str | Path,
                    md_path: str | Path, profile: str) -> pd.DataFrame:
    """Write ``tables/own_data.{csv,md}`` and the sources sidecar."""
    df, cells = own_rows(records, paths)
    atomic_write_text(Path(csv_path), df.to_csv(index=False, float_format=CSV_FLOAT_FORMAT))
    atomic_write_text(Path(md_path), own_markdown(df, profile))
    write_sources(csv_path, ARTIFACT, profile, cells, float_format=CSV_FLOAT_FORMAT)
    return df


def write_own_figure(record: dict[str, Any], record_path: str, x: np.ndarray,
                     feature_names: list[str], png: str | Path, profile: str) -> None:
    """The clustering of one record (``mixopt plot``) and its sources sidecar."""
    from mixopt.report.record_plot import plot_record

    plot_record(record, x, png, feature_names)
    cells = {cell_key(record["dataset"], record["method"]): {
        "records": [record_path], "value": record["objective"],
        "rule": "the clustering (assignment, means) of the record", "recipe": recipe("objective")}}
    write_sources(png, f"{ARTIFACT}_figure", profile, cells)
