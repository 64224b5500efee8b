"""Pyomo models of MAP clustering: the exact MINLP (Problem 4) and the MIQP of Sec. 3.1.

Both use the Cholesky factor ``C`` of the known precision (``Lambda = C C'``), so that
``(y_i - mu_k)' Lambda (y_i - mu_k) = ||C'(y_i - mu_k)||^2`` is a sum of d squares.

MINLP (exact)::

    min  sum_ik z_ik [ 1/2 ||w_i - nu_k||^2 - log pi_k ]     w_i = C' y_i,  nu_k = C' mu_k
    s.t. sum_k z_ik = 1,  sum_k pi_k = 1,  mu_k in [min y, max y]  (+ side constraints)

MIQP (Section 3.1): ``t_ik = z_ik mu_k`` enforced by the four McCormick inequalities per coordinate
(exact for binary z), the quadratic term on ``y_i - sum_k t_ik``, and the cross-entropy term
``z_ik log pi_k`` replaced by ``w_ik`` with ``w_ik <= l_k - l_lo (1 - z_ik)``, ``w_ik <= 0`` and
``l_k <= log b + (pi_k - b)/b`` for regular breakpoints ``b`` (tangents of the concave log). The
tangents over-estimate ``log``, so the MIQP objective never exceeds Problem (4) at the same point
and the MIQP's dual bound is a valid lower bound for Problem (4); the number of breakpoints is the
paper's accuracy knob.

**Equal proportions** (``proportions="equal"``): pi is fixed at 1/K (no simplex constraint, no
``pi_order``, which equal weights satisfy) and the Pyomo objective is ``1/2 sum_i |w_i -
nu_{z_i}|^2`` alone: the MINLP is the MSSC program, and the MIQP keeps its exact McCormick
products and drops the ``log pi`` tangents (it is then exact too). The constant ``n log K`` is left
out of the solver's objective, so that its gap tolerance applies to the sum of squares; it is
``info["objective_constant"]``, added back to the bounds by
:func:`mixopt.methods.map.global_solve.solve_formulation`.

``pi_k`` is bounded below by ``max(L, 1)/n`` when every component has at least ``L >= 1`` points:
for fixed z the optimal ``pi`` (with or without the ordering constraint) is an average of
``n_k / n`` values, so this bound removes no optimal solution and keeps ``log pi_k`` finite. With
``L = 0`` the bound is ``1e-6``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyomo.environ as pyo
from numpy.typing import NDArray

from mixopt.constraints import Constraints, InfeasibleConstraintsError
from mixopt.problem import MAPProblem

PI_FLOOR_NO_MIN_SIZE = 1e-6


@dataclass
class Formulation:
    """A built Pyomo model and handles to its decision variables."""

    model: pyo.ConcreteModel
    kind: str
    nonlinear: bool
    n: int
    k: int
    d: int
    info: dict[str, Any]


def pi_lower_bound(n: int, min_size: int) -> float:
    """Valid lower bound on pi_k (see module docstring)."""
    return max(min_size, 1) / n if min_size >= 1 else PI_FLOOR_NO_MIN_SIZE


def tangent_breakpoints(pi_lo: float, count: int) -> NDArray[np.float64]:
    """``count`` regular breakpoints on [pi_lo, 1] for the tangent approximation of log."""
    if count < 1:
        raise ValueError(f"breakpoints must be >= 1, got {count}")
    if count == 1:
        return np.array([1.0])
    return np.linspace(pi_lo, 1.0, count)


def add_side_constraints(constraints: Constraints, model: Any, z: Any, mu: Any, pi: Any,
                         n: int, k: int, d: int) -> None:
    """Add every side constraint to the Pyomo ``model`` in a Block ``side_constraints``.

    ``z[i, kk]`` binary, ``mu[kk, j]`` and ``pi[kk]`` continuous. Known labels (propagated
    through must-link/implication groups) fix rows of z; mu bounds tighten the Var bounds
    (intersection); the rest become ConstraintLists on the block. Problem (4)'s own
    constraints (one component per point, pi on the simplex) are the caller's.
    """
    constraints.validate(n, k, d)
    if model.component("side_constraints") is not None:
        raise ValueError("model already has a component named 'side_constraints'")
    blk = pyo.Block()
    model.add_component("side_constraints", blk)

    def clist(name: str, exprs: list[Any]) -> None:
        if exprs:
            cl = pyo.ConstraintList()
            blk.add_component(name, cl)
            for expr in exprs:
                cl.add(expr)

    comps = range(k)
    clist("must_link", [z[i, kk] == z[j, kk] for i, j in constraints.must_link for kk in comps])
    clist("cannot_link", [z[i, kk] + z[j, kk] <= 1 for i, j in constraints.cannot_link
                          for kk in comps])
    clist("implies", [z[j, kk] <= z[i, kk] for j, i in constraints.implies for kk in comps])
    clist("packing", [sum(z[i, s.component] for i in s.points) <= s.count
                      for s in constraints.packing])
    clist("partition", [sum(z[i, s.component] for i in s.points) == s.count
                        for s in constraints.partition])
    clist("cover", [sum(z[i, s.component] for i in s.points) >= s.count
                    for s in constraints.cover])
    if constraints.min_size > 0:
        clist("min_size", [sum(z[i, kk] for i in range(n)) >= constraints.min_size for kk in comps])
    if constraints.pi_order:
        clist("pi_order", [pi[kk] <= pi[kk + 1] for kk in range(k - 1)])
    for i, c in sorted(constraints.fixed_labels(n).items()):
        for kk in comps:
            value = 1 if kk == c else 0
            var = z[i, kk]
            if var.fixed and var.value is not None and round(var.value) != value:
                raise InfeasibleConstraintsError(
                    f"known label {i} -> {c} needs z[{i}, {kk}] = {value}, but the model "
                    f"already fixes it to {var.value}")
            var.fix(value)
    if constraints.mu_lower is not None or constraints.mu_upper is not None:
        lo, hi = constraints.mu_box(k, d)
        for kk in comps:
            for j in range(d):
                var = mu[kk, j]
                if np.isfinite(lo[kk, j]):
                    var.setlb(lo[kk, j] if var.lb is None else max(var.lb, lo[kk, j]))
                if np.isfinite(hi[kk, j]):
                    var.setub(hi[kk, j] if var.ub is None else min(var.ub, hi[kk, j]))
                if var.lb is not None and var.ub is not None and var.lb > var.ub:
                    raise InfeasibleConstraintsError(
                        f"mu_bounds: the bounds of mu[{kk}, {j}] become empty "
                        f"([{var.lb}, {var.ub}]) when intersected with the model's bounds")


def objective_constant(problem: MAPProblem) -> float:
    """The part of Problem (4) left out of the Pyomo objective: ``n log K`` with equal
    proportions (see the module doc), else 0."""
    return float(problem.n * np.log(problem.k)) if problem.proportions == "equal" else 0.0


def _base_model(problem: MAPProblem, constraints: Constraints) -> tuple[pyo.ConcreteModel, float]:
    """Variables z, mu, pi with the assignment, simplex and side constraints (pi fixed at 1/K
    with equal proportions: no simplex constraint, ``pi_order`` holds)."""
    n, k, d = problem.n, problem.k, problem.d
    constraints.validate(n, k, d)
    lo, hi = problem.mu_bounds
    equal = problem.proportions == "equal"
    pi_lo = 1.0 / k if equal else pi_lower_bound(n, constraints.min_size)
    m = pyo.ConcreteModel(name="map_clustering")
    m.I = pyo.RangeSet(0, n - 1)
    m.K = pyo.RangeSet(0, k - 1)
    m.D = pyo.RangeSet(0, d - 1)

    def data_box(_: pyo.ConcreteModel, kk: int, j: int) -> tuple[float, float]:
        return float(lo[j]), float(hi[j])

    def one_component_per_point(m: pyo.ConcreteModel, i: int) -> pyo.Expression:
        return sum(m.z[i, kk] for kk in m.K) == 1

    m.z = pyo.Var(m.I, m.K, domain=pyo.Binary, doc="z_ik = 1: point i in component k")
    m.mu = pyo.Var(m.K, m.D, bounds=data_box, doc="means mu_k in the data box [M^L, M^U]")
    m.pi = pyo.Var(m.K, bounds=(pi_lo, 1.0), doc="proportions pi_k (floored, see pi_lower_bound)")
    m.assign = pyo.Constraint(m.I, rule=one_component_per_point, doc="sum_k z_ik = 1")
    if equal:
        for kk in m.K:
            m.pi[kk].fix(1.0 / k)
        constraints = replace(constraints, pi_order=False)
    else:
        m.simplex = pyo.Constraint(expr=sum(m.pi[kk] for kk in m.K) == 1, doc="sum_k pi_k = 1")
    add_side_constraints(constraints, m, m.z, m.mu, m.pi, n, k, d)
    return m, pi_lo


def _mu_bounds(m: pyo.ConcreteModel, k: int, d: int) -> tuple[NDArray[np.float64], ...]:
    lo = np.array([[m.mu[kk, j].lb for j in range(d)] for kk in range(k)], dtype=float)
    hi = np.array([[m.mu[kk, j].ub for j in range(d)] for kk in range(k)], dtype=float)
    return lo, hi


def build_minlp(problem: MAPProblem, constraints: Constraints) -> Formulation:
    """Problem (4) exactly, with z binary and the products z_ik * (...) kept (Section 2)."""
    n, k, d = problem.n, problem.k, problem.d
    m, pi_lo = _base_model(problem, constraints)
    chol = np.linalg.cholesky(problem.precision)
    w = problem.y @ chol  # rows w_i = C' y_i
    lo, hi = _mu_bounds(m, k, d)
    # nu_k = C' mu_k, bounded by interval arithmetic on the box of mu.
    nu_lo = np.einsum("kl,lj->kj", lo, np.maximum(chol, 0)) + np.einsum(
        "kl,lj->kj", hi, np.minimum(chol, 0))
    nu_hi = np.einsum("kl,lj->kj", hi, np.maximum(chol, 0)) + np.einsum(
        "kl,lj->kj", lo, np.minimum(chol, 0))

    def whitened_box(_: pyo.ConcreteModel, kk: int, j: int) -> tuple[float, float]:
        return float(nu_lo[kk, j]), float(nu_hi[kk, j])

    def whitened_mean(m: pyo.ConcreteModel, kk: int, j: int) -> pyo.Expression:
        return m.nu[kk, j] == sum(float(chol[l_, j]) * m.mu[kk, l_] for l_ in range(d))

    equal = problem.proportions == "equal"

    def neg_log_posterior(m: pyo.ConcreteModel) -> pyo.Expression:
        return sum(m.z[i, kk] * (0.5 * sum((float(w[i, j]) - m.nu[kk, j]) ** 2 for j in range(d))
                                 - (0.0 if equal else pyo.log(m.pi[kk])))
                   for i in range(n) for kk in range(k))

    m.nu = pyo.Var(m.K, m.D, bounds=whitened_box, doc="nu_k = C' mu_k (Lambda = C C')")
    m.whiten = pyo.Constraint(m.K, m.D, rule=whitened_mean, doc="nu_kj = sum_l C_lj mu_kl")
    m.obj = pyo.Objective(rule=neg_log_posterior, sense=pyo.minimize,
                          doc="Problem (4): sum_ik z_ik [1/2 |w_i - nu_k|^2 - log pi_k]")
    return Formulation(m, "minlp", True, n, k, d, {
        "pi_lower_bound": pi_lo, "objective_constant": objective_constant(problem)})


def build_miqp(problem: MAPProblem, constraints: Constraints, breakpoints: int) -> Formulation:
    """The MIQP approximation of Section 3.1 (McCormick products, tangent log, see module doc)."""
    n, k, d = problem.n, problem.k, problem.d
    m, pi_lo = _base_model(problem, constraints)
    chol = np.linalg.cholesky(problem.precision)
    y = problem.y
    lo, hi = _mu_bounds(m, k, d)
    log_lo = float(np.log(pi_lo))
    bps = tangent_breakpoints(pi_lo, breakpoints)

    # McCormick envelope of t_ikj = z_ik mu_kj (z binary, mu_kj in [lo_kj, hi_kj])
    def mccormick_lower_z(m: pyo.ConcreteModel, i: int, kk: int, j: int) -> pyo.Expression:
        return float(lo[kk, j]) * m.z[i, kk] <= m.t[i, kk, j]

    def mccormick_upper_z(m: pyo.ConcreteModel, i: int, kk: int, j: int) -> pyo.Expression:
        return m.t[i, kk, j] <= float(hi[kk, j]) * m.z[i, kk]

    def mccormick_lower_mu(m: pyo.ConcreteModel, i: int, kk: int, j: int) -> pyo.Expression:
        return m.mu[kk, j] - float(hi[kk, j]) * (1 - m.z[i, kk]) <= m.t[i, kk, j]

    def mccormick_upper_mu(m: pyo.ConcreteModel, i: int, kk: int, j: int) -> pyo.Expression:
        return m.t[i, kk, j] <= m.mu[kk, j] - float(lo[kk, j]) * (1 - m.z[i, kk])

    def residual(m: pyo.ConcreteModel, i: int, j: int) -> pyo.Expression:
        return m.e[i, j] == sum(float(chol[l_, j]) * (float(y[i, l_])
                                                      - sum(m.t[i, kk, l_] for kk in m.K))
                                for l_ in range(d))

    def tangent_of_log(m: pyo.ConcreteModel, kk: int, b: int) -> pyo.Expression:
        return m.logpi[kk] <= float(np.log(bps[b])) + (m.pi[kk] - float(bps[b])) / float(bps[b])

    def log_weight_if_assigned(m: pyo.ConcreteModel, i: int, kk: int) -> pyo.Expression:
        return m.w[i, kk] <= m.logpi[kk] - log_lo * (1 - m.z[i, kk])

    def miqp_objective(m: pyo.ConcreteModel) -> pyo.Expression:
        return (0.5 * sum(m.e[i, j] ** 2 for i in m.I for j in m.D)
                - sum(m.w[i, kk] for i in m.I for kk in m.K))

    m.t = pyo.Var(m.I, m.K, m.D, doc="t_ikj = z_ik mu_kj (Sec. 3.1)")
    m.mc_lo = pyo.Constraint(m.I, m.K, m.D, rule=mccormick_lower_z, doc="lo_kj z_ik <= t_ikj")
    m.mc_hi = pyo.Constraint(m.I, m.K, m.D, rule=mccormick_upper_z, doc="t_ikj <= hi_kj z_ik")
    m.mc_mu_lo = pyo.Constraint(m.I, m.K, m.D, rule=mccormick_lower_mu,
                                doc="mu_kj - hi_kj (1 - z_ik) <= t_ikj")
    m.mc_mu_hi = pyo.Constraint(m.I, m.K, m.D, rule=mccormick_upper_mu,
                                doc="t_ikj <= mu_kj - lo_kj (1 - z_ik)")
    # e_i = C'(y_i - sum_k t_ik): the quadratic term becomes 1/2 sum_ij e_ij^2.
    m.e = pyo.Var(m.I, m.D, doc="whitened residual e_i = C'(y_i - sum_k t_ik)")
    m.resid = pyo.Constraint(m.I, m.D, rule=residual, doc="e_ij = sum_l C_lj (y_il - sum_k t_ikl)")
    if problem.proportions == "equal":   # pi = 1/K: the MSSC program, n log K left out
        m.obj = pyo.Objective(expr=0.5 * sum(m.e[i, j] ** 2 for i in m.I for j in m.D),
                              sense=pyo.minimize, doc="1/2 sum_ij e_ij^2")
        return Formulation(m, "miqp", False, n, k, d, {
            "pi_lower_bound": pi_lo, "objective_constant": objective_constant(problem)})
    m.B = pyo.RangeSet(0, len(bps) - 1)
    m.logpi = pyo.Var(m.K, bounds=(log_lo, 0.0), doc="outer approximation of log pi_k")
    m.tangent = pyo.Constraint(m.K, m.B, rule=tangent_of_log,
                               doc="logpi_k <= log p_b + (pi_k - p_b) / p_b at breakpoints p_b")
    m.w = pyo.Var(m.I, m.K, bounds=(log_lo, 0.0), doc="w_ik = z_ik log pi_k")
    m.xent = pyo.Constraint(m.I, m.K, rule=log_weight_if_assigned,
                            doc="w_ik <= logpi_k - log(pi_lo) (1 - z_ik)")
    m.obj = pyo.Objective(rule=miqp_objective, sense=pyo.minimize,
                          doc="1/2 sum_ij e_ij^2 - sum_ik w_ik")
    return Formulation(m, "miqp", False, n, k, d,
                       {"pi_lower_bound": pi_lo, "breakpoints": bps.tolist(),
                        "objective_constant": 0.0})


def extract_solution(
    form: Formulation,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """(labels, mu, pi) from the loaded variable values (z rounded to the nearest assignment)."""
    m = form.model
    z = np.array([[pyo.value(m.z[i, kk]) for kk in range(form.k)] for i in range(form.n)])
    mu = np.array([[pyo.value(m.mu[kk, j]) for j in range(form.d)] for kk in range(form.k)])
    pi = np.array([pyo.value(m.pi[kk]) for kk in range(form.k)])
    return np.argmax(z, axis=1).astype(np.int64), mu, pi


def load_start(form: Formulation, problem: MAPProblem, labels: NDArray[np.int64]) -> None:
    """Set every variable of ``form`` to the point of assignment ``labels`` with mu, pi at their
    optimum for it (clipped to the model's bounds): a complete starting solution for the solver."""
    m, n, k, d = form.model, form.n, form.k, form.d
    from mixopt.objectives import profile_parameters

    mu, pi = profile_parameters(problem.y, labels, k, problem.proportions)
    lo, hi = _mu_bounds(m, k, d)
    mu = np.clip(np.nan_to_num(mu, nan=0.0), lo, hi)
    pi = np.maximum(pi, form.info["pi_lower_bound"])
    z = np.zeros((n, k))
    z[np.arange(n), labels] = 1.0
    for i in range(n):
        for kk in range(k):
            m.z[i, kk].value = z[i, kk]
    for kk in range(k):
        if not m.pi[kk].fixed:
            m.pi[kk].value = float(pi[kk])
        for j in range(d):
            m.mu[kk, j].value = float(mu[kk, j])
    chol = np.linalg.cholesky(problem.precision)
    if form.kind == "minlp":
        nu = mu @ chol
        for kk in range(k):
            for j in range(d):
                m.nu[kk, j].value = float(nu[kk, j])
    elif form.kind == "miqp" and problem.proportions == "equal":
        e = (problem.y - (z[:, :, None] * mu[None, :, :]).sum(axis=1)) @ chol
        for i in range(n):
            for j in range(d):
                m.e[i, j].value = float(e[i, j])
                for kk in range(k):
                    m.t[i, kk, j].value = float(z[i, kk] * mu[kk, j])
    elif form.kind == "miqp":
        t = z[:, :, None] * mu[None, :, :]
        e = (problem.y - t.sum(axis=1)) @ chol
        bps = np.asarray(form.info["breakpoints"])
        log_lo = float(np.log(form.info["pi_lower_bound"]))
        logpi = np.maximum(np.min(np.log(bps)[None, :] + (pi[:, None] - bps[None, :])
                                  / bps[None, :], axis=1), log_lo)
        for i in range(n):
            for j in range(d):
                m.e[i, j].value = float(e[i, j])
            for kk in range(k):
                m.w[i, kk].value = float(logpi[kk]) if z[i, kk] else 0.0
                for j in range(d):
                    m.t[i, kk, j].value = float(t[i, kk, j])
        for kk in range(k):
            m.logpi[kk].value = float(logpi[kk])
