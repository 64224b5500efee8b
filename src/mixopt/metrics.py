"""Agreement between an estimated mixture/clustering and the true classes (Table 2 metrics).

Estimated components are first matched to true classes by the permutation that minimises
``||mu_hat[perm] - mu||_F`` (the Hungarian algorithm on squared distances between means, which is
exact because the squared Frobenius norm separates over components). Then

- ``pi_sup``: ``max_k |pi_hat_k - pi_k|`` with ``pi`` the class proportions,
- ``mu_l2``: ``||mu_hat - mu||_2`` over all K x d entries (Frobenius norm),
- ``z_mean_sup``: ``(1/n) sum_i max_k |z_hat_ik - z_ik|``, the fraction of misassigned points,
- ``accuracy``: ``1 - z_mean_sup``; ``ari``: adjusted Rand index (no matching needed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.objectives import profile_parameters


def match_components(mu_hat: ArrayLike, mu_true: ArrayLike) -> NDArray[np.int64]:
    """Permutation ``perm`` such that estimated component ``perm[c]`` is matched to class ``c``."""
    a = np.atleast_2d(np.asarray(mu_hat, dtype=float))
    b = np.atleast_2d(np.asarray(mu_true, dtype=float))
    if a.shape != b.shape:
        raise ValueError(f"mu_hat {a.shape} and mu_true {b.shape} must have the same shape")
    from scipy.optimize import linear_sum_assignment  # (here: a job's start-up stays short)

    cost = ((b[:, None, :] - a[None, :, :]) ** 2).sum(axis=2)  # cost[c, k]
    _, cols = linear_sum_assignment(cost)
    return cols.astype(np.int64)


def table2_metrics(
    y: ArrayLike,
    true_labels: ArrayLike,
    labels: ArrayLike,
    mu_hat: ArrayLike,
    pi_hat: ArrayLike,
) -> dict[str, float]:
    """The paper's Table 2 metrics plus accuracy and ARI, on points with a known label (>= 0)."""
    y2 = np.asarray(y, dtype=float)
    y2 = y2[:, None] if y2.ndim == 1 else y2
    truth = np.asarray(true_labels, dtype=np.int64)
    lab = np.asarray(labels, dtype=np.int64)
    mu_hat = np.asarray(mu_hat, dtype=float).reshape(-1, y2.shape[1])
    pi_hat = np.asarray(pi_hat, dtype=float)
    known = truth >= 0
    k = mu_hat.shape[0]
    mu_true, pi_true = profile_parameters(y2[known], truth[known], k)
    perm = match_components(mu_hat, mu_true)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(k)
    matched = inverse[lab]  # estimated component -> class index
    z_err = float(np.mean(matched[known] != truth[known]))
    return {
        "pi_sup": float(np.max(np.abs(pi_hat[perm] - pi_true))),
        "mu_l2": float(np.linalg.norm(mu_hat[perm] - mu_true)),
        "z_mean_sup": z_err,
        "accuracy": 1.0 - z_err,
        "ari": pair_adjusted_rand_score(truth[known], lab[known]),
    }


def pair_adjusted_rand_score(a: ArrayLike, b: ArrayLike) -> float:
    """Adjusted Rand index from the pair confusion counts, as scikit-learn's
    ``adjusted_rand_score`` (same integer arithmetic, so the same float; 1 when no pair is
    split by one labelling and joined by the other):
    ``2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))``. Here so that a job need
    not import scikit-learn (0.6 s) for one number."""
    _, ia = np.unique(np.asarray(a).ravel(), return_inverse=True)
    _, ib = np.unique(np.asarray(b).ravel(), return_inverse=True)
    if ia.size != ib.size:
        raise ValueError("labelings must have the same length")
    n = ia.size
    table = np.bincount(ia.ravel() * (int(ib.max(initial=0)) + 1) + ib.ravel()
                        ).astype(np.int64)
    rows = np.bincount(ia.ravel()).astype(np.int64)
    cols = np.bincount(ib.ravel()).astype(np.int64)
    squares = int((table**2).sum())
    tp = squares - n
    fp = int((cols**2).sum()) - squares     # (ordered) pairs apart in a, together in b
    fn = int((rows**2).sum()) - squares     # together in a, apart in b
    tn = n * n - fp - fn - squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def adjusted_rand_index(a: ArrayLike, b: ArrayLike) -> float:
    """Adjusted Rand index as FSDA RandIndexFS (docs/reference-tclust.md 7): Hubert-Arabie, 0 when T
    = E.

    Equals scikit-learn's ``adjusted_rand_score`` except in that degenerate case (sklearn: 1).
    """
    x = np.asarray(a).ravel()
    y = np.asarray(b).ravel()
    if x.shape != y.shape:
        raise ValueError("labelings must have the same length")
    n = x.size
    if n < 2:
        raise ValueError("need at least 2 points")
    _, ia = np.unique(x, return_inverse=True)
    _, ib = np.unique(y, return_inverse=True)
    tab = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(tab, (ia, ib), 1.0)
    t = n * (n - 1) / 2.0
    sr = float(np.sum(tab.sum(1) ** 2))
    sc = float(np.sum(tab.sum(0) ** 2))
    t2 = float(np.sum(tab**2))
    agree = t + t2 - (sr + sc) / 2.0
    expect = (n * (n**2 + 1) - (n + 1) * sr - (n + 1) * sc + 2.0 * sr * sc / n) / (2.0 * (n - 1))
    return 0.0 if t == expect else float((agree - expect) / (t - expect))


def label_accuracy(labels: ArrayLike, truth: ArrayLike) -> float | None:
    """Share of points with a known class (>= 0) whose cluster is matched to it, clusters
    matched to classes one-to-one to maximise the agreement (None: no known class)."""
    lab = np.asarray(labels, dtype=np.int64)
    tru = np.asarray(truth, dtype=np.int64)
    known = tru >= 0
    if not known.any():
        return None
    lab, tru = lab[known], tru[known]
    table = np.zeros((int(lab.max()) + 1, int(tru.max()) + 1))
    np.add.at(table, (lab, tru), 1.0)
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / lab.size)
