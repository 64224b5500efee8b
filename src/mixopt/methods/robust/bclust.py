"""bclust: local search over restricted mixed-integer SDPs (thesis Ch. 1, Algorithm 1).

Implements Algorithm 1 as the author's code ``fullClusterize2`` runs it (docs/reference-bclust.md
4):

1. Obj, (M_j, gamma_j) <- P(emptyset, c0) for the start labels c0 (tclust's in the thesis).
2. Outer loop:
   a. **CEM inner loop**: contr_ij = -1/2 (x_i - mu_j)^T A_j (x_i - mu_j) + 1/2 log det A_j
      = -1/2 ||M_j x_i - gamma_j||^2 + log det M_j; q_i = argmax_j contr_ij (first index on ties);
      accept q if Obj(q) < Obj and q != c, else leave the loop. (Acceptance here does not count as
      an improvement of the outer loop, as in the code.)
   b. score_i = max_{l != c_i} contr_il - contr_{i, c_i}; points ranked by decreasing score
      (stable, ties in index order).
   c. Neighbourhood F: **Policy 2** (``policy="singletons"``, the thesis' choice): the h best-scored
      points one at a time; **Policy 1** (``policy="sets"``): the h sets of ``set_size`` = u points
      with the largest score sums (Sec. 1.2.4). h = floor(n/10) by default.
   d. For each F in order, solve P(F, c): the labels of F are free, all others fixed. Its optimum is
      found **exactly by enumerating the k^|F| labellings of F** (each a separable all-fixed
      problem; only the clusters that change are re-solved). The first F whose optimum is lower than
      Obj with different labels is accepted (first improvement) and the outer loop repeats.
   e. Stop when no F improves.

Deviation, documented: the code's MISDP also couples the free point's (M, gamma) to the other
clusters' through big-M rows (docs/reference-bclust.md 2-3); enumeration solves the separable
problem, which is that MISDP without the coupling rows (a relaxation that is usually equal).
Improvements are accepted when Obj' < Obj - ``rel_tol`` |Obj| (default 1e-9, against solver noise;
the code uses strict <). Every cluster needs >= 2 points; assignments violating this are skipped.

The objective mode (``thesis`` or ``likelihood``) is that of
:mod:`mixopt.methods.robust.bclust_objective`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.methods.base import Result, family_method
from mixopt.methods.robust.bclust_objective import (
    MIN_CLUSTER_SIZE,
    ClusterFit,
    ClusterSolver,
    Mode,
    check_labels,
    check_restriction,
    cluster_solver,
)
from mixopt.problem import RobustProblem
from mixopt.progress import Progress

Policy = Literal["singletons", "sets"]


@dataclass(kw_only=True)
class BclustResult(Result):
    """Output of :func:`fit_bclust` (labels 0-based; ``objective`` is Obj, minimised).

    ``trace`` holds (time_s, Obj, None) at the start of every outer iteration and at the end;
    ``status`` is ``local`` (no neighbour improves) or ``time_limit``.
    """

    fits: list[ClusterFit]
    mode: str
    n_outer: int
    n_inner_moves: int
    n_search_moves: int
    n_cluster_solves: int
    n_cache_hits: int

    @property
    def parameters(self) -> dict[str, Any]:
        """Cluster means ``mu`` and covariances ``sigma``."""
        return {"mu": self.mu, "sigma": self.sigma}

    @property
    def mu(self) -> NDArray[np.float64]:
        """Cluster means mu_j = M_j^-1 gamma_j (k x p)."""
        return np.array([f.mean for f in self.fits])

    @property
    def sigma(self) -> NDArray[np.float64]:
        """Cluster covariances Sigma_j = M_j^-2 (k x p x p)."""
        return np.array([np.linalg.inv(f.precision) for f in self.fits])


class ClusterCache:
    """F(X_j) memoised by the cluster's member set (a cluster is often re-solved in a search)."""

    def __init__(self, X: NDArray, solve: ClusterSolver) -> None:
        self.X = X
        self.solve = solve
        self.cache: dict[bytes, ClusterFit] = {}
        self.solves = 0
        self.hits = 0

    def fit(self, members: NDArray[np.int64]) -> ClusterFit:
        """F of the points ``members`` (sorted indices)."""
        key = members.tobytes()
        found = self.cache.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.solves += 1
        result = self.cache[key] = self.solve(self.X[members])
        return result

    def fits(self, labels: NDArray[np.int64], k: int) -> list[ClusterFit]:
        """Per-cluster fits of a complete assignment."""
        return [self.fit(np.flatnonzero(labels == j)) for j in range(k)]


