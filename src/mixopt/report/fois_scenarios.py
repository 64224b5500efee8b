"""Figures of the thesis' simulation scenarios: Obj and ARI against the varied parameter.

One figure per scenario (``figures/fois_scenario<s>.png``), three panels with mean +- sd error
bars over the simulated data sets: (a) Obj - Obj(oracle) on the same data set (paired; removes
the data set effect), (b) ARI, (c) Obj itself. Thesis means are drawn as open markers. The CSV
beside the figure holds every plotted number (built from the scenario table's rows).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mixopt.io import atomic_path, atomic_write_text  # noqa: E402
from mixopt.report.fois_ch1 import METHOD_LABELS, VARY_LABELS  # noqa: E402

COLORS = {"random": "0.55", "tclust": "tab:blue", "bclust": "tab:red",
          "bclust_lik": "tab:green", "oracle": "black"}
PANELS = (
    ("obj_minus_oracle", "Obj - Obj(oracle)  (lower is better)",
     ("tclust", "bclust", "bclust_lik")),
    ("ari", "ARI", ("random", "tclust", "bclust", "bclust_lik")),
    ("obj", "Obj  (lower is better)", ("random", "tclust", "bclust", "bclust_lik", "oracle")),
)


def plotted_numbers(table: pd.DataFrame, vary: str) -> pd.DataFrame:
    """Long CSV of what the figure draws: value, method, quantity, source, mean, sd."""
    col = VARY_LABELS[vary]
    rows = []
    for _, r in table.iterrows():
        for q, mean, sd, pub, pub_sd in (
            ("obj_minus_oracle", "obj_minus_oracle_mean", "obj_minus_oracle_sd",
             "thesis_obj_minus_oracle", None),
            ("ari", "ari_mean", "ari_sd", "thesis_ari_mean", "thesis_ari_sd"),
            ("obj", "obj_mean", "obj_sd", "thesis_obj_mean", "thesis_obj_sd"),
        ):
            rows.append({col: r[col], "method": r["method"], "quantity": q, "source": "ours",
                         "n": r["n_runs"], "mean": r[mean], "sd": r[sd]})
            if pd.notna(r[pub]):
                rows.append({col: r[col], "method": r["method"], "quantity": q,
                             "source": "thesis", "n": 100, "mean": r[pub],
                             "sd": r[pub_sd] if pub_sd else None})
    return pd.DataFrame(rows)


def plot_scenario(table: pd.DataFrame, vary: str, title: str, png: str | Path,
                  csv: str | Path) -> pd.DataFrame:
    """Draw the figure of one scenario table and write the CSV of its numbers."""
    col = VARY_LABELS[vary]
    data = plotted_numbers(table, vary)
    values = sorted(table[col].unique())
    pos = {v: i for i, v in enumerate(values)}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, (quantity, ylabel, methods) in zip(axes, PANELS, strict=True):
        for m_i, method in enumerate(methods):
            offset = (m_i - (len(methods) - 1) / 2) * 0.09
            for source, style in (("ours", "o-"), ("thesis", "s--")):
                d = data[(data["quantity"] == quantity) & (data["method"] == method)
                         & (data["source"] == source)]
                if d.empty:
                    continue
                x = [pos[v] + offset for v in d[col]]
                label = f"{METHOD_LABELS[method]} ({source})"
                if source == "ours":
                    ax.errorbar(x, d["mean"], yerr=d["sd"].fillna(0), fmt=style, capsize=3,
                                color=COLORS[method], label=label, ms=5, lw=1.3)
                else:
                    ax.plot(x, d["mean"], style, color=COLORS[method], mfc="none", ms=7,
                            lw=0.8, alpha=0.8, label=label)
        ax.set_xticks(range(len(values)), [f"{v:g}" for v in values])
        ax.set_xlabel(col)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if quantity == "obj_minus_oracle":
            ax.axhline(0.0, color="black", lw=0.8)
    handles, labels = axes[2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    n_runs = int(table["n_runs"].max()) if not table.empty else 0
    fig.suptitle(f"{title} (ours: mean +- sd over {n_runs} data sets per point; thesis: open "
                 "markers, 100 data sets)", fontsize=11)
    fig.tight_layout(rect=(0, 0.12, 1, 0.95))
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)
    atomic_write_text(csv, data.to_csv(index=False, float_format="%.6g"))
    return data
