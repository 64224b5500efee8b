"""Global MAP clustering by branch-and-bound on the exact MINLP, Problem (4) (Flaherty et al.).

``warm_start="em"`` (the default) starts the solver from EM's assignment, which short SCIP runs
need to reach a good incumbent; ``warm_start=None`` gives no initial point, as in the paper (and
its Fig. 1). The default back end is SCIP (the paper used BARON); Gurobi and BARON are optional.
"""

from __future__ import annotations

from mixopt.constraints import Constraints
from mixopt.methods.base import SIDE_CONSTRAINTS, MethodResult, map_method
from mixopt.methods.map.formulations import build_minlp
from mixopt.methods.map.global_solve import OPTIMALITY_GAP, WarmStart, solve_formulation
from mixopt.problem import MAPProblem


@map_method("minlp", constraints=SIDE_CONSTRAINTS, proportions=("free", "equal"),
            certifies=True)
def fit_minlp(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    backend: str = "scip",
    time_limit_s: float = 60.0,
    threads: int = 1,
    rel_gap: float = OPTIMALITY_GAP,
    log_progress: bool = False,
    warm_start: WarmStart = "em",
) -> MethodResult:
    """Solve Problem (4) to global optimality or until ``time_limit_s``, from EM's assignment
    (``warm_start="em"``, the default; ``None``: the paper's cold start). ``seed`` seeds the EM
    warm start only: the solver is deterministic."""
    cons = constraints or Constraints()
    form = build_minlp(problem, cons)
    return solve_formulation(form, problem, cons, backend, time_limit_s, threads, rel_gap,
                             log_progress, warm_start, seed)
