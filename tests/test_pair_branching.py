"""Pair branching of method ``exact`` (option ``branching: pairs``, equal proportions): the
children of a node partition its clusterings (must-link / cannot-link on the most ambiguous
pair), and searches with it certify the brute-force optimum, with and without cut rounds and
user constraints, for both node solvers; options it cannot serve are refused."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixopt.constraints import Constraints
from mixopt.methods.map.exact.bnb import BnBProblem, BranchAndBound, Node
from mixopt.methods.map.exact.exact import fit_exact
from mixopt.objectives import profiled_objective
from mixopt.problem import MAPProblem


def _problem(n: int, k: int, d: int, seed: int, proportions: str = "equal") -> MAPProblem:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, size=(k, d))
    y = centres[np.arange(n) % k] + rng.normal(size=(n, d))
    return MAPProblem(y, k, np.eye(d), proportions=proportions)


def _brute_force(problem: MAPProblem, ok=lambda lab: True) -> float:
    best = np.inf
    for lab in itertools.product(range(problem.k), repeat=problem.n):
        lab = np.array(lab)
        if np.bincount(lab, minlength=problem.k).min() > 0 and ok(lab):
            best = min(best, profiled_objective(problem.y, lab, problem.k, problem.precision,
                                                proportions="equal"))
    return best


def test_pair_children_partition_the_node_at_its_most_ambiguous_pair():
    x = np.random.default_rng(0).normal(size=(6, 2))
    bnb = BranchAndBound(BnBProblem(x=x, k=2, min_size=1, branching="pairs", entropy=False),
                         Node(np.arange(6), [], frozenset({(0, 1)})), 1e-4, 10.0)
    z = np.full((6, 6), 0.05)
    np.fill_diagonal(z, 0.3)
    z[2, 4] = z[4, 2] = 0.15   # correlation 0.5: the most ambiguous pair
    z[0, 1] = z[1, 0] = 0.15   # as ambiguous, but cannot-linked already
    together, apart = bnb.children(Node(np.arange(6), [], frozenset({(0, 1)})), z)
    assert together.m == 5 and together.groups[2] == together.groups[4]
    assert apart.m == 6 and apart.cannot == frozenset({(0, 1), (2, 4)})


def test_pair_children_survive_a_broken_solution_and_end_at_exhausted_nodes():
    x = np.random.default_rng(1).normal(size=(4, 2))
    bnb = BranchAndBound(BnBProblem(x=x, k=2, min_size=1, branching="pairs", entropy=False),
                         Node(np.arange(4), [], frozenset()), 1e-4, 10.0)
    z = np.full((4, 4), 0.1)
    z[1, 3] = z[3, 1] = np.nan   # a failed solve's entries: still two children
    assert len(bnb.children(Node(np.arange(4), [], frozenset()), z)) == 2
    apart = frozenset(itertools.combinations(range(3), 2))   # 3 points pairwise apart, K = 2
    assert bnb.children(Node(np.arange(3), [], apart), np.eye(3)) == []


@pytest.mark.parametrize(("backend", "cut_rounds"), [("scs", 0), ("scs", 3), ("admm", 2)])
def test_search_with_pair_branching_certifies_the_brute_force_optimum(backend, cut_rounds):
    problem = _problem(9, 3, 2, seed=5)
    res = fit_exact(problem, backend=backend, search="sdp", time_limit_s=300,
                    log_progress=False, cut_rounds=cut_rounds, branching="pairs")
    best = _brute_force(problem)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.lower_bound <= best + 1e-9 * abs(best)
    assert res.solver["options"]["branching"] == "pairs"


def test_pair_branching_keeps_user_links_and_sizes():
    problem = _problem(8, 3, 2, seed=9)
    cons = Constraints(must_link=[(0, 1)], cannot_link=[(0, 2)], min_size=2)
    res = fit_exact(problem, constraints=cons, search="sdp", time_limit_s=300,
                    log_progress=False, cut_rounds=2, branching="pairs")
    best = _brute_force(problem, lambda lab: lab[0] == lab[1] and lab[0] != lab[2]
                        and np.bincount(lab, minlength=3).min() >= 2)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.labels[0] == res.labels[1] != res.labels[2]


def test_unusable_branching_is_refused():
    with pytest.raises(ValueError, match="unknown branching 'sideways'"):
        fit_exact(_problem(6, 2, 1, seed=0), search="sdp", branching="sideways")
    with pytest.raises(ValueError, match="branching 'pairs' needs proportions: equal"):
        fit_exact(_problem(6, 2, 1, seed=0, proportions="free"), search="sdp",
                  branching="pairs")
