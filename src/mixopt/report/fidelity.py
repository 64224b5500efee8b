"""``reports/fidelity.{md,csv}``: every reproduced published number, ours beside theirs.

Collects, from the built tables (which carry the published values beside ours), one row per
published number: artifact, item (data set / setting, quantity, method), ours, published,
difference and relative difference, and for the thesis' simulation tables (means over data
sets) the z-score of our mean against the thesis' (``z``, from the table's ``z_obj``/``z_ari``)
with the number of our data sets behind it (``runs``): with few data sets a large relative
difference can still be sampling noise, and |z| > 3 is not. Rows come only from table CSVs,
which come only from records, so every number here can be audited with ``mixopt audit``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from mixopt.io import atomic_write_text

Row = dict[str, Any]


COLUMNS = ["artifact", "item", "quantity", "ours", "published", "difference",
           "relative_difference", "z", "runs"]


def _row(artifact: str, item: str, quantity: str, ours: Any, published: Any,
         z: Any = math.nan, runs: Any = math.nan) -> Row | None:
    try:
        o, p = float(ours), float(published)
    except (TypeError, ValueError):
        return None
    if math.isnan(p):
        return None
    diff = o - p if not math.isnan(o) else math.nan
    rel = diff / abs(p) if p != 0 and not math.isnan(diff) else math.nan
    return {"artifact": artifact, "item": item, "quantity": quantity, "ours": o,
            "published": p, "difference": diff, "relative_difference": rel,
            "z": float(z), "runs": float(runs)}


def flaherty_table2(df: pd.DataFrame) -> Iterable[Row | None]:
    methods = [c for c in df.columns if f"{c}_paper" in df.columns]
    for _, r in df.iterrows():
        for m in methods:
            yield _row("flaherty_table2", f"{r['dataset']} {m}", r["metric"], r[m],
                       r[f"{m}_paper"])


def flaherty_bandi(df: pd.DataFrame) -> Iterable[Row | None]:
    for _, r in df.iterrows():
        yield _row("flaherty_bandi_accuracy", f"{r['dataset']} {r['method']}", "accuracy_pct",
                   r["accuracy_pct"], r["paper_pct"])


def flaherty_pam50_gap(df: pd.DataFrame) -> Iterable[Row | None]:
    for _, r in df.iterrows():
        yield _row("flaherty_pam50_gap", f"{r['run']}", "gap", r["gap"], r["paper_gap"])


def flaherty_pam50_agreement(df: pd.DataFrame) -> Iterable[Row | None]:
    for _, r in df.iterrows():
        yield _row("flaherty_pam50_agreement", f"{r['comparison']}", r["measure"], r["value"],
                   r["paper"])


def fois_scenario(artifact: str) -> Callable[[pd.DataFrame], Iterable[Row | None]]:
    def rows(df: pd.DataFrame) -> Iterable[Row | None]:
        vary = df.columns[0]
        for _, r in df.iterrows():
            item = f"{vary} = {r[vary]:g} {r['method']}"
            runs = r.get("n_runs", math.nan)
            for q, ours, pub, z in (("Obj mean", "obj_mean", "thesis_obj_mean", "z_obj"),
                                    ("ARI mean", "ari_mean", "thesis_ari_mean", "z_ari"),
                                    ("t(s) mean", "time_mean_s", "thesis_time_mean_s", None)):
                yield _row(artifact, item, q, r[ours], r[pub],
                           r.get(z, math.nan) if z else math.nan, runs)
    return rows


def fois_table1_5(df: pd.DataFrame) -> Iterable[Row | None]:
    for _, r in df.iterrows():
        item = f"{r['dataset']} {r['method']}"
        for q, ours, pub in (("Obj", "obj", "thesis_obj"), ("ARI", "ari", "thesis_ari"),
                             ("t(s)", "time_s", "thesis_time_s")):
            yield _row("fois_table1_5", item, q, r[ours], r[pub])


EXTRACTORS: dict[str, Callable[[pd.DataFrame], Iterable[Row | None]]] = {
    "flaherty_table2": flaherty_table2,
    "flaherty_bandi_accuracy": flaherty_bandi,
    "flaherty_pam50_gap": flaherty_pam50_gap,
    "flaherty_pam50_agreement": flaherty_pam50_agreement,
    **{f"fois_table1_{i}": fois_scenario(f"fois_table1_{i}") for i in range(1, 5)},
    "fois_table1_5": fois_table1_5,
}


def fidelity_rows(tables: dict[str, str | Path]) -> pd.DataFrame:
    """Rows for the artifacts in ``tables`` (artifact name -> its CSV)."""
    rows: list[Row] = []
    for artifact, path in tables.items():
        if artifact not in EXTRACTORS:
            raise KeyError(f"no fidelity extractor for {artifact!r}; known: {sorted(EXTRACTORS)}")
        rows += [r for r in EXTRACTORS[artifact](pd.read_csv(path)) if r is not None]
    return pd.DataFrame(rows, columns=COLUMNS)


def fidelity_markdown(df: pd.DataFrame, profile: str) -> str:
    """One section per artifact; times are hardware-dependent and listed for completeness. The
    z and runs columns appear for artifacts that have z-scores (the thesis' simulation tables)."""
    out = [f"# Fidelity: every reproduced published number (profile `{profile}`)", "",
           f"{len(df)} published numbers. Relative difference = (ours - published) / |published|; "
           "t(s) rows compare different machines and solvers. Why large differences arise is "
           "explained in docs/fidelity.md and in each table's notes.", ""]
    for artifact, part in df.groupby("artifact", sort=False):
        close = (part["relative_difference"].abs() <= 0.01).sum()
        summary = f"{len(part)} numbers, {close} within 1 % of the published value."
        with_z = bool(part["z"].notna().any())
        if with_z:
            zs = part["z"].dropna()
            runs = part["runs"].dropna()
            size = (f"{int(runs.min())}" if runs.min() == runs.max() else
                    f"{int(runs.min())}-{int(runs.max())}")
            summary += (f" {len(zs)} means have a z-score against the thesis' (ours over {size} "
                        f"data sets, the thesis' over 100): {(zs.abs() <= 3).sum()} with |z| <= 3.")
        head = "| item | quantity | ours | published | difference | relative |"
        rule = "|---|---|---|---|---|---|"
        if with_z:
            head, rule = head + " z | runs |", rule + "---|---|"
        out += [f"## {artifact}", "", summary, "", head, rule]
        for _, r in part.iterrows():
            rel = r["relative_difference"]
            line = (f"| {r['item']} | {r['quantity']} | {r['ours']:.6g} | "
                    f"{r['published']:.6g} | {r['difference']:+.4g} | "
                    f"{'-' if pd.isna(rel) else f'{100 * rel:+.2f} %'} |")
            if with_z:
                z = "-" if pd.isna(r["z"]) else f"{r['z']:+.2f}"
                runs = "-" if pd.isna(r["runs"]) else str(int(r["runs"]))
                line += f" {z} | {runs} |"
            out.append(line)
        out.append("")
    return "\n".join(out)


def write_fidelity(tables: dict[str, str | Path], md: str | Path, csv: str | Path,
                   profile: str) -> pd.DataFrame:
    df = fidelity_rows(tables)
    atomic_write_text(csv, df.to_csv(index=False, float_format="%.8g"))
    atomic_write_text(md, fidelity_markdown(df, profile))
    return df
