import itertools

import numpy as np
import pytest
import scipy
from scipy.optimize import check_grad

from mixopt.constraints import Constraints, InfeasibleConstraintsError, SetConstraint
from mixopt.methods.map.kmeans_start import kmeans_start
from mixopt.methods.map.relaxed import RelaxedProblem
from mixopt.methods.map.sa import fit_sa
from mixopt.methods.map.slsqp import fit_slsqp
from mixopt.metrics import table2_metrics
from mixopt.objectives import map_objective, one_hot, profiled_objective
from mixopt.problem import MAPProblem

SA_FAST = {"niter": 4}


def fit(method, problem, seed=0, **kw):
    if method == "sa":
        return fit_sa(problem, seed=seed, **{**SA_FAST, **kw})
    return fit_slsqp(problem, seed=seed, **kw)


def brute_force(y, k, lam, min_size=0):
    best = np.inf
    for labels in itertools.product(range(k), repeat=len(y)):
        lab = np.array(labels)
        if np.bincount(lab, minlength=k).min() >= min_size:
            best = min(best, profiled_objective(y, lab, k, lam))
    return best


def instance_1d(seed, n=10):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, n // 2), rng.normal(2.0, 1, n - n // 2)])[:, None]


def instance_2d(seed, n=8):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [2.0, 0.5], [0.5, 2.0]])
    return centers[np.arange(n) % 3] + rng.normal(0, 0.8, size=(n, 2))


def test_relaxed_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 2))
    problem = MAPProblem(rng.normal(size=(7, 2)) * [1.0, 50.0], 3, a @ a.T + np.eye(2))
    rp = RelaxedProblem.build(problem, Constraints.paper_defaults())
    for _ in range(3):
        x = rng.uniform(0.05, 1.0, size=rp.lower.size)
        err = check_grad(lambda v: rp.fun_and_grad(v)[0], lambda v: rp.fun_and_grad(v)[1], x)
        assert err < 1e-5 * max(1.0, np.linalg.norm(rp.fun_and_grad(x)[1]))
    u = rng.uniform(0.05, 0.3, size=int(rp.keep.sum()))  # the optimisers' reduced variables
    err = check_grad(lambda v: rp.objective(v)[0], lambda v: rp.objective(v)[1], u)
    assert err < 1e-5 * max(1.0, np.linalg.norm(rp.objective(u)[1]))
    np.testing.assert_allclose(rp.expand(u).reshape(-1)[:21].reshape(7, 3).sum(1), 1.0)
    np.testing.assert_allclose(rp.reduce(rp.expand(u)), u)
    z, mu, pi = rp.split(x)
    np.testing.assert_allclose(rp.pack(z, mu, pi), x)
    assert rp.fun_and_grad(x)[0] == pytest.approx(
        map_objective(problem.y, z, mu, pi, problem.precision), rel=1e-12)


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_never_below_the_brute_force_optimum_1d(method):
    lam = np.eye(1) / 0.5
    for trial in range(3):
        y = instance_1d(trial)
        opt = brute_force(y, 2, lam)
        res = fit(method, MAPProblem(y, 2, lam), seed=trial)
        assert np.isfinite(res.objective) and res.objective >= opt - 1e-9
        assert res.objective == pytest.approx(
            map_objective(y, res.labels, res.mu, res.pi, lam), rel=1e-12)
        assert res.extra["profiled_objective"] >= opt - 1e-9
        assert res.extra["relaxed_objective"] <= res.extra["start_relaxed_objective"] + 1e-6


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_never_below_the_constrained_optimum_2d(method):
    lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    cons = Constraints.paper_defaults()
    for trial in range(2):
        y = instance_2d(trial)
        opt = brute_force(y, 3, lam, min_size=1)
        res = fit(method, MAPProblem(y, 3, lam), seed=trial, constraints=cons)
        assert np.isfinite(res.objective) and res.objective >= opt - 1e-9
        assert res.extra["relaxed_max_violation"] < 1e-6
        assert np.all(np.diff(res.pi) >= -1e-8)  # pi_1 <= ... <= pi_K
        if "notes" not in res.extra:
            assert np.bincount(res.labels, minlength=3).min() >= 1


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_recovers_well_separated_clusters(method):
    rng = np.random.default_rng(3)
    truth = np.repeat([0, 1, 2], 4)
    y = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])[truth] + rng.normal(0, 0.3, (12, 2))
    res = fit(method, MAPProblem(y, 3, np.eye(2) / 0.09), seed=2,
              constraints=Constraints.paper_defaults())
    m = table2_metrics(y, truth, res.labels, res.mu, res.pi)
    assert m["ari"] == 1.0 and m["z_mean_sup"] == 0.0
    assert m["mu_l2"] < 1e-4 and m["pi_sup"] < 1e-4
    assert res.objective == pytest.approx(profiled_objective(y, truth, 3, np.eye(2) / 0.09),
                                          abs=1e-6)
    assert "notes" not in res.extra


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_must_link_pulls_far_apart_points_together(method):
    y = np.array([0.0, 0.1, 0.2, 0.3, 5.0, 5.1, 5.2, 5.3])[:, None]
    problem = MAPProblem(y, 2, np.eye(1))
    free = fit(method, problem, seed=0)
    assert free.labels[0] != free.labels[7]  # without the constraint they separate
    cons = Constraints(must_link=((0, 7),))
    res = fit(method, problem, seed=0, constraints=cons)
    assert res.extra["relaxed_max_violation"] < 1e-6  # the relaxed solution honours it
    if res.labels[0] != res.labels[7]:
        assert any("must_link (0, 7)" in note for note in res.extra["notes"])
    else:
        assert "notes" not in res.extra
        assert res.objective > free.objective


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_known_labels_are_honoured(method):
    y = np.array([0.0, 0.1, 0.2, 0.3, 5.0, 5.1, 5.2, 5.3])[:, None]
    cons = Constraints(known_labels=((0, 1), (5, 0), (3, 0)))
    res = fit(method, MAPProblem(y, 2, np.eye(1)), seed=1, constraints=cons)
    assert res.extra["relaxed_max_violation"] < 1e-6
    assert res.labels[0] == 1 and res.labels[5] == 0
    expected = [f"rounded solution violates: {v}" for v in cons.violations(res.labels, 2)]
    assert res.extra.get("notes", []) == expected


