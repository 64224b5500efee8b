"""MAP clustering via the MIQP approximation of Section 3.1 (McCormick products, tangent log).

The record reports Problem (4) at the returned solution (``objective``) and the MIQP's own
objective value (``extra.model_objective``); the MIQP dual bound is a valid lower bound for
Problem (4) (see :mod:`mixopt.methods.map.formulations`). The paper solved the MIQP with Gurobi;
the default here is ``auto`` (Gurobi when installed and licensed, else SCIP).
"""

from __future__ import annotations

from mixopt.constraints import Constraints
from mixopt.methods.base import SIDE_CONSTRAINTS, MethodResult, map_method
from mixopt.methods.map.formulations import build_miqp
from mixopt.methods.map.global_solve import OPTIMALITY_GAP, WarmStart, solve_formulation
from mixopt.problem import MAPProblem


@map_method("miqp", constraints=SIDE_CONSTRAINTS, proportions=("free", "equal"),
            certifies=True)
def fit_miqp(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    breakpoints: int = 20,
    backend: str = "auto",
    time_limit_s: float = 60.0,
    threads: int = 1,
    rel_gap: float = OPTIMALITY_GAP,
    log_progress: bool = False,
    warm_start: WarmStart = "em",
) -> MethodResult:
    """Solve the MIQP with ``breakpoints`` tangents of log pi, from EM's assignment
    (``warm_start="em"``, the default, seeded by ``seed``; ``None``: no initial point, as in the
    paper)."""
    cons = constraints or Constraints()
    form = build_miqp(problem, cons, breakpoints)
    return solve_formulation(form, problem, cons, backend, time_limit_s, threads, rel_gap,
                             log_progress, warm_start, seed)
