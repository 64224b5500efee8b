"""General triangle cuts ``Z_ij + Z_il <= Z_ii + Z_jl`` of method ``exact`` (option
``cut_rounds``): every clustering satisfies them, separation returns only violated ones,
their multipliers enter the certificate (adjoint = Lagrangian), node bounds with them stay below
brute force for both node solvers and rise above the bounds without them, merges carry them to
children, and searches with them certify the brute-force optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixopt.methods.map.exact import sdp
from mixopt.methods.map.exact.admm import _Ops, cut_values
from mixopt.methods.map.exact.bnb import remapped_cuts
from mixopt.methods.map.exact.exact import fit_exact
from mixopt.methods.map.exact.sdp import (
    BoundResult,
    NodeModel,
    _Entropy,
    _lagrangian,
    sdp_bound,
    separate_pairs,
    separate_triangles,
)
from mixopt.objectives import profiled_objective
from mixopt.problem import MAPProblem


def _problem(n: int, k: int, d: int, seed: int, proportions: str = "equal") -> MAPProblem:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, size=(k, d))
    y = centres[np.arange(n) % k] + rng.normal(size=(n, d))
    return MAPProblem(y, k, np.eye(d), proportions=proportions)


def _node(problem: MAPProblem, anchors: list[int]) -> tuple[NodeModel, float]:
    x = problem.y - problem.y.mean(0)
    n, k = problem.n, problem.k
    return NodeModel(weights=np.ones(n, dtype=np.int64), sums=x, anchors=anchors, cannot=[],
                     anchor_lo=[1] * len(anchors), anchor_hi=[n - k + 1] * len(anchors),
                     lo=np.full(n, 1), hi=np.full(n, n - k + 1),
                     entropy=False), float((x ** 2).sum())


def _all_triangles(m: int) -> np.ndarray:
    return np.array([(i, j, l_) for i in range(m) for j in range(m) for l_ in range(j + 1, m)
                     if i not in (j, l_)], dtype=np.int64)


def _all_pairs(m: int) -> np.ndarray:
    """Every pair cut ``Z_ij <= Z_ii`` as rows (i, j, j)."""
    return np.array([(i, j, j) for i in range(m) for j in range(m) if i != j], dtype=np.int64)


def _peng_wei(labels: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=k)
    return (labels[:, None] == labels[None, :]) / counts[labels][:, None]


def _optimum(problem: MAPProblem, anchors: list[int]) -> float:
    """Brute force: 1/2 SSE over the clusterings with anchor j in cluster j, no empty one."""
    n, k = problem.n, problem.k
    x = problem.y - problem.y.mean(0)
    best = np.inf
    for lab in itertools.product(range(k), repeat=n):
        lab = np.array(lab)
        if any(lab[a] != j for j, a in enumerate(anchors)) or \
                np.bincount(lab, minlength=k).min() == 0:
            continue
        best = min(best, 0.5 * sum(((x[lab == c] - x[lab == c].mean(0)) ** 2).sum()
                                   for c in range(k)))
    return best


def test_every_clustering_satisfies_every_general_triangle():
    rng = np.random.default_rng(0)
    tri = _all_triangles(7)
    i, j, l_ = tri.T
    for _ in range(200):
        lab = rng.integers(0, 3, size=7)
        if np.bincount(lab, minlength=3).min() == 0:
            continue
        z = _peng_wei(lab, 3)
        assert np.max(z[i, j] + z[i, l_] - z[j, l_] - z[i, i]) <= 1e-15
        assert not len(separate_triangles(z, 1000))


def test_every_clustering_satisfies_every_pair_cut_and_psd_does_not():
    rng = np.random.default_rng(6)
    pairs = _all_pairs(7)
    for _ in range(200):
        lab = rng.integers(0, 3, size=7)
        if np.bincount(lab, minlength=3).min() == 0:
            continue
        z = _peng_wei(lab, 3)
        assert np.max(cut_values(z, pairs)) <= 1e-15
        assert not len(separate_pairs(z, 1000))
    # feasible for the Peng-Wei SDP (psd, >= 0, unit rows, trace K = 2) and Z_01 > Z_00: the
    # relaxation does not imply the pair cuts
    z = np.array([[0.32, 0.38, 0.15, 0.15], [0.38, 0.62, 0.0, 0.0],
                  [0.15, 0.0, 0.53, 0.32], [0.15, 0.0, 0.32, 0.53]])
    assert np.linalg.eigvalsh(z).min() > 0 and np.allclose(z.sum(1), 1.0)
    assert np.isclose(np.trace(z), 2.0)
    assert separate_pairs(z, 1).tolist() == [[0, 1, 1]]


def _random_symmetric(m: int, seed: int) -> np.ndarray:
    """A symmetric matrix with entries in [0, 0.3]: many cuts violated."""
    z = np.random.default_rng(seed).uniform(0.0, 0.3, size=(m, m))
    return 0.5 * (z + z.T)


def test_pair_separation_returns_the_most_violated_new_pairs():
    z = _random_symmetric(9, seed=7)
    found = separate_pairs(z, 12)
    i, j, l_ = found.T
    viol = (z[i, j] - z[i, i]) / z[i, i]
    assert len(found) == 12 and np.all(j == l_) and np.all(i != j)
    assert np.all(viol > 1e-4) and np.all(np.diff(viol) <= 1e-15)
    every = cut_values(z, _all_pairs(9)) / np.diagonal(z)[_all_pairs(9)[:, 0]]
    assert viol.min() >= np.sort(every)[-12] - 1e-15   # the 12 largest of all
    assert np.allclose(cut_values(z, found), z[i, j] - z[i, i])
    again = separate_pairs(z, 12, skip=np.vstack([found, separate_triangles(z, 5)]))
    assert len(again) == 12 and not set(map(tuple, again)) & set(map(tuple, found))


def test_separation_returns_the_most_violated_new_triangles():
    z = _random_symmetric(8, seed=1)
    found = separate_triangles(z, 25)
    i, j, l_ = found.T
    viol = (z[i, j] + z[i, l_] - z[j, l_] - z[i, i]) / z[i, i]
    assert len(found) == 25 and np.all(viol > 1e-4) and np.all(np.diff(viol) <= 1e-15)
    assert np.all(j < l_) and np.all((i != j) & (i != l_))
    tri = _all_triangles(8)
    ti, tj, tl = tri.T
    every = (z[ti, tj] + z[ti, tl] - z[tj, tl] - z[ti, ti]) / z[ti, ti]
    assert viol.min() >= np.sort(every)[-25] - 1e-15   # the 25 largest of all
    again = separate_triangles(z, 25, skip=found)
    assert not set(map(tuple, again)) & set(map(tuple, found))


def test_merges_drop_collapsed_triangles_and_keep_the_rest():
    tri = np.array([[0, 1, 2], [3, 1, 2], [1, 0, 3], [2, 3, 4]])
    remap = np.array([0, 1, 1, 2, 3])    # super-points 1 and 2 merged
    out = remapped_cuts(tri, remap)
    assert out.tolist() == [[1, 0, 2], [1, 2, 3]]
    pairs = np.array([[0, 1, 1], [1, 2, 2], [2, 4, 4], [4, 0, 0]])   # 1-2 merges away
    assert remapped_cuts(pairs, remap).tolist() == [[0, 1, 1], [1, 3, 3], [3, 0, 0]]


@pytest.mark.parametrize("anchors", [[], [0], [0, 1]])
def test_adjoint_of_the_cuts_is_the_certified_lagrangian(anchors):
    problem = _problem(7, 3, 2, seed=2)
    node, sq = _node(problem, anchors)
    m, rng = 7, np.random.default_rng(3)
    node.gtri = np.vstack([_all_triangles(m)[::5], _all_pairs(m)[::3]])
    a = np.asarray(anchors, dtype=np.int64)
    o = np.setdiff1d(np.arange(m), a) if a.size else np.zeros(0, dtype=np.int64)
    ops = _Ops(w=np.ones(m), lo=node.lo.astype(float), hi=node.hi.astype(float), pairs_c=None,
               a=a, o=o, k=3, tri=[np.zeros(0, dtype=np.int64)] * a.size, gtri=node.gtri)
    z, v = rng.normal(size=(m, m)), rng.normal(size=(a.size, m))
    g = ops.g(z, v)
    assert "gtri" in g
    y = {key: rng.uniform(0.1, 1.0, size=np.shape(val)) for key, val in g.items()}
    s, nv, c = ops.adjoint(y)
    lhs = sum(float(np.sum(y[key] * val)) for key, val in g.items())
    assert lhs == pytest.approx(float(np.sum(s * z) + np.sum(nv * v)) + c, rel=1e-10)
    gram = node.sums @ node.sums.T
    lag = _lagrangian({key: val for key, val in y.items() if key != "link"}, node, 3, m, sq,
                      gram, _Entropy(others=o))
    s_sub, c_sub = ops.substituted(y)
    assert np.allclose(lag.s, 0.5 * (s_sub + s_sub.T) - 0.5 * gram)


@pytest.mark.parametrize("solver", ["SCS", "ADMM"])
@pytest.mark.parametrize("anchors", [[0], [0, 1]])
def test_node_bounds_with_the_cuts_are_valid_and_tighter(solver, anchors):
    """All general triangles in the node, or found in rounds: the certified bound stays below
    brute force and closes at least half of the plain bound's gap (with one anchor the plain
    gap is 0.023 and the cuts close it; with two it is already ~0)."""
    problem = _problem(8, 3, 2, seed=4)
    node, sq = _node(problem, anchors)
    best = _optimum(problem, anchors)
    options = {"eps_abs": 1e-7, "eps_rel": 1e-7} if solver == "SCS" else {
        "max_iters": 20000, "stall_rel": 1e-8, "stall_checks": 50}
    plain = sdp_bound(node, 3, 8, sq, solver=solver, cuts="triangles", solver_options=options)
    node.gtri = np.vstack([_all_triangles(8), _all_pairs(8)])
    cut = sdp_bound(node, 3, 8, sq, solver=solver, cuts="triangles", solver_options=options)
    closes = max(0.5 * (best - plain.safe), 1e-5 * abs(best))   # (the plain gap, or ~0)
    assert cut.safe <= best + 1e-9 * abs(best)
    assert best - cut.safe <= closes
    rounds = sdp_bound(_node(problem, anchors)[0], 3, 8, sq, solver=solver, cuts="triangles",
                       solver_options=options, cut_rounds=4)
    assert rounds.safe <= best + 1e-9 * abs(best)
    assert best - rounds.safe <= closes
    assert rounds.gtri is not None and rounds.rounds >= 1


def test_root_gap_closes_on_a_loose_instance():
    """Overlapping clusters, one anchor: the cut rounds raise the node's certified bound well
    above the plain Peng-Wei bound (SCS at tight tolerance)."""
    problem = _problem(10, 3, 2, seed=11)
    node, sq = _node(problem, [0])
    best = _optimum(problem, [0])
    opts = {"eps_abs": 1e-7, "eps_rel": 1e-7}
    plain = sdp_bound(node, 3, 10, sq, solver="SCS", solver_options=opts)
    rounds = sdp_bound(node, 3, 10, sq, solver="SCS", solver_options=opts, cut_rounds=6)
    assert rounds.safe <= best + 1e-9 * abs(best)
    assert best - rounds.safe < 0.5 * (best - plain.safe)


@pytest.mark.parametrize(("later_solve_s", "budget", "solves"),
                         [(3.0, None, 2), (1.0, None, 7), (1.0, 4.0, 3)])
def test_rounds_stop_at_their_budget_of_first_solves(monkeypatch, later_solve_s, budget, solves):
    """A fake node solver (first solve 1 s on a fake clock, later ones ``later_solve_s``, each
    raising the bound by 1, so only the time rules stop the rounds): no round starts that would
    take the node past ``ROUND_BUDGET`` (8) first solves, counting ``ROUND_GROWTH`` (2) times the
    last round's seconds for it: 1 + 2 * 1 <= 8 < 4 + 2 * 3 (two solves); 6 + 2 <= 8 < 7 + 2
    (seven); with a budget of 4: 2 + 2 <= 4 < 3 + 2 (three)."""
    assert (sdp.ROUND_BUDGET, sdp.ROUND_GROWTH) == (8.0, 2.0)
    clock = [0.0]
    calls: list[float] = []

    def fake_bound(node, k, n, sq, solver, options, cuts, refine, warm, stop_at):
        clock[0] += later_solve_s if calls else 1.0
        calls.append(clock[0])
        return BoundResult(safe=float(len(calls)), primal=0.0, status="solved",
                           z=np.eye(4))

    monkeypatch.setattr(sdp, "sdp_bound", fake_bound)
    monkeypatch.setattr(sdp.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(sdp, "kept_cuts", lambda z, cuts: cuts)
    monkeypatch.setattr(sdp, "separate_triangles",
                        lambda z, count, skip=None: np.array([[0, 1, len(calls) % 4]]))
    monkeypatch.setattr(sdp, "separate_pairs",
                        lambda z, count, skip=None: np.zeros((0, 3), dtype=np.int64))
    node, sq = _node(_problem(4, 2, 2, seed=0), [])
    extra = {} if budget is None else {"budget": budget}
    res = sdp.cut_rounds_bound(node, 2, 4, sq, "SCS", None, "triangles", None, None,
                               np.inf, rounds=20, **extra)
    assert len(calls) == solves and res.rounds == solves and res.safe == solves


@pytest.mark.parametrize(("backend", "proportions"), [("scs", "equal"), ("admm", "equal"),
                                                      ("scs", "free")])
def test_search_with_rounds_certifies_the_brute_force_optimum(backend, proportions):
    problem = _problem(9, 3, 2, seed=5, proportions=proportions)
    res = fit_exact(problem, backend=backend, search="sdp", time_limit_s=300,
                    log_progress=False, cut_rounds=3)
    best = np.inf
    for lab in itertools.product(range(3), repeat=9):
        lab = np.array(lab)
        if np.bincount(lab, minlength=3).min() > 0:
            best = min(best, profiled_objective(problem.y, lab, 3, problem.precision,
                                                proportions=proportions))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.lower_bound <= best + 1e-9 * abs(best)
    assert res.solver["options"]["cut_rounds"] == 3
    assert res.solver["options"]["round_budget"] == sdp.ROUND_BUDGET


def test_the_round_budget_reaches_every_node(monkeypatch):
    budgets: list[float] = []
    real = sdp.cut_rounds_bound

    def spy(*args, **kwargs):
        budgets.append(args[11] if len(args) > 11 else kwargs["budget"])
        return real(*args, **kwargs)

    monkeypatch.setattr(sdp, "cut_rounds_bound", spy)
    res = fit_exact(_problem(8, 3, 2, seed=2), search="sdp", log_progress=False, cut_rounds=2,
                    round_budget=3.5)
    assert res.status == "optimal" and budgets and set(budgets) == {3.5}
    assert res.solver["options"]["round_budget"] == 3.5


def test_the_cuts_per_round_reach_the_separation(monkeypatch):
    counts: list[tuple[str, int]] = []
    real_tri, real_pairs = sdp.separate_triangles, sdp.separate_pairs

    def spy_tri(z, count, **kwargs):
        counts.append(("triangles", count))
        return real_tri(z, count, **kwargs)

    def spy_pairs(z, count, **kwargs):
        counts.append(("pairs", count))
        found = real_pairs(z, count, **kwargs)
        assert len(found) <= count
        return found

    monkeypatch.setattr(sdp, "separate_triangles", spy_tri)
    monkeypatch.setattr(sdp, "separate_pairs", spy_pairs)
    problem = _problem(9, 3, 2, seed=5, proportions="free")
    res = fit_exact(problem, search="sdp", time_limit_s=300, log_progress=False, cut_rounds=2,
                    round_triangles=7, round_pairs=3)
    best = min(profiled_objective(problem.y, np.array(lab), 3, problem.precision)
               for lab in itertools.product(range(3), repeat=9) if len(set(lab)) == 3)
    assert res.status == "optimal" and res.objective == pytest.approx(best, rel=1e-9)
    assert res.lower_bound <= best + 1e-9 * abs(best)
    assert counts and set(counts) == {("triangles", 7), ("pairs", 3)}
    assert (res.solver["options"]["round_triangles"],
            res.solver["options"]["round_pairs"]) == (7, 3)


def test_a_round_adds_its_counts_of_new_cuts(monkeypatch):
    node, sq = _node(_problem(12, 3, 2, seed=3), [0])
    start = sdp_bound(node, 3, 12, sq)
    # more cuts are violated than a round may add, so the counts bind
    assert len(separate_triangles(start.z, 10**6)) > 5 and len(separate_pairs(start.z, 10**6)) > 2
    cuts_per_solve: list[int] = []
    real = sdp.sdp_bound

    def spy(node, *args, **kwargs):
        cuts_per_solve.append(0 if node.gtri is None else len(node.gtri))
        return real(node, *args, **kwargs)

    monkeypatch.setattr(sdp, "sdp_bound", spy)
    res = sdp.cut_rounds_bound(node, 3, 12, sq, "SCS", None, "triangles", None, None, np.inf,
                               rounds=2, budget=1e9, per_round=(5, 2))
    assert res.rounds == 2 and cuts_per_solve == [0, 5 + 2]


def test_bad_round_counts_are_refused():
    problem = _problem(6, 2, 1, seed=0)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="cut_rounds"):
            fit_exact(problem, search="sdp", cut_rounds=bad)
    for bad in (0, -2.0, float("inf"), "8", True):
        with pytest.raises(ValueError, match="round_budget"):
            fit_exact(problem, search="sdp", round_budget=bad)
    for name in ("round_triangles", "round_pairs"):
        for bad in (-1, 2.5, True, "100"):
            with pytest.raises(ValueError, match=name):
                fit_exact(problem, search="sdp", **{name: bad})


def test_scs_start_of_the_next_round_carries_the_kept_cuts_multipliers():
    """A round's SCS solution can start the next round (``WarmStart.with_cuts``, measured by
    ``benchmarks/bench_cut_rounds.py --start both``): the separated cuts are the problem's last
    inequality rows, so the kept cuts' multipliers are found where the next problem has them."""
    problem = _problem(12, 3, 2, seed=3)   # (50 violated triangles at the root)
    node, sq = _node(problem, [0])
    g = node.sums @ node.sums.T
    first = sdp_bound(node, 3, 12, sq)
    cuts = np.vstack([separate_triangles(first.z, 10), separate_pairs(first.z, 20)])
    node = sdp.replace(node, gtri=cuts)
    prob, cons, *_ = sdp._node_problem(node, 3, 12, sq, g, "triangles")
    start, started = sdp._ConicSolve(prob, "SCS", sdp.problem_layout(prob, cons)).solve({}, None)
    lo, hi = start.cut_rows
    assert not started and hi - lo == len(cuts)
    np.testing.assert_allclose(start.y[lo:hi], cons["gtri"].dual_value, atol=1e-12)
    z = _z_of(prob, node)
    kept = np.arange(len(cuts)) % 2 == 0   # (any subset: a round keeps the nearly tight ones)
    new = separate_triangles(z, 15, skip=cuts)
    assert len(new)
    nxt = start.with_cuts(kept, len(new))
    node2 = sdp.replace(node, gtri=np.vstack([cuts[kept], new]))
    prob2, cons2, *_ = sdp._node_problem(node2, 3, 12, sq, g, "triangles")
    assert nxt.layout == sdp.problem_layout(prob2, cons2)
    again, started = sdp._ConicSolve(prob2, "SCS", nxt.layout).solve({}, nxt)
    assert started
    lo2, hi2 = nxt.cut_rows
    np.testing.assert_allclose(nxt.y[lo2:lo2 + kept.sum()], start.y[lo:hi][kept])
    assert not nxt.y[lo2 + kept.sum():hi2].any()
    assert np.isclose(prob2.value, sdp.sdp_bound(node2, 3, 12, sq).primal, rtol=1e-3)