def test_reduced_constraints_match_the_full_ones():
    cons = Constraints(min_size=1, must_link=((0, 1),), cannot_link=((2, 3),),
                       cover=(SetConstraint((4, 5), 2, 1),), known_labels=((6, 0),))
    rp = RelaxedProblem.build(MAPProblem(instance_2d(1, n=8), 3, np.eye(2)), cons)
    for labels in ([0, 0, 1, 2, 2, 1, 0, 1], [0, 1, 1, 2, 2, 1, 0, 1], [0, 0, 1, 1, 0, 0, 2, 1]):
        x = rp.pack(one_hot(labels, 3), rp.mu_lo, np.full(3, 1 / 3))
        u = rp.reduce(x)
        ok_u = all(np.all(c["fun"](u) >= -1e-12) if c["type"] == "ineq"
                   else np.allclose(c["fun"](u), 0) for c in rp.scipy_constraints())
        assert ok_u == (rp.max_violation(x) < 1e-12) == (not cons.violations(np.array(labels), 3))


def test_single_component():
    y = instance_1d(0, n=6)
    for method in ("slsqp", "sa"):
        res = fit(method, MAPProblem(y, 1, np.eye(1)), constraints=Constraints.paper_defaults())
        assert np.all(res.labels == 0) and res.pi[0] == pytest.approx(1.0)
        assert res.objective == pytest.approx(profiled_objective(y, res.labels, 1, np.eye(1)))


