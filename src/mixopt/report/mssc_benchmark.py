"""The MSSC benchmark table: certified minimum-sum-of-squares clustering of the SOS-SDP instances
by method ``exact``, beside SOS-SDP's published figures.

One row per instance, built only from the instance's run record (:mod:`mixopt.studies.
mssc_benchmark` writes the MSSC numbers into it); every cell of ours is traced in the sidecar
``mssc_benchmark.sources.json`` with the record field it shows (``mixopt audit
tables/mssc_benchmark.csv --row glass_k6 --col mssc``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixopt.io import atomic_path, atomic_write_text
from mixopt.report.published import load_published
from mixopt.report.sources import cell_key, recipe, table_cell, write_sources

ARTIFACT = "mssc_benchmark"
CSV_FLOAT_FORMAT = "%.10g"
NOT_RUN = "not yet run"
NOT_PUBLISHED = "not published"
NO_BOUND = "none in time"   # the search stopped before every open node had a bound
# Our columns: CSV column -> record field (dotted) it shows.
FIELDS: dict[str, str] = {
    "dataset": "extra.instance.dataset",
    "n": "extra.instance.n",
    "d": "extra.instance.d",
    "k": "params.k",
    "mssc": "metrics.mssc",
    "lower_bound": "metrics.mssc_lower_bound",
    "gap": "metrics.mssc_gap",
    "status": "status",
    "nodes": "extra.nodes",
    "threads": "params.settings.options.threads",   # as asked (K = 2 directions: unused)
    "time_s": "wall_time_s",
}
# SOS-SDP's published figures: CSV column -> key in published/mssc_benchmark.yaml.
PUBLISHED: dict[str, str] = {
    "sos_sdp_mssc": "mssc", "sos_sdp_root_gap": "root_gap", "sos_sdp_nodes": "nodes",
    "sos_sdp_threads": "threads", "sos_sdp_time_s": "time_s",
}
COLUMNS = ["instance", *FIELDS, *PUBLISHED]


def field_value(record: dict[str, Any], field: str) -> Any:
    """The value of a dotted field of a record (None when absent)."""
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def build_table(records: Iterable[dict[str, Any]], instances: list[str]
                ) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """One row per instance (ours, then SOS-SDP's published figures) and the per-cell sources."""
    by_instance = {r["dataset"]: r for r in records}
    published = load_published(ARTIFACT)["instances"]
    rows, cells = [], {}
    for name in instances:
        row: dict[str, Any] = {"instance": name}
        paper = published.get(name, {})
        row.update({col: paper.get(key, np.nan) for col, key in PUBLISHED.items()})
        rec = by_instance.get(name)
        if rec is None:
            row.update({col: np.nan for col in FIELDS} | {"status": NOT_RUN})
            rows.append(row)
            continue
        for col, field in FIELDS.items():
            value = field_value(rec, field)
            row[col] = np.nan if value is None else value
            cells[cell_key(name, col)] = {
                "value": value,
                "published": paper.get("mssc") if col == "mssc" else None,
                "records": [rec["_path"]],
                "rule": "the instance's only record (exact is deterministic: one run)",
                "recipe": recipe(field, "single"),
                "table_cell": table_cell({"instance": name}, col),
            }
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS), cells


def _num(value: Any, fmt: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return format(value, fmt)


def _published_cell(r: pd.Series) -> str:
    if pd.isna(r["sos_sdp_mssc"]):
        return NOT_PUBLISHED
    return (f"{_num(r['sos_sdp_mssc'], '.4f')} ({_num(r['sos_sdp_threads'], '.0f')} threads, "
            f"{_num(r['sos_sdp_time_s'], '.0f')} s, {_num(r['sos_sdp_nodes'], '.0f')} nodes, "
            f"root gap {_num(r['sos_sdp_root_gap'], '.2g')})")


def to_markdown(table: pd.DataFrame, profile: str, source: str) -> str:
    """Markdown rendering with SOS-SDP's published figure beside ours."""
    head = ["Instance", "Data set", "n", "d", "K", "MSSC (optimum or best found)",
            "Lower bound", "Gap", "Status", "Nodes", "Threads", "Time (s)",
            "SOS-SDP (published)"]
    lines = [
        "# MSSC benchmark: certified minimum-sum-of-squares clustering (method exact)",
        "",
        f"Profile `{profile}`. MSSC = Problem (4) with pi_k = 1/K and identity precision; the "
        "value is the sum of squared distances to the cluster means of the best clustering "
        "found, the lower bound 2 (L - n log K) of exact's certified bound L on Problem (4), the "
        "gap (MSSC - bound) / MSSC. Status `optimal`: certified within exact's relative gap "
        "(`rel_gap`); `time_limit`: stopped at the time limit with the gap shown (lower bound "
        f"`{NO_BOUND}`: some open node had no bound yet, e.g. a child of the root; a negative "
        "one: the search's bound is still weaker than the trivial 0). Every cell "
        "of ours is traced to its run record in `mssc_benchmark.sources.json` "
        "(`mixopt audit tables/mssc_benchmark.csv --row <instance> --col mssc`).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for _, r in table.iterrows():
        ran = r["status"] != NOT_RUN
        bound = NO_BOUND if ran and pd.isna(r["lower_bound"]) else _num(r["lower_bound"], ".4f")
        cells = [r["instance"], _num(r["dataset"], ""), _num(r["n"], ".0f"),
                 _num(r["d"], ".0f"), _num(r["k"], ".0f"), _num(r["mssc"], ".4f"),
                 bound, _num(r["gap"], ".2e"), str(r["status"]),
                 _num(r["nodes"], ".0f"), _num(r["threads"], ".0f"), _num(r["time_s"], ".1f"),
                 _published_cell(r)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Published figures: {source}."]
    return "\n".join(lines) + "\n"


def write_mssc_table(records: Iterable[dict[str, Any]], instances: list[str],
                     csv_path: str | Path, md_path: str | Path, profile: str) -> pd.DataFrame:
    """Build the table from records and write CSV, Markdown and the sources sidecar."""
    table, cells = build_table(list(records), instances)
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT)
    source = load_published(ARTIFACT)["source"]
    atomic_write_text(md_path, to_markdown(table, profile, source))
    write_sources(csv_path, ARTIFACT, profile, cells, float_format=CSV_FLOAT_FORMAT)
    return table
