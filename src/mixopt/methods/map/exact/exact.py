"""Certified global MAP clustering in any dimension: SDP branch-and-bound (method ``exact``).

With a known shared precision Lambda, Problem (4) profiled over (mu, pi) is, for whitened data
``x_i = L' y_i`` (``Lambda = L L'``),

    f(C) = 1/2 SSE(C) + sum_k n_k log(n / n_k),

a minimum-sum-of-squares clustering objective plus an entropy term. Lower bounds come from the
Peng-Wei semidefinite relaxation of SSE (as in exact MSSC solvers such as SOS-SDP, Piccialli,
Sudoso and Wiegele 2022) with convex under-estimators of the entropy over ranges of cluster sizes
(:mod:`mixopt.methods.map.exact.entropy`), certified through a weak-duality bound computed from the
conic solver's multipliers (:mod:`mixopt.methods.map.exact.sdp`); the search branches on anchors,
cluster sizes and assignments (:mod:`mixopt.methods.map.exact.bnb`). Upper bounds: EM (the Table 2
local method) from several seeds, then rounding and local search at every node.

**Equal proportions** (``proportions="equal"``, pi_k = 1/K): ``f(C) = 1/2 SSE(C) + n log K``,
minimum sum-of-squares clustering. The search then works on ``1/2 SSE`` alone (no entropy term:
the node bound is the Peng-Wei MSSC bound), so its gap tolerance ``rel_gap`` and the reported
relative gap are those of the sum of squares; the constant ``n log K`` is added to the objective
and the lower bound afterwards.

Side constraints: ``min_size``, ``pi_order`` (a relabelling: applied to the result), ``must_link``
and ``implies`` (merged points), ``cannot_link``, ``known_labels`` (the labelled groups are the
anchors of their components). Other constraints, and ``min_size: 0`` (empty clusters allowed),
are refused with :class:`~mixopt.methods.base.ModelNotSupportedError`: the search certifies K
non-empty clusters only.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import cvxpy as cp
import numpy as np

from mixopt.constraints import Constraints, InfeasibleConstraintsError
from mixopt.methods.base import MethodResult, map_method, objective_constant, relative_gap
from mixopt.methods.map.exact.bnb import (
    BRANCHING,
    SIZE_SPLITS,
    BnBProblem,
    BranchAndBound,
    Node,
    SizeSplit,
    tighten_sizes,
)
from mixopt.methods.map.exact.k2 import DirectionSearch
from mixopt.methods.map.exact.sdp import CUTS, GTRI_PER_ROUND, PAIR_PER_ROUND, ROUND_BUDGET
from mixopt.methods.options import check_value
from mixopt.objectives import map_objective, order_by_pi, profile_parameters
from mixopt.problem import MAPProblem

log = logging.getLogger("mixopt.methods.exact")
SUPPORTED = ("pi_order", "must_link", "implies", "cannot_link", "known_labels")



_SOLVER_PACKAGES = {"SCS": "scs", "CLARABEL": "clarabel", "MOSEK": "mosek"}


def conic_solver_version(solver: str) -> str:
    """``<solver> <version> (cvxpy <version>)``: the conic solver's own package version, with
    the modelling layer's beside it."""
    from importlib.metadata import PackageNotFoundError, version

    if solver.upper() == "ADMM":   # mixopt's own first-order solver (no cvxpy)
        from mixopt import __version__
        return f"ADMM (mixopt {__version__}, numpy {np.__version__})"
    package = _SOLVER_PACKAGES.get(solver.upper(), solver.lower())
    try:
        own = version(package)
    except PackageNotFoundError:
        own = "unknown"
    return f"{solver.upper()} {own} (cvxpy {cp.__version__})"

def conic_solver(backend: str) -> str:
    """cvxpy solver name of ``backend``; a clear error when it is not installed or licensed.
    ``admm``: mixopt's first-order solver of the entropy-free node SDP
    (:mod:`mixopt.methods.map.exact.admm`; equal proportions only)."""
    names = {"scs": "SCS", "clarabel": "CLARABEL", "mosek": "MOSEK", "admm": "ADMM"}
    if backend == "auto":
        return "MOSEK" if _mosek_usable() else "SCS"
    if backend not in names:
        raise ValueError(f"exact: unknown backend {backend!r}; choose from {sorted(names)} or auto")
    if backend == "admm":
        return "ADMM"
    if names[backend] not in cp.installed_solvers():
        hint = " (pip install mosek, and a license)" if backend == "mosek" else ""
        raise RuntimeError(f"exact: the conic solver {names[backend]} is not installed{hint}")
    if backend == "mosek" and not _mosek_usable():
        raise RuntimeError("exact: MOSEK is installed but has no usable license")
    return names[backend]


