"""Shared driver of the global methods (MINLP, MIQP): build, solve, evaluate, report bounds."""

from __future__ import annotations

import sys
from typing import Literal

import numpy as np

from mixopt.constraints import Constraints
from mixopt.methods.base import MethodResult, objective_constant, relative_gap
from mixopt.methods.map.formulations import (
    PI_FLOOR_NO_MIN_SIZE,
    Formulation,
    extract_solution,
    load_start,
)
from mixopt.methods.map.solvers import solve
from mixopt.objectives import map_objective, profile_parameters, profiled_objective
from mixopt.problem import MAPProblem

OPTIMALITY_GAP = 1e-4  # relative gap at which a run is reported as optimal
WarmStart = Literal["em"] | None


def set_warm_start(form: Formulation, problem: MAPProblem, constraints: Constraints,
                   warm_start: WarmStart, seed: int) -> list[str]:
    """Load a starting assignment into the model's z; returns notes (first: what was done)."""
    if warm_start is None:
        return []
    if warm_start != "em":
        raise ValueError(f"warm_start must be 'em' or None, got {warm_start!r}")
    from mixopt.methods.base import ModelNotSupportedError
    from mixopt.methods.map.em import fit_em

    try:
        labels = fit_em(problem, seed=seed, constraints=constraints).labels
    except ModelNotSupportedError as exc:
        return [f"no warm start: {exc}"]
    if constraints.pi_order and not constraints.fixed_labels(problem.n):
        # components are interchangeable: order them by size so that pi(z) is non-decreasing
        rank = np.argsort(np.argsort(np.bincount(labels, minlength=problem.k), kind="stable"))
        labels = rank[labels]
    mu, pi = profile_parameters(problem.y, labels, problem.k, problem.proportions)
    broken = constraints.violations(labels, problem.k, mu=mu, pi=pi)
    if broken:
        return [f"no warm start: EM's assignment violates {broken[0]}"]
    load_start(form, problem, labels)
    value = map_objective(problem.y, labels, mu, pi, problem.precision)
    return [f"warm start: EM's assignment (Problem (4) value {value:.6g} at its optimal mu, pi) "
            "given to the solver"]


def floor_correction(problem: MAPProblem, constraints: Constraints) -> float:
    """How much the floor ``pi_k >= eps`` of the formulations can raise the optimum above
    Problem (4)'s when empty clusters are allowed (``min_size: 0``, ``eps`` =
    ``PI_FLOOR_NO_MIN_SIZE``).

    From an optimum with some ``pi_k = 0``, ``pi' = (1 - K eps) pi + eps`` is feasible for the
    floored model and raises each point's ``-log pi_k`` by at most ``-log(1 - K eps)``; so the
    floored optimum exceeds Problem (4)'s by at most ``-n log(1 - K eps)``. With ``min_size >= 1``
    the floor ``L / n`` removes no optimum and the correction is 0; so with equal proportions
    (pi fixed at 1/K, no floor).
    """
    if constraints.min_size >= 1 or problem.proportions == "equal":
        return 0.0
    return float(-problem.n * np.log1p(-problem.k * PI_FLOOR_NO_MIN_SIZE))


