"""EM for the Gaussian mixture with a known shared precision (relaxed z), Flaherty et al. Sec. 2.

EM relaxes z_ik in {0,1} to responsibilities on the simplex and alternates

    E-step  r_ik ∝ pi_k exp(-1/2 (y_i-mu_k)' Lambda (y_i-mu_k))
    M-step  mu_k = sum_i r_ik y_i / sum_i r_ik,   pi_k = (1/n) sum_i r_ik

(with equal proportions, ``proportions="equal"``, pi stays at 1/K: the M-step updates mu only)
from a K-means start, until the log-likelihood changes by less than ``tol`` (relative). The
returned clustering rounds r to the nearest integral assignment (argmax); ``objective`` is Problem
(4) at (rounded z, mu, pi) as reported in the paper's Table 2.

Side constraints: EM honours known labels (their responsibilities are fixed to the given component
at every E-step). When the rounded assignment breaks a z-constraint (an empty component under
``min_size``, a cannot-link pair together, ...), it is replaced by the cheapest feasible assignment
for EM's (mu, pi) and (mu, pi) are re-estimated (:mod:`mixopt.methods.map.rounding`); the record's
notes say so. EM cannot keep means inside ``mu_bounds`` and refuses them.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from mixopt.constraints import Constraints
from mixopt.methods.base import SIDE_CONSTRAINTS, MethodResult, map_method
from mixopt.methods.map.kmeans_start import KMeansSpace, kmeans_start
from mixopt.methods.map.rounding import round_to_model
from mixopt.objectives import map_objective, order_by_pi, profiled_objective, sq_mahalanobis
from mixopt.problem import MAPProblem


@map_method("em", constraints=tuple(c for c in SIDE_CONSTRAINTS if c != "mu_bounds"),
            proportions=("free", "equal"))
def fit_em(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    max_iter: int = 1000,
    tol: float = 1e-10,
    kmeans_n_init: int = 10,
    kmeans_space: KMeansSpace = "data",
) -> MethodResult:
    """Run EM from a K-means start seeded with ``seed``; see the module docstring."""
    y, k = problem.y, problem.k
    cons = constraints or Constraints()
    fixed = cons.fixed_labels(problem.n)
    fixed_idx = np.fromiter(fixed.keys(), dtype=np.int64, count=len(fixed))
    fixed_lab = np.fromiter(fixed.values(), dtype=np.int64, count=len(fixed))
    labels0, mu, pi = kmeans_start(problem, seed, n_init=kmeans_n_init, space=kmeans_space)
    prev = -np.inf
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        with np.errstate(divide="ignore"):
            logp = np.log(pi)[None, :] - 0.5 * sq_mahalanobis(y, mu, problem.precision)
        norm = logsumexp(logp, axis=1)
        loglik = float(norm.sum())  # up to the Gaussian normalising constant
        resp = np.exp(logp - norm[:, None])
        if fixed_idx.size:
            resp[fixed_idx] = 0.0
            resp[fixed_idx, fixed_lab] = 1.0
        mass = resp.sum(axis=0)
        alive = mass > 0
        mu = np.where(alive[:, None], resp.T @ y / np.where(alive, mass, 1.0)[:, None], mu)
        if problem.proportions == "free":
            pi = mass / y.shape[0]
        if abs(loglik - prev) <= tol * max(1.0, abs(loglik)):
            converged = True
            break
        prev = loglik
    labels = np.argmax(resp, axis=1).astype(np.int64)
    relaxed_objective = map_objective(y, resp, mu, pi, problem.precision)
    if cons.pi_order and not cons.names_components:
        labels, mu, pi, _ = order_by_pi(labels, mu, pi)
    labels, mu, pi, notes = round_to_model(problem, cons, labels, mu, pi, reestimate=True)
    return MethodResult(
        labels=labels,
        mu=mu,
        pi=pi,
        objective=map_objective(y, labels, mu, pi, problem.precision),
        status="local",
        iterations=iterations,
        solver={"name": "mixopt-em", "options": {"max_iter": max_iter, "tol": tol,
                                                 "kmeans_n_init": kmeans_n_init,
                                                 "kmeans_space": kmeans_space}},
        extra={
            "converged": converged,
            "log_likelihood": loglik,
            "relaxed_objective": relaxed_objective,
            "profiled_objective": profiled_objective(y, labels, k, problem.precision,
                                                     problem.proportions),
            "init_labels_changed": int((labels0 != labels).sum()),
            "notes": notes,
        },
    )