def _mosek_usable() -> bool:
    """True when MOSEK solves a one-variable SDP (installed and licensed)."""
    if "MOSEK" not in cp.installed_solvers():
        return False
    x = cp.Variable((1, 1), PSD=True)
    try:
        cp.Problem(cp.Minimize(cp.trace(x)), [x >= 1]).solve(solver="MOSEK")
    except Exception:   # noqa: BLE001 (license errors come in several types)
        return False
    return True


def _root(problem: MAPProblem, cons: Constraints) -> tuple[Node, np.ndarray]:
    """Root node (must-link groups as super-points, known-label groups as anchors) and the
    component of each search cluster (anchor j names component ``component_of[j]``)."""
    n, k = problem.n, problem.k
    fixed = cons.fixed_labels(n)
    links = cons.link_groups(n)
    for c in set(fixed.values()):   # points with the same known label form one super-point
        members = [i for i, lab in fixed.items() if lab == c]
        links[np.isin(links, links[members])] = links[members[0]]
    groups = np.unique(links, return_inverse=True)[1]
    anchor_of: dict[int, int] = {}
    for i, c in fixed.items():
        anchor_of.setdefault(c, int(groups[i]))
    named = sorted(anchor_of)
    anchors = [anchor_of[c] for c in named]
    component_of = np.array(named + [c for c in range(k) if c not in anchor_of], dtype=np.int64)
    cannot = set()
    for i, j in cons.cannot_link:
        s, t = int(groups[i]), int(groups[j])
        if s == t:
            raise InfeasibleConstraintsError(f"cannot_link ({i}, {j}) joins must-linked points")
        cannot.add((min(s, t), max(s, t)))
    for x in range(len(anchors)):
        for y in range(x + 1, len(anchors)):
            s, t = anchors[x], anchors[y]
            cannot.add((min(s, t), max(s, t)))
    node = Node(groups.astype(np.int64), anchors, frozenset(cannot))
    if anchors:
        w = np.bincount(node.groups)
        lmin = max(cons.min_size, 1)
        ranged = tighten_sizes([max(lmin, int(w[a])) for a in anchors], [n] * len(anchors), n,
                               k - len(anchors), lmin)
        if ranged is None:
            raise InfeasibleConstraintsError("exact: the labelled groups do not fit in n points")
        node.size_lo, node.size_hi = ranged
    return node, component_of


def _start(problem: MAPProblem, cons: Constraints, seeds: int) -> np.ndarray | None:
    """Best clustering that satisfies the constraints among ``seeds`` EM runs (each from its
    K-means start) and ``seeds`` K-means runs in the whitened space (10 inits each), by the
    model's objective; None when none is feasible (the search then finds its incumbents at the
    nodes). EM with a known covariance is a soft assignment: on data whose scale is small against
    that covariance it rounds to poor clusterings, where K-means (the hard-assignment local
    search of the equal-proportions model) does not (glass, K = 6, identity precision: MSSC
    96.78 from EM, 73.63 from K-means)."""
    from mixopt.methods.map.em import fit_em
    from mixopt.methods.map.kmeans_start import kmeans_start

    candidates = [fit_em(problem, seed=seed, constraints=cons).labels for seed in range(seeds)]
    candidates += [kmeans_start(problem, seed, space="whitened")[0] for seed in range(seeds)]
    best, best_value = None, np.inf
    for labels in candidates:
        if cons.violations(labels, problem.k) or \
                np.bincount(labels, minlength=problem.k).min() == 0:
            continue
        mu, pi = profile_parameters(problem.y, labels, problem.k, problem.proportions)
        value = map_objective(problem.y, labels, mu, pi, problem.precision)
        if value < best_value:
            best, best_value = labels, value
    return None if best is None else np.asarray(best, dtype=np.int64)


@map_method("exact", constraints=SUPPORTED, proportions=("free", "equal"), empty_clusters=False,
            certifies=True)
