"""Method ``exact`` (SDP branch-and-bound): valid under-estimators, sound bounds even from an
inaccurate conic solve, certified optima equal brute force and SCIP, constraints honoured."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixopt.constraints import Constraints, InfeasibleConstraintsError
from mixopt.methods.map.exact.bnb import (
    REFINE_LEARN,
    REFINE_REACH,
    BnBProblem,
    BranchAndBound,
    Node,
    set_partitions,
)
from mixopt.methods.map.exact.entropy import (
    cluster_entropy,
    cluster_hull,
    hull_value,
    point_chord,
    size_vertices,
)
from mixopt.methods.map.exact.exact import fit_exact
from mixopt.methods.map.exact.sdp import (
    TRI_ROUNDS,
    NodeModel,
    Refinement,
    WarmStart,
    sdp_bound,
)
from mixopt.objectives import profiled_objective
from mixopt.problem import MAPProblem


def instance(n: int, k: int, d: int, seed: int, sep: float = 2.0) -> MAPProblem:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, sep, size=(k, d))
    y = centres[np.arange(n) % k] + rng.normal(size=(n, d))
    lam = np.eye(d) if d == 1 else np.diag(rng.uniform(0.5, 2.0, size=d))
    return MAPProblem(y, k, lam)


def brute_force(problem: MAPProblem, cons: Constraints) -> float:
    best = np.inf
    for labels in itertools.product(range(problem.k), repeat=problem.n):
        lab = np.array(labels)
        if np.bincount(lab, minlength=problem.k).min() == 0 or cons.violations(lab, problem.k):
            continue
        best = min(best, profiled_objective(problem.y, lab, problem.k, problem.precision))
    return best


@pytest.mark.parametrize(("lo", "hi", "n"), [(1, 1, 5), (1, 40, 40), (3, 17, 60), (20, 90, 178)])
def test_entropy_underestimators_are_valid_and_exact_at_the_ends(lo, hi, n):
    lines = cluster_hull(lo, hi, n)
    chord = point_chord(np.array([lo]), np.array([hi]), n)[0]
    for m in range(lo, hi + 1):
        assert hull_value(lines, 1.0 / m) <= cluster_entropy(m, n) + 1e-9
        assert chord[0] + chord[1] / m <= np.log(n / m) + 1e-12
    for m in (lo, hi):
        assert hull_value(lines, 1.0 / m) == pytest.approx(float(cluster_entropy(m, n)), abs=1e-9)
        assert chord[0] + chord[1] / m == pytest.approx(np.log(n / m), abs=1e-12)


@pytest.mark.parametrize(("lo", "hi", "n"), [
    ([61, 61, 1], [90, 90, 56], 178), ([1, 1, 1], [8, 8, 8], 10), ([2, 3, 1, 1], [5, 9, 4, 7], 14),
    ([3, 3], [3, 3], 6)])
def test_size_envelope_is_below_the_entropy_of_every_size_vector(lo, hi, n):
    """The LP over the size polytope's vertices (the joint envelope of sum_j g(n_j)) is at most
    the entropy at every integer size vector and exact at the vertices."""
    from scipy.optimize import linprog

    v = size_vertices(lo, hi, n)
    h = cluster_entropy(v, n).sum(axis=1)
    assert np.allclose(v.sum(axis=1), n)
    assert np.all(v >= np.array(lo) - 1e-9) and np.all(v <= np.array(hi) + 1e-9)
    for sizes in itertools.product(*(range(a, b + 1) for a, b in zip(lo, hi, strict=True))):
        if sum(sizes) != n:
            continue
        a_eq = np.vstack([v.T, np.ones(len(v))])
        env = linprog(h, A_eq=a_eq, b_eq=[*sizes, 1.0], bounds=(0, None))
        assert env.status == 0
        assert env.fun <= float(cluster_entropy(np.array(sizes), n).sum()) + 1e-7
        if any(np.array_equal(sizes, row) for row in v):
            assert env.fun == pytest.approx(float(cluster_entropy(np.array(sizes), n).sum()))
    assert size_vertices([5, 5], [6, 6], 20).size == 0   # empty polytope


@pytest.mark.parametrize(("items", "count"), [([7], 1), ([1, 2, 3], 5), ([4, 5, 6, 7], 15)])
def test_seed_partitions_cover_every_grouping_once(items, count):
    """The root's seed branching: each clustering induces exactly one partition of the seeds."""
    parts = set_partitions(items)
    assert len(parts) == count
    canonical = {tuple(sorted(tuple(sorted(b)) for b in p)) for p in parts}
    assert len(canonical) == count
    for p in parts:
        assert sorted(x for b in p for x in b) == sorted(items)


