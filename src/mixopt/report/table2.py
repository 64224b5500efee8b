"""Table 2 of Flaherty et al.: local (EM, SLSQP, SA) vs global (MINLP, MIQP) MAP clustering.

Rows are (data set, metric); for each method column the table holds our value and the published
one. A cell is computed from the records of that (data set, method); with several seeds the record
with the lowest objective is reported and the sidecar lists all of them. Methods without records
are marked ``not yet run``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixopt.io import atomic_path, atomic_write_text
from mixopt.report.published import load_published
from mixopt.report.sources import cell_key, recipe, table_cell, write_sources

ARTIFACT = "flaherty_table2"
NOT_RUN = "not yet run"
CSV_FLOAT_FORMAT = "%.10g"   # numbers in the CSV (the audit compares them)
NOT_APPLICABLE = "n/a"
METRICS: dict[str, tuple[str, int]] = {  # key -> (label in the paper, decimals printed there)
    "neg_log_map": ("-log MAP", 2),
    "lbd": ("LBD", 2),
    "pi_sup": ("sup|pi_hat - pi|", 3),
    "mu_l2": ("||mu_hat - mu||_2", 3),
    "z_mean_sup": ("1/n sum_i sup|z_hat_i - z_i|", 3),
}
METHOD_LABELS = {"em": "EM", "slsqp": "SLSQP", "sa": "SA", "minlp": "MINLP", "miqp": "MIQP",
                 "exact1d": "exact1d", "exact": "exact"}


def metric_field(metric: str) -> str:
    """The record field a Table 2 metric reads (dotted for ``metrics``)."""
    return {"neg_log_map": "objective", "lbd": "lower_bound"}.get(metric, f"metrics.{metric}")


def metric_value(record: dict[str, Any], metric: str) -> float | None:
    """The value of one Table 2 metric in one record."""
    if metric == "neg_log_map":
        return record.get("objective")
    if metric == "lbd":
        return record.get("lower_bound")
    value = record.get("metrics", {}).get(metric)
    return None if value is None else float(value)


def select_record(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The record reported for a cell: lowest objective, then lowest seed."""
    def key(r: dict[str, Any]) -> tuple[float, int]:
        obj = r.get("objective")
        return (np.inf if obj is None else float(obj), int(r["seed"]))
    return min(records, key=key)