def fit_exact(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    time_limit_s: float = 3600.0,
    rel_gap: float = 1e-4,
    backend: str = "scs",
    solver_options: dict | None = None,
    em_starts: int = 5,
    node_limit: int | None = None,
    node_time_limit_s: float | None = 60.0,
    threads: int = 1,
    log_progress: bool = True,
    search: str = "auto",
    cuts: str = "triangles",
    cut_rounds: int = 0,
    round_budget: float = ROUND_BUDGET,
    round_triangles: int = GTRI_PER_ROUND,
    round_pairs: int = PAIR_PER_ROUND,
    branching: str = "anchors",
    size_split: SizeSplit = "midpoint",
) -> MethodResult:
    """Certified global optimum of Problem (4) (relative gap ``rel_gap``; equal proportions: of
    the sum of squares) or the best bounds reached within ``time_limit_s``; ``seed`` is unused
    (the search is deterministic).

    ``backend``: the conic solver of the node bounds (``scs`` default, ``clarabel``, ``mosek``
    when licensed, ``auto``: MOSEK if usable else SCS; ``admm``: mixopt's first-order solver,
    equal proportions only, :mod:`mixopt.methods.map.exact.admm`, whose ``solver_options`` are
    its own: ``time_limit_secs``, ``max_iters``, ``stall_rel``, ...). ``threads``: node bounds
    solved at once in worker processes (1: in this process). ``node_time_limit_s`` caps one
    node's solves (its cut rounds included; None: only the search's limit). ``log_progress``
    is accepted for the workflow's uniform options: the search always logs its progress
    (logger ``mixopt.methods.exact``).

    ``cuts``: valid inequalities of the node SDPs, ``triangles`` (default), ``separated`` (the
    triangles found by separation rounds and inherited by the children; see
    :func:`mixopt.methods.map.exact.sdp.sdp_bound`), ``all`` (adds ``Z_st <= Z_ss``) or ``none``
    (see :func:`mixopt.methods.map.exact.sdp._add_cuts`). ``cut_rounds``: solves per
    node, with the most violated general triangles ``Z_ij + Z_il <= Z_ii + Z_jl`` and pairs
    ``Z_ij <= Z_ii`` over all super-points added between them and inherited by the children
    (0, the default, or 1: no new cuts; 2: one round of them; see
    :func:`mixopt.methods.map.exact.sdp.cut_rounds_bound`). ``round_budget``: a node's cut
    rounds stop before they would take it past this many times its first solve (default 8;
    a large value leaves only ``node_time_limit_s``). ``round_triangles``, ``round_pairs``:
    the most violated new triangles and pairs a round adds (defaults 30,000 and 5,000, for
    MSSC roots such as glass K = 6; the entropy model's smaller nodes certify faster with
    fewer, see docs/exact.md). ``branching``: ``anchors`` (the
    default: a node's children put a point into each anchored cluster or make it a new anchor)
    or ``pairs`` (equal proportions only: must-link / cannot-link on the pair of super-points
    whose SDP entry is most ambiguous, as SOS-SDP branches; nodes need no anchors).
    ``size_split``: where a size bisection splits a cluster's size range, ``midpoint`` (the
    default; at the node's SDP size once the range is at most 8 wide) or ``sdp`` (always at
    the node's SDP size; faster with cut rounds on pam50-4d, slower without, docs/exact.md).

    ``search``: ``sdp`` (the SDP branch-and-bound, any K and d), ``directions`` (K = 2 only:
    branch-and-bound over the direction between the two cluster means,
    :mod:`mixopt.methods.map.exact.k2`; no conic solver) or ``auto``: ``directions`` when K = 2,
    d <= 5 and no constraint links or labels points, else ``sdp``."""
    cons = constraints or Constraints()
    solver = conic_solver(backend)
    if solver == "ADMM" and problem.proportions == "free":
        raise ValueError("exact: backend admm solves only the entropy-free node SDP "
                         "(proportions: equal, MSSC); use scs, clarabel or mosek for "
                         "proportions free")
    if cons.pi_order and cons.names_components:
        raise ValueError("exact: pi_order with known labels is not supported (with named "
                         "components the order is a real constraint); use minlp/miqp")
    # pi_order alone is a relabelling, applied to the result: search without it
    search_cons = replace(cons, pi_order=False)
    links_points = bool(cons.must_link or cons.implies or cons.cannot_link
                        or cons.names_components)
    if cuts not in CUTS:
        raise ValueError(f"exact: unknown cuts {cuts!r}; choose one of {', '.join(CUTS)}")
    check_value("cut_rounds", cut_rounds, label="exact: cut_rounds")
    check_value("round_budget", round_budget, label="exact: round_budget")
    check_value("round_triangles", round_triangles, label="exact: round_triangles")
    check_value("round_pairs", round_pairs, label="exact: round_pairs")
    if size_split not in SIZE_SPLITS:
        raise ValueError(f"exact: unknown size_split {size_split!r}; choose "
                         f"{' or '.join(SIZE_SPLITS)}")
    if branching not in BRANCHING:
        raise ValueError(f"exact: unknown branching {branching!r}; choose "
                         f"{' or '.join(BRANCHING)}")
    if branching == "pairs" and problem.proportions == "free":
        raise ValueError("exact: branching 'pairs' needs proportions: equal (the entropy "
                         "bounds of proportions free need anchored clusters); use 'anchors'")
    if search not in ("auto", "sdp", "directions"):
        raise ValueError(f"exact: unknown search {search!r}; choose auto, sdp or directions")
    if search == "directions" and (problem.k != 2 or links_points):
        raise ValueError("exact: search 'directions' needs K = 2 and no must/cannot-links or "
                         "known labels (min_size and pi_order are fine); use search 'sdp'")
    if search == "directions" or (search == "auto" and problem.k == 2 and problem.d <= 5
                                  and not links_points):
        return _fit_directions(problem, _whitened(problem), cons, search_cons, time_limit_s,
                               rel_gap, em_starts)
    x = _whitened(problem)
    labels0 = _start(problem, search_cons, em_starts)
    bnb_problem = BnBProblem(x=x, k=problem.k, min_size=cons.min_size, solver=solver,
                             solver_options=dict(solver_options or {}),
                             node_time_limit_s=node_time_limit_s, cuts=cuts,
                             cut_rounds=cut_rounds, round_budget=float(round_budget),
                             round_cuts=(int(round_triangles), int(round_pairs)),
                             branching=branching, size_split=size_split,
                             entropy=problem.proportions == "free")
    root, component_of = _root(problem, cons)

    def feasible(labels: np.ndarray) -> bool:   # labels of the search clusters
        return not search_cons.violations(component_of[labels], problem.k)

    bnb = BranchAndBound(bnb_problem, root, rel_gap, time_limit_s, node_limit=node_limit,
                         feasible=feasible)
    if labels0 is not None:   # the EM incumbent, in the search's cluster numbering
        bnb.best_labels = (np.argsort(component_of)[labels0] if cons.names_components
                           else _relabel_to_anchors(labels0, root, problem.k))
        bnb.ub = bnb.objective(bnb.best_labels)
    status = bnb.run(threads=max(1, int(threads)))
    labels = None if bnb.best_labels is None else component_of[bnb.best_labels]
    constant = objective_constant(problem)   # n log K (equal proportions): not searched
    if labels is None:
        lb = bnb.global_lb() + constant
        k, d = problem.k, problem.d
        return MethodResult(
            labels=np.zeros(0, dtype=np.int64), mu=np.full((k, d), np.nan),
            pi=np.full(k, np.nan), objective=float("nan"),
            status="infeasible" if status == "optimal" else status,
            lower_bound=None if not np.isfinite(lb) else float(lb), upper_bound=None,
            iterations=bnb.nodes, solver={"name": f"mixopt-exact+{solver.lower()}",
                                          "version": conic_solver_version(solver)},
            trace=bnb.trace, extra={"notes": ["exact: no clustering satisfies the constraints"
                                              if status == "optimal" else
                                              "exact: no feasible clustering found in time"]})
    lb = bnb.global_lb() + constant
    labels, mu, pi, objective, gap, status = _scored(problem, cons, labels, lb, status, rel_gap)
    notes = [f"SDP branch-and-bound: {bnb.nodes} nodes solved with {solver} ({threads} at a "
             f"time, cuts {cuts}, {cut_rounds} cut rounds, branching on {branching}; "
             f"{bnb.warm_starts} "
             f"started from their parent's solution), "
             f"{bnb.fixed} point-anchor pairs excluded by reduced-cost fixing; "
             f"relative gap {gap:.3g} (target {rel_gap:g})", *bnb.notes[-20:]]
    log.info("exact: %s after %d nodes, objective %.6f, lower bound %.6f, gap %.3g",
             status, bnb.nodes, objective, lb, gap)
    return MethodResult(
        labels=labels, mu=mu, pi=pi, objective=objective, status=status,
        lower_bound=float(lb), upper_bound=objective, iterations=bnb.nodes,
        solver={"name": f"mixopt-exact+{solver.lower()}",
                "version": conic_solver_version(solver),
                "options": {"rel_gap": rel_gap, "time_limit_s": time_limit_s, "cuts": cuts,
                            "cut_rounds": cut_rounds, "round_budget": float(round_budget),
                            "round_triangles": int(round_triangles),
                            "round_pairs": int(round_pairs),
                            "branching": branching, "size_split": size_split,
                            "node_time_limit_s": node_time_limit_s,
                            "threads": max(1, int(threads)),
                            "solver_options": dict(solver_options or {})}},
        trace=bnb.trace, extra={"nodes": bnb.nodes, "open_nodes": len(bnb.queue),
                                "objective_whitened": bnb.ub, "notes": notes})