def solve_formulation(
    form: Formulation,
    problem: MAPProblem,
    constraints: Constraints,
    backend: str,
    time_limit_s: float,
    threads: int,
    rel_gap: float = OPTIMALITY_GAP,
    log_progress: bool = False,
    warm_start: WarmStart = None,
    seed: int = 0,
) -> MethodResult:
    """Solve ``form`` and report Problem (4) at the incumbent with the solver's bounds.

    ``objective`` and ``upper_bound`` are Problem (4) evaluated at the returned (z, mu, pi), so for
    the MIQP they are exact even though the model approximates ``log pi``; ``lower_bound`` is the
    solver's dual bound, valid for Problem (4) for both formulations.

    ``warm_start="em"`` gives the solver EM's rounded assignment (run with ``seed`` and the same
    constraints) as its first incumbent when it satisfies every constraint.

    With equal proportions the model's objective leaves out ``n log K``
    (``form.info["objective_constant"]``): the solver's gap tolerance applies to the sum of
    squares, and the constant is added back to its bounds and trace here.
    """
    start_notes = set_warm_start(form, problem, constraints, warm_start, seed)
    out = solve(form.model, backend, nonlinear=form.nonlinear, time_limit=time_limit_s,
                threads=threads, rel_gap=rel_gap, stream=sys.stdout if log_progress else None,
                warmstart=bool(start_notes) and start_notes[0].startswith("warm start:"),
                progress=form.kind)
    notes = start_notes + list(out.notes)
    shift = float(form.info.get("objective_constant", 0.0))
    if shift:   # the solver's values of 1/2 SSE as values of Problem (4) (equal proportions)
        out.upper_bound, out.lower_bound = (None if v is None else v + shift
                                            for v in (out.upper_bound, out.lower_bound))
        out.trace = [(t, None if ub is None else ub + shift, None if lb is None else lb + shift)
                     for t, ub, lb in out.trace]
    correction = floor_correction(problem, constraints)
    if correction and out.lower_bound is not None:
        notes.append(f"dual bound lowered by {correction:.3g} = -n log(1 - K eps): the model "
                     f"floors pi at eps = {PI_FLOOR_NO_MIN_SIZE:g} while Problem (4) with empty "
                     "clusters allowed lets pi_k = 0")
    # the solver's dual bound made valid for Problem (4)
    out_lb = None if out.lower_bound is None else out.lower_bound - correction
    extra: dict[str, object] = {"formulation": form.kind, **form.info,
                                "solver_status": out.status,
                                "solver_upper_bound": out.upper_bound,
                                "model_objective": out.upper_bound,
                                "solver_wall_time_s": out.wall_time_s}
    solver = {"name": out.backend, "version": out.version, "options": out.options}
    k, d = problem.k, problem.d
    started = bool(start_notes) and start_notes[0].startswith("warm start:")
    if not out.has_solution and out.status in ("error", "time_limit") and started:
        # the warm start satisfies every constraint: it stays the incumbent
        notes.append(("the solver failed" if out.status == "error" else
                      "the solver stopped before taking up the warm start")
                     + "; reported solution = the warm start, lower bound = the solver's last "
                     "dual bound")
        out.has_solution = True   # the model still holds the warm start's values
    if not out.has_solution:
        status = "infeasible" if out.status == "infeasible" else out.status
        if status == "time_limit":
            notes.append(f"no feasible solution found within {time_limit_s} s")
        return MethodResult(labels=np.zeros(0, dtype=np.int64), mu=np.full((k, d), np.nan),
                            pi=np.full(k, np.nan), objective=float("nan"), status=status,
                            lower_bound=out_lb, upper_bound=None, solver=solver,
                            trace=out.trace, extra={**extra, "notes": notes})
    labels, mu, pi = extract_solution(form)
    objective = map_objective(problem.y, labels, mu, pi, problem.precision)
    extra["profiled_objective"] = profiled_objective(problem.y, labels, k, problem.precision,
                                                     problem.proportions)
    broken = constraints.violations(labels, k, mu=mu, pi=pi, tol=1e-6)
    notes += [f"returned solution violates: {v}" for v in broken]
    lb = out_lb
    if lb is not None and lb > objective + 1e-6 * max(1.0, abs(objective)):
        notes.append(f"solver bound {lb} exceeds the incumbent's objective {objective}")
    status = out.status
    gap = None if lb is None else relative_gap(objective, lb, objective_constant(problem))
    if status == "optimal" and (gap is None or gap > max(rel_gap, OPTIMALITY_GAP) * 1.01):
        # MIQP solved to optimality but its approximation leaves a gap on Problem (4).
        status = "approximate"
        notes.append(f"{form.kind} solved to optimality; Problem (4) gap {gap:.3g} remains "
                     "(approximation error)")
    return MethodResult(labels=labels, mu=mu, pi=pi, objective=objective, status=status,
                        lower_bound=lb, upper_bound=objective, solver=solver, trace=out.trace,
                        extra={**extra, "notes": notes})
