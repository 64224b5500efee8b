"""The objective of bclust for a fixed assignment (thesis Problem P(emptyset, c), Sec. 1.2.3).

For labels c the problem separates by cluster (docs/reference-bclust.md 1):

    Obj(c) = sum_j F(X_j),   F(X_j) = min_{M_j, gamma_j} sum_{i in j} loss(M_j x_i - gamma_j)
                                        - n_j log det M_j + n_j * const
    s.t. lambda_max(M_j) <= R lambda_min(M_j),  M_j symmetric positive definite,

with precision A_j = M_j^2 (so cond(Sigma_j) <= R^2 = the thesis' r^2) and mean
mu_j = M_j^-1 gamma_j. Two modes:

* ``thesis``: loss(v) = 1/2 ||v||_2 (Euclidean norm, **not squared**) and const = log(2 pi), once
  per point. This is what the author's code computes and what the thesis tables report
  (docs/reference-bclust.md 1); solved as a conic program with cvxpy (Clarabel by default).
* ``likelihood``: loss(v) = 1/2 ||v||^2 and const = (p/2) log(2 pi), so that Obj is the negative
  equal-weight Gaussian classification log-likelihood at the constrained ML estimate, which the
  thesis text describes. Exact closed form (:func:`fit_cluster_likelihood`): mu_j = cluster mean,
  Sigma_j shares the eigenvectors of the ML scatter S_j, and its eigenvalues are those of S_j
  clipped into [a, R^2 a] with the a that minimises the profile likelihood (Fritz, Garcia-Escudero
  and Mayo-Iscar 2013, for a single group). :func:`fit_cluster_cvxpy` solves the same program with
  cvxpy for checks and benchmarks.

Every cluster needs at least 2 points (constraint (1) of P(F, c) in the code); fewer gives
``inf`` (infeasible).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Mode = Literal["thesis", "likelihood"]
MODES: tuple[str, ...] = ("thesis", "likelihood")
LOG2PI = math.log(2.0 * math.pi)
MIN_CLUSTER_SIZE = 2


class BclustSolverError(RuntimeError):
    """The conic solver failed on a cluster problem (status other than optimal)."""


@dataclass(frozen=True)
class ClusterFit:
    """Optimal value and parameters of one cluster's problem F(X_j) (module docstring)."""

    value: float
    M: NDArray[np.float64]
    gamma: NDArray[np.float64]
    accurate: bool = True  # False: the conic solver reported "optimal_inaccurate"

    @property
    def precision(self) -> NDArray[np.float64]:
        """A_j = M_j^2."""
        return self.M @ self.M

    @property
    def mean(self) -> NDArray[np.float64]:
        """mu_j = M_j^-1 gamma_j."""
        return np.linalg.solve(self.M, self.gamma)


INFEASIBLE = ClusterFit(math.inf, np.empty((0, 0)), np.empty(0))


def check_restriction(R: float) -> float:
    """R >= 1 is the bound on cond(M_j); the thesis' r^2 is R^2."""
    R = float(R)
    if not np.isfinite(R) or R < 1.0:
        raise ValueError(f"restriction R must be a finite number >= 1, got {R}")
    return R


# --- likelihood mode: closed form ------------------------------------------------------------