def _clusterings(node: Node, k: int) -> set[tuple[int, ...]]:
    """Labelings of ``node`` (anchor j names cluster j; with K - 1 anchors the one other cluster
    is K - 1): must-links, cannot-links, anchored sizes and non-empty clusters respected."""
    out = set()
    r = len(node.anchors)
    for sp in itertools.product(range(k), repeat=node.m):
        if any(sp[a] != j for j, a in enumerate(node.anchors)) or \
                any(sp[s] == sp[t] for s, t in node.cannot):
            continue
        labels = np.asarray(sp)[node.groups]
        sizes = np.bincount(labels, minlength=k)
        if np.all(sizes >= 1) and all(node.size_lo[j] <= sizes[j] <= node.size_hi[j]
                                      for j in range(r)):
            out.add(tuple(labels))
    return out


def test_seeds_are_the_costliest_members_to_move_and_anchoring_a_big_free_cluster_partitions():
    """Seeds: one per incumbent cluster, the member whose move to another cluster raises the
    hard-assignment cost most. With K - 1 anchors and a free cluster of at least n/K points the
    node anchors before bisecting sizes, and its children split its clusterings exactly."""
    problem = instance(8, 3, 2, seed=4)
    x = problem.y @ np.linalg.cholesky(problem.precision)
    x = x - x.mean(0)
    lab = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    bnb = BranchAndBound(BnBProblem(x=x, k=3, min_size=1), Node(np.arange(8), [], frozenset()),
                         1e-4, 10.0)
    bnb.best_labels = lab
    seeds = bnb._seeds(Node(np.arange(8), [], frozenset()))
    means = np.array([x[lab == c].mean(0) for c in range(3)])
    cost = 0.5 * ((x[:, None] - means[None]) ** 2).sum(2) - np.log(np.bincount(lab) / 8)
    others = np.where(np.arange(3)[None, :] == lab[:, None], np.inf, cost)
    margin = others.min(axis=1) - cost[np.arange(8), lab]
    assert sorted(lab[seeds]) == [0, 1, 2]
    for s in seeds:
        assert margin[s] == pytest.approx(margin[lab == lab[s]].max())
    node = Node(np.arange(8), [0, 3], frozenset({(0, 3)}), [1, 1], [2, 2])
    z = np.zeros((8, 8))
    for c in range(3):
        z[np.ix_(lab == c, lab == c)] = 1.0 / (lab == c).sum()
    kids = bnb.children(node, z)
    assert len(kids) == 3 and len(kids[-1].anchors) == 3        # two joins and a new anchor
    parent = _clusterings(node, 3)
    parts = [_clusterings(kid, 3) for kid in kids]
    assert sum(len(p) for p in parts) == len(parent) > 0
    assert set().union(*parts) == parent


def _node(problem: MAPProblem, anchors: list[int], lo: list[int], hi: list[int]) -> NodeModel:
    x = problem.y @ np.linalg.cholesky(problem.precision)
    x = x - x.mean(0)
    n = problem.n
    return NodeModel(weights=np.ones(n, dtype=np.int64), sums=x, anchors=anchors, cannot=[],
                     anchor_lo=lo, anchor_hi=hi, lo=np.full(n, min(lo) if lo else 1),
                     hi=np.full(n, max(hi) if hi else n - problem.k + 1)), float((x ** 2).sum())


def _anchored_optimum(problem: MAPProblem, lo: list[int], hi: list[int]) -> float:
    """Brute-force optimum of the node where points 0..K-1 anchor clusters 0..K-1 and the
    clusters' sizes lie in [lo, hi]."""
    n, k = problem.n, problem.k
    best = np.inf
    for rest in itertools.product(range(k), repeat=n - k):
        lab = np.array([*range(k), *rest])
        sizes = np.bincount(lab, minlength=k)
        if np.all(sizes >= lo) and np.all(sizes <= hi):
            best = min(best, profiled_objective(problem.y, lab, k, problem.precision))
    return best


