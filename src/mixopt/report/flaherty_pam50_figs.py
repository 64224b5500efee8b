"""PAM50 study figures (Flaherty et al., Sec. 4.2): Fig. 2 (subtype calls of the 232 samples) and
Fig. 3 (expression profiles of two samples PAM and MIQP disagree on, against subtype averages).

Colours follow the UNC bioclassifier (Basal red, Her2 pink, LumA dark blue, LumB light blue,
Normal green); unknown is grey. Each figure is written with the CSV of what it plots and a
sources sidecar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from mixopt.data.pam50_matrix import SUBTYPES  # noqa: E402
from mixopt.io import atomic_path  # noqa: E402
from mixopt.report.flaherty_pam50 import published, subtype_calls  # noqa: E402
from mixopt.report.sources import cell_key, write_sources  # noqa: E402

COLOURS = {"Basal": "#d62728", "Her2": "#ff69b4", "LumA": "#1f3a93", "LumB": "#87ceeb",
           "Normal": "#2ca02c"}
UNKNOWN = "#c8c8c8"
FIG2_ROWS = ("truth", "pam", "minlp", "miqp")


def fig2_order(truth: NDArray[np.int64], calls: dict[str, NDArray[np.int64] | None]
               ) -> NDArray[np.int64]:
    """Known samples first, grouped by subtype; unknown ones grouped by MIQP (else MINLP) call;
    within a group by PAM call, then file order."""
    n = truth.size
    main = calls.get("miqp") if calls.get("miqp") is not None else calls.get("minlp")
    main = main if main is not None else np.zeros(n, dtype=np.int64)
    pam = calls.get("pam") if calls.get("pam") is not None else np.zeros(n, dtype=np.int64)
    group = np.where(truth >= 0, truth, main)
    return np.lexsort((np.arange(n), pam, group, truth < 0)).astype(np.int64)


def fig2_frame(truth: NDArray[np.int64], calls: dict[str, NDArray[np.int64] | None],
               sample_ids: list[str]) -> pd.DataFrame:
    """One row per sample in plotting order: position, data row, ID and the subtype calls."""
    order = fig2_order(truth, calls)

    def name(codes: NDArray[np.int64] | None, i: int) -> str:
        if codes is None:
            return "not run"
        return SUBTYPES[codes[i]] if codes[i] >= 0 else "unknown"

    return pd.DataFrame([{"position": p + 1, "row": int(i) + 1, "sample_id": sample_ids[i],
                          "truth": name(truth, i), **{k: name(calls.get(k), i)
                                                      for k in FIG2_ROWS[1:]}}
                         for p, i in enumerate(order)])


def plot_fig2(frame: pd.DataFrame, png: str | Path, subtitle: str) -> None:
    """Four colour strips (truth, PAM, MINLP, MIQP) over the 232 samples, grouped by subtype."""
    palette = [UNKNOWN, *[COLOURS[s] for s in SUBTYPES], "white"]
    code = {"unknown": 0, **{s: k + 1 for k, s in enumerate(SUBTYPES)}, "not run": 6}
    grid = np.array([[code[v] for v in frame[row]] for row in FIG2_ROWS])
    fig, ax = plt.subplots(figsize=(13, 3.6))
    ax.imshow(grid, aspect="auto", cmap=ListedColormap(palette), vmin=-0.5, vmax=6.5,
              interpolation="nearest")
    n_known = int((frame["truth"] != "unknown").sum())
    ax.axvline(n_known - 0.5, color="black", lw=2)
    for y in np.arange(len(FIG2_ROWS) - 1) + 0.5:
        ax.axhline(y, color="white", lw=2)
    # group labels under the strips: subtype blocks of the known and the unknown samples
    key = np.where(frame["truth"] != "unknown", frame["truth"], frame["miqp"])
    starts = [0] + [i for i in range(1, len(key)) if key[i] != key[i - 1]
                    or (i == n_known)] + [len(key)]
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        ax.text((a + b - 1) / 2, len(FIG2_ROWS) - 0.3, f"{key[a]}\n({b - a})", ha="center",
                va="top", fontsize=7)
        ax.axvline(a - 0.5, color="black", lw=0.4, ymin=0, ymax=0.04)
    ax.text((n_known - 1) / 2, -0.75, f"{n_known} samples of known subtype (by subtype)",
            ha="center", va="bottom", fontsize=9)
    ax.text((n_known + len(key) - 1) / 2, -0.75,
            f"{len(key) - n_known} samples of unknown subtype (by MIQP call)", ha="center",
            va="bottom", fontsize=9)
    ax.set_yticks(range(len(FIG2_ROWS)),
                  ["PAM50 (known)", "PAM", "MINLP", "MIQP"], fontsize=9)
    ax.set_xticks([])
    ax.set_xlabel("samples (ordered by known subtype, then MIQP call, then PAM call)",
                  fontsize=8, labelpad=28)
    handles = [Patch(color=COLOURS[s], label=s) for s in SUBTYPES] + \
        [Patch(color=UNKNOWN, label="unknown")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8,
              frameon=False, title="subtype", title_fontsize=8)
    ax.set_title(f"Fig. 2: breast cancer intrinsic subtype assignments ({subtitle})",
                 fontsize=10, pad=22)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=150)
    plt.close(fig)


def write_fig2(records: dict[str, dict[str, Any]], truth: NDArray[np.int64],
               sample_ids: list[str], png: str | Path, csv: str | Path,
               profile: str) -> pd.DataFrame:
    """Fig. 2 with its CSV and sources sidecar."""
    calls = subtype_calls({k: v for k, v in records.items() if k != "miqp_nolabels"}, truth)
    frame = fig2_frame(truth, calls, sample_ids)
    plot_fig2(frame, png, f"profile {profile}")
    _write_csv(frame, csv)
    cells = {cell_key("assignment", k): {"records": [r["_path"]], "selected": r["_path"],
                                         "value": None, "published": None,
                                         "rule": "subtype call of every sample"}
             for k, r in records.items() if k != "miqp_nolabels"}
    write_sources(png, "flaherty_fig2", profile, cells)
    return frame


# ----------------------------------------------------------------------------- Fig. 3
def pick_fig3_samples(truth: NDArray[np.int64], pam: NDArray[np.int64],
                      miqp: NDArray[np.int64]) -> dict[str, tuple[int, str]]:
    """Analogues of the paper's samples 13 and 24 (Table 3 positions, not data rows).

    (a) a known sample PAM misassigns, preferring the paper's case (LumA called LumB); (b) an
    unknown sample with different calls, preferring PAM Normal vs MIQP LumA. First in file order.
    Returns panel -> (data row index, how it was chosen).
    """
    spec = published()["fig3"]
    out = {}
    for panel, known in (("a", True), ("b", False)):
        want = spec[panel]
        pool = np.flatnonzero((pam != miqp) & ((truth >= 0) == known))
        exact = [i for i in pool if SUBTYPES[pam[i]] == want["pam"]
                 and SUBTYPES[miqp[i]] == want["miqp"]]
        if exact:
            out[panel] = (int(exact[0]), f"first sample with the paper's case "
                                         f"(PAM {want['pam']}, MIQP {want['miqp']})")
        elif pool.size:
            out[panel] = (int(pool[0]), f"no sample with the paper's case (PAM {want['pam']}, "
                                        f"MIQP {want['miqp']}); first other disagreement")
    return out


def fig3_frame(X: NDArray[np.float64], genes: list[str], truth: NDArray[np.int64],
               pam: NDArray[np.int64], miqp: NDArray[np.int64], sample_ids: list[str]
               ) -> pd.DataFrame:
    """Long table: panel, sample, gene, series (sample or subtype average) and value."""
    rows = []
    for panel, (i, why) in pick_fig3_samples(truth, pam, miqp).items():
        series = {"sample": X[i]}
        for code in dict.fromkeys([int(pam[i]), int(miqp[i])]):
            series[f"average {SUBTYPES[code]}"] = X[truth == code].mean(axis=0)
        for name, values in series.items():
            for g, v in zip(genes, values, strict=True):
                rows.append({"panel": panel, "row": i + 1, "sample_id": sample_ids[i],
                             "known_subtype": SUBTYPES[truth[i]] if truth[i] >= 0 else "unknown",
                             "pam": SUBTYPES[pam[i]], "miqp": SUBTYPES[miqp[i]],
                             "chosen_because": why, "gene": g, "series": name, "value": v})
    return pd.DataFrame(rows)


def plot_fig3(frame: pd.DataFrame, genes: list[str], png: str | Path, subtitle: str) -> None:
    """One panel per chosen sample: its 50 genes against the two subtype averages."""
    panels = list(dict.fromkeys(frame["panel"]))
    if not panels:                      # no MIQP solution (or no disagreement): say so
        fig, ax = plt.subplots(figsize=(12, 2))
        ax.text(0.5, 0.5, "no sample to show: the MIQP returned no solution or agrees with PAM",
                ha="center", va="center")
        ax.set_axis_off()
        axes = np.empty((0, 1), dtype=object)
    else:
        fig, axes = plt.subplots(len(panels), 1, figsize=(12, 3.4 * len(panels)), squeeze=False)
    x = np.arange(len(genes))
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        sub = frame[frame["panel"] == panel]
        head = sub.iloc[0]
        for name, grp in sub.groupby("series", sort=False):
            values = grp.set_index("gene").loc[genes, "value"].to_numpy(float)
            if name == "sample":
                ax.plot(x, values, color="black", marker="o", ms=3, lw=1.2,
                        label=f"sample {head['sample_id']} (row {head['row']})")
            else:
                subtype = str(name).split()[-1]
                who = " / ".join(lbl for lbl, call in (("PAM", head["pam"]),
                                                       ("MIQP", head["miqp"])) if call == subtype)
                ax.plot(x, values, color=COLOURS[subtype], lw=2, alpha=0.85,
                        label=f"average {subtype} (known samples; {who} call)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xticks(x, genes, rotation=90, fontsize=7)
        ax.set_xlim(-0.5, len(genes) - 0.5)
        ax.set_ylabel("expression (log ratio)", fontsize=8)
        ax.set_title(f"({panel}) row {head['row']} {head['sample_id']}: known subtype "
                     f"{head['known_subtype']}; PAM {head['pam']}, MIQP {head['miqp']}",
                     fontsize=9)
        ax.legend(fontsize=7, loc="upper left", ncol=3)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Fig. 3: expression profiles vs subtype averages ({subtitle})", fontsize=10)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=150)
    plt.close(fig)


def write_fig3(records: dict[str, dict[str, Any]], X: NDArray[np.float64], genes: list[str],
               truth: NDArray[np.int64], sample_ids: list[str], png: str | Path,
               csv: str | Path, profile: str) -> pd.DataFrame:
    """Fig. 3 with its CSV and sources sidecar (needs the PAM and the MIQP records)."""
    calls = subtype_calls(records, truth)
    pam, miqp = calls.get("pam"), calls.get("miqp")
    if pam is None or miqp is None:
        frame = pd.DataFrame(columns=["panel", "row", "sample_id", "gene", "series", "value"])
    else:
        frame = fig3_frame(X, genes, truth, pam, miqp, sample_ids)
    plot_fig3(frame, genes, png, f"profile {profile}")
    _write_csv(frame, csv)
    cells = {}
    for panel in dict.fromkeys(frame["panel"]):
        row = frame[frame["panel"] == panel].iloc[0]
        cells[cell_key(f"panel_{panel}", "sample")] = {
            "records": [records[k]["_path"] for k in ("pam", "miqp")], "value": int(row["row"]),
            "selected": records["miqp"]["_path"], "published": published()["fig3"][panel],
            "rule": str(row["chosen_because"])}
    write_sources(png, "flaherty_fig3", profile, cells)
    return frame


def _write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")