def clip_eigenvalues(d: NDArray, c: float) -> tuple[NDArray, float]:
    """Eigenvalues lambda_l = clip(d_l, a, c a) minimising sum_l (d_l / lambda_l + log lambda_l).

    For fixed a the best lambda_l is clip(d_l, a, c a). On each interval between consecutive
    breakpoints {d_l} U {d_l / c} the sets clipped below (d_l < a) and above (d_l > c a) are fixed
    and the stationary point is a = (sum_below d_l + sum_above d_l / c) / (#below + #above); the
    minimum is at one of these points or a breakpoint, all of which are evaluated.
    Returns (lambda, a). Raises ValueError when every d_l is 0 (unbounded).
    """
    d = np.maximum(np.asarray(d, dtype=float), 0.0)
    if not np.any(d > 0):
        raise ValueError("all scatter eigenvalues are zero: the cluster's points coincide")
    if c == 1.0:
        a = float(d.mean())
        return np.full_like(d, a), a
    breaks = np.unique(np.concatenate([d, d / c]))
    breaks = breaks[breaks > 0]
    mids = np.concatenate([[breaks[0] / 2.0], (breaks[:-1] + breaks[1:]) / 2.0,
                           [breaks[-1] * 2.0]])
    below = d[None, :] < mids[:, None]
    above = d[None, :] > c * mids[:, None]
    count = below.sum(1) + above.sum(1)
    num = (d[None, :] * below).sum(1) + (d[None, :] * above).sum(1) / c
    stationary = np.where(count > 0, num / np.maximum(count, 1), mids)
    cand = np.concatenate([breaks, stationary[stationary > 0]])
    lam = np.clip(d[None, :], cand[:, None], c * cand[:, None])
    h = (d[None, :] / lam + np.log(lam)).sum(1)
    best = int(np.argmin(h))
    return lam[best], float(cand[best])


def fit_cluster_likelihood(Xj: NDArray, R: float) -> ClusterFit:
    """Closed-form F(X_j) in ``likelihood`` mode (module docstring).

    F = n_j/2 [sum_l (d_l / lambda_l + log lambda_l) + p log 2 pi], with d the eigenvalues of the
    ML scatter S_j = (1/n_j) sum (x_i - xbar)(x_i - xbar)^T and lambda from
    :func:`clip_eigenvalues` with c = R^2.
    """
    n, p = Xj.shape
    if n < MIN_CLUSTER_SIZE:
        return INFEASIBLE
    mean = Xj.mean(0)
    centred = Xj - mean
    d, V = np.linalg.eigh(centred.T @ centred / n)
    try:
        lam, _ = clip_eigenvalues(d, R * R)
    except ValueError:
        return INFEASIBLE
    value = 0.5 * n * (float(np.sum(np.maximum(d, 0.0) / lam + np.log(lam))) + p * LOG2PI)
    M = (V / np.sqrt(lam)) @ V.T
    return ClusterFit(value, M, M @ mean)


# --- conic programs (cvxpy) --------------------------------------------------------------------

class _ConicCluster:
    """A compiled cvxpy program for clusters of ``n`` points in ``p`` dimensions (DPP: the points
    are a parameter, so re-solving for another cluster of the same size skips compilation)."""

    def __init__(self, n: int, p: int, R: float, mode: Mode) -> None:
        import cvxpy as cp

        self.X = cp.Parameter((n, p))
        self.M = cp.Variable((p, p), symmetric=True)
        self.gamma = cp.Variable(p)
        resid = self.X @ self.M - np.ones((n, 1)) @ cp.reshape(self.gamma, (1, p), order="C")
        if mode == "thesis":
            loss = 0.5 * cp.sum(cp.norm(resid, 2, axis=1))
        else:
            loss = 0.5 * cp.sum_squares(resid)
        self.problem = cp.Problem(cp.Minimize(loss - n * cp.log_det(self.M)),
                                  [cp.lambda_max(self.M) <= R * cp.lambda_min(self.M)])
        self.n, self.p, self.mode = n, p, mode

    def solve(self, Xj: NDArray, solver: str, **solver_options: Any) -> ClusterFit:
        self.X.value = Xj
        try:
            with warnings.catch_warnings():  # "optimal_inaccurate" is reported in ClusterFit
                warnings.simplefilter("ignore", UserWarning)
                self.problem.solve(solver=solver, **solver_options)
        except Exception as exc:  # cvxpy raises SolverError, or ValueError for unknown solvers
            raise BclustSolverError(f"{solver} failed on a {self.n} x {self.p} cluster: "
                                    f"{exc}") from exc
        status = self.problem.status
        if status not in ("optimal", "optimal_inaccurate"):
            raise BclustSolverError(f"{solver} returned status {status!r} on a "
                                    f"{self.n} x {self.p} cluster")
        const = LOG2PI if self.mode == "thesis" else 0.5 * self.p * LOG2PI
        value = float(self.problem.value) + self.n * const
        return ClusterFit(value, np.asarray(self.M.value, dtype=float),
                          np.asarray(self.gamma.value, dtype=float), status == "optimal")


