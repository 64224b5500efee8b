"""Figure 1 of Flaherty et al. (Sec. 4.1) from run records.

- Fig. 1a: upper bound (incumbent) and lower bound of the MINLP and the MIQP over time on iris1d
  restricted to n = 45 (15 points per class), with the certified optimum (exact1d) as a line.
- Fig. 1b: time to certify optimality against n for MINLP, MIQP and exact1d on iris1d subsets;
  runs that hit the time limit are drawn as open markers at the limit, labelled with their gap.

Each figure is written with the CSV of the numbers it plots beside it and a sources sidecar.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mixopt.io import atomic_path  # noqa: E402
from mixopt.report.sources import cell_key, recipe, write_sources  # noqa: E402

STYLE = {"minlp": ("MINLP", "tab:blue", "o"), "miqp": ("MIQP", "tab:orange", "s"),
         "exact1d": ("exact1d (DP)", "tab:green", "^")}


def subset_size(rec: dict[str, Any]) -> int:
    """Number of points a record was computed on."""
    return len(rec["assignment"]) or len(rec.get("extra", {}).get("subset_indices", []))


def fig1a_frame(records: Iterable[dict[str, Any]]) -> tuple[pd.DataFrame, float | None]:
    """Trace rows (method, time_s, incumbent, bound) and the certified optimum (exact1d)."""
    rows, optimum = [], None
    for rec in records:
        if rec["method"] == "exact1d":
            optimum = rec["objective"]
            continue
        for t, inc, bound in rec.get("trace", []):
            rows.append({"method": rec["method"], "time_s": t, "incumbent": inc,
                         "bound": bound, "status": rec["status"], "record": rec["_path"]})
    frame = pd.DataFrame(rows, columns=["method", "time_s", "incumbent", "bound", "status",
                                        "record"])
    frame["optimum"] = optimum
    return frame, optimum


def plot_fig1a(frame: pd.DataFrame, optimum: float | None, n: int, png: str | Path) -> None:
    """Bounds against time, one colour per method (steps), optimum dashed."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    finals, below, lowest = [], [], []
    for method, grp in frame.groupby("method", sort=True):
        label, colour, _ = STYLE.get(method, (method, None, "o"))
        g = grp.sort_values("time_s")
        t = np.maximum(g["time_s"].to_numpy(float), 1e-3)
        ax.step(t, g["incumbent"].astype(float), where="post", color=colour, lw=1.8,
                label=f"{label} upper bound")
        ax.step(t, g["bound"].astype(float), where="post", color=colour, lw=1.8, ls=":",
                label=f"{label} lower bound")
        bounds = g["bound"].dropna().astype(float)
        finals += [g["incumbent"].dropna().iloc[-1] if g["incumbent"].notna().any() else np.nan,
                   bounds.iloc[-1] if len(bounds) else np.nan]
        lowest.append(bounds.min() if len(bounds) else np.nan)
    if optimum is not None:
        ax.axhline(optimum, color="black", ls="--", lw=1, label=f"certified optimum {optimum:.4f}")
    ups = [v for v in finals[0::2] if np.isfinite(v)] + ([optimum] if optimum else [])
    if ups:
        # Keep the axis readable: lower bounds far below the optimum are clipped and noted.
        hi = max(ups)
        ref = optimum if optimum is not None else min(ups)
        span = max(hi - ref, 0.05 * abs(ref), 1.0)
        shown = [lb for lb in lowest if np.isfinite(lb) and lb >= ref - 5 * span]
        lo = min([ref - 0.5 * span, *shown]) - 0.1 * span
        for (method, _), lb in zip(frame.groupby("method", sort=True), finals[1::2],
                                   strict=True):
            if np.isfinite(lb) and lb < lo:
                below.append(f"{STYLE.get(method, (method,))[0]} lower bound at the end: "
                             f"{lb:.1f} (below the axis)")
        ax.set_ylim(lo, hi + 0.15 * (hi - lo))
        if below:
            ax.text(0.02, 0.03, "\n".join(below), transform=ax.transAxes, fontsize=7,
                    va="bottom")
    ax.set_xscale("log")
    ax.set_xlabel("time (s, log scale)")
    ax.set_ylabel("-log MAP (Problem 4)")
    ax.set_title(f"Fig. 1a: bound convergence, iris1d, n = {n}")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=150)
    plt.close(fig)