def test_rounding_that_breaks_a_constraint_is_repaired_and_noted():
    y = np.array([[0.0], [1.0], [2.0]])
    rp = RelaxedProblem.build(MAPProblem(y, 2, np.eye(1)), Constraints(min_size=1))
    z = np.tile([0.6, 0.4], (3, 1))  # column sums 1.8 and 1.2: feasible when relaxed
    x = rp.pack(z, np.array([[1.0], [1.0]]), np.array([0.5, 0.5]))
    res = rp.result(x, np.zeros(3, dtype=np.int64), {"name": "t"}, 1, {"success": True})
    assert res.extra["relaxed_max_violation"] < 1e-12
    (note,) = res.extra["notes"]
    assert note.startswith("rounded assignment violated min_size 1: component 1 has 0 points")
    assert "repaired" in note
    assert np.bincount(res.labels, minlength=2).min() == 1  # argmax gave [0, 0, 0]
    assert res.objective == pytest.approx(map_objective(y, res.labels, res.mu, res.pi, np.eye(1)))


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_solver_record_status_and_determinism(method):
    y = instance_2d(4, n=9)
    problem = MAPProblem(y, 3, np.eye(2))
    cons = Constraints.paper_defaults()
    a = fit(method, problem, seed=7, constraints=cons)
    b = fit(method, problem, seed=7, constraints=cons)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.objective == b.objective
    np.testing.assert_array_equal(a.mu, b.mu)
    assert a.status == "local" and a.lower_bound is None and a.upper_bound is None
    name = {"slsqp": "scipy-slsqp", "sa": "scipy-basinhopping"}[method]
    assert a.solver["name"] == name and a.solver["version"] == scipy.__version__
    assert a.solver["options"]["constraints"] == cons.to_dict()
    for key in ("relaxed_objective", "profiled_objective", "scipy_status", "message", "nit"):
        assert key in a.extra
    assert a.labels.dtype == np.int64 and a.mu.shape == (3, 2) and a.pi.shape == (3,)


def test_sa_is_no_worse_than_its_first_local_search():
    for trial in range(3):
        problem = MAPProblem(instance_1d(10 + trial, n=12), 3, np.eye(1) / 0.3)
        s = fit_slsqp(problem, seed=trial)
        b = fit_sa(problem, seed=trial, niter=6)
        assert b.extra["relaxed_objective"] <= s.extra["relaxed_objective"] + 1e-7


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_contradictory_constraints_fail_before_solving(method):
    problem = MAPProblem(instance_1d(0), 2, np.eye(1))
    cons = Constraints(must_link=((0, 1), (1, 2)), cannot_link=((2, 0),))
    with pytest.raises(InfeasibleConstraintsError, match=r"cannot_link \(2, 0\)"):
        fit(method, problem, constraints=cons)
    with pytest.raises(InfeasibleConstraintsError, match="data range"):
        fit(method, problem, constraints=Constraints(mu_lower=np.array(100.0)))
    clash = Constraints.from_dict({  # each set fine alone; together 3 points in a 2-point set
        "partition": [{"points": [0, 1], "component": 0, "exactly": 2},
                      {"points": [0, 1], "component": 1, "exactly": 1}]})
    clash.validate(10, 2, 1)
    with pytest.raises(InfeasibleConstraintsError, match="equality side constraints"):
        fit(method, problem, constraints=clash)


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_cannot_link_separates_close_points(method):
    y = np.array([0.0, 0.1, 0.2, 0.3, 5.0, 5.1, 5.2, 5.3])[:, None]
    problem = MAPProblem(y, 2, np.eye(1))
    assert fit(method, problem, seed=0).labels[0] == fit(method, problem, seed=0).labels[1]
    res = fit(method, problem, seed=0, constraints=Constraints(cannot_link=((0, 1),)))
    assert res.extra["relaxed_max_violation"] < 1e-6
    assert res.labels[0] != res.labels[1] or any(
        "cannot_link (0, 1)" in note for note in res.extra["notes"])


@pytest.mark.parametrize("method", ["slsqp", "sa"])
def test_pi_order_from_an_unsorted_start_ties_pi(method):
    # sort_start=False keeps scikit-learn's K-means label order (the paper's evident protocol):
    # a start whose sizes descend can only meet pi_1 <= pi_2 with pi tied at 1/2.
    y = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 5.0, 5.1, 5.2])[:, None]
    problem = MAPProblem(y, 2, np.eye(1) / 0.04)
    cons = Constraints.paper_defaults()
    seed = next(s for s in range(20) if kmeans_start(problem, s)[2][0] > 0.5)
    tied = fit(method, problem, seed=seed, constraints=cons, sort_start=False)
    np.testing.assert_allclose(tied.pi, [0.5, 0.5], atol=1e-6)
    assert tied.solver["options"]["sort_start"] is False
    best = fit(method, problem, seed=seed, constraints=cons)
    np.testing.assert_allclose(best.pi, [1 / 3, 2 / 3], atol=1e-6)
    assert best.objective < tied.objective - 0.1
    assert cons.violations(tied.labels, 2, tied.mu, tied.pi, tol=1e-6) == []
