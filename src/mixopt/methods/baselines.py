"""Random and oracle baselines of the thesis, Chapter 1 (Sec. 1.3.1), and the adjusted Rand index.

* **random**: ids_i = floor(u_i k), u_i ~ U(0,1), n draws (bclust_reference.md 5 item 2; 0-based
  here, the MATLAB code adds 1). ``matlab_compatible=True`` draws u with numpy's
  ``RandomState(seed)``, which equals MATLAB's ``rng(seed); rand(n, 1)`` (bclust_reference.md 7).
* **oracle**: the true labels (an unfeasible benchmark, ARI = 1).

Both report the same objective as :func:`mixopt.methods.tclust.fit_tclust`'s
``objective_labels``, namely tclust's equal-weight classification log-likelihood at the restricted
ML parameters of the labelling (tclust.md 3.2 item 5):

    obj(z) = sum_{j: n_j > 0} sum_{i: z_i = j} log phi(x_i; m_j, S_j),

m_j = cluster mean, S_j = restricted ML scatter (divisor n_j; restriction as in tclust). The
thesis tables instead re-evaluate every labelling with bclust's objective
(bclust_reference.md 1); that is computed elsewhere from the same ``labels``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.methods.tclust import Restriction, tclust_objective


@dataclass
class BaselineResult:
    """Labels (0-based), their tclust objective (module docstring), ARI and wall time."""

    labels: NDArray[np.int64]
    objective: float
    ari: float | None
    time_s: float


def adjusted_rand_index(a: ArrayLike, b: ArrayLike) -> float:
    """Adjusted Rand index as FSDA RandIndexFS (tclust.md 7): Hubert-Arabie, 0 when T = E.

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


def random_labels(n: int, k: int, seed: int | np.random.Generator = 0,
                  matlab_compatible: bool = False) -> NDArray[np.int64]:
    """ids_i = floor(u_i k), u_i ~ U(0,1) (bclust_reference.md 5 item 2, 0-based)."""
    if k < 1 or n < 1:
        raise ValueError("n and k must be >= 1")
    if matlab_compatible:
        if not isinstance(seed, int | np.integer):
            raise ValueError("matlab_compatible needs an integer seed")
        u = np.random.RandomState(int(seed)).random_sample(n)
    else:
        u = np.random.default_rng(seed).random(n)
    return np.floor(u * k).astype(np.int64)


def fit_random(X: ArrayLike, k: int, restr_factor: float, seed: int | np.random.Generator = 0,
               truth: ArrayLike | None = None, matlab_compatible: bool = False,
               restriction: Restriction = "gpcm") -> BaselineResult:
    """Random baseline: uniform labels; time of the draw only (as the thesis code times it)."""
    x = np.asarray(X, dtype=float)
    t0 = time.perf_counter()
    lab = random_labels(x.shape[0], k, seed, matlab_compatible)
    dt = time.perf_counter() - t0
    obj = tclust_objective(x, lab, k, restr_factor, restriction)
    ari = None if truth is None else adjusted_rand_index(truth, lab)
    return BaselineResult(lab, obj, ari, dt)


def fit_oracle(X: ArrayLike, truth: ArrayLike, restr_factor: float,
               restriction: Restriction = "gpcm") -> BaselineResult:
    """Oracle baseline: the true labels (mapped to 0..k-1); ARI 1, time not meaningful (0)."""
    x = np.asarray(X, dtype=float)
    _, lab = np.unique(np.asarray(truth).ravel(), return_inverse=True)
    lab = lab.astype(np.int64)
    if lab.shape != (x.shape[0],):
        raise ValueError("truth must have one label per row of X")
    k = int(lab.max()) + 1
    obj = tclust_objective(x, lab, k, restr_factor, restriction)
    return BaselineResult(lab, obj, adjusted_rand_index(truth, lab), 0.0)
