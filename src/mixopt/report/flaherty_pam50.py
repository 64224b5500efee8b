"""PAM50 study tables (Flaherty et al., Sec. 4.2 and Appendix C) from run records.

Runs are keyed ``pam`` (PAM50 centroid predictor), ``minlp`` and ``miqp`` (known subtypes fixed)
and ``miqp_nolabels`` (the MIQP without the 139 constraints, for the gap experiment).

- agreement: accuracy on the 139 known samples and concordance on the 93 unknown ones (Sec. 4.2);
- gap: optimality gap of every global run at its time limit (paper: 32.35 % vs 99.83 %);
- Table 3: the samples PAM and MIQP assign differently (Appendix C).

With known labels fixed, component k is subtype k. ``miqp_nolabels`` names its components
arbitrarily; they are matched to subtypes by maximum agreement on the known samples (Hungarian).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from mixopt.data.pam50_matrix import SUBTYPES
from mixopt.io import atomic_path, atomic_write_text
from mixopt.report.published import load_published
from mixopt.report.sources import cell_key, recipe, table_cell, write_sources

ARTIFACT = "flaherty_pam50"
CSV_FLOAT_FORMAT = "%.10g"   # numbers in the CSV (the audit compares them)
RUN_LABELS = {"pam": "PAM", "minlp": "MINLP", "miqp": "MIQP", "exact": "exact (SDP B&B)",
              "miqp_nolabels": "MIQP without the 139 labels"}


def published() -> dict[str, Any]:
    """The paper's PAM50 numbers (``published/flaherty_pam50.yaml``)."""
    return load_published(ARTIFACT)


def assignment(rec: dict[str, Any] | None) -> NDArray[np.int64] | None:
    """The record's assignment, None when there is no record or no solution."""
    if rec is None or not rec.get("assignment"):
        return None
    return np.asarray(rec["assignment"], dtype=np.int64)


def match_to_truth(
    labels: NDArray[np.int64], truth: NDArray[np.int64], k: int
) -> NDArray[np.int64]:
    """Relabel components to subtypes maximising agreement on the known samples (Hungarian)."""
    known = truth >= 0
    counts = np.zeros((k, k))
    np.add.at(counts, (labels[known], truth[known]), 1)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping[labels]


def subtype_calls(records: dict[str, dict[str, Any]], truth: NDArray[np.int64]
                  ) -> dict[str, NDArray[np.int64] | None]:
    """Subtype code of every sample per run (``miqp_nolabels`` matched to the subtypes)."""
    calls = {key: assignment(rec) for key, rec in records.items()}
    if calls.get("miqp_nolabels") is not None:
        calls["miqp_nolabels"] = match_to_truth(calls["miqp_nolabels"], truth, len(SUBTYPES))
    return calls


