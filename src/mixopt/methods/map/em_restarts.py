"""EM restarted from random initial values; the best local MAP found (Flaherty et al. Sec. 4.1).

The paper restarts EM "from random initial values" for 12 hours and keeps the best local MAP value,
to show that restarts do not certify (or even reach) the global optimum. Each restart draws

    mu_k = K distinct data points chosen uniformly,   pi ~ Dirichlet(1, ..., 1),

runs the EM iterations of :mod:`mixopt.methods.map.em` to convergence (relative log-likelihood
change <= ``tol``) and rounds the responsibilities to an integral z. A restart is scored by the
local MAP value of its clustering: Problem (4) at (rounded z, mu(z), pi(z)) with the parameters at
their optimum for that z (``score="profiled"``, the default; on iris1d n = 45 it reproduces the
paper's 194.9582), or at EM's own (mu, pi) (``score="em"``, the convention of the paper's Table 2 EM
column). Restarts run as one vectorized batch (arrays batch x n x K): a thousand restarts on iris1d
take about a second.

With equal proportions (``proportions="equal"``) every start has pi = 1/K and EM keeps it.

Stops after ``restarts`` restarts or, when ``time_budget_s`` is set, when the budget is spent
(the paper profile: 12 h), whichever comes first. The record keeps the restart count, every
improvement of the best value (restart index, objective), and a histogram of the local optima.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from mixopt.constraints import Constraints
from mixopt.methods.base import MethodResult, map_method
from mixopt.methods.map.rounding import round_to_model
from mixopt.objectives import map_objective, order_by_pi, profile_parameters
from mixopt.problem import MAPProblem
from mixopt.progress import Progress

FloatArray = NDArray[np.float64]
Score = Literal["profiled", "em"]
IMPROVEMENT_RTOL = 1e-8  # smaller decreases are EM's convergence noise, not a new local optimum


def random_starts(
    y: FloatArray, k: int, batch: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """``batch`` random initial values: mu from K distinct points, pi ~ Dirichlet(1)."""
    n = y.shape[0]
    idx = np.argsort(rng.random((batch, n)), axis=1)[:, :k]
    return y[idx], rng.dirichlet(np.ones(k), size=batch)


def batched_em(
    y: FloatArray, precision: FloatArray, mu: FloatArray, pi: FloatArray,
    max_iter: int, tol: float, fixed_pi: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """EM for many starts at once: ``mu`` (B, K, d), ``pi`` (B, K) -> responsibilities (B, n, K),
    final mu, pi and a per-start convergence flag. Converged starts are frozen; ``fixed_pi``
    keeps pi (equal proportions)."""
    mu, pi = mu.copy(), pi.copy()
    batch = mu.shape[0]
    chol = np.linalg.cholesky(precision)
    yw = y @ chol                                       # whitened points (n, d)
    prev = np.full(batch, -np.inf)
    done = np.zeros(batch, dtype=bool)
    resp = np.empty((batch, y.shape[0], mu.shape[1]))
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        muw = mu[act] @ chol                            # (b, K, d)
        d2 = ((yw[None, :, None, :] - muw[:, None, :, :]) ** 2).sum(axis=-1)
        with np.errstate(divide="ignore"):
            logp = np.log(pi[act])[:, None, :] - 0.5 * d2
        norm = logsumexp(logp, axis=2)                  # (b, n)
        r = np.exp(logp - norm[:, :, None])
        resp[act] = r
        mass = r.sum(axis=1)                            # (b, K)
        alive = mass > 0
        new_mu = np.einsum("bnk,nd->bkd", r, y) / np.where(alive, mass, 1.0)[:, :, None]
        mu[act] = np.where(alive[:, :, None], new_mu, mu[act])
        if not fixed_pi:
            pi[act] = mass / y.shape[0]
        loglik = norm.sum(axis=1)
        conv = np.abs(loglik - prev[act]) <= tol * np.maximum(1.0, np.abs(loglik))
        prev[act] = loglik
        done[act[conv]] = True
    return resp, mu, pi, done


@map_method("em_restarts", constraints=("pi_order",), proportions=("free", "equal"))
def fit_em_restarts(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    restarts: int | None = 1000,
    time_budget_s: float | None = None,
    batch: int = 250,
    max_iter: int = 1000,
    tol: float = 1e-10,
    score: Score = "profiled",
) -> MethodResult:
    """Best of EM restarted from random initial values; see the module docstring."""
    if restarts is None and time_budget_s is None:
        raise ValueError("em_restarts needs a restart count, a time budget, or both")
    if score not in ("profiled", "em"):
        raise ValueError(f"score must be 'profiled' or 'em', got {score!r}")
    if restarts is not None and restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    cons = constraints or Constraints()
    y, k, lam = problem.y, problem.k, problem.precision
    equal = problem.proportions == "equal"
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    done = 0
    best: tuple[float, NDArray[np.int64], FloatArray, FloatArray, float] | None = None
    improvements: list[tuple[int, float]] = []
    optima: Counter[float] = Counter()
    not_converged = violating = 0
    best_violating: tuple[float, NDArray[np.int64], FloatArray, FloatArray] | None = None
    progress = Progress("em_restarts", t0=t0, total=restarts)

    def progress_fields() -> dict[str, object]:
        return {"restarts": done if restarts is None else f"{done}/{restarts}",
                "incumbent": None if best is None else best[0],
                "improvements": len(improvements), "distinct_optima": len(optima)}

    while restarts is None or done < restarts:
        if time_budget_s is not None and time.perf_counter() - t0 >= time_budget_s:
            break
        size = batch if restarts is None else min(batch, restarts - done)
        mu0, pi0 = random_starts(y, k, size, rng)
        if equal:
            pi0 = np.full_like(pi0, 1.0 / k)
        resp, mu, pi, conv = batched_em(y, lam, mu0, pi0, max_iter, tol, fixed_pi=equal)
        not_converged += int((~conv).sum())
        labels = np.argmax(resp, axis=2)
        for b in range(size):
            lab = labels[b].astype(np.int64)
            em_obj = map_objective(y, lab, mu[b], pi[b], lam)
            if np.bincount(lab, minlength=k).min() < cons.min_size:
                violating += 1
                if best_violating is None or em_obj < best_violating[0]:
                    best_violating = (em_obj, lab, mu[b].copy(), pi[b].copy())
                continue
            if score == "profiled":
                mu_b, pi_b = profile_parameters(y, lab, k, problem.proportions)
                obj = map_objective(y, lab, mu_b, pi_b, lam)
            else:
                mu_b, pi_b, obj = mu[b].copy(), pi[b].copy(), em_obj
            optima[round(obj, 4)] += 1
            if best is None or obj < best[0] - IMPROVEMENT_RTOL * abs(best[0]):
                best = (obj, lab, mu_b, pi_b, em_obj)
                improvements.append((done + b + 1, obj))
        done += size
        if progress.due():
            progress.report(count=done, **progress_fields())
    progress.done("local", **progress_fields())
    notes = ([f"{violating} of {done} restarts left a cluster below the minimum size and were "
              "discarded"] if violating else [])
    if best is None:
        assert best_violating is not None
        em_obj, labels, mu, pi = best_violating
        labels, mu, pi, repaired = round_to_model(problem, cons, labels, mu, pi, reestimate=True)
        obj = map_objective(y, labels, mu, pi, lam)
        notes += [f"no restart met the minimum cluster size {cons.min_size}: the best one by "
                  "its EM objective was repaired", *repaired]
    else:
        obj, labels, mu, pi, em_obj = best
    if cons.pi_order:
        labels, mu, pi, _ = order_by_pi(labels, mu, pi)
    top = sorted(optima.items())[:50]
    return MethodResult(
        labels=labels, mu=mu, pi=pi, objective=obj, status="local", iterations=done,
        solver={"name": "mixopt-em-restarts",
                "options": {"restarts": restarts, "time_budget_s": time_budget_s, "batch": batch,
                            "max_iter": max_iter, "tol": tol, "init": "random",
                            "score": score}},
        extra={
            "restarts": done,
            "improvements": [[i, v] for i, v in improvements],
            "local_optima": [[v, c] for v, c in top],
            "distinct_local_optima": len(optima),
            "not_converged": not_converged,
            "violating_min_size": violating,
            "score": score,
            "em_objective": em_obj,
            "notes": notes,
        },
    )
