"""Backend ``admm`` of method ``exact`` (first-order solver of the entropy-free node SDP): its
bound is certified (below every clustering of the node, also from perturbed or early-stopped
multipliers), about as tight as SCS's, and the search certifies the brute-force MSSC optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixopt.methods.map.exact.admm import _Ops, capped_simplex, project_f
from mixopt.methods.map.exact.exact import fit_exact
from mixopt.methods.map.exact.sdp import (
    NodeModel,
    _Entropy,
    _lagrangian,
    cannot_pairs,
    sdp_bound,
)
from mixopt.objectives import profiled_objective
from mixopt.problem import MAPProblem

# (anchors, cannot-links, cuts): root, anchors with and without all K, cannot-links, cuts
CASES = [([], [], "triangles"), ([0], [], "triangles"), ([0, 1], [(3, 5)], "triangles"),
         ([0, 1, 2], [], "triangles"), ([0, 1], [], "all"), ([0, 1, 2], [(4, 6)], "none"),
         ([0, 1], [], "separated")]


def _problem(n: int, k: int, d: int, seed: int) -> MAPProblem:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 2.0, size=(k, d))
    y = centres[np.arange(n) % k] + rng.normal(size=(n, d))
    return MAPProblem(y, k, np.eye(d), proportions="equal")


def _node(problem: MAPProblem, anchors: list[int], cannot: list[tuple[int, int]]
          ) -> tuple[NodeModel, float]:
    x = problem.y - problem.y.mean(0)
    n = problem.n
    return NodeModel(weights=np.ones(n, dtype=np.int64), sums=x, anchors=anchors,
                     cannot=cannot, anchor_lo=[1] * len(anchors),
                     anchor_hi=[n - problem.k + 1] * len(anchors), lo=np.full(n, 1),
                     hi=np.full(n, n - problem.k + 1), entropy=False), float((x ** 2).sum())


def _node_optimum(problem: MAPProblem, node: NodeModel) -> float:
    """Brute force: 1/2 SSE (whitened, identity precision) over the node's clusterings (anchor
    j in cluster j, cannot-links apart, no empty cluster)."""
    n, k = problem.n, problem.k
    x = problem.y - problem.y.mean(0)
    best = np.inf
    for lab in itertools.product(range(k), repeat=n):
        lab = np.array(lab)
        if any(lab[a] != j for j, a in enumerate(node.anchors)):
            continue
        if any(lab[s] == lab[t] for s, t in node.cannot) or \
                np.bincount(lab, minlength=k).min() == 0:
            continue
        sse = sum(((x[lab == c] - x[lab == c].mean(0)) ** 2).sum() for c in range(k))
        best = min(best, 0.5 * sse)
    return best


def test_projection_onto_the_spectral_set():
    """proj_F: eigenvalues clipped to the capped simplex; the result is in F and is the closest
    point among random members of F."""
    rng = np.random.default_rng(0)
    lam = capped_simplex(rng.normal(size=9) * 3, 4)
    assert lam.sum() == pytest.approx(4) and lam.min() >= 0 and lam.max() <= 1
    m = rng.normal(size=(7, 7))
    m = m + m.T
    y = project_f(m, 3)
    eig = np.linalg.eigvalsh(y)
    assert np.trace(y) == pytest.approx(3) and eig.min() > -1e-12 and eig.max() < 1 + 1e-12
    for _ in range(50):
        q, _ = np.linalg.qr(rng.normal(size=(7, 7)))
        other = (q * capped_simplex(rng.normal(size=7), 3)) @ q.T
        assert np.linalg.norm(m - y) <= np.linalg.norm(m - other) + 1e-12


@pytest.mark.parametrize(("anchors", "cannot", "cuts"), CASES)
def test_adjoint_and_the_certified_lagrangian_agree(anchors, cannot, cuts):
    """<y, g(Z, V)> = <M, Z> + <N, V> + c for random y, Z, V; with V = Z[a, :] the substituted
    matrix is that of _lagrangian (the certificate's algebra), for the same multipliers."""
    problem = _problem(8, 3, 2, seed=1)
    node, sq = _node(problem, anchors, cannot)
    m, rng = 8, np.random.default_rng(2)
    a = np.asarray(anchors, dtype=np.int64)
    o = np.setdiff1d(np.arange(m), a) if a.size else np.zeros(0, dtype=np.int64)
    tri = [np.arange(o.size * (o.size + 1) // 2)] * a.size if a.size and cuts != "none" else []
    pairs = cannot_pairs(node)
    ops = _Ops(w=np.ones(m), lo=node.lo.astype(float), hi=node.hi.astype(float),
               pairs_c=tuple(np.array(pairs).T) if pairs else None, a=a, o=o, k=3, tri=tri,
               cut_pairs=cuts == "all" and a.size > 0)
    z = rng.normal(size=(m, m))
    v = rng.normal(size=(a.size, m))
    g = ops.g(z, v)
    y = {key: rng.uniform(0.1, 1.0, size=np.shape(val)) for key, val in g.items()}
    s, nv, c = ops.adjoint(y)
    zero = ops.g(np.zeros((m, m)), np.zeros((a.size, m)))
    lhs = sum(float(np.sum(y[key] * val)) for key, val in g.items())
    assert lhs == pytest.approx(float(np.sum(s * z) + np.sum(nv * v)) + c, rel=1e-10)
    assert c == pytest.approx(sum(float(np.sum(y[key] * val)) for key, val in zero.items()))
    gram = node.sums @ node.sums.T
    ent = _Entropy(others=o)
    lag = _lagrangian({key: val for key, val in y.items() if key != "link"}, node, 3, m, sq,
                      gram, ent)
    s_sub, c_sub = ops.substituted(y)
    assert np.allclose(lag.s, 0.5 * (s_sub + s_sub.T) - 0.5 * gram)
    assert lag.const == pytest.approx(c_sub + 0.5 * sq)


@pytest.mark.parametrize(("anchors", "cannot", "cuts"), CASES)
def test_admm_bound_is_valid_and_as_tight_as_scs(anchors, cannot, cuts):
    """The ADMM bound lies below the node's brute-force optimum and SCS's optimum value, and
    within a small tolerance of SCS's certified bound."""
    problem = _problem(8, 3, 2, seed=3)
    node, sq = _node(problem, anchors, cannot)
    best = _node_optimum(problem, node)
    scs = sdp_bound(node, 3, 8, sq, solver="SCS", cuts=cuts,
                    solver_options={"eps_abs": 1e-8, "eps_rel": 1e-8})
    admm = sdp_bound(node, 3, 8, sq, solver="ADMM", cuts=cuts,
                     solver_options={"max_iters": 20000, "stall_rel": 1e-8,
                                                    "stall_checks": 50})
    assert admm.status.startswith("admm")
    assert np.isfinite(admm.safe) and admm.lagrangian is not None
    assert admm.lagrangian.bound() == pytest.approx(admm.safe)
    assert admm.safe <= best + 1e-9 * abs(best)
    assert admm.safe <= scs.primal + 1e-6 * abs(scs.primal)
    assert admm.safe >= scs.safe - 1e-3 * abs(scs.safe)


@pytest.mark.parametrize("scale", [0.0, 0.3, 3.0])
def test_bound_stays_certified_from_perturbed_or_early_multipliers(scale):
    """A few iterations, then the multipliers perturbed at random (equalities of any sign,
    inequalities too: _lagrangian clips them): the bound is weaker but never above the node's
    brute-force optimum. Without the clipping and the Ky Fan minimum (the solver's own primal
    value) it would not be a bound: the primal value of an early iterate exceeds the optimum."""
    from mixopt.methods.map.exact import sdp

    problem = _problem(8, 3, 2, seed=5)
    node, sq = _node(problem, [0, 1, 2], [])
    best = _node_optimum(problem, node)
    captured = {}
    original = sdp.admm_solve

    def perturbed(*args, **kwargs):
        duals, z, primal, info = original(*args, **kwargs)
        rng = np.random.default_rng(7)
        duals = {key: val + scale * rng.normal(size=np.shape(val)) * (1 + np.abs(val))
                 for key, val in duals.items()}
        captured["primal"] = primal
        return duals, z, primal, info

    sdp.admm_solve = perturbed
    try:
        res = sdp_bound(node, 3, 8, sq, solver="ADMM", solver_options={"max_iters": 40,
                                                                       "check_every": 10})
    finally:
        sdp.admm_solve = original
    assert np.isfinite(res.safe)
    assert res.safe <= best + 1e-9 * abs(best)
    if scale == 0.0:
        assert res.safe > 0.5 * best   # still informative after 40 iterations


def test_entropy_nodes_and_unknown_options_fail_clearly():
    problem = _problem(6, 2, 1, seed=0)
    with pytest.raises(ValueError, match="proportions: equal"):
        fit_exact(MAPProblem(problem.y, 2, np.eye(1)), backend="admm", search="sdp")
    node, sq = _node(problem, [0], [])
    with pytest.raises(ValueError, match="unknown solver options"):
        sdp_bound(node, 2, 6, sq, solver="ADMM", solver_options={"eps_abs": 1e-4})
    node.entropy = True
    with pytest.raises(ValueError, match="entropy-free"):
        sdp_bound(node, 2, 6, sq, solver="ADMM")


@pytest.mark.parametrize(("n", "k", "d", "seed"), [(9, 3, 2, 1), (10, 3, 2, 2), (8, 2, 2, 3),
                                                   (9, 4, 2, 4)])
def test_admm_search_certifies_the_brute_force_mssc_optimum(n, k, d, seed):
    problem = _problem(n, k, d, seed)
    res = fit_exact(problem, backend="admm", search="sdp", time_limit_s=120,
                    log_progress=False)
    ref = fit_exact(problem, backend="scs", search="sdp", time_limit_s=120, log_progress=False)
    best = np.inf
    for lab in itertools.product(range(k), repeat=n):
        lab = np.array(lab)
        if np.bincount(lab, minlength=k).min() > 0:
            best = min(best, profiled_objective(problem.y, lab, k, problem.precision,
                                                proportions="equal"))
    assert res.status == "optimal" and ref.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.objective == pytest.approx(ref.objective, rel=1e-9)
    assert res.lower_bound <= best + 1e-9 * abs(best)
    assert res.gap <= 1e-4
    assert res.solver["name"] == "mixopt-exact+admm"


@pytest.mark.parametrize("child_kind", ["merge", "anchor"])
def test_a_child_started_from_its_parents_iterate_keeps_a_valid_bound(child_kind):
    """The parent's ADMM iterate mapped to a child (a point merged into the anchor, or a new
    anchor): the start is used, and the child's bound stays below its brute-force optimum and
    close to the bound of a cold start."""
    from dataclasses import replace

    problem = _problem(8, 3, 2, seed=3)
    parent, sq = _node(problem, [0, 1], [])
    res = sdp_bound(parent, 3, 8, sq, solver="ADMM")
    if child_kind == "merge":   # point 2 joins anchor 0: super-points 0 (= {0, 2}), 1, 3..7
        to_child = np.array([0, 1, 0, 2, 3, 4, 5, 6])
        x = problem.y - problem.y.mean(0)
        sums = np.vstack([x[0] + x[2], x[1], x[3:]])
        child = replace(parent, weights=np.array([2, 1, 1, 1, 1, 1, 1]), sums=sums,
                        lo=np.full(7, 1), hi=np.full(7, 6))
        rows = [[0, 2], [1], [3], [4], [5], [6], [7]]
        check = MAPProblem(problem.y, 3, np.eye(2), proportions="equal")
    else:   # point 2 becomes anchor 2
        to_child = np.arange(8)
        child = replace(parent, anchors=[0, 1, 2], anchor_lo=[1] * 3, anchor_hi=[6] * 3)
        rows = [[i] for i in range(8)]
        check = problem
    warm = replace(res.warm, to_child=to_child)
    started = sdp_bound(child, 3, 8, sq, solver="ADMM", warm=warm)
    cold = sdp_bound(child, 3, 8, sq, solver="ADMM")
    assert started.warm_started and not cold.warm_started
    best = np.inf   # brute force over the child's clusterings (super-points kept together)
    for lab in itertools.product(range(3), repeat=len(rows)):
        if any(lab[j] != j for j in range(len(child.anchors))):
            continue
        labels = np.empty(8, dtype=np.int64)
        for s, members in enumerate(rows):
            labels[members] = lab[s]
        if np.bincount(labels, minlength=3).min() == 0:
            continue
        best = min(best, profiled_objective(check.y, labels, 3, check.precision,
                                            proportions="equal") - 8 * np.log(3))
    assert 0.5 * best < started.safe <= best + 1e-9 * abs(best)
    assert started.safe >= cold.safe - 1e-2 * abs(cold.safe)
