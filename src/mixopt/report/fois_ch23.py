"""Figures of thesis Chapters 2-3: distributions of log L̂, time and ARI over data sets or seeds.

Figs. 2.1-2.2 and 3.10-3.13 are box plots, Figs. 3.1-3.9 violin plots (as in the thesis), one
box/violin per (group, method), where the group is the varied parameter (k, p, nsamp) or the
girdles scenario (A, B, C). Every figure gets the long CSV of its plotted numbers beside it and in
``tables/`` and a sources sidecar listing the records of every (group, method).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mixopt.io import atomic_path, atomic_write_text  # noqa: E402
from mixopt.report.sources import cell_key, write_sources  # noqa: E402

LABELS = {"pclustreg1": "pclustreg1 (chi-square)", "pclustreg2": "pclustreg2 (F)",
          "pclustreg1_sigmatrue": "pclustreg1, true sigma_min",
          "pclustreg2_sigmatrue": "pclustreg2, true sigma_min",
          "tclustreg": "tclustreg", "oracle": "oracle"}
COLORS = {"pclustreg1": "tab:red", "pclustreg2": "tab:orange", "pclustreg1_sigmatrue": "tab:purple",
          "pclustreg2_sigmatrue": "tab:green", "tclustreg": "tab:blue", "oracle": "0.3"}
QUANTITIES = {"loglik": "log L̂ (higher is better)", "time_s": "time (s)", "ari": "ARI",
              "loglik_minus_oracle": "log L̂ - log L̂(oracle), same data set"}


def figure_frame(records: list[dict[str, Any]], members: list[dict[str, Any]]) -> pd.DataFrame:
    """Long table: one row per record with its group, method, seed, log L̂, time and ARI.

    ``members`` lists {"path", "group", "method"} for every record the figure uses."""
    by_path = {r["_path"]: r for r in records}
    rows = []
    for m in members:
        rec = by_path[m["path"]]
        rows.append({"group": m["group"], "method": m["method"], "seed": rec["seed"],
                     "dataset": rec["dataset"], "loglik": rec["objective"],
                     "time_s": rec["wall_time_s"], "ari": rec["metrics"].get("ari"),
                     "status": rec["status"], "record": rec["_path"]})
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """Per (group, method): n, mean, sd, min, quartiles, max of ``quantity``."""
    g = frame.groupby(["group", "method"], sort=False)[quantity]
    out = g.agg(n="count", mean="mean", sd="std", min="min",
                q25=lambda s: s.quantile(0.25), median="median",
                q75=lambda s: s.quantile(0.75), max="max").reset_index()
    out.insert(2, "quantity", quantity)
    return out


def with_oracle_difference(frame: pd.DataFrame) -> pd.DataFrame:
    """Add log L̂ - log L̂(oracle) of the same data set (group, seed); NaN without an oracle."""
    oracle = frame[frame["method"] == "oracle"].set_index(["group", "seed"])["loglik"]
    keys = pd.MultiIndex.from_frame(frame[["group", "seed"]])
    ref = oracle.reindex(keys).to_numpy(dtype=float)
    return frame.assign(loglik_minus_oracle=frame["loglik"].to_numpy(dtype=float) - ref)


def plot_distribution(frame: pd.DataFrame, quantity: str, methods: list[str], groups: list[Any],
                      group_label: str, title: str, kind: str, png: str | Path) -> None:
    """Box or violin plot of ``quantity`` per group (x) and method (side by side); log L̂ with an
    oracle gets a second panel with the paired difference to the oracle."""
    paired = quantity == "loglik" and "oracle" in methods
    panels = [(quantity, methods)]
    if paired:
        panels.append(("loglik_minus_oracle", [m for m in methods if m != "oracle"]))
    width_in = min(8.0, max(6.0, 1.2 * len(groups) * max(1, len(methods)) / 2))
    fig, axes = plt.subplots(1, len(panels), figsize=(width_in * len(panels), 4.6), squeeze=False)
    for ax, (q, meths) in zip(axes[0], panels, strict=True):
        _draw(ax, frame, q, meths, groups, group_label, kind)
    n_max = int(frame.groupby(["group", "method"]).size().max()) if not frame.empty else 0
    fig.suptitle(f"{title}\n(dots: the {n_max} runs per box; ours, the thesis prints no numbers)",
                 fontsize=10)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)


def _draw(ax: Any, frame: pd.DataFrame, quantity: str, methods: list[str], groups: list[Any],
          group_label: str, kind: str) -> None:
    width = 0.8 / len(methods)
    handles = []
    for m_i, method in enumerate(methods):
        data, pos = [], []
        for g_i, group in enumerate(groups):
            vals = frame[(frame["group"] == group) & (frame["method"] == method)][quantity]
            vals = vals.dropna().to_numpy(dtype=float)
            if vals.size:
                data.append(vals)
                pos.append(g_i + (m_i - (len(methods) - 1) / 2) * width)
        if not data:
            continue
        color = COLORS.get(method, "k")
        if kind == "violin" and all(d.size > 1 and np.ptp(d) > 0 for d in data):
            parts = ax.violinplot(data, positions=pos, widths=width * 0.9, showmedians=True)
            for body in parts["bodies"]:
                body.set_facecolor(color)
                body.set_alpha(0.45)
            for key in ("cmedians", "cmins", "cmaxes", "cbars"):
                if key in parts:
                    parts[key].set_color(color)
        else:
            bp = ax.boxplot(data, positions=pos, widths=width * 0.8, patch_artist=True,
                            manage_ticks=False, medianprops={"color": "black"})
            for box in bp["boxes"]:
                box.set_facecolor(color)
                box.set_alpha(0.45)
        for x, d in zip(pos, data, strict=True):
            ax.plot(np.full(d.size, x), d, ".", color=color, ms=3, alpha=0.8)
        handles.append(plt.Rectangle((0, 0), 1, 1, color=color, alpha=0.45,
                                     label=LABELS.get(method, method)))
    ax.set_xticks(range(len(groups)), [str(g) for g in groups])
    ax.set_xlabel(group_label)
    ax.set_ylabel(QUANTITIES[quantity])
    if quantity == "time_s":
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if quantity == "loglik_minus_oracle":
        ax.axhline(0.0, color="black", lw=0.8)
    ax.legend(handles=handles, fontsize=8, loc="best")


def write_figure(records: list[dict[str, Any]], members: list[dict[str, Any]], quantity: str,
                 methods: list[str], groups: list[Any], group_label: str, title: str, kind: str,
                 artifact: str, png: str | Path, csv: str | Path, table_csv: str | Path,
                 profile: str) -> pd.DataFrame:
    """PNG + CSV beside it + the same CSV in tables/ + sources sidecar."""
    frame = with_oracle_difference(figure_frame(records, members))
    frame = frame[frame["method"].isin(methods)]
    plot_distribution(frame, quantity, methods, groups, group_label, title, kind, png)
    cols = ["group", "method", "seed", "dataset", quantity, "status", "record"]
    if quantity == "loglik" and "oracle" in methods:
        cols.insert(5, "loglik_minus_oracle")
    text = frame[cols].rename(columns={"group": group_label}).to_csv(index=False,
                                                                      float_format="%.6g")
    atomic_write_text(csv, text)
    atomic_write_text(table_csv, text)
    stats = summary(frame, quantity)
    cells = {cell_key(str(r["group"]), r["method"]): {
        "value": {k: (None if pd.isna(r[k]) else float(r[k])) for k in ("mean", "median")},
        "published": None,
        "records": frame[(frame["group"] == r["group"])
                         & (frame["method"] == r["method"])]["record"].tolist(),
        "rule": f"distribution of {quantity} over the records (thesis figure: no numbers "
                "printed)"} for _, r in stats.iterrows()}
    write_sources(png, artifact, profile, cells)
    return stats
