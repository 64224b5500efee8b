"""EM-restarts experiment of Flaherty et al. (Sec. 4.1) from run records.

For every case (an iris1d subset and a sigma), the best local MAP value EM reaches over its random
restarts (best-so-far against the restart count) and where the restarts land (histogram of the
local optima), against the certified global optimum of the same problem (exact1d). The paper
reports, for iris1d n = 45, 194.9582 (best of 12 h of EM restarts) vs 194.9455 (global).

Written as a PNG, the CSV of the plotted numbers and a sources sidecar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mixopt.io import atomic_path  # noqa: E402
from mixopt.report.published import load_published  # noqa: E402
from mixopt.report.sources import cell_key, recipe, write_sources  # noqa: E402

OPT_ATOL = 1e-4  # a local optimum this close to the certified one counts as reaching it
COLUMNS = ["case", "n", "sigma", "kind", "restart", "value", "count", "optimum", "published_em",
           "published_optimum", "record"]


def _sigma(rec: dict[str, Any]) -> float | None:
    spec = rec["params"].get("settings", {}).get("precision", {})
    return spec.get("sigma")


def em_restarts_frame(cases: dict[str, dict[str, dict[str, Any]]]) -> pd.DataFrame:
    """Tidy rows: best-so-far steps and local-optimum counts per case (``cases[case][method]``)."""
    published = load_published("flaherty_em_restarts").get("cases", {})
    rows: list[dict[str, Any]] = []
    for case, recs in cases.items():
        em, ref = recs["em_restarts"], recs["exact1d"]
        pub = published.get(case, {})
        base = {"case": case, "n": len(em["assignment"]), "sigma": _sigma(em),
                "optimum": ref["objective"], "published_em": pub.get("em"),
                "published_optimum": pub.get("optimum"), "record": em["_path"]}
        extra = em["extra"]
        steps = [(int(i), float(v)) for i, v in extra["improvements"]]
        steps.append((int(extra["restarts"]), steps[-1][1]))
        for i, v in steps:
            rows.append({**base, "kind": "best_so_far", "restart": i, "value": v})
        for v, c in extra["local_optima"]:
            rows.append({**base, "kind": "local_optimum", "value": float(v), "count": int(c)})
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_em_restarts(frame: pd.DataFrame, png: str | Path) -> None:
    """Top: best-so-far vs restarts (log x) with the optimum; bottom: where restarts land."""
    cases = list(dict.fromkeys(frame["case"]))
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 6.4), squeeze=False)
    for j, case in enumerate(cases):
        g = frame[frame["case"] == case]
        best = g[g["kind"] == "best_so_far"].sort_values("restart")
        hist = g[g["kind"] == "local_optimum"].sort_values("value")
        opt, n, sigma = float(g["optimum"].iloc[0]), int(g["n"].iloc[0]), g["sigma"].iloc[0]
        final = float(best["value"].iloc[-1])
        top, bottom = axes[0, j], axes[1, j]
        top.step(best["restart"], best["value"], where="post", color="tab:blue", lw=2,
                 label="EM, best so far")
        top.axhline(opt, color="tab:green", ls="--", lw=1.5, label=f"global optimum {opt:.4f}")
        pub_em = g["published_em"].iloc[0]
        if pd.notna(pub_em):
            top.axhline(float(pub_em), color="tab:red", ls=":", lw=1.5,
                        label=f"paper's EM (12 h) {float(pub_em):.4f}")
        top.set_xscale("log")
        top.ticklabel_format(axis="y", useOffset=False)
        top.set_xlabel("EM restarts")
        top.set_ylabel("-log MAP")
        top.set_title(f"iris1d n = {n}, sigma = {sigma}\nbest EM {final:.4f}, "
                      f"excess {final - opt:.4f}", fontsize=10)
        span = max(final - opt, 1e-3)
        top.set_ylim(opt - 0.5 * span, final + 2.0 * span)
        top.legend(fontsize=8, loc="upper right")
        total = int(hist["count"].sum())
        values, counts = list(hist["value"]), list(hist["count"])
        if not any(abs(v - opt) <= OPT_ATOL for v in values):
            values, counts = [opt, *values], [0, *counts]   # show that no restart reached it
        colours = ["tab:green" if abs(v - opt) <= OPT_ATOL else "tab:blue" for v in values]
        bars = bottom.bar(range(len(values)), counts, color=colours)
        bottom.bar_label(bars, fontsize=8)
        bottom.set_xticks(range(len(values)))
        bottom.set_xticklabels([f"{v:.4f}" + (" (global)" if abs(v - opt) <= OPT_ATOL else "")
                                for v in values], rotation=20, fontsize=8)
        bottom.set_xlabel("local MAP value reached")
        bottom.set_ylabel(f"restarts (of {total})")
        bottom.set_ylim(0, 1.15 * max(counts))
    fig.suptitle("EM from random initial values vs the certified global MAP (Flaherty et al. "
                 "Sec. 4.1)", fontsize=11)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)


def write_em_restarts(records: list[dict[str, Any]], case_of: dict[str, str], png: str | Path,
                      csv: str | Path, profile: str) -> pd.DataFrame:
    """Figure, CSV and sources sidecar; ``case_of`` maps a record path to its case name."""
    cases: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in records:
        cases.setdefault(case_of[rec["_path"]], {})[rec["method"]] = rec
    missing = [c for c, r in cases.items() if set(r) != {"em_restarts", "exact1d"}]
    if missing:
        raise ValueError(f"cases {missing} need one em_restarts and one exact1d record")
    frame = em_restarts_frame(cases)
    plot_em_restarts(frame, png)
    with atomic_path(csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")
    published = load_published("flaherty_em_restarts").get("cases", {})
    cells = {}
    for case, recs in cases.items():
        for method, key in (("em_restarts", "em"), ("exact1d", "optimum")):
            rec = recs[method]
            cells[cell_key(case, method)] = {
                "records": [rec["_path"]], "selected": rec["_path"], "value": rec["objective"],
                "published": published.get(case, {}).get(key),
                "rule": "best of the restarts" if method == "em_restarts" else "certified optimum",
                "recipe": recipe("objective")}
    write_sources(png, "flaherty_em_restarts", profile, cells)
    return frame
