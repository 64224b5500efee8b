"""``mixopt plot RECORD.json``: the clustering of one record (first two principal components
when d > 2, with the fitted means) and, when the record has a trace, incumbent and bound over
time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def principal_axes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(centre, projection d x 2, axis names): the identity for d <= 2, else the first two
    principal components."""
    centre = x.mean(axis=0)
    d = x.shape[1]
    if d == 1:
        return np.zeros(1), np.eye(1), ["x1"]
    if d == 2:
        return np.zeros(2), np.eye(2), ["x1", "x2"]
    _, s, vt = np.linalg.svd(x - centre, full_matrices=False)
    share = s**2 / max(float(np.sum(s**2)), 1e-300)
    return centre, vt[:2].T, [f"PC{i + 1} ({100 * share[i]:.0f}%)" for i in range(2)]


def plot_record(rec: dict[str, Any], x: np.ndarray, out: str | Path,
                feature_names: list[str] | None = None) -> None:
    """Draw ``rec``'s clustering of the points ``x`` (and its trace, if any) into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = np.asarray(rec.get("assignment") or [], dtype=int) \
        if not isinstance(rec.get("assignment"), np.ndarray) else rec["assignment"]
    if labels.size != x.shape[0]:
        raise ValueError(f"the record has {labels.size} labels for {x.shape[0]} points in the "
                         "data (is it the record of this file, with the same --columns?)")
    trace = [row for row in rec.get("trace") or [] if row[1] is not None or row[2] is not None]
    fig, axes = plt.subplots(1, 2 if trace else 1, figsize=(11 if trace else 6, 4.8),
                             squeeze=False)
    ax = axes[0, 0]
    centre, proj, names = principal_axes(x)
    if x.shape[1] == 2 and feature_names:
        names = list(feature_names)
    z = (x - centre) @ proj
    if z.shape[1] == 1:   # d = 1: points on a line, jittered by cluster
        z = np.column_stack([z[:, 0], labels + np.random.default_rng(0).uniform(-.2, .2,
                                                                                 labels.size)])
        names = [feature_names[0] if feature_names else "x1", "cluster"]
    ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=18, vmin=0, vmax=9)
    mu = rec.get("params", {}).get("mu")
    if mu is not None and np.asarray(mu).ndim == 2 and np.asarray(mu).shape[1] != x.shape[1]:
        raise ValueError(f"the record's means have d = {np.asarray(mu).shape[1]}, the data "
                         f"{x.shape[1]} columns (give the --columns of the fit)")
    if mu is not None and np.asarray(mu).ndim == 2:
        m = (np.asarray(mu, dtype=float) - centre) @ proj
        if m.shape[1] == 1:
            m = np.column_stack([m[:, 0], np.arange(m.shape[0])])
        ax.scatter(m[:, 0], m[:, 1], marker="X", s=160, c="black", label="fitted means")
        ax.legend(loc="best")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"{rec['method']} on {rec['dataset']}: status {rec['status']}")
    if trace:
        t = np.array([row[0] for row in trace], dtype=float)
        for j, name in ((1, "incumbent"), (2, "bound")):
            v = np.array([np.nan if row[j] is None else row[j] for row in trace], dtype=float)
            axes[0, 1].step(t, v, where="post", label=name)
        axes[0, 1].set_xlabel("time (s)")
        axes[0, 1].set_ylabel("objective")
        gap = rec.get("gap")
        axes[0, 1].set_title("bounds over time" + (f" (gap {100 * gap:.2f}%)"
                                                   if isinstance(gap, float) else ""))
        axes[0, 1].legend(loc="best")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
