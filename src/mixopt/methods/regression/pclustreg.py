"""pclustreg: probabilistic branch-and-bound for clusterwise linear regression (thesis Ch. 2-3).

Problem (2.2): maximise over full assignments C (every cluster >= p + 1 points)

    log L^(C) = c_n + 1/2 sum_j [3 n_j log n_j - n_j log SSR_j],
    c_n = -(n/2)[log(2 pi) + 1] - n log n,

SSR_j the OLS residual sum of squares of cluster j (Sec. 2.1; p counts the coefficients, the
intercept column included).

Algorithm (Sec. 2.2.1): the points are randomly permuted (``seed``) and branched on in that order;
a node at depth l has the first l permuted points assigned; expanding it creates k children
(point l + 1 -> cluster j). Nodes sit in a priority queue by decreasing upper bound (ties: the
deeper node, then creation order). The best node is popped; if its bound is <= the incumbent the
search stops ("complete"), else it is expanded. For every child the probabilistic upper bound of
Sec. 2.2.3 (variant "chi2", Eq. 2.3, pclustreg1) or Sec. 3.1 (variant "F", pclustreg2) is
computed with eps = (1 - s)/(n + k) (Theorem 2.2.4), see :mod:`pclustreg_bounds`, and a lower
bound by the modified CEM (Sec. 2.2.2, 3.4.2); children with bound <= incumbent are cut.
Leaves (all points assigned) are evaluated exactly. With ``node_limit`` (maximum number of
expanded nodes) or ``time_limit_s`` the method is a heuristic and the guarantee of Theorem 2.2.4
does not hold (status "node_limit" / "time_limit").

Choices where the thesis is silent (documented here and in :func:`fit_pclustreg`):

* The root node also gets a CEM lower bound (a plain random start), so an incumbent exists
  before the first expansion.
* Lower bound (Sec. 2.2.2): clusters with fewer than p + 1 points are topped up with random
  unassigned points (cluster order 0..k-1); OLS fits; then the modified CEM. The partial
  assignment only initialises the CEM: every point, including the fixed ones, may be
  reassigned. Points still unassigned after the top-up are assigned in the first CEM pass.
  The CEM is run ``restarts`` times per node with independent top-ups (once if no top-up is
  needed, since the run would be identical). Children whose bound is -inf (no completion with
  every cluster >= n_MIN exists) get no CEM run.
* Modified CEM (Sec. 3.4.2): in a pass beta_j and SSR_j are fixed while the points are visited
  in (permuted) index order; the point is first removed from its cluster (skipped if the cluster
  is at p + 1 points: a cluster never drops below p + 1), then scored for every cluster j by
  log(pi_j f_j) with pi_j = n_j/n and sigma_j^2 = SSR_j/n_j using the current n_j, and put in the
  best cluster (ties: its current cluster, else the smallest j); n_j is updated. After a pass
  beta_j, SSR_j are refitted. Stop when no point moves, when log L^ does not increase, or after
  ``cem_max_iter`` passes; the best assignment seen is kept.
* The incumbent is the best log L^ over all CEM runs and leaves, recomputed by least squares
  (:func:`loglik_hat`). Leaves get no CEM run.
* ``upper_bound`` is the largest bound among the open nodes (the popped, unexpanded node
  included), or the incumbent if the queue is empty.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.methods.base import Result, family_method
from mixopt.methods.regression.pclustreg_bounds import (
    HAVE_NUMBA,
    QuantileTables,
    Variant,
    log_lik_constant,
    njit,
    node_upper_bound,
)
from mixopt.methods.regression.tclustreg import loglik_hat
from mixopt.problem import RegressionProblem
from mixopt.progress import Progress

_LOG2PI = math.log(2.0 * math.pi)
_TINY_VAR = 1e-300


# --------------------------------------------------------------------------------------------
# objective


def _ols_ssr(X: NDArray, y: NDArray) -> float:
    """Minimum residual sum of squares of y on X (least squares, residuals recomputed)."""
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    r = y - X @ beta
    return float(r @ r)


def _loglik_from_stats(nj: NDArray, ssr: NDArray, n: int, p: int) -> float:
    """log L^ from cluster sizes and SSRs (-inf if n_j < p + 1 or an exact fit, SSR_j = 0: the
    thesis excludes unbounded assignments; same convention as :func:`loglik_hat`)."""
    if np.any(nj < p + 1) or np.any(ssr <= 0.0):
        return -math.inf
    return log_lik_constant(n) + 0.5 * float(np.sum(3.0 * nj * np.log(nj) - nj * np.log(ssr)))


# --------------------------------------------------------------------------------------------
# modified CEM (Sec. 2.2.2, 3.4.2)


@njit(cache=True)
def _cem_pass(r2: NDArray, labels: NDArray, nj: NDArray, ssr: NDArray,
              min_size: int) -> int:  # pragma: no cover - compiled
    """One sequential pass of the modified CEM (Sec. 3.4.2); returns the number of moves.

    ``r2[i, j]`` squared residual of point i under the fixed beta_j; ``labels`` (-1 =
    unassigned) and ``nj`` are updated in place; SSR_j fixed. Score of cluster j:
    log(n_j/n) - 1/2 log(2 pi s2_j) - r2_ij / (2 s2_j), s2_j = SSR_j/n_j, current n_j.
    """
    n, k = r2.shape
    log2pi = np.log(2.0 * np.pi)
    a = np.empty(k)
    b = np.empty(k)
    for j in range(k):
        s2 = max(ssr[j] / nj[j], 1e-300)
        a[j] = np.log(nj[j] / n) - 0.5 * (log2pi + np.log(s2))
        b[j] = 0.5 / s2
    moves = 0
    for i in range(n):
        c = labels[i]
        if c >= 0:
            if nj[c] <= min_size:
                continue
            nj[c] -= 1
            s2 = max(ssr[c] / nj[c], 1e-300)
            a[c] = np.log(nj[c] / n) - 0.5 * (log2pi + np.log(s2))
            b[c] = 0.5 / s2
            best = c
            bestv = a[c] - b[c] * r2[i, c]
        else:
            best = -1
            bestv = -np.inf
        for j in range(k):
            v = a[j] - b[j] * r2[i, j]
            if v > bestv or best < 0:
                bestv = v
                best = j
        labels[i] = best
        nj[best] += 1
        s2 = max(ssr[best] / nj[best], 1e-300)
        a[best] = np.log(nj[best] / n) - 0.5 * (log2pi + np.log(s2))
        b[best] = 0.5 / s2
        if best != c:
            moves += 1
    return moves


#: The same pass as plain Python over NumPy arrays (the reference for the numba speed-up).
cem_pass_python: Callable[..., int] = getattr(_cem_pass, "py_func", _cem_pass)


def _fit_clusters(X: NDArray, y: NDArray, labels: NDArray,
                  k: int) -> tuple[NDArray, NDArray, NDArray]:
    """(B p x k, SSR_j, n_j) by OLS per cluster (labels -1 ignored; normal equations, lstsq if
    singular); SSR_j from the residuals."""
    p = X.shape[1]
    B = np.zeros((p, k))
    ssr = np.zeros(k)
    nj = np.bincount(labels[labels >= 0], minlength=k).astype(np.int64)
    for j in range(k):
        idx = np.flatnonzero(labels == j)
        xj, yj = X[idx], y[idx]
        try:
            beta = np.linalg.solve(xj.T @ xj, xj.T @ yj)
            if not np.all(np.isfinite(beta)):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            beta = np.linalg.lstsq(xj, yj, rcond=None)[0]
        r = yj - xj @ beta
        B[:, j] = beta
        ssr[j] = r @ r
    return B, ssr, nj


@dataclass
class CemOutcome:
    """Best assignment of one modified-CEM run and its log L^ (normal-equation fits)."""

    labels: NDArray[np.int64]
    loglik: float
    n_passes: int


def modified_cem(X: NDArray, y: NDArray, k: int, init: NDArray[np.int64], max_iter: int = 100,
                 pass_fn: Callable[..., int] | None = None) -> CemOutcome:
    """Modified CEM (Sec. 2.2.2 step 2-3, Sec. 3.4.2) from ``init`` (-1 = unassigned).

    Every assigned cluster of ``init`` must have >= p + 1 points. See the module docstring for
    the pass; ``pass_fn`` replaces the compiled pass (benchmarks).
    """
    n, p = X.shape
    fn = _cem_pass if pass_fn is None else pass_fn
    labels = np.asarray(init, dtype=np.int64).copy()
    B, ssr, nj = _fit_clusters(X, y, labels, k)
    if np.any(nj < p + 1):
        raise ValueError("every cluster of the CEM start needs >= p + 1 points")
    best_lab = labels
    best_ll = -math.inf
    prev_ll = -math.inf
    passes = 0
    for _ in range(max_iter):
        resid = y[:, None] - X @ B
        r2 = np.ascontiguousarray(resid * resid)
        moves = fn(r2, labels, nj, ssr, p + 1)
        passes += 1
        B, ssr, nj = _fit_clusters(X, y, labels, k)
        ll = _loglik_from_stats(nj, ssr, n, p)
        if ll > best_ll:
            best_ll, best_lab = ll, labels.copy()
        if moves == 0 or ll <= prev_ll:
            break
        prev_ll = ll
    return CemOutcome(best_lab, best_ll, passes)


def top_up(partial: NDArray[np.int64], k: int, min_size: int,
           rng: np.random.Generator) -> NDArray[np.int64] | None:
    """Sec. 2.2.2 step 1: add random unassigned points (-1) to clusters with < min_size points.

    Clusters are filled in order 0..k-1; None if too few unassigned points exist.
    """
    labels = partial.copy()
    counts = np.bincount(labels[labels >= 0], minlength=k)
    for j in range(k):
        need = min_size - int(counts[j])
        if need <= 0:
            continue
        pool = np.flatnonzero(labels < 0)
        if pool.size < need:
            return None
        labels[rng.choice(pool, size=need, replace=False)] = j
    return labels


# --------------------------------------------------------------------------------------------
# results


@dataclass
class NodeRecord:
    """A created node, as passed to ``node_callback`` (original point indices).

    ``status``: "root", "open" (queued), "cut" (bound <= incumbent), "infeasible" (bound -inf)
    or "leaf". ``lb`` is the best CEM log L^ of the node (the exact value for a leaf; -inf if
    none was run).
    """

    depth: int
    points: NDArray[np.int64]
    labels: NDArray[np.int64]
    ub: float
    lb: float
    status: str


@dataclass(kw_only=True)
class PclustregResult(Result):
    """Output of :func:`fit_pclustreg` (labels 0-based, original point order).

    ``objective`` is the incumbent's log L^ (maximised), also ``lower_bound``; ``upper_bound`` is
    the best open node's bound at the stop (holds with probability s; the incumbent's value when
    the queue is empty). ``status``: "complete" (queue exhausted or best bound <= incumbent:
    Theorem 2.2.4 applies), "node_limit" or "time_limit" (heuristic). ``trace``: (time_s,
    incumbent, best open bound) after the root and after every expansion. ``permutation``: the
    branching order (original indices). ``n_cuts`` counts the children not queued (bound <=
    incumbent, or -inf: no completion with all clusters >= n_MIN); leaves are counted in
    ``extra["n_leaves"]``; ``n_nodes_created`` includes the root, cut nodes and leaves.
    """

    n_expanded: int
    n_nodes_created: int
    n_cuts: int
    n_cem_runs: int
    n_dp_solves: int
    permutation: NDArray[np.int64]


# --------------------------------------------------------------------------------------------
# main entry point


def _check_inputs(X: ArrayLike, y: ArrayLike, k: int, s: float, n_min: int | None,
                  sigma_min: float | None, variant: str, node_limit: int | None, restarts: int,
                  time_limit_s: float | None) -> tuple[NDArray, NDArray, int]:
    """Validate the inputs of :func:`fit_pclustreg`; returns (X, y, n_min)."""
    x = np.asarray(X, dtype=float)
    yy = np.asarray(y, dtype=float)
    if x.ndim != 2:
        raise ValueError("X must be a 2-D array (n x p, intercept column included)")
    n, p = x.shape
    if yy.shape != (n,):
        raise ValueError(f"y must be a 1-D array of length n = {n}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(yy))):
        raise ValueError("X and y must be finite")
    if not (isinstance(k, int | np.integer) and k >= 1):
        raise ValueError("k must be a positive integer")
    if p < 1:
        raise ValueError("X needs at least one column")
    if n < k * (p + 1):
        raise ValueError(f"n = {n} < k (p + 1) = {k * (p + 1)}: no feasible assignment")
    if np.linalg.matrix_rank(x) < p:
        raise ValueError("X is rank deficient")
    if variant not in ("chi2", "F"):
        raise ValueError("variant must be 'chi2' or 'F'")
    if not (isinstance(s, float | int) and 0.0 < float(s) < 1.0):
        raise ValueError("s must be in (0, 1)")
    if n_min is None:
        n_min = p + 1
    if not (isinstance(n_min, int | np.integer) and n_min >= p + 1):
        raise ValueError(f"n_min must be an integer >= p + 1 = {p + 1}")
    if k * n_min > n:
        raise ValueError(f"k n_min = {k * n_min} exceeds n = {n}")
    if sigma_min is None:
        if variant == "chi2":
            raise ValueError("the chi2 variant needs sigma_min > 0")
    elif not (math.isfinite(sigma_min) and sigma_min > 0):
        raise ValueError("sigma_min must be > 0")
    if node_limit is not None and not (isinstance(node_limit, int | np.integer)
                                       and node_limit >= 0):
        raise ValueError("node_limit must be None or an integer >= 0")
    if not (isinstance(restarts, int | np.integer) and restarts >= 1):
        raise ValueError("restarts must be an integer >= 1")
    if time_limit_s is not None and not time_limit_s > 0:
        raise ValueError("time_limit_s must be None or > 0")
    return x, yy, int(n_min)


@family_method("pclustreg", "regression", RegressionProblem, certifies=True)
def fit_pclustreg(problem: RegressionProblem, *, s: float = 0.999, n_min: int | None = None,
                  sigma_min: float | None = None, variant: Variant = "chi2",
                  node_limit: int | None = None, restarts: int = 1,
                  seed: int | np.random.Generator = 0, time_limit_s: float | None = None,
                  f_dof_scaling: bool = False, symmetry_breaking: bool = False,
                  cem_max_iter: int = 100,
                  node_callback: Callable[[NodeRecord], None] | None = None) -> PclustregResult:
    """Probabilistic branch-and-bound for clusterwise regression (Sec. 2.2, Theorem 2.2.4).

    ``problem.X`` n x p (p coefficients, the intercept column included), ``problem.y`` n,
    ``problem.k`` hyperplanes; ``s`` success probability (eps = (1 - s)/(n + k)); ``n_min``
    underestimate of the smallest cluster (default p + 1); ``sigma_min`` underestimate of the
    smallest noise sd (required by "chi2"; for "F" only the clusters with < p + 1 points use it,
    and ``None`` gives them an infinite bound); ``variant`` "chi2" (Eq. 2.3, pclustreg1) or "F"
    (Sec. 3.1, pclustreg2); ``node_limit`` maximum number of expanded nodes (None: unlimited);
    ``restarts`` CEM runs per node; ``time_limit_s`` checked before each expansion.

    Extensions (off by default): ``f_dof_scaling`` uses the correctly scaled F quantile
    (d1/d2) F_eps(d1, d2) (see :mod:`pclustreg_bounds`); ``symmetry_breaking`` lets point l + 1
    open at most one new cluster (clusters numbered by first use; the bound and log L^ are
    invariant under relabelling, so the guarantee is kept). ``node_callback`` receives a
    :class:`NodeRecord` for every created node (debugging, tests). The choices made where the
    thesis is silent are listed in the module docstring.
    """
    t0 = time.perf_counter()
    X, y, k = problem.X, problem.y, problem.k
    x, yy, n_min = _check_inputs(X, y, k, s, n_min, sigma_min, variant, node_limit, restarts,
                                 time_limit_s)
    if cem_max_iter < 1:
        raise ValueError("cem_max_iter must be >= 1")
    n, p = x.shape
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n).astype(np.int64)
    xp = np.ascontiguousarray(x[perm])
    yp = np.ascontiguousarray(yy[perm])
    eps = (1.0 - float(s)) / (n + k)
    tables = QuantileTables(n, eps)
    lab_dtype = np.int8 if k < 128 else np.int32

    inc_ll = -math.inf
    inc_lab: NDArray[np.int64] | None = None
    counters = {"cem": 0, "passes": 0, "dp": 0, "leaves": 0, "infeasible": 0, "cuts": 0,
                "created": 0}
    max_depth = 0

    def offer(labels_perm: NDArray[np.int64], ll: float, exact: bool) -> None:
        nonlocal inc_ll, inc_lab
        if ll > inc_ll:
            value = ll if exact else loglik_hat(xp, yp, labels_perm, k)
            if value > inc_ll or inc_lab is None:
                inc_ll, inc_lab = value, labels_perm.copy()

    def bound(nj: NDArray, ssr: NDArray) -> float:
        ub = node_upper_bound(nj, ssr, n, p, n_min, sigma_min, variant, tables, f_dof_scaling)
        counters["dp"] += int(ub.used_dp)
        return ub.value

    def lower(partial: NDArray) -> float:
        depth = partial.size
        init = np.full(n, -1, dtype=np.int64)
        init[:depth] = partial
        counts = np.bincount(partial.astype(np.int64), minlength=k)
        runs = restarts if np.any(counts < p + 1) else 1
        best = -math.inf
        for _ in range(runs):
            start = top_up(init, k, p + 1, rng)
            if start is None:
                continue
            out = modified_cem(xp, yp, k, start, cem_max_iter)
            counters["cem"] += 1
            counters["passes"] += out.n_passes
            offer(out.labels, out.loglik, exact=False)
            best = max(best, out.loglik)
        return best

    def record(partial: NDArray, ub: float, lb: float, status: str) -> None:
        counters["created"] += 1
        if node_callback is not None:
            d = partial.size
            node_callback(NodeRecord(d, perm[:d].copy(), partial.astype(np.int64), ub, lb,
                                      status))

    # root
    root_lab = np.zeros(0, dtype=lab_dtype)
    root_nj = np.zeros(k, dtype=np.int64)
    root_ssr = np.zeros(k)
    root_ub = bound(root_nj, root_ssr)
    root_lb = lower(root_lab)
    record(root_lab, root_ub, root_lb, "root")
    heap: list[tuple[float, int, int, tuple[NDArray, NDArray, NDArray]]] = []
    tie = 0
    if root_ub > inc_ll:
        heapq.heappush(heap, (-root_ub, 0, tie, (root_lab, root_nj, root_ssr)))
    trace = [(time.perf_counter() - t0, inc_ll, -heap[0][0] if heap else inc_ll)]
    n_expanded = 0
    status = "complete"
    progress = Progress("pclustreg", t0=t0, total=node_limit)

    def progress_fields() -> dict[str, object]:
        ub = -heap[0][0] if heap else inc_ll
        return {"expanded": n_expanded, "created": counters["created"], "queue": len(heap),
                "cuts": counters["cuts"], "incumbent": float(inc_ll), "best_bound": float(ub),
                "gap": f"{max(ub - inc_ll, 0.0):.6g} (log L)"}

    while heap:
        if -heap[0][0] <= inc_ll:
            break
        if node_limit is not None and n_expanded >= node_limit:
            status = "node_limit"
            break
        if time_limit_s is not None and time.perf_counter() - t0 >= time_limit_s:
            status = "time_limit"
            break
        _, _, _, (lab, nj, ssr) = heapq.heappop(heap)
        n_expanded += 1
        depth = lab.size
        max_depth = max(max_depth, depth + 1)
        n_open = k if not symmetry_breaking else min(k, int(lab.max(initial=-1)) + 2)
        children: list[tuple[float, NDArray, NDArray, NDArray, float]] = []
        for j in range(n_open):
            c_lab = np.append(lab, np.asarray(j, dtype=lab_dtype))
            c_nj = nj.copy()
            c_nj[j] += 1
            c_ssr = ssr.copy()
            if c_nj[j] >= p + 1:
                idx = np.flatnonzero(c_lab == j)
                c_ssr[j] = _ols_ssr(xp[idx], yp[idx])
            if depth + 1 == n:  # leaf: exact evaluation
                counters["leaves"] += 1
                full = c_lab.astype(np.int64)
                ll = loglik_hat(xp, yp, full, k) if np.all(c_nj >= p + 1) else -math.inf
                if ll > -math.inf:
                    offer(full, ll, exact=True)
                record(c_lab, bound(c_nj, c_ssr), ll, "leaf")
                continue
            ub = bound(c_nj, c_ssr)
            if ub == -math.inf:
                counters["infeasible"] += 1
                counters["cuts"] += 1
                record(c_lab, ub, -math.inf, "infeasible")
                continue
            children.append((ub, c_lab, c_nj, c_ssr, lower(c_lab)))
        for ub, c_lab, c_nj, c_ssr, lb in children:
            if ub <= inc_ll:
                counters["cuts"] += 1
                record(c_lab, ub, lb, "cut")
            else:
                tie += 1
                heapq.heappush(heap, (-ub, -c_lab.size, tie, (c_lab, c_nj, c_ssr)))
                record(c_lab, ub, lb, "open")
        trace.append((time.perf_counter() - t0, inc_ll, -heap[0][0] if heap else inc_ll))
        if progress.due():
            progress.report(count=n_expanded, **progress_fields())

    progress.done(status, **progress_fields())
    best_ub = -heap[0][0] if heap else inc_ll
    assert inc_lab is not None  # the root CEM always gives a feasible assignment
    labels = np.empty(n, dtype=np.int64)
    labels[perm] = inc_lab
    return PclustregResult(
        labels=labels,
        objective=float(inc_ll),
        lower_bound=float(inc_ll),
        upper_bound=float(best_ub),
        status=status,
        solver={"name": f"mixopt.pclustreg ({variant})"},
        n_expanded=n_expanded,
        n_nodes_created=counters["created"],
        n_cuts=counters["cuts"],
        n_cem_runs=counters["cem"],
        n_dp_solves=counters["dp"],
        trace=trace,
        time_s=time.perf_counter() - t0,
        permutation=perm,
        extra={"epsilon": eps, "variant": variant, "s": float(s), "n_min": n_min,
               "sigma_min": sigma_min, "restarts": restarts, "n_leaves": counters["leaves"],
               "n_infeasible": counters["infeasible"], "n_cem_passes": counters["passes"],
               "max_depth": max_depth, "root_ub": root_ub, "f_dof_scaling": f_dof_scaling,
               "symmetry_breaking": symmetry_breaking, "numba": HAVE_NUMBA,
               "n_open_at_stop": len(heap)},
    )