def contributions(X: NDArray, fits: list[ClusterFit]) -> NDArray[np.float64]:
    """contr_ij = -1/2 ||M_j x_i - gamma_j||^2 + log det M_j (n x k; -inf for empty fits)."""
    out = np.full((X.shape[0], len(fits)), -np.inf)
    for j, f in enumerate(fits):
        if math.isfinite(f.value):
            resid = X @ f.M.T - f.gamma
            out[:, j] = -0.5 * np.einsum("ij,ij->i", resid, resid) + np.linalg.slogdet(f.M)[1]
    return out


def scores(contr: NDArray, labels: NDArray[np.int64]) -> NDArray[np.float64]:
    """score_i = max_{l != c_i} contr_il - contr_{i, c_i} (higher: more likely to move)."""
    rows = np.arange(labels.size)
    own = contr[rows, labels]
    others = contr.copy()
    others[rows, labels] = -np.inf
    return others.max(1) - own


def ranked_points(contr: NDArray, labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Points by decreasing score; ties keep index order (MATLAB's stable sort)."""
    return np.argsort(-scores(contr, labels), kind="stable")


def top_sets(order: NDArray[np.int64], score: NDArray, u: int, h: int) -> list[NDArray[np.int64]]:
    """The h sets of u points with the largest score sums (Policy 1), best first.

    Best-first enumeration over index tuples into the ranked list (each successor moves one
    position one step down), so only O(h u) sets are looked at.
    """
    s = score[order]
    n = order.size
    u = min(u, n)
    start = tuple(range(u))
    heap = [(-float(s[list(start)].sum()), start)]
    seen = {start}
    out: list[NDArray[np.int64]] = []
    while heap and len(out) < h:
        neg, idx = heapq.heappop(heap)
        out.append(order[list(idx)])
        for t in range(u):
            nxt = idx[t] + 1
            if nxt < n and (t == u - 1 or nxt < idx[t + 1]):
                cand = idx[:t] + (nxt,) + idx[t + 1:]
                if cand not in seen:
                    seen.add(cand)
                    heapq.heappush(heap, (-float(s[list(cand)].sum()), cand))
    return out


def improves(new: float, best: float, rel_tol: float) -> bool:
    """new < best - rel_tol |best| (any finite value improves on an infeasible start)."""
    if not math.isfinite(new):
        return False
    if not math.isfinite(best):
        return True
    return new < best - rel_tol * abs(best)


def best_relabelling(free: NDArray[np.int64], labels: NDArray[np.int64], obj: float,
                     fits: list[ClusterFit], cache: ClusterCache,
                     k: int) -> tuple[float, NDArray[np.int64] | None]:
    """Optimum of P(F, c) over labellings of ``free`` that differ from the current one.

    Enumerates the k^|F| labellings; for each, only the clusters that gain or lose points are
    re-solved: Obj' = Obj - sum_changed F_old + sum_changed F_new. Returns (Obj', labels) of the
    best (first in enumeration order on ties), or (inf, None) if none is feasible.
    """
    sizes = np.bincount(labels, minlength=k)
    current = labels[free]
    best_val, best_lab = math.inf, None
    for combo in itertools.product(range(k), repeat=free.size):
        new = np.asarray(combo, dtype=np.int64)
        if np.array_equal(new, current):
            continue
        delta = np.bincount(new, minlength=k) - np.bincount(current, minlength=k)
        if np.any(sizes + delta < MIN_CLUSTER_SIZE):
            continue
        moved = new != current
        changed = np.unique(np.concatenate([new[moved], current[moved]]))
        cand = labels.copy()
        cand[free] = new
        value = obj - sum(fits[j].value for j in changed)
        value += sum(cache.fit(np.flatnonzero(cand == j)).value for j in changed)
        if value < best_val:
            best_val, best_lab = value, cand
    return best_val, best_lab


def check_start(labels: NDArray[np.int64], k: int) -> None:
    """The start must give every cluster >= 2 points (P(emptyset, c0) is infeasible otherwise)."""
    sizes = np.bincount(labels, minlength=k)
    if np.any(sizes < MIN_CLUSTER_SIZE):
        raise ValueError(f"start labels give clusters of sizes {sizes.tolist()}; bclust needs "
                         f">= {MIN_CLUSTER_SIZE} points in each of the k = {k} clusters")


@family_method("bclust", "robust", RobustProblem)
def fit_bclust(problem: RobustProblem, *, init_labels: ArrayLike, mode: Mode = "thesis",
               policy: Policy = "singletons", set_size: int = 1, n_candidates: int | None = None,
               solver: str = "CLARABEL", closed_form: bool = True, rel_tol: float = 1e-9,
               max_outer: int = 500_000, time_limit_s: float | None = None) -> BclustResult:
    """Algorithm 1 of the thesis from ``init_labels`` (module docstring).

    cond(M_j) is bounded by R = sqrt(``problem.r2``); ``n_candidates`` is h (default
    floor(n/10)); ``solver`` is the cvxpy solver for conic cluster problems (thesis mode, or
    likelihood mode with ``closed_form=False``); ``time_limit_s`` stops the search between solves
    (status ``time_limit``, best labels kept).
    """
    k = problem.k
    Xa, labels = check_labels(problem.X, init_labels, k)
    r2 = float(problem.r2)
    R = check_restriction(math.sqrt(r2) if r2 >= 0 else math.nan)
    n = Xa.shape[0]
    if policy not in ("singletons", "sets"):
        raise ValueError("policy must be 'singletons' (Policy 2) or 'sets' (Policy 1), "
                         f"got {policy!r}")
    u = 1 if policy == "singletons" else int(set_size)
    if u < 1 or u > n:
        raise ValueError(f"set_size must be in 1..n, got {set_size}")
    h = n // 10 if n_candidates is None else int(n_candidates)
    if h < 0:
        raise ValueError("n_candidates must be >= 0")
    check_start(labels, k)
    cache = ClusterCache(Xa, cluster_solver(mode, R, solver, closed_form))
    t0 = time.perf_counter()

    def timed_out() -> bool:
        return time_limit_s is not None and time.perf_counter() - t0 > time_limit_s

    fits = cache.fits(labels, k)
    obj = float(sum(f.value for f in fits))
    history: list[tuple[float, float | None, float | None]] = []
    n_outer = n_inner = n_search = 0
    status = "local"
    progress = Progress("bclust", t0=t0)

    def progress_fields() -> dict[str, object]:
        return {"outer": n_outer, "cem_moves": n_inner, "search_moves": n_search,
                "cluster_solves": cache.solves, "incumbent": obj}

    while n_outer < max_outer:
        n_outer += 1
        history.append((time.perf_counter() - t0, obj, None))
        while True:  # CEM inner loop
            if timed_out():
                status = "time_limit"
                break
            if progress.due():
                progress.report(**progress_fields())
            q = np.argmax(contributions(Xa, fits), axis=1).astype(np.int64)
            if np.array_equal(q, labels) or np.any(np.bincount(q, minlength=k) < MIN_CLUSTER_SIZE):
                break
            q_fits = cache.fits(q, k)
            q_obj = float(sum(f.value for f in q_fits))
            if not improves(q_obj, obj, rel_tol):
                break
            labels, fits, obj = q, q_fits, q_obj
            n_inner += 1
        if status == "time_limit":
            break
        contr = contributions(Xa, fits)
        order = ranked_points(contr, labels)
        if u == 1:
            family = [order[f:f + 1] for f in range(min(h, n))]
        else:
            family = top_sets(order, scores(contr, labels), u, h)
        improved = False
        for free in family:
            if timed_out():
                status = "time_limit"
                break
            if progress.due():
                progress.report(**progress_fields())
            value, cand = best_relabelling(np.sort(free), labels, obj, fits, cache, k)
            if cand is not None and improves(value, obj, rel_tol):
                labels, fits = cand, cache.fits(cand, k)
                obj = float(sum(f.value for f in fits))
                n_search += 1
                improved = True
                break
        if status == "time_limit" or not improved:
            break
    progress.done(status, **progress_fields())
    elapsed = time.perf_counter() - t0
    history.append((elapsed, obj, None))
    return BclustResult(
        labels=labels, objective=obj, fits=fits, status=status, mode=mode, trace=history,
        solver={"name": "mixopt.bclust", "options": {"mode": mode, "solver": solver}},
        n_outer=n_outer, n_inner_moves=n_inner, n_search_moves=n_search,
        n_cluster_solves=cache.solves, n_cache_hits=cache.hits, time_s=elapsed,
        extra={"policy": policy, "set_size": u, "n_candidates": h, "rel_tol": rel_tol,
               "inaccurate_solves": sum(not f.accurate for f in cache.cache.values())})
