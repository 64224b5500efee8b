"""In-sample accuracy of Bandi et al. (2019) against the MAP methods (Flaherty et al. Sec. 4.1).

Rows are data sets, columns methods: ``bandi`` (this study's records) and the Table 2 methods
(their records). Accuracy = 1 - z_mean_sup: the share of points whose (Hungarian-matched)
cluster is their class. Published values: the text's accuracies for Bandi and MIQP, and
1 - z_mean_sup of Table 2 for the other methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixopt.io import atomic_write_text
from mixopt.report.published import load_published
from mixopt.report.sources import cell_key, recipe, table_cell, write_sources
from mixopt.report.table2 import METHOD_LABELS, group_by_cell, run_notes, select_record

ARTIFACT = "flaherty_bandi_accuracy"
CSV_FLOAT_FORMAT = "%.4f"   # numbers in the CSV (the audit compares them)
METHOD_LABELS = {**METHOD_LABELS, "bandi": "Bandi et al. (KS-MIO)"}
RECONSTRUCTION_NOTE = (
    "Bandi et al. (2019) is our reconstruction from the paper's published description (abstract): "
    "KS-discrepancy MILP per projection (HiGHS, Nelder-Mead warm start), weights by LP, "
    "alternation stopped at eps = 0.01, covariances from pairwise projections; time-limited MILPs "
    "make the column machine-dependent. See mixopt.methods.map.bandi and docs/fidelity.md.")


def published_accuracy(dataset: str, method: str) -> float | None:
    """Published accuracy in %, from the text (Bandi, MIQP) or 1 - z of Table 2."""
    text = load_published(ARTIFACT)["text"]
    if method in text:
        return text[method].get(dataset)
    z = load_published("flaherty_table2")["rows"].get(dataset, {}).get("z_mean_sup", {})
    return None if z.get(method) is None else round(100 * (1 - z[method]), 1)


def build_bandi_table(records: Iterable[dict[str, Any]], datasets: list[str],
                      methods: list[str]) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Long table (dataset, method, accuracy %, published %, difference, status) and sources."""
    by_cell = group_by_cell(records)
    rows, cells = [], {}
    for ds in datasets:
        for m in methods:
            recs = by_cell.get((ds, m), [])
            if not recs:
                continue
            rec = select_record(recs)
            ours = 100 * float(rec["metrics"]["accuracy"])
            paper = published_accuracy(ds, m)
            rows.append({"dataset": ds, "method": m, "accuracy_pct": ours,
                         "paper_pct": np.nan if paper is None else paper,
                         "difference_pct": np.nan if paper is None else ours - paper,
                         "status": rec["status"], "ks": rec.get("extra", {}).get("ks"),
                         "record": rec["_path"]})
            cells[cell_key(ds, m)] = {"value": ours, "published": paper,
                                      "selected": rec["_path"],
                                      "records": sorted(r["_path"] for r in recs),
                                      "rule": "accuracy (1 - z_mean_sup) of the reported record",
                                      "recipe": recipe("metrics.accuracy", "selected", scale=100),
                                      "table_cell": table_cell({"dataset": ds, "method": m},
                                                               "accuracy_pct")}
    return pd.DataFrame(rows), cells


def to_markdown(table: pd.DataFrame, datasets: list[str], methods: list[str], profile: str,
                notes: list[str]) -> str:
    """Rows = data sets; each cell 'ours (paper)' in %."""
    head = ["data set"] + [METHOD_LABELS.get(m, m) for m in methods]
    lines = [f"# Flaherty et al., comparison to Bandi et al. (2019): in-sample accuracy (%), "
             f"profile `{profile}`", "",
             "Each cell: ours (published). Published Bandi and MIQP values are from the text of "
             "Sec. 4.1, the others are 1 - z of Table 2.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for ds in datasets:
        cells = [ds]
        for m in methods:
            row = table[(table["dataset"] == ds) & (table["method"] == m)]
            if row.empty:
                cells.append("n/a")
                continue
            ours, paper = row["accuracy_pct"].iloc[0], row["paper_pct"].iloc[0]
            cells.append(f"{ours:.1f}" + ("" if pd.isna(paper) else f" ({paper:.1f})"))
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def write_bandi_table(records: list[dict[str, Any]], datasets: list[str], methods: list[str],
                      csv_path: str | Path, md_path: str | Path, profile: str,
                      notes: list[str] | None = None) -> pd.DataFrame:
    """CSV + Markdown + sources sidecar."""
    table, cells = build_bandi_table(records, datasets, methods)
    all_notes = [RECONSTRUCTION_NOTE, *(notes or []), *run_notes(records, datasets, methods)]
    atomic_write_text(csv_path, table.to_csv(index=False, float_format=CSV_FLOAT_FORMAT))
    atomic_write_text(md_path, to_markdown(table, datasets, methods, profile, all_notes))
    write_sources(csv_path, ARTIFACT, profile, cells, float_format=CSV_FLOAT_FORMAT)
    return table
