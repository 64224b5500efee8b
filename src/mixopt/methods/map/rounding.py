"""From a method's (possibly fractional or infeasible) answer to a clustering of the model.

Local methods end with an assignment that is the row-wise argmax of their responsibilities; it can
break the model's z-constraints (an empty component under ``min_size``, a cannot-link pair in one
cluster, ...). :func:`round_to_model` then picks the cheapest assignment that satisfies every
z-constraint, for the costs ``c_ik = 1/2 (y_i - mu_k)' Lambda (y_i - mu_k) - log pi_k`` of the
method's own parameters: a small integer program (HiGHS through :func:`scipy.optimize.milp`) over
:meth:`~mixopt.constraints.Constraints.linear_system`. Methods whose parameters already satisfy
the model (SLSQP, SA) keep them; the others re-estimate (mu, pi) for the new assignment.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, vstack

from mixopt.constraints import Constraints, InfeasibleConstraintsError
from mixopt.objectives import map_objective, order_by_pi, profile_parameters, sq_mahalanobis
from mixopt.problem import MAPProblem

FloatArray = NDArray[np.float64]
#: cost of a point in a component with pi_k = 0, finite so that the program stays well posed
_EMPTY_COMPONENT_COST = 1e6


def assignment_costs(problem: MAPProblem, mu: FloatArray, pi: FloatArray) -> FloatArray:
    """``c_ik = 1/2 (y_i - mu_k)' Lambda (y_i - mu_k) - log pi_k`` (n x K)."""
    with np.errstate(divide="ignore"):
        logpi = np.log(np.asarray(pi, dtype=float))
    logpi = np.where(np.isfinite(logpi), logpi, -_EMPTY_COMPONENT_COST)
    return 0.5 * sq_mahalanobis(problem.y, mu, problem.precision) - logpi[None, :]


def cheapest_feasible_labels(costs: FloatArray, constraints: Constraints,
                             ordered_sizes: bool = False) -> NDArray[np.int64]:
    """argmin over feasible z of ``sum_ik c_ik z_ik``; ``ordered_sizes`` adds
    ``n_1 <= ... <= n_K`` (``pi_order`` for profiled proportions ``pi_k = n_k / n``)."""
    n, k = costs.shape
    a_eq, b_eq, a_ub, b_ub = constraints.linear_system(n, k)
    if ordered_sizes and k > 1:
        rows, cols, vals = [], [], []
        for kk in range(k - 1):  # sum_i z_ik - sum_i z_i,k+1 <= 0
            rows += [kk] * (2 * n)
            cols += list(np.arange(n) * k + kk) + list(np.arange(n) * k + kk + 1)
            vals += [1.0] * n + [-1.0] * n
        order_rows = csr_array((vals, (rows, cols)), shape=(k - 1, n * k))
        a_ub = vstack([a_ub, order_rows]).tocsr() if a_ub.shape[0] else order_rows
        b_ub = np.append(b_ub, np.zeros(k - 1))
    parts = [LinearConstraint(a_eq, b_eq, b_eq)]
    if a_ub.shape[0]:
        parts.append(LinearConstraint(a_ub, -np.inf, b_ub))
    res = milp(costs.ravel(), constraints=parts, integrality=np.ones(n * k),
               bounds=Bounds(0.0, 1.0))
    if res.x is None:
        raise InfeasibleConstraintsError(f"no clustering satisfies the constraints ({res.message})")
    return np.argmax(res.x.reshape(n, k), axis=1).astype(np.int64)


def _constrained_descent(
    problem: MAPProblem, constraints: Constraints, labels: NDArray[np.int64], mu: FloatArray,
    pi: FloatArray, ordered: bool, max_rounds: int = 20,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Alternate cheapest feasible assignment and profiled (mu, pi) until the assignment repeats,
    keeping the best clustering seen (weights are floored at one point's, 1/n, in the costs, so a
    step need not lower Problem (4)); an empty component first takes the worst-fitted point as
    its mean, so that it can relieve a far cluster."""
    floor = 1.0 / problem.n
    mu, pi = np.array(mu, dtype=float), np.array(pi, dtype=float)
    costs = assignment_costs(problem, mu, np.maximum(pi, floor))
    fit = costs[np.arange(problem.n), labels]
    for c, i in zip(np.flatnonzero(np.bincount(labels, minlength=problem.k) == 0),
                    np.argsort(fit)[::-1], strict=False):
        mu[c] = problem.y[i]
        if problem.proportions == "free":
            pi[c] = floor
    best: tuple[float, NDArray[np.int64], FloatArray, FloatArray] | None = None
    current = None
    for _ in range(max_rounds):
        new = cheapest_feasible_labels(
            assignment_costs(problem, mu, np.maximum(pi, floor)), constraints, ordered)
        if current is not None and np.array_equal(new, current):
            break
        current = new
        mu, pi = profile_parameters(problem.y, new, problem.k, problem.proportions)
        value = map_objective(problem.y, new, mu, pi, problem.precision)
        if best is None or value < best[0]:
            best = (value, new, mu, pi)
    assert best is not None
    return best[1], best[2], best[3]


def round_to_model(
    problem: MAPProblem,
    constraints: Constraints,
    labels: NDArray[np.int64],
    mu: FloatArray,
    pi: FloatArray,
    reestimate: bool,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray, list[str]]:
    """Return ``(labels, mu, pi, notes)`` satisfying the model.

    Unchanged when ``labels`` (with ``mu``, ``pi``) already satisfy it. Otherwise the labels
    become :func:`cheapest_feasible_labels` for the costs of ``(mu, pi)``; with ``reestimate``
    (methods whose parameters do not carry the constraints) ``(mu, pi)`` become the profiled
    optimum for the new labels (cluster means, ``n_k / n`` or 1/K), relabelled for ``pi_order`` when
    components are exchangeable.
    """
    k = problem.k
    broken = constraints.violations(labels, k, mu=mu, pi=pi, tol=1e-9)
    if not broken:
        return labels, mu, pi, []
    named = constraints.names_components
    ordered = reestimate and constraints.pi_order and named
    if not reestimate:
        new = cheapest_feasible_labels(assignment_costs(problem, mu, pi), constraints)
    else:
        new, mu, pi = _constrained_descent(problem, constraints, labels, mu, pi, ordered)
        if constraints.pi_order and not named:
            new, mu, pi, _ = order_by_pi(new, mu, pi)
    moved = int(np.sum(new != labels))
    note = (f"rounded assignment violated {broken[0]}"
            + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "")
            + f"; repaired to the cheapest feasible assignment ({moved} points moved"
            + ("; mu, pi re-estimated)" if reestimate else ")"))
    return new, mu, pi, [note]