def _z_of(prob, node) -> np.ndarray:
    """The Peng-Wei matrix of a solved node problem (Y's value rescaled by the weights)."""
    y = next(v for v in prob.variables() if v.shape == (node.weights.size,) * 2)
    dm = 1.0 / np.sqrt(node.weights.astype(float))
    return dm[:, None] * y.value * dm[None, :]


def test_scs_starts_from_the_package_scale_unless_the_options_set_one(monkeypatch):
    """SCS's initial ``scale`` is :data:`sdp.SCS_SCALE` (measured faster than SCS's own 0.1 by
    ``benchmarks/bench_scs_options.py``); ``solver_options`` may still set it."""
    from cvxpy.reductions.solvers.conic_solvers.scs_conif import SCS

    seen: list[float | None] = []
    original = SCS.solve_via_data

    def record(self, data, warm_start, verbose, solver_opts, solver_cache=None):
        seen.append(solver_opts.get("scale"))
        return original(self, data, warm_start, verbose, solver_opts, solver_cache)

    monkeypatch.setattr(SCS, "solve_via_data", record)
    problem = _problem(8, 2, 2, seed=1)
    node, sq = _node(problem, [0])
    prob, cons, *_ = sdp._node_problem(node, 2, 8, sq, node.sums @ node.sums.T, "triangles")
    conic = sdp._ConicSolve(prob, "SCS", sdp.problem_layout(prob, cons))
    conic.solve({}, None)
    conic.solve({"scale": 0.3}, None)
    assert seen == [sdp.SCS_SCALE, 0.3]