_COMPILED: dict[tuple[int, int, float, str], _ConicCluster] = {}


def installed_conic_solvers() -> list[str]:
    """cvxpy's installed solvers (names as cvxpy spells them)."""
    import cvxpy as cp

    return list(cp.installed_solvers())


def check_conic_solver(solver: str) -> str:
    """Upper-case cvxpy solver name; a clear error when it is not installed (e.g. MOSEK)."""
    name = solver.upper()
    if name not in installed_conic_solvers():
        hint = " (pip install mosek and a license file)" if name == "MOSEK" else ""
        raise BclustSolverError(f"conic solver {name!r} is not installed{hint}; installed: "
                                f"{installed_conic_solvers()}")
    return name


def fit_cluster_cvxpy(Xj: NDArray, R: float, mode: Mode = "thesis", solver: str = "CLARABEL",
                      **solver_options: Any) -> ClusterFit:
    """F(X_j) by cvxpy (any mode); programs are compiled once per (n_j, p, R, mode)."""
    n, p = Xj.shape
    if n < MIN_CLUSTER_SIZE:
        return INFEASIBLE
    key = (n, p, float(R), mode)
    prog = _COMPILED.get(key)
    if prog is None:
        prog = _COMPILED[key] = _ConicCluster(n, p, float(R), mode)
    return prog.solve(np.ascontiguousarray(Xj, dtype=float), solver, **solver_options)


ClusterSolver = Callable[[NDArray], ClusterFit]


def cluster_solver(mode: Mode, R: float, solver: str = "CLARABEL",
                   closed_form: bool = True) -> ClusterSolver:
    """The function X_j -> F(X_j) for ``mode``: the closed form for ``likelihood`` (unless
    ``closed_form`` is False, as in the benchmark), cvxpy with ``solver`` otherwise."""
    R = check_restriction(R)
    if mode not in MODES:
        raise ValueError(f"unknown bclust objective mode {mode!r}; one of {MODES}")
    if mode == "likelihood" and closed_form:
        return lambda Xj: fit_cluster_likelihood(Xj, R)
    name = check_conic_solver(solver)
    return lambda Xj: fit_cluster_cvxpy(Xj, R, mode, name)


def check_labels(X: ArrayLike, labels: ArrayLike, k: int) -> tuple[NDArray, NDArray[np.int64]]:
    """Validated (X, labels): finite n x p data, labels in 0..k-1 of length n."""
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim != 2 or Xa.shape[0] < 2:
        raise ValueError(f"X must be an n x p array with n >= 2, got shape {Xa.shape}")
    if not np.all(np.isfinite(Xa)):
        raise ValueError("X contains NaN or infinite values")
    lab = np.asarray(labels)
    if lab.shape != (Xa.shape[0],):
        raise ValueError(f"labels must have length n = {Xa.shape[0]}, got shape {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= k:
        raise ValueError(f"labels must be integers in 0..{k - 1}")
    return Xa, lab.astype(np.int64)


def bclust_objective(X: ArrayLike, labels: ArrayLike, k: int, R: float, mode: Mode = "thesis",
                     solver: str = "CLARABEL") -> tuple[float, list[ClusterFit]]:
    """Obj(c) = sum_j F(X_j) and the per-cluster fits (``inf`` if a cluster has < 2 points).

    This is the thesis' bclustEvalObjective (``mode="thesis"``) that every row of Tables
    1.1-1.5 reports, whichever method produced the labels.
    """
    Xa, lab = check_labels(X, labels, k)
    fit = cluster_solver(mode, R, solver)
    fits = [fit(Xa[lab == j]) for j in range(k)]
    return float(sum(f.value for f in fits)), fits
