"""Exact global MAP clustering in one dimension with a common known variance (dynamic program).

**Clusters are intervals.** Let ``c_k(y) = eta (y - mu_k)^2 - log pi_k`` (``eta = 1/(2 sigma^2)``)
and ``mu_a < mu_b``. For points ``y_1 < y_2``,

    c_a(y_1) + c_b(y_2) - c_a(y_2) - c_b(y_1) = 2 eta (y_2 - y_1)(mu_a - mu_b) < 0,

so the costs are Monge: swapping the components of two "crossing" points (``y_1`` in b, ``y_2``
in a) never increases Problem (4) and keeps every cluster size. Hence some global optimum, also
under the minimum-size constraint ``sum_i z_ik >= L`` and the symmetry-breaking order on pi (a
relabelling), assigns contiguous runs of the sorted data to the components.

**Dynamic program.** For a fixed partition the optimal parameters are the segment means and
``pi_k = n_k / n``, so Problem (4) equals ``sum_k [eta SSE_k - n_k log(n_k / n)]``, a sum of
segment costs. With equal proportions (pi_k = 1/K) the segment cost is ``eta SSE_k`` and the
constant ``n log K`` is added to ``F[K, n]`` (the Monge argument holds for any fixed pi). With
``F[j, b]`` the best cost of splitting the first ``b`` sorted points into
``j`` segments of at least ``max(L, 1)`` points,

    F[j, b] = min_a F[j-1, a] + cost(a, b),

computed in O(K n^2) time with prefix sums (vectorised over ``a``). ``F[K, n]`` is the certified
global optimum: the record has ``lower_bound == upper_bound == objective``. With ``min_size: 0``
(at most K clusters) the optimum is ``min_{K' <= K} F[K', n]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mixopt.constraints import Constraints
from mixopt.methods.base import MethodResult, map_method
from mixopt.objectives import map_objective, order_by_pi, profile_parameters
from mixopt.problem import MAPProblem


def segment_costs(y_sorted: NDArray[np.float64], eta: float, n_total: int,
                  entropy: bool = True) -> NDArray[np.float64]:
    """``C[a, b]`` = cost of one cluster holding sorted points ``a..b-1`` (inf when b <= a);
    ``entropy=False`` (equal proportions): ``eta SSE`` alone."""
    n = y_sorted.size
    s1 = np.concatenate([[0.0], np.cumsum(y_sorted)])
    s2 = np.concatenate([[0.0], np.cumsum(y_sorted**2)])
    a = np.arange(n + 1)[:, None]
    b = np.arange(n + 1)[None, :]
    m = (b - a).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = (s2[None, :] - s2[:, None]) - (s1[None, :] - s1[:, None]) ** 2 / m
        cost = eta * np.maximum(sse, 0.0)
        if entropy:
            cost = cost - m * np.log(m / n_total)
    return np.where(m > 0, cost, np.inf)


def exact_partition(
    y: NDArray[np.float64], k: int, eta: float, min_size: int = 1, proportions: str = "free"
) -> tuple[float, NDArray[np.int64]]:
    """Optimal value and labels (components ordered by position on the line) by the DP
    (``proportions="equal"``: pi_k = 1/K, the value includes ``n log K``).

    ``min_size >= 1``: exactly K segments of at least ``min_size`` points. ``min_size = 0``: the
    best of 1..K non-empty segments (Problem (4) with empty components allowed: an empty
    component has ``pi_k = 0`` and adds nothing); components beyond the segments stay empty."""
    order = np.argsort(y, kind="stable")
    ys = y[order]
    n = ys.size
    lmin = max(min_size, 1)
    if k * lmin > n:
        raise ValueError(f"K * max(L, 1) = {k * lmin} exceeds n = {n}")
    equal = proportions == "equal"
    cost = segment_costs(ys, eta, n, entropy=not equal)
    idx = np.arange(n + 1)
    too_short = idx[None, :] - idx[:, None] < lmin
    cost = np.where(too_short, np.inf, cost)
    best = np.full((k + 1, n + 1), np.inf)
    arg = np.zeros((k + 1, n + 1), dtype=np.int64)
    best[0, 0] = 0.0
    for j in range(1, k + 1):
        total = best[j - 1][:, None] + cost  # total[a, b]
        arg[j] = np.argmin(total, axis=0)
        best[j] = total[arg[j], idx]
    # min_size 0: at most K clusters, the best number of non-empty segments K' <= K
    used = k if min_size >= 1 else int(np.argmin(best[1:, n])) + 1
    if not np.isfinite(best[used, n]):
        raise ValueError("no feasible partition")
    labels_sorted = np.empty(n, dtype=np.int64)
    b = n
    for j in range(used, 0, -1):
        a = arg[j, b]
        labels_sorted[a:b] = j - 1
        b = a
    labels = np.empty(n, dtype=np.int64)
    labels[order] = labels_sorted
    return float(best[used, n]) + (n * np.log(k) if equal else 0.0), labels


@map_method("exact1d", constraints=("pi_order",), proportions=("free", "equal"),
            certifies=True)
def fit_exact1d(
    problem: MAPProblem, seed: int = 0, constraints: Constraints | None = None
) -> MethodResult:
    """Certified global optimum of Problem (4) for d = 1 (``seed`` is unused)."""
    if problem.d != 1:
        raise ValueError(f"exact1d needs one-dimensional data, got d = {problem.d}")
    cons = constraints or Constraints()
    eta = 0.5 * float(problem.precision[0, 0])
    value, labels = exact_partition(problem.y[:, 0], problem.k, eta, cons.min_size,
                                    problem.proportions)
    mu, pi = profile_parameters(problem.y, labels, problem.k, problem.proportions)
    if cons.pi_order:
        labels, mu, pi, _ = order_by_pi(labels, mu, pi)
    objective = map_objective(problem.y, labels, mu, pi, problem.precision)
    return MethodResult(
        labels=labels, mu=mu, pi=pi, objective=objective, status="optimal",
        lower_bound=objective, upper_bound=objective,
        solver={"name": "mixopt-exact1d", "options": {}},
        extra={"dp_value": value, "notes": []})
