"""tclust without trimming (alpha = 0): random starts and concentration steps
(docs/reference-tclust.md).

Python reimplementation of FSDA 8.5.32 ``tclust`` as the thesis calls it (docs/reference-tclust.md
3): ``tclust(X, k, 0, struct('pars','VVV','shw',r^2), 'equalweights', true, 'nsamp', 300)``.

Two covariance restrictions are available:

* ``restriction="gpcm"`` (default, the thesis call): FSDA ``restrSigmaGPCM`` for the VVV model
  (docs/reference-tclust.md 5.1) with within-cluster shape ratio ``shw = restr_factor`` and FSDA's
  filled-in defaults ``shb = 50`` and ``cdet = 100``. Within-cluster eigenvalue ratio <=
  restr_factor.
* ``restriction="eigen"``: classic scalar ``restrfactor`` (docs/reference-tclust.md 6): all k*v
  eigenvalues jointly truncated by ``restreigen`` (docs/reference-tclust.md 4) so that the global
  max/min eigenvalue <= restr_factor.

Objective (docs/reference-tclust.md 3.2 item 5, equal weights), for labels z and restricted ML
parameters:

    obj(z) = sum_{j: n_j > 0} sum_{i: z_i = j} log phi(x_i; m_j, S_j),

with m_j the cluster mean and S_j the restricted version of the ML scatter (divisor n_j).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import solve_triangular

from mixopt.methods.base import Result, family_method
from mixopt.problem import RobustProblem
from mixopt.progress import Progress
from mixopt.simulate.mixsim import GPCM, restr_sigma_gpcm, restreigen

Restriction = Literal["gpcm", "eigen"]
_LOG2PI = math.log(2.0 * math.pi)


@dataclass(kw_only=True)
class TclustResult(Result):
    """Output of :func:`fit_tclust` (FSDA ``out`` fields, docs/reference-tclust.md 3.4; labels
    0-based; ``status`` is ``local``).

    ``objective`` is FSDA's ``obj``: the step objective of the best start (docs/reference-tclust.md
    3.3), maximised. ``objective_labels`` is :func:`tclust_objective` of the returned ``labels``
    (after the final reassignment 3.4), the quantity comparable with the random/oracle baselines.
    """

    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]
    pi: NDArray[np.float64]
    objective_labels: float
    n_iter: int
    converged: bool
    fullsol: NDArray[np.float64]
    start_objectives: NDArray[np.float64]
    n_not_converged: int
    best_start: int
    kept_columns: NDArray[np.int64]

    @property
    def parameters(self) -> dict[str, Any]:
        """Means ``mu``, covariances ``sigma`` (of ``kept_columns``) and proportions ``pi``."""
        return {"mu": self.mu, "sigma": self.sigma, "pi": self.pi}


# --------------------------------------------------------------------------------------------
# building blocks


def check_input(X: ArrayLike, k: int, restr_factor: float) -> tuple[NDArray, NDArray[np.int64]]:
    """Validate data (docs/reference-tclust.md 1): finite, n >= k, rank; drops every constant
    column."""
    x = np.asarray(X, dtype=float)
    if x.ndim != 2:
        raise ValueError("X must be a 2-D array (n x v)")
    if not np.all(np.isfinite(x)):
        raise ValueError("X contains NaN or Inf")
    if not (isinstance(k, int | np.integer) and k >= 1):
        raise ValueError("k must be a positive integer")
    n = x.shape[0]
    if k > n:
        raise ValueError(f"k = {k} exceeds the number of points n = {n}")
    if not (np.isfinite(restr_factor) and restr_factor >= 1):
        raise ValueError("restr_factor must be >= 1")
    keep = np.flatnonzero(np.ptp(x, axis=0) > 0) if n > 0 else np.arange(0)
    x = x[:, keep]
    if x.shape[1] == 0:
        raise ValueError("X has no non-constant column")
    if n < x.shape[1] or np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValueError("X is rank deficient (or has fewer rows than columns)")
    return x, keep.astype(np.int64)


def log_densities(X: NDArray, mu: NDArray, sigma: NDArray) -> NDArray:
    """n x k matrix log phi(x_i; mu_j, sigma_j) via Cholesky (docs/reference-tclust.md 3.2 item 1).

    Columns whose Cholesky fails are -inf; clusters with a NaN centre are NaN.
    """
    n, v = X.shape
    out = np.empty((n, mu.shape[0]))
    for j in range(mu.shape[0]):
        if np.any(np.isnan(mu[j])):
            out[:, j] = np.nan
            continue
        try:
            chol = np.linalg.cholesky(sigma[j])
        except np.linalg.LinAlgError:
            out[:, j] = -np.inf
            continue
        z = solve_triangular(chol, (X - mu[j]).T, lower=True, check_finite=False)
        out[:, j] = -0.5 * v * _LOG2PI - np.log(np.diag(chol)).sum() - 0.5 * (z * z).sum(0)
    return out


def restrict(sigma: NDArray, weights: NDArray, restr_factor: float, restriction: Restriction,
             cdet: float = 100.0, shb: float = 50.0) -> NDArray:
    """Restricted scatters: GPCM VVV (docs/reference-tclust.md 5.1) or joint eigenvalue restriction
    (6)."""
    if restriction == "gpcm":
        model = GPCM(pars="VVV", shw=restr_factor, shb=shb, cdet=cdet)
        return restr_sigma_gpcm(sigma, weights, model)
    lam, vec = np.linalg.eigh(sigma)  # batched: lam (k, v), vec (k, v, v)
    lam = np.maximum(lam, 0.0)
    if lam.max() > 0 and (lam.min() <= 0 or lam.max() / lam.min() > restr_factor):
        lam = restreigen(lam.T, weights, restr_factor).T
    return np.einsum("jab,jb,jcb->jac", vec, lam, vec)


def ml_step(X: NDArray, labels: NDArray, k: int) -> tuple[NDArray, NDArray, NDArray]:
    """Cluster sizes, means and ML scatters (divisor n_j; docs/reference-tclust.md 3.2 item 3).

    Empty cluster: n_j = 0, mean NaN, scatter I.
    """
    v = X.shape[1]
    onehot = labels[:, None] == np.arange(k)[None, :]
    nj = onehot.sum(0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = (onehot.T @ X) / nj[:, None]
    sigma = np.repeat(np.eye(v)[None], k, axis=0)
    for j in np.flatnonzero(nj > 0):
        r = X[onehot[:, j]] - mu[j]
        sigma[j] = r.T @ r / nj[j]
    return nj, mu, sigma


def _step_objective(dens: NDArray, labels: NDArray, nj: NDArray) -> float:
    """obj = sum_{j: n_j>0} sum_{i in j} log phi(x_i; m_j, S_j) (docs/reference-tclust.md 3.2 item
    5)."""
    vals = dens[np.arange(labels.size), labels]
    return float(np.sum(vals[nj[labels] > 0]))


def _assign(dens: NDArray) -> NDArray[np.int64]:
    """argmax_j with NaN ignored, ties to the smallest j (docs/reference-tclust.md 3.2 item 2)."""
    d = np.where(np.isnan(dens), -np.inf, dens)
    return np.argmax(d, axis=1).astype(np.int64)


def tclust_objective(X: ArrayLike, labels: ArrayLike, k: int, restr_factor: float,
                     restriction: Restriction = "gpcm", cdet: float = 100.0,
                     shb: float = 50.0) -> float:
    """tclust's objective of a labelling (module docstring): one restricted ML step, then obj.

    ``X`` is used as given (no column dropping); labels are 0-based in 0..k-1.
    """
    x = np.asarray(X, dtype=float)
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != (x.shape[0],) or lab.min() < 0 or lab.max() >= k:
        raise ValueError("labels must be n integers in 0..k-1")
    nj, mu, s = ml_step(x, lab, k)
    s = restrict(s, nj, restr_factor, restriction, cdet, shb)
    return _step_objective(log_densities(x, mu, s), lab, nj)


@dataclass
class ConcentrationRun:
    """One start's concentration steps (docs/reference-tclust.md 3.2): final state and objective per
    step."""

    labels: NDArray[np.int64]
    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]
    nj: NDArray[np.float64]
    objectives: list[float]
    converged: bool


def concentration_steps(X: NDArray, mu: NDArray, sigma: NDArray, restr_factor: float,
                        restriction: Restriction = "gpcm", refsteps: int = 15,
                        reftol: float = 1e-5, cdet: float = 100.0,
                        shb: float = 50.0) -> ConcentrationRun:
    """Concentration steps from (mu, sigma) (docs/reference-tclust.md 3.2, equal weights, no
    trimming).

    Stops when the fraction of changed labels <= reftol (i.e. no change) or after refsteps steps
    (then ``converged=False``).
    """
    n = X.shape[0]
    k = mu.shape[0]
    prev = np.full(n, -1, dtype=np.int64)
    objs: list[float] = []
    nj = np.zeros(k)
    labels = prev
    converged = False
    for _ in range(refsteps):
        labels = _assign(log_densities(X, mu, sigma))
        nj, mu, s = ml_step(X, labels, k)
        sigma = restrict(s, nj, restr_factor, restriction, cdet, shb)
        objs.append(_step_objective(log_densities(X, mu, sigma), labels, nj))
        changed = np.count_nonzero(labels != prev) / n
        prev = labels
        if changed <= reftol:
            converged = True
            break
    return ConcentrationRun(labels, mu, sigma, nj, objs, converged)


def _start(X: NDArray, k: int, rng: np.random.Generator, restr_factor: float,
           restriction: Restriction, cdet: float, shb: float) -> tuple[NDArray, NDArray]:
    """Random start (docs/reference-tclust.md 3.1): k(v+1) distinct points, v+1 per cluster.

    Initial restriction weights n_j = floor(n u_j / sum u), u ~ U(0,1)^k.

    If k(v+1) > n, k single points with identity scatters are used instead.
    """
    n, v = X.shape
    u = rng.random(k)
    n0 = np.floor(n * u / u.sum())
    if k * (v + 1) <= n:
        idx = rng.choice(n, size=k * (v + 1), replace=False).reshape(k, v + 1)
        pts = X[idx]  # (k, v+1, v)
        mu = pts.mean(1)
        r = pts - mu[:, None, :]
        sigma = np.einsum("jia,jib->jab", r, r) / (v + 1)
    else:
        mu = X[rng.choice(n, size=k, replace=False)]
        sigma = np.repeat(np.eye(v)[None], k, axis=0)
    return mu, restrict(sigma, n0, restr_factor, restriction, cdet, shb)


# --------------------------------------------------------------------------------------------
# main entry point


@family_method("tclust", "robust", RobustProblem)
def fit_tclust(problem: RobustProblem, *, nsamp: int | None = 300, niter: int = 15,
               seed: int | np.random.Generator = 0, equal_weights: bool = True,
               restriction: Restriction = "gpcm", reftol: float = 1e-5, cdet: float = 100.0,
               shb: float = 50.0) -> TclustResult:
    """tclust, alpha = 0 (docs/reference-tclust.md 3): ``nsamp`` random starts, <= ``niter``
    concentration steps; the restriction factor (FSDA's shw, or restrfactor for ``eigen``) is
    ``problem.r2``.

    ``nsamp=None`` uses FSDA's default min(300, C(n, k(v+1))). The best start is the one with the
    largest final step objective (ties: later start); the returned labels come from one more
    assignment with its parameters (3.4). Constant columns are dropped first
    (docs/reference-tclust.md 1); ``mu``/``sigma`` refer to ``kept_columns``.
    """
    X, k, restr_factor = problem.X, problem.k, problem.r2
    if not equal_weights:
        raise NotImplementedError("only equal weights (the thesis call) are implemented")
    if restriction not in ("gpcm", "eigen"):
        raise ValueError("restriction must be 'gpcm' or 'eigen'")
    x, keep = check_input(X, k, restr_factor)
    n, v = x.shape
    if nsamp is None:
        nsamp = min(300, math.comb(n, min(n, k * (v + 1))))
    if nsamp < 1 or niter < 1:
        raise ValueError("nsamp and niter must be >= 1")
    rng = np.random.default_rng(seed)
    fullsol = np.empty(nsamp)
    first = np.empty(nsamp)
    best: ConcentrationRun | None = None
    best_i = -1
    not_conv = 0
    progress = Progress("tclust", total=nsamp)
    for i in range(nsamp):
        mu0, s0 = _start(x, k, rng, restr_factor, restriction, cdet, shb)
        run = concentration_steps(x, mu0, s0, restr_factor, restriction, niter, reftol, cdet, shb)
        fullsol[i], first[i] = run.objectives[-1], run.objectives[0]
        not_conv += int(not run.converged)
        if best is None or fullsol[i] >= fullsol[best_i]:
            best, best_i = run, i
        if progress.due():
            progress.report(count=i + 1, starts=f"{i + 1}/{nsamp}",
                            incumbent=float(fullsol[best_i]))
    assert best is not None
    progress.done("local", starts=nsamp, incumbent=float(fullsol[best_i]),
                  not_converged=not_conv)
    mu, sigma = best.mu.copy(), best.sigma.copy()
    empty = np.any(np.isnan(mu), axis=1)
    if empty.any():  # 3.4: clusters with a NaN centre move to the end
        order = np.concatenate([np.flatnonzero(~empty), np.flatnonzero(empty)])
        mu, sigma = mu[order], sigma[order]
    labels = _assign(log_densities(x, mu, sigma))
    siz = np.bincount(labels, minlength=k).astype(float)
    return TclustResult(
        labels=labels,
        status="local",
        solver={"name": "mixopt.tclust", "options": {"nsamp": nsamp, "niter": niter,
                                                     "restriction": restriction}},
        mu=mu,
        sigma=sigma,
        pi=siz / n,
        objective=float(fullsol[best_i]),
        objective_labels=tclust_objective(x, labels, k, restr_factor, restriction, cdet, shb),
        n_iter=len(best.objectives),
        converged=best.converged,
        fullsol=fullsol,
        start_objectives=first,
        n_not_converged=not_conv,
        best_start=best_i,
        kept_columns=keep,
        extra={"restriction": restriction, "nsamp": nsamp, "refsteps": niter, "reftol": reftol,
               "cdet": cdet, "shb": shb, "shw": restr_factor},
    )
