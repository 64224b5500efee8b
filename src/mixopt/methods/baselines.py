"""Random and oracle baselines of the thesis, Chapter 1 (Sec. 1.3.1).

* **random**: ids_i = floor(u_i k), u_i ~ U(0,1), n draws (docs/reference-bclust.md 5 item 1;
  0-based here, the MATLAB code adds 1). ``matlab_compatible=True`` draws u with numpy's
  ``RandomState(seed)``, which equals MATLAB's ``rng(seed); rand(n, 1)`` (docs/reference-bclust.md
  7).
* **oracle**: the true labels (an unfeasible benchmark, ARI = 1).

Both report the same objective as :func:`mixopt.methods.robust.tclust.fit_tclust`'s
``objective_labels``, namely tclust's equal-weight classification log-likelihood at the restricted
ML parameters of the labelling (docs/reference-tclust.md 3.2 item 5):

    obj(z) = sum_{j: n_j > 0} sum_{i: z_i = j} log phi(x_i; m_j, S_j),

m_j = cluster mean, S_j = restricted ML scatter (divisor n_j; restriction as in tclust). The
thesis tables instead re-evaluate every labelling with bclust's objective
(docs/reference-bclust.md 1); that is computed elsewhere from the same ``labels``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.methods.robust.tclust import Restriction, tclust_objective
from mixopt.metrics import adjusted_rand_index


@dataclass
class BaselineResult:
    """Labels (0-based), their tclust objective (module docstring), ARI and wall time."""

    labels: NDArray[np.int64]
    objective: float
    ari: float | None
    time_s: float


def random_labels(n: int, k: int, seed: int | np.random.Generator = 0,
                  matlab_compatible: bool = False) -> NDArray[np.int64]:
    """ids_i = floor(u_i k), u_i ~ U(0,1) (docs/reference-bclust.md 5 item 1, 0-based)."""
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