def group_by_cell(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Records keyed by (data set, method): all the seeds behind one column of one row block."""
    by_cell: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_cell[(rec["dataset"], rec["method"])].append(rec)
    return by_cell


def run_notes(
    records: Iterable[dict[str, Any]], datasets: list[str], methods: list[str]
) -> list[str]:
    """One line per reported record that did not finish as expected, plus the records' notes."""
    by_cell = group_by_cell(records)
    notes = []
    for ds in datasets:
        for m in methods:
            if not by_cell.get((ds, m)):
                continue
            rec = select_record(by_cell[(ds, m)])
            head = f"{ds} / {METHOD_LABELS.get(m, m)}"
            solver = rec["solver"]
            if rec["status"] not in ("local",):
                gap = rec.get("gap")
                gap_txt = "n/a" if gap is None else f"{gap:.3g}"
                notes.append(f"{head}: status `{rec['status']}`, relative gap {gap_txt}, "
                             f"{rec['wall_time_s']:.0f} s, {solver['name']} {solver['version']}")
            notes += [f"{head}: {n}" for n in rec.get("notes", [])]
    return notes


def build_table2(
    records: Iterable[dict[str, Any]],
    datasets: list[str],
    methods: list[str],
    only_on: dict[str, list[str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Wide Table 2 (``dataset, metric, <m>, <m>_paper, ...``) and the per-cell sources.

    ``only_on`` restricts methods to data sets (exact1d: d = 1); other cells are ``n/a``.
    """
    only_on = only_on or {}
    published = load_published(ARTIFACT)["rows"]
    by_cell = group_by_cell(records)
    rows, cells = [], {}
    for ds in datasets:
        for metric in METRICS:
            row: dict[str, Any] = {"dataset": ds, "metric": metric}
            for m in methods:
                recs = by_cell.get((ds, m), [])
                paper = published.get(ds, {}).get(metric, {}).get(m)
                row[f"{m}_paper"] = np.nan if paper is None else paper
                if not recs:
                    row[m] = NOT_APPLICABLE if ds not in only_on.get(m, [ds]) else NOT_RUN
                    continue
                chosen = select_record(recs)
                value = metric_value(chosen, metric)
                row[m] = np.nan if value is None else value
                cells[cell_key(f"{ds}:{metric}", m)] = {
                    "value": value,
                    "published": paper,
                    "selected": chosen["_path"],
                    "records": sorted(r["_path"] for r in recs),
                    "rule": "lowest objective over seeds, then lowest seed",
                    "recipe": recipe(metric_field(metric), "selected"),
                    "table_cell": table_cell({"dataset": ds, "metric": metric}, m),
                }
            rows.append(row)
    columns = ["dataset", "metric"] + [c for m in methods for c in (m, f"{m}_paper")]
    return pd.DataFrame(rows, columns=columns), cells


def _fmt(value: Any, decimals: int) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    v = float(value)
    return f"{v:.2e}" if abs(v) >= 1e5 else f"{v:.{decimals}f}"


def to_markdown(table: pd.DataFrame, methods: list[str], profile: str, notes: list[str]) -> str:
    """Markdown rendering: ``ours (paper)`` per method, with the paper's rounding."""
    head = ["Data set", "Metric"] + [f"{METHOD_LABELS.get(m, m)} ours (paper)" for m in methods]
    lines = [
        "# Flaherty et al., Table 2: local vs global MAP clustering",
        "",
        f"Profile `{profile}`. Each cell: our value, then the published value in parentheses. "
        "Every cell is traced to its run records in `flaherty_table2.sources.json` "
        "(`mixopt audit tables/flaherty_table2.csv --row <dataset>:<metric> --col <method>`).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for _, r in table.iterrows():
        label, dec = METRICS[r["metric"]]
        cells = [str(r["dataset"]), label.replace("|", "\\|")]
        for m in methods:
            ours = r[m]
            paper = _fmt(r[f"{m}_paper"], dec)
            cells.append(f"{_fmt(ours, dec)} ({paper})")
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def to_latex(table: pd.DataFrame, methods: list[str], profile: str) -> str:
    """LaTeX rendering (booktabs): ``ours (paper)`` per method, the paper's rounding."""
    cols = "ll" + "r" * len(methods)
    head = " & ".join(["Data set", "Metric"] + [METHOD_LABELS.get(m, m) for m in methods])
    latex_metric = {"neg_log_map": r"$-\log$ MAP", "lbd": "LBD",
                    "pi_sup": r"$\sup|\hat\pi-\pi|$", "mu_l2": r"$\|\hat\mu-\mu\|_2$",
                    "z_mean_sup": r"$\frac1n\sum_i\sup|\hat z_i-z_i|$"}
    lines = [r"\begin{tabular}{" + cols + "}", r"\toprule", head + r" \\", r"\midrule"]
    for _, r in table.iterrows():
        dec = METRICS[r["metric"]][1]
        cells = [str(r["dataset"]), latex_metric[r["metric"]]]
        cells += [f"{_fmt(r[m], dec)} ({_fmt(r[f'{m}_paper'], dec)})".replace("—", "--")
                  for m in methods]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}",
              f"% mixopt, profile {profile}: ours (published); sources in "
              "flaherty_table2.sources.json"]
    return "\n".join(lines) + "\n"


def write_table2(
    records: Iterable[dict[str, Any]],
    datasets: list[str],
    methods: list[str],
    csv_path: str | Path,
    md_path: str | Path,
    profile: str,
    notes: list[str] | None = None,
    tex_path: str | Path | None = None,
    only_on: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Build Table 2 from records and write CSV, Markdown, LaTeX and the sources sidecar."""
    records = list(records)
    table, cells = build_table2(records, datasets, methods, only_on)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT)
    all_notes = (notes or []) + run_notes(records, datasets, methods)
    atomic_write_text(md_path, to_markdown(table, methods, profile, all_notes))
    if tex_path is not None:
        atomic_write_text(tex_path, to_latex(table, methods, profile))
    write_sources(csv_path, ARTIFACT, profile, cells, float_format=CSV_FLOAT_FORMAT)
    return table