def _sources(records: dict[str, dict[str, Any]], keys: list[str], value: Any, paper: Any,
             rule: str, where: dict[str, Any], how: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """Sidecar entry of one cell (``where``: its table cell; ``how``: its recipe, if any)."""
    paths = [records[k]["_path"] for k in keys if k in records]
    return {"value": value, "published": paper, "records": paths,
            "selected": paths[0] if paths else None, "rule": rule, "table_cell": where,
            **({"recipe": how} if how is not None else {})}


# ----------------------------------------------------------------------------- agreement
def agreement_table(records: dict[str, dict[str, Any]], truth: NDArray[np.int64]
                    ) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Accuracy on known samples and concordance on unknown samples, ours beside the paper's."""
    paper = published()["agreement"]
    calls = subtype_calls(records, truth)
    known, unknown = truth >= 0, truth < 0
    rows, cells = [], {}

    def add(measure: str, comparison: str, keys: list[str], mask: NDArray[np.bool_],
            other: NDArray[np.int64] | None, rule: str) -> None:
        a = calls.get(keys[0])
        b = other if other is not None else calls.get(keys[-1])
        n = int(mask.sum())
        agree = None if a is None or b is None else int(np.sum(a[mask] == b[mask]))
        value = None if agree is None else agree / n
        pub = paper.get(measure, {}).get(comparison)
        rows.append({"measure": measure, "comparison": comparison, "n": n, "agree": agree,
                     "value": value, "paper": pub})
        cells[cell_key(measure, comparison)] = _sources(
            records, keys, value, pub, rule,
            table_cell({"measure": measure, "comparison": comparison}, "value"))

    for key in ("pam", "minlp", "miqp", "miqp_nolabels"):
        if key in records:
            rule = "fraction of the 139 known samples assigned their known subtype"
            if key == "miqp_nolabels":
                rule += "; components matched to subtypes by maximum agreement (Hungarian)"
            add("known_accuracy", key, [key], known, truth, rule)
    for a, b in (("minlp", "pam"), ("minlp", "miqp"), ("miqp", "pam")):
        if a in records and b in records:
            add("unknown_concordance", f"{a}_vs_{b}", [a, b], unknown, None,
                "fraction of the 93 unknown samples given the same subtype by both runs")
    return pd.DataFrame(rows, columns=["measure", "comparison", "n", "agree", "value",
                                       "paper"]), cells


def _pct(value: Any, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{100 * float(value):.{decimals}f} %"


def agreement_markdown(table: pd.DataFrame, profile: str, notes: list[str]) -> str:
    """Markdown of the agreement table."""
    names = {"known_accuracy": "accuracy on the 139 known samples",
             "unknown_concordance": "concordance on the 93 unknown samples"}
    lines = ["# Flaherty et al., Sec. 4.2: agreement of PAM, MINLP and MIQP subtype calls", "",
             f"Profile `{profile}`. Sources: `flaherty_pam50_agreement.sources.json` "
             "(`mixopt audit tables/flaherty_pam50_agreement.csv --row <measure> "
             "--col <comparison>`).", "",
             "| measure | runs | agree / n | ours | paper |", "|---|---|---|---|---|"]
    for _, r in table.iterrows():
        runs = " vs ".join(RUN_LABELS.get(p, p) for p in str(r["comparison"]).split("_vs_"))
        agree = "—" if pd.isna(r["agree"]) else f"{int(r['agree'])} / {r['n']}"
        lines.append(f"| {names.get(r['measure'], r['measure'])} | {runs} | {agree} | "
                     f"{_pct(r['value'])} | {_pct(r['paper'])} |")
    return "\n".join(lines + (["", "Notes:", ""] + [f"- {n}" for n in notes] if notes else [])) \
        + "\n"


# ----------------------------------------------------------------------------- gap
def gap_table(records: dict[str, dict[str, Any]]) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """One row per global run: bounds, gap on Problem (4), the MIQP model's own gap, paper gap."""
    paper = published()["gap"]
    rows, cells = [], {}
    for key in ("miqp", "miqp_nolabels", "minlp", "exact"):
        rec = records.get(key)
        if rec is None:
            continue
        opts = rec["params"]["settings"]["options"]
        model_obj = rec.get("extra", {}).get("model_objective")
        lb = rec["lower_bound"]
        model_gap = None if model_obj is None or lb is None else \
            (model_obj - lb) / max(abs(model_obj), 1e-12)
        n_fixed = len((rec["params"]["settings"].get("constraints") or {}).get("known_labels")
                      or [])
        rows.append({"run": key, "method": rec["method"], "known_labels_fixed": n_fixed,
                     "solver": f"{rec['solver']['name']} {rec['solver']['version']}",
                     "threads": opts.get("threads"), "time_limit_s": opts.get("time_limit_s"),
                     "status": rec["status"], "wall_time_s": rec["wall_time_s"],
                     "objective": rec["objective"], "lower_bound": lb, "gap": rec["gap"],
                     "model_objective": model_obj, "model_gap": model_gap,
                     "paper_gap": paper.get(key)})
        cells[cell_key(key, "gap")] = _sources(records, [key], rec["gap"], paper.get(key),
                                               "(objective - lower bound) / |objective|",
                                               table_cell({"run": key}, "gap"), recipe("gap"))
    return pd.DataFrame(rows), cells


def gap_markdown(table: pd.DataFrame, profile: str, notes: list[str]) -> str:
    """Markdown of the gap table."""
    lines = ["# Flaherty et al., Sec. 4.2: optimality gap on pam50-4d with and without the "
             "139 known subtypes", "",
             f"Profile `{profile}`. gap = (upper - lower bound) / |upper bound| on Problem (4); "
             "model gap = the same with the MIQP model's own objective (what a solver reports). "
             "Sources: `flaherty_pam50_gap.sources.json`.", "",
             "| run | fixed labels | solver | threads | limit (s) | status | -log MAP | "
             "lower bound | gap | model gap | paper gap |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        def num(v: Any, fmt: str = "{:.2f}") -> str:
            return "—" if v is None or pd.isna(v) else fmt.format(v)
        lines.append(f"| {RUN_LABELS.get(r['run'], r['run'])} | {r['known_labels_fixed']} | "
                     f"{r['solver']} | {r['threads']} | {num(r['time_limit_s'], '{:g}')} | "
                     f"{r['status']} | {num(r['objective'])} | {num(r['lower_bound'])} | "
                     f"{_pct(r['gap'], 2)} | {_pct(r['model_gap'], 2)} | "
                     f"{_pct(r['paper_gap'], 2)} |")
    return "\n".join(lines + (["", "Notes:", ""] + [f"- {n}" for n in notes] if notes else [])) \
        + "\n"


# ----------------------------------------------------------------------------- Table 3
def table3(records: dict[str, dict[str, Any]], truth: NDArray[np.int64],
           sample_ids: list[str]) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Samples with different PAM and MIQP subtypes, in data order (``row`` is 1-based)."""
    calls = subtype_calls(records, truth)
    pam, miqp, minlp = calls.get("pam"), calls.get("miqp"), calls.get("minlp")
    if pam is None or miqp is None:
        return pd.DataFrame(columns=["sample", "row", "sample_id", "known_subtype", "pam",
                                     "miqp", "minlp"]), {}
    corr = np.asarray(records["pam"].get("extra", {}).get("correlations", []), dtype=float)
    rows, cells = [], {}
    for i in np.flatnonzero(pam != miqp):
        r = {"sample": len(rows) + 1, "row": int(i) + 1, "sample_id": sample_ids[i],
             "known_subtype": SUBTYPES[truth[i]] if truth[i] >= 0 else "",
             "pam": SUBTYPES[pam[i]], "miqp": SUBTYPES[miqp[i]],
             "minlp": "" if minlp is None else SUBTYPES[minlp[i]],
             "pam_correlation": float(corr[i, pam[i]]) if corr.size else None}
        rows.append(r)
        for run, rule in (("pam", "PAM call"), ("miqp", "MIQP assignment")):
            cells[cell_key(f"sample{r['sample']}", run)] = _sources(
                records, [run], r[run], None, f"{rule} of data row {r['row']}",
                table_cell({"sample": r["sample"]}, run))
    return pd.DataFrame(rows), cells


def table3_notes(table: pd.DataFrame) -> list[str]:
    """How our disagreements compare with the paper's 45 (counts by (PAM, MIQP) pair)."""
    pub = [tuple(p) for p in published()["table3"]]
    ours = Counter(zip(table.get("pam", []), table.get("miqp", []), strict=True))
    theirs = Counter(pub)
    shared = sum((ours & theirs).values())
    lines = [f"{len(table)} samples are assigned differently by PAM and MIQP (paper: {len(pub)}); "
             f"{int((table.get('known_subtype', pd.Series(dtype=str)) != '').sum())} of them "
             "have a known subtype.",
             f"Matching the (PAM, MIQP) pairs as multisets, {shared} of our rows have a "
             f"counterpart in the paper's Table 3. The paper numbers its rows 1-{len(pub)} "
             "without naming the samples, so rows cannot be matched one to one."]
    pairs = sorted(set(ours) | set(theirs))
    lines.append("Counts by (PAM -> MIQP), ours / paper: " + "; ".join(
        f"{p} -> {m} {ours.get((p, m), 0)} / {theirs.get((p, m), 0)}" for p, m in pairs))
    return lines


def table3_markdown(table: pd.DataFrame, profile: str, notes: list[str]) -> str:
    """Markdown of Table 3."""
    lines = ["# Flaherty et al., Table 3: samples assigned differently by PAM and MIQP", "",
             f"Profile `{profile}`. `row` is the 1-based row in the UNC matrix (file order); "
             "`sample` numbers our rows as the paper numbers its own. Sources: "
             "`flaherty_table3.sources.json`.", "",
             "| sample | row | sample ID | known subtype | PAM | MIQP | MINLP | PAM rho |",
             "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        rho = "—" if r.get("pam_correlation") is None or pd.isna(r.get("pam_correlation")) \
            else f"{r['pam_correlation']:.2f}"
        lines.append(f"| {r['sample']} | {r['row']} | {r['sample_id']} | "
                     f"{r['known_subtype'] or 'unknown'} | {r['pam']} | {r['miqp']} | "
                     f"{r['minlp'] or '—'} | {rho} |")
    return "\n".join(lines + ["", "Notes:", ""] + [f"- {n}" for n in notes]) + "\n"


# ----------------------------------------------------------------------------- notes, writing
def run_notes(records: dict[str, dict[str, Any]]) -> list[str]:
    """Status, solver and notes of every run, and a check of the fixed labels."""
    notes = []
    for key, rec in records.items():
        head = RUN_LABELS.get(key, key)
        if rec["status"] != "local":
            gap = "n/a" if rec.get("gap") is None else f"{100 * rec['gap']:.2f} %"
            notes.append(f"{head}: status `{rec['status']}`, gap {gap}, "
                         f"{rec['wall_time_s']:.0f} s, {rec['solver']['name']} "
                         f"{rec['solver']['version']}")
        notes += [f"{head}: {n}" for n in rec.get("notes", [])]
        broken = constraint_violations(rec)
        if broken:
            notes.append(f"{head}: the returned assignment breaks {len(broken)} known-label "
                         f"constraints, e.g. {broken[0]}")
    return notes


def constraint_violations(rec: dict[str, Any]) -> list[str]:
    """Known-label constraints of the run that its returned assignment does not honour."""
    lab = assignment(rec)
    fixed = (rec["params"]["settings"].get("constraints") or {}).get("known_labels") or []
    if lab is None:
        return []
    return [f"sample {i} fixed to {SUBTYPES[c]} but assigned {SUBTYPES[lab[i]]}"
            for i, c in fixed if lab[i] != c]


def write_table(table: pd.DataFrame, csv_path: str | Path, md_path: str | Path, markdown: str,
                artifact: str, profile: str, cells: dict[str, dict[str, Any]]) -> None:
    """CSV, Markdown and sources sidecar of one table."""
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT)
    atomic_write_text(md_path, markdown)
    write_sources(csv_path, artifact, profile, cells, float_format=CSV_FLOAT_FORMAT)