def fig1b_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: method, n, status, time, gap, objective, bound, record."""
    rows = [{"method": r["method"], "n": subset_size(r), "status": r["status"],
             "time_s": r["wall_time_s"], "gap": r["gap"], "objective": r["objective"],
             "lower_bound": r["lower_bound"], "record": r["_path"]} for r in records]
    return pd.DataFrame(rows).sort_values(["method", "n"]).reset_index(drop=True)


def plot_fig1b(frame: pd.DataFrame, time_limit: float, png: str | Path) -> None:
    """Time to certify vs n (log time); open markers: stopped at the limit, with the gap."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, grp in frame.groupby("method", sort=True):
        label, colour, marker = STYLE.get(method, (method, None, "o"))
        # "approximate": the MIQP solved to optimality; its exact gap is in the CSV.
        ok = grp["status"].isin(["optimal", "approximate"])
        ax.plot(grp["n"], grp["time_s"], color=colour, lw=1, alpha=0.6)
        ax.scatter(grp.loc[ok, "n"], grp.loc[ok, "time_s"], color=colour, marker=marker,
                   label=f"{label}: solved", zorder=3)
        if (~ok).any():
            stop = grp.loc[~ok]
            ax.scatter(stop["n"], stop["time_s"], facecolors="none", edgecolors=colour,
                       marker=marker, s=60, label=f"{label}: time limit (gap)", zorder=3)
            for _, r in stop.iterrows():
                gap = "no bound" if pd.isna(r["gap"]) else f"{100 * r['gap']:.0f}%"
                dy = 5 if method == "minlp" else -10
                ax.annotate(gap, (r["n"], r["time_s"]), textcoords="offset points",
                            xytext=(4, dy), fontsize=6, color=colour)
    ax.axhline(time_limit, color="grey", ls="--", lw=0.8, label=f"time limit {time_limit:g} s")
    ax.set_yscale("log")
    ax.set_xlabel("n (iris1d, equal points per class)")
    ax.set_ylabel("time to solve (s, log scale)")
    ax.set_title("Fig. 1b: time to certify vs sample size")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=150)
    plt.close(fig)


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """CSV of the plotted numbers, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


def write_fig1a(records: list[dict[str, Any]], png: str | Path, csv: str | Path,
                profile: str) -> pd.DataFrame:
    """Fig. 1a with its CSV and sources sidecar."""
    frame, optimum = fig1a_frame(records)
    n = subset_size(records[0])
    plot_fig1a(frame, optimum, n, png)
    write_csv(frame, csv)
    cells = {cell_key(f"n{n}", r["method"]): {"records": [r["_path"]], "selected": r["_path"],
                                              "value": r["objective"], "published": None,
                                              "rule": "trace of the run",
                                              "recipe": recipe("objective")} for r in records}
    write_sources(png, "flaherty_fig1a", profile, cells)
    return frame


def write_fig1b(records: list[dict[str, Any]], png: str | Path, csv: str | Path,
                profile: str, time_limit: float) -> pd.DataFrame:
    """Fig. 1b with its CSV and sources sidecar."""
    frame = fig1b_frame(records)
    plot_fig1b(frame, time_limit, png)
    write_csv(frame, csv)
    cells = {cell_key(f"n{subset_size(r)}", r["method"]): {
        "records": [r["_path"]], "selected": r["_path"], "value": r["wall_time_s"],
        "published": None, "rule": "wall time of the run",
        "recipe": recipe("wall_time_s")} for r in records}
    write_sources(png, "flaherty_fig1b", profile, cells)
    return frame