@pytest.mark.parametrize("options", [{}, {"eps_abs": 1e-2, "eps_rel": 1e-2, "max_iters": 30}])
def test_safe_bound_is_below_the_node_optimum_even_from_a_sloppy_solve(options):
    """The dual bound is valid whatever the solver's accuracy (here 30 SCS iterations)."""
    problem = instance(8, 3, 2, seed=4)
    n, k = problem.n, problem.k
    anchors, lo, hi = [0, 1, 2], [2, 2, 2], [3, 4, 4]
    node, sq = _node(problem, anchors, lo, hi)
    res = sdp_bound(node, k, n, sq, solver="SCS", solver_options=options)
    best = _anchored_optimum(problem, lo, hi)
    assert np.isfinite(res.safe)
    assert res.safe <= best + 1e-7 * abs(best)
    if not options:
        assert res.safe >= res.primal - 1e-3 * abs(res.primal)   # tight when solved well


def test_refined_solve_keeps_a_valid_and_better_bound():
    """A loose solve refined (warm start, tight tolerances) when its bound lies in the window:
    the refined bound is at least the loose one and still below the node optimum."""
    problem = instance(8, 3, 2, seed=4)
    n, k = problem.n, problem.k
    anchors, lo, hi = [0, 1, 2], [2, 2, 2], [3, 4, 4]
    node, sq = _node(problem, anchors, lo, hi)
    loose = {"eps_abs": 1e-2, "eps_rel": 1e-2, "max_iters": 30}
    first = sdp_bound(node, k, n, sq, solver="SCS", solver_options=loose)
    tight = {"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 100000}
    res = sdp_bound(node, k, n, sq, solver="SCS", solver_options=loose,
                    refine=Refinement(-np.inf, np.inf, tight))
    best = _anchored_optimum(problem, lo, hi)
    assert "refined" in res.notes
    assert first.safe <= res.safe <= best + 1e-7 * abs(best)
    assert res.safe >= res.primal - 1e-3 * abs(res.primal)
    assert res.refine_gain == pytest.approx(res.safe - first.safe) and res.refine_gain > 0
    skipped = sdp_bound(node, k, n, sq, solver="SCS", solver_options=loose,
                        refine=Refinement(first.safe + 1.0, first.safe + 2.0, tight))
    assert "refined" not in skipped.notes and skipped.refine_gain is None


def test_refinement_window_follows_the_largest_rise_once_enough_nodes_were_refined():
    """0.5 % of the incumbent until REFINE_LEARN refined nodes, then at most REFINE_REACH
    times the largest rise a refinement gave (never wider than 0.5 %)."""
    x = np.arange(12, dtype=float).reshape(6, 2)
    bnb = BranchAndBound(BnBProblem(x=x - x.mean(0), k=3, min_size=1),
                         Node(np.arange(6), [], frozenset()), 1e-4, 10.0)
    bnb.ub = -1000.0
    bnb.refine_gains = [0.1, 0.4, 0.0, 0.2][:REFINE_LEARN - 1]
    assert bnb.refine_window() == pytest.approx(5.0)
    bnb.refine_gains += [0.3] * (REFINE_LEARN - len(bnb.refine_gains))
    assert bnb.refine_window() == pytest.approx(REFINE_REACH * 0.4)
    bnb.refine_gains.append(40.0)
    assert bnb.refine_window() == pytest.approx(5.0)


@pytest.mark.parametrize(("split", "t_j", "ranges"), [
    ("sdp", 1 / 7.6, [(2, 7), (8, 20)]),      # at the SDP size 7.6
    ("midpoint", 1 / 7.6, [(2, 11), (12, 20)]),   # the range is wider than 8: at 11
    ("sdp", 1 / 1.5, [(2, 2), (3, 20)]),      # below the range: the first child is its lower end
    ("sdp", 1 / 40.0, [(2, 19), (20, 20)]),   # above it: the second child is its upper end
])
def test_size_children_split_where_size_split_says(split, t_j, ranges):
    """Cluster j's range [2, 20] splits into [2, c] and [c + 1, 20]: c = floor(1/t_j) clipped to
    [2, 19] (``sdp``) or the midpoint (``midpoint``, ranges wider than 8); the other clusters'
    ranges are only tightened by the sum of the sizes."""
    x = np.arange(60, dtype=float).reshape(30, 2)
    bnb = BranchAndBound(BnBProblem(x=x - x.mean(0), k=3, min_size=1, size_split=split),
                         Node(np.arange(30), [], frozenset()), 1e-4, 10.0)
    node = Node(np.arange(30), [0, 1, 2], frozenset(), [2, 2, 2], [20, 20, 20])
    kids = bnb._size_children(node, 0, t_j)
    assert [(c.size_lo[0], c.size_hi[0]) for c in kids] == ranges
    for child in kids:
        lo, hi = child.size_lo[0], child.size_hi[0]
        assert child.size_lo[1:] == [max(2, 30 - hi - 20)] * 2
        assert child.size_hi[1:] == [min(20, 30 - lo - 2)] * 2
    narrow = Node(np.arange(30), [0, 1, 2], frozenset(), [2, 2, 2], [8, 20, 20])
    assert [(c.size_lo[0], c.size_hi[0]) for c in bnb._size_children(narrow, 0, 1 / 5.5)] == \
        [(2, 5), (6, 8)]   # at most 8 wide: the SDP size either way


@pytest.mark.parametrize("split", ["midpoint", "sdp"])
def test_searches_with_either_size_split_certify_the_brute_force_optimum(split):
    problem = instance(9, 3, 2, seed=5)
    res = fit_exact(problem, search="sdp", time_limit_s=300, log_progress=False,
                    size_split=split)
    best = min(profiled_objective(problem.y, np.array(lab), 3, problem.precision)
               for lab in itertools.product(range(3), repeat=9) if len(set(lab)) == 3)
    assert res.status == "optimal" and res.objective == pytest.approx(best, rel=1e-9)
    assert res.lower_bound <= best + 1e-9 * abs(best)
    assert res.solver["options"]["size_split"] == split
    with pytest.raises(ValueError, match="size_split"):
        fit_exact(problem, search="sdp", size_split="middle")


def test_a_size_bisection_child_starts_from_its_parents_solution_with_a_valid_bound():
    """A child of a size bisection has its parent's layout: its solve starts from the parent's
    conic solution and reaches the cold solve's bound. Any start, even a random one, changes
    only the solver's path: the bound stays below the node's optimum. A node with another
    layout (fewer anchors) ignores the start."""
    problem = instance(8, 3, 2, seed=4)
    n, k = problem.n, problem.k
    parent_node, sq = _node(problem, [0, 1, 2], [2, 2, 2], [4, 4, 4])
    parent = sdp_bound(parent_node, k, n, sq, solver="SCS")
    child_node, _ = _node(problem, [0, 1, 2], [2, 2, 2], [3, 4, 4])
    best = _anchored_optimum(problem, [2, 2, 2], [3, 4, 4])
    cold = sdp_bound(child_node, k, n, sq, solver="SCS")
    warm = sdp_bound(child_node, k, n, sq, solver="SCS", warm=parent.warm)
    assert parent.warm is not None and not cold.warm_started and warm.warm_started
    assert warm.safe <= best + 1e-7 * abs(best)
    assert warm.safe == pytest.approx(cold.safe, rel=1e-3)
    rng = np.random.default_rng(0)
    noise = WarmStart(parent.warm.layout, *(rng.normal(size=v.size) * 10.0 for v in (
        parent.warm.x, parent.warm.y, parent.warm.s)))
    wild = sdp_bound(child_node, k, n, sq, solver="SCS", warm=noise,
                     solver_options={"max_iters": 20})
    assert wild.warm_started and wild.safe <= best + 1e-7 * abs(best)
    other_node, _ = _node(problem, [0, 1], [2, 2], [4, 4])
    assert not sdp_bound(other_node, k, n, sq, solver="SCS", warm=parent.warm).warm_started


@pytest.mark.parametrize(("seed", "anchors", "options"), [
    (4, [0, 1, 2], {}), (6, [0, 1, 2], {"eps_abs": 1e-2, "eps_rel": 1e-2, "max_iters": 30}),
    (8, [0, 1], {})])
def test_separated_triangles_give_a_valid_bound_close_to_all_triangles(seed, anchors, options):
    """cuts "separated" (triangles added by separation rounds, children start from the node's
    set): every round's bound is certified, so it stays below the brute-force node optimum even
    from a sloppy solve, and when solved well it agrees with the bound of all triangles; a
    node started from the returned set keeps a valid bound in fewer rounds."""
    problem = instance(8, 3, 2, seed=seed)
    n, k = problem.n, problem.k
    r = len(anchors)
    lo, hi = [2] * r, [3] + [4] * (r - 1)
    node, sq = _node(problem, anchors, lo, hi)
    node.free_lo, node.free_hi = 1, 4
    best = np.inf
    for rest in itertools.product(range(k), repeat=n - r):
        lab = np.array([*range(r), *rest])
        sizes = np.bincount(lab, minlength=k)
        if np.all(sizes[:r] >= lo) and np.all(sizes[:r] <= hi) and (
                r == k or sizes[r:].min() >= 1 and sizes[r:].max() <= 4):
            best = min(best, profiled_objective(problem.y, lab, k, problem.precision))
    sep = sdp_bound(node, k, n, sq, solver="SCS", solver_options=options, cuts="separated")
    assert np.isfinite(sep.safe) and sep.safe <= best + 1e-7 * abs(best)
    assert sep.tri is not None and len(sep.tri) == r and 1 <= sep.rounds <= TRI_ROUNDS
    if not options:
        full = sdp_bound(node, k, n, sq, solver="SCS", cuts="triangles")
        assert sep.safe == pytest.approx(full.safe, rel=1e-3)
        node.tri = sep.tri
        again = sdp_bound(node, k, n, sq, solver="SCS", cuts="separated", warm=sep.warm)
        assert again.rounds <= TRI_ROUNDS - 1 and again.safe <= best + 1e-7 * abs(best)
    stopped = sdp_bound(node, k, n, sq, solver="SCS", solver_options=options,
                        cuts="separated", stop_at=-np.inf)
    assert stopped.rounds == 1   # a bound at the pruning level ends the rounds


def test_safe_bound_with_a_free_cluster_is_below_the_node_optimum():
    """Two anchors of three clusters: the third cluster's entropy enters through free_point_hull."""
    problem = instance(9, 3, 2, seed=8)
    n, k = problem.n, problem.k
    x = problem.y @ np.linalg.cholesky(problem.precision)
    x = x - x.mean(0)
    lo, hi, flo, fhi = [2, 2], [4, 5], 1, 5
    node = NodeModel(weights=np.ones(n, dtype=np.int64), sums=x, anchors=[0, 1], cannot=[],
                     anchor_lo=lo, anchor_hi=hi, lo=np.full(n, 1), hi=np.full(n, 5),
                     free_lo=flo, free_hi=fhi)
    res = sdp_bound(node, k, n, float((x ** 2).sum()), solver="SCS")
    best = np.inf
    for rest in itertools.product(range(k), repeat=n - 2):
        lab = np.array([0, 1, *rest])
        sizes = np.bincount(lab, minlength=k)
        if np.all(sizes[:2] >= lo) and np.all(sizes[:2] <= hi) and flo <= sizes[2] <= fhi:
            best = min(best, profiled_objective(problem.y, lab, k, problem.precision))
    assert np.isfinite(res.safe) and res.safe <= best + 1e-7 * abs(best)
    assert res.safe >= res.primal - 1e-3 * abs(res.primal)


@pytest.mark.parametrize(("anchors", "options"), [
    ([0, 1, 2], {}), ([0, 1, 2], {"eps_abs": 1e-2, "eps_rel": 1e-2, "max_iters": 30}),
    ([0, 1], {})])
def test_reduced_cost_bounds_are_below_each_restricted_optimum(anchors, options):
    """Lagrangian.merged_bound(b, a) bounds the clusterings of the node where b joins a (the
    basis of reduced-cost fixing), whatever the solver's accuracy; with a free cluster too.
    Sizes fixed at (3, 3, 2) and separated clusters make the bounds tight."""
    problem = instance(8, 3, 2, seed=6, sep=5.0)
    n, k = problem.n, problem.k
    r = len(anchors)
    sizes_fixed = np.array([3, 3, 2])
    node, sq = _node(problem, anchors, list(sizes_fixed[:r]), list(sizes_fixed[:r]))
    node.lo, node.hi = np.full(n, 2), np.full(n, 3)
    node.free_lo, node.free_hi = 2, 2
    res = sdp_bound(node, k, n, sq, solver="SCS", solver_options=options)
    assert res.lagrangian is not None
    assert res.lagrangian.bound() == pytest.approx(res.safe)
    best = {}   # (b, cluster of b) -> node optimum with b there
    for rest in itertools.product(range(k), repeat=n - r):
        lab = np.array([*range(r), *rest])
        if not np.array_equal(np.bincount(lab, minlength=k), sizes_fixed):
            continue
        value = profiled_objective(problem.y, lab, k, problem.precision)
        for b in range(r, n):
            best[b, lab[b]] = min(best.get((b, lab[b]), np.inf), value)
    table = res.lagrangian.merged_bounds({(anchors[0], r)})   # the fixing table
    assert np.isnan(table[anchors]).all() and np.isnan(table[r, 0])
    assert table[r, 1] == res.lagrangian.merged_bound(r, anchors[1])
    table[r, 0] = res.lagrangian.merged_bound(r, anchors[0])
    slack = [best.get((b, j), np.inf) - table[b, j] for b in range(r, n) for j in range(r)]
    assert min(slack) >= -1e-7 * abs(res.safe)
    if not options:   # informative: tight for the optimum's assignments, high for others
        assert min(slack) <= 1e-3 * abs(res.safe)
        assert table[r:].max() > res.safe + 1.0
    # with the pruning level given, entries shown below it by the cheap estimate are -inf
    # (never fixed), every other entry is the exact bound
    level = float(np.nanmedian(table[r:]))
    fast = res.lagrangian.merged_bounds({(anchors[0], r)}, below=level)
    table[r, 0] = np.nan
    assert np.array_equal(np.isnan(fast), np.isnan(table))
    skipped = fast == -np.inf
    assert np.all(table[skipped] < level)
    assert np.allclose(fast[~skipped & ~np.isnan(fast)], table[~skipped & ~np.isnan(table)])
    assert np.all(fast[table >= level] == table[table >= level])


@pytest.mark.parametrize(("n", "k", "d", "seed", "search"), [
    (9, 2, 1, 0, "sdp"), (10, 3, 2, 1, "auto"), (9, 3, 3, 2, "auto"), (8, 2, 2, 3, "sdp"),
    (9, 2, 1, 0, "directions"), (8, 2, 2, 3, "directions"), (10, 2, 3, 4, "auto")])
def test_certified_optimum_equals_brute_force(n, k, d, seed, search):
    problem = instance(n, k, d, seed)
    cons = Constraints.paper_defaults()
    res = fit_exact(problem, constraints=cons, time_limit_s=120, search=search)
    opt = brute_force(problem, cons)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(opt, rel=1e-9)
    assert res.lower_bound <= opt + 1e-9 * abs(opt)
    assert res.gap <= 1e-4
    assert not cons.violations(res.labels, k, pi=res.pi)   # pi ordered as asked


@pytest.mark.parametrize(("n", "k", "d", "seed"), [(10, 3, 2, 1), (9, 3, 3, 2)])
def test_separated_cuts_certify_the_brute_force_optimum(n, k, d, seed):
    """cuts "separated" through a whole search: children inherit (and renumber, after merges
    and reduced-cost fixing) their parent's triangles; the certified optimum is brute force's."""
    problem = instance(n, k, d, seed)
    cons = Constraints.paper_defaults()
    res = fit_exact(problem, constraints=cons, time_limit_s=120, search="sdp", cuts="separated")
    opt = brute_force(problem, cons)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(opt, rel=1e-9)
    assert res.lower_bound <= opt + 1e-9 * abs(opt)


def test_parallel_node_solves_certify_the_same_optimum():
    """threads = 2: node bounds solved in two worker processes; same certified optimum, and the
    bound trace never passes the optimum."""
    problem = instance(10, 3, 2, 1)
    cons = Constraints.paper_defaults()
    res = fit_exact(problem, constraints=cons, time_limit_s=120, search="sdp", threads=2)
    opt = brute_force(problem, cons)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(opt, rel=1e-9)
    assert res.gap <= 1e-4
    assert all(lb is None or lb <= opt + 1e-9 * abs(opt) for _, _, lb in res.trace)


@pytest.mark.parametrize("spec", [
    {"min_size": 4},
    {"min_size": 4, "search": "sdp"},
    {"must_link": [[0, 5], [2, 7]], "cannot_link": [[1, 3]]},
    {"known_labels": [[0, 1], [1, 0], [4, 1]], "min_size": 1},
    {"known_labels": [[0, 0], [1, 1], [2, 2]], "cannot_link": [[3, 4]]},
])
def test_side_constraints_are_honoured(spec):
    problem = instance(10, 3 if "known_labels" in spec and len(spec["known_labels"]) == 3
                       and spec["known_labels"][2][1] == 2 else 2, 2, seed=7)
    spec = dict(spec)
    search = spec.pop("search", "auto")
    cons = Constraints.from_dict(spec)
    res = fit_exact(problem, constraints=cons, time_limit_s=120, search=search)
    assert res.status == "optimal"
    assert not cons.violations(res.labels, problem.k)
    assert res.objective == pytest.approx(brute_force(problem, cons), rel=1e-9)


@pytest.fixture(scope="module")
def scip_instance():
    """A small subset and SCIP's proven optimum of its MINLP (Problem (4))."""
    pytest.importorskip("pyscipopt")
    from mixopt.methods.map.minlp import fit_minlp

    problem = instance(12, 2, 2, seed=11, sep=3.0)
    scip = fit_minlp(problem, constraints=Constraints.paper_defaults(), backend="scip",
                     time_limit_s=120)
    if scip.status != "optimal":
        pytest.skip(f"SCIP did not certify within its limit ({scip.status})")
    return problem, scip.objective


@pytest.mark.parametrize("search", ["sdp", "directions"])
def test_matches_scip_certified_optimum(scip_instance, search):
    problem, scip_objective = scip_instance
    res = fit_exact(problem, constraints=Constraints.paper_defaults(), time_limit_s=120,
                    search=search)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(scip_objective, rel=1e-4)
    assert res.lower_bound <= scip_objective * (1 + 1e-6)


def test_time_limit_reports_valid_bounds():
    problem = instance(40, 3, 2, seed=5, sep=1.0)
    res = fit_exact(problem, constraints=Constraints.paper_defaults(), time_limit_s=1.0,
                    node_time_limit_s=0.5)
    assert res.status in ("time_limit", "optimal")
    assert res.lower_bound <= res.objective
    assert res.upper_bound == pytest.approx(res.objective)
    if res.status == "time_limit":
        assert res.gap > 1e-4


def test_unsupported_constraints_and_missing_backends_fail_clearly():
    problem = instance(6, 2, 1, seed=0)
    with pytest.raises(ValueError, match="exact cannot honour the constraint"):
        fit_exact(problem, constraints=Constraints.from_dict(
            {"packing": [{"points": [0, 1], "component": 0, "at_most": 1}]}))
    with pytest.raises(ValueError, match="unknown backend"):
        fit_exact(problem, backend="cplex")
    import cvxpy as cp
    if "MOSEK" not in cp.installed_solvers():
        with pytest.raises(RuntimeError, match="MOSEK"):
            fit_exact(problem, backend="mosek")
    with pytest.raises(ValueError, match="unknown search"):
        fit_exact(problem, search="grid")
    with pytest.raises(ValueError, match="unknown cuts"):
        fit_exact(problem, cuts="gomory")
    with pytest.raises(ValueError, match="K = 2"):
        fit_exact(instance(6, 3, 2, seed=0), search="directions")
    with pytest.raises(ValueError, match="K = 2"):
        fit_exact(problem, search="directions",
                  constraints=Constraints.from_dict({"must_link": [[0, 1]]}))
    with pytest.raises(InfeasibleConstraintsError):
        fit_exact(problem, constraints=Constraints.from_dict(
            {"must_link": [[0, 1]], "cannot_link": [[0, 1]]}))
