"""The MAP clustering objective of Flaherty et al., Problem (4), in d dimensions.

For data ``y`` (n x d), a fixed precision matrix ``Lambda`` shared by all components, assignments
``z`` (n x K, rows on the simplex; binary for a clustering), means ``mu`` (K x d) and mixing
proportions ``pi`` (K), the negative log posterior up to additive constants is

    f(z, mu, pi) = sum_ik z_ik [ 1/2 (y_i - mu_k)' Lambda (y_i - mu_k) - log pi_k ].

In one dimension with variance sigma^2 this is ``eta sum_ik z_ik (y_i - mu_k)^2 - sum_ik z_ik log
pi_k`` with ``eta = 1 / (2 sigma^2)``, the form printed in the paper. Constants (the Gaussian
normaliser, the flat prior) are dropped, as in the published numbers.

With **equal proportions** (``MAPProblem.proportions == "equal"``) pi is fixed at 1/K and the
same formula gives ``1/2 sum_i (y_i - mu_{z_i})' Lambda (y_i - mu_{z_i}) + n log K``: minimum
sum-of-squares clustering (MSSC) in the metric of Lambda, half the sum of squares plus the
constant ``n log K`` (:func:`equal_constant`); :func:`mssc_value` recovers the sum of squares.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def as_precision(precision: ArrayLike, d: int) -> FloatArray:
    """Return ``precision`` as a symmetric positive definite d x d matrix (scalar -> scalar * I)."""
    lam = np.asarray(precision, dtype=float)
    if lam.ndim == 0:
        lam = float(lam) * np.eye(d)
    if lam.shape != (d, d):
        raise ValueError(f"precision must be a scalar or a {d}x{d} matrix, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        i, j = np.argwhere(~np.isfinite(lam))[0]
        raise ValueError(f"precision matrix must be finite; entry ({i + 1}, {j + 1}) is "
                         f"{lam[i, j]}")
    if not np.allclose(lam, lam.T, rtol=1e-10, atol=1e-12):
        raise ValueError("precision matrix must be symmetric")
    try:
        np.linalg.cholesky(lam)
    except np.linalg.LinAlgError as exc:
        raise ValueError("precision matrix must be positive definite") from exc
    return 0.5 * (lam + lam.T)


def one_hot(labels: ArrayLike, k: int) -> FloatArray:
    """Binary n x k assignment matrix of integer ``labels`` in 0..k-1."""
    lab = np.asarray(labels, dtype=np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    z = np.zeros((lab.size, k))
    z[np.arange(lab.size), lab] = 1.0
    return z


def sq_mahalanobis(y: FloatArray, mu: FloatArray, precision: FloatArray) -> FloatArray:
    """Matrix D with D_ik = (y_i - mu_k)' Lambda (y_i - mu_k), shape n x K."""
    chol = np.linalg.cholesky(precision)  # Lambda = L L'
    yw, mw = y @ chol, mu @ chol
    d2 = (yw * yw).sum(1)[:, None] - 2.0 * yw @ mw.T + (mw * mw).sum(1)[None, :]
    return np.maximum(d2, 0.0)


def map_objective(
    y: ArrayLike, z: ArrayLike, mu: ArrayLike, pi: ArrayLike, precision: ArrayLike
) -> float:
    """Problem (4): ``sum_ik z_ik [1/2 (y_i-mu_k)' Lambda (y_i-mu_k) - log pi_k]``.

    ``z`` may be an n x K matrix or a vector of integer labels. Terms with ``z_ik = 0`` contribute
    nothing even when ``pi_k = 0``; a point assigned to a component with ``pi_k = 0`` gives ``inf``.
    """
    y2 = np.atleast_2d(np.asarray(y, dtype=float))
    if y2.shape[0] == 1 and np.ndim(y) == 1:
        y2 = y2.T
    mu2 = np.asarray(mu, dtype=float).reshape(-1, y2.shape[1])
    k = mu2.shape[0]
    zz = np.asarray(z)
    zz = one_hot(zz, k) if zz.ndim == 1 else zz.astype(float)
    pi_arr = np.asarray(pi, dtype=float)
    lam = as_precision(precision, y2.shape[1])
    with np.errstate(divide="ignore"):
        logpi = np.log(pi_arr)
    cost = 0.5 * sq_mahalanobis(y2, mu2, lam) - logpi[None, :]
    mask = zz > 0
    return float((zz[mask] * cost[mask]).sum())


def profile_parameters(
    y: ArrayLike, labels: ArrayLike, k: int, proportions: str = "free"
) -> tuple[FloatArray, FloatArray]:
    """Optimal (mu, pi) of Problem (4) for fixed binary ``labels``: cluster means and n_k / n
    (``proportions="equal"``: pi fixed at 1/K).

    An empty cluster gets ``pi_k = 0`` (free proportions) and, having no points, any mean; the
    overall mean is used.
    """
    y2 = np.asarray(y, dtype=float).reshape(len(labels), -1)
    lab = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(lab, minlength=k).astype(float)
    sums = np.zeros((k, y2.shape[1]))
    np.add.at(sums, lab, y2)
    mu = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], y2.mean(0))
    if proportions == "equal":
        return mu, np.full(k, 1.0 / k)
    if proportions != "free":
        raise ValueError(f"proportions must be 'free' or 'equal', got {proportions!r}")
    return mu, counts / counts.sum()


def profiled_objective(y: ArrayLike, labels: ArrayLike, k: int, precision: ArrayLike,
                       proportions: str = "free") -> float:
    """min over (mu, pi) of Problem (4) at fixed binary ``labels`` (the clustering's MAP value;
    pi fixed at 1/K with ``proportions="equal"``)."""
    mu, pi = profile_parameters(y, labels, k, proportions)
    return map_objective(y, np.asarray(labels), mu, pi, precision)


def equal_constant(n: int, k: int) -> float:
    """``n log K``: the part of the equal-proportions objective that no clustering changes."""
    return float(n * np.log(k))


def mssc_value(objective: float, n: int, k: int) -> float:
    """The sum of squares (in the metric of Lambda) of an equal-proportions objective value:
    ``2 (objective - n log K)``."""
    return 2.0 * (float(objective) - equal_constant(n, k))


def order_by_pi(
    labels: NDArray[np.int64], mu: FloatArray, pi: FloatArray
) -> tuple[NDArray[np.int64], FloatArray, FloatArray, NDArray[np.int64]]:
    """Relabel components so that pi_1 <= ... <= pi_K (a permutation: Problem (4) is unchanged).

    Returns the new labels, mu, pi and the permutation ``order`` (new component c is old
    component ``order[c]``), for relabelling anything else indexed by component.
    """
    order = np.argsort(pi, kind="stable")
    return np.argsort(order)[labels], mu[order], pi[order], order