def _scored(problem: MAPProblem, cons: Constraints, labels: np.ndarray, lb: float, status: str,
            rel_gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, str]:
    """The search's clustering scored by Problem (4): (labels, mu, pi, objective, gap, status),
    ordered by pi when asked (a relabelling without named components); ``optimal`` becomes
    ``time_limit`` when the exact gap misses ``rel_gap`` (equal proportions: the gap of the sum
    of squares, without the constant ``n log K``)."""
    mu, pi = profile_parameters(problem.y, labels, problem.k, problem.proportions)
    if cons.pi_order and not cons.names_components:
        labels, mu, pi, _ = order_by_pi(labels, mu, pi)
    objective = map_objective(problem.y, labels, mu, pi, problem.precision)
    gap = relative_gap(objective, lb, objective_constant(problem))
    if status == "optimal" and gap > rel_gap * 1.01:
        status = "time_limit"
    return labels, mu, pi, objective, gap, status


def _whitened(problem: MAPProblem) -> np.ndarray:
    """Centred whitened data ``x_i = L' y_i`` (``Lambda = L L'``)."""
    x = problem.y @ np.linalg.cholesky(problem.precision)
    return x - x.mean(axis=0)


def _fit_directions(problem: MAPProblem, x: np.ndarray, cons: Constraints,
                    search_cons: Constraints, time_limit_s: float, rel_gap: float,
                    em_starts: int) -> MethodResult:
    """K = 2: the branch-and-bound over mean-difference directions (:mod:`exact_k2`)."""
    labels0 = _start(problem, search_cons, em_starts)
    search = DirectionSearch(x, min_size=cons.min_size, entropy=problem.proportions == "free")
    res = search.run(rel_gap=rel_gap, time_limit_s=time_limit_s, labels0=labels0)
    lb = res.lower_bound + objective_constant(problem)
    labels, mu, pi, objective, gap, status = _scored(problem, cons, res.labels, lb, res.status,
                                                     rel_gap)
    notes = [f"K = 2 branch-and-bound over mean-difference directions: {res.boxes} boxes; "
             f"relative gap {gap:.3g} (target {rel_gap:g}); no conic solver"]
    log.info("exact: %s after %d boxes, objective %.6f, lower bound %.6f, gap %.3g",
             status, res.boxes, objective, lb, gap)
    return MethodResult(
        labels=labels, mu=mu, pi=pi, objective=objective, status=status,
        lower_bound=float(lb), upper_bound=objective, iterations=res.boxes,
        solver={"name": "mixopt-exact-directions",
                "options": {"rel_gap": rel_gap, "time_limit_s": time_limit_s,
                            "search": "directions"}},
        trace=res.trace, extra={"nodes": res.boxes, "search": "directions",
                                "objective_whitened": res.upper_bound, "notes": notes})


def _relabel_to_anchors(labels: np.ndarray, root: Node, k: int) -> np.ndarray:
    """Relabel so that anchor j's points carry label j (known labels already do)."""
    if not root.anchors:
        return labels
    perm = -np.ones(k, dtype=np.int64)
    for j, a in enumerate(root.anchors):
        perm[labels[int(np.flatnonzero(root.groups == a)[0])]] = j
    free_new = [c for c in range(k) if c not in set(perm.tolist())]
    perm[perm < 0] = free_new
    return perm[labels]
