"""MINLP and MIQP: certified optima equal brute force; bounds are valid; constraints honoured."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixopt.constraints import Constraints, InfeasibleConstraintsError
from mixopt.methods.map.minlp import fit_minlp
from mixopt.methods.map.miqp import fit_miqp
from mixopt.methods.map.solvers import SolverUnavailableError, check_backend
from mixopt.objectives import map_objective, profile_parameters, profiled_objective
from mixopt.problem import MAPProblem

SCIP = {"backend": "scip", "time_limit_s": 120.0}


def instance(n_per: int, k: int, d: int = 1, seed: int = 0, sep: float = 3.0) -> MAPProblem:
    rng = np.random.default_rng(seed)
    y = np.vstack([rng.normal(sep * c, 1.0, size=(n_per, d)) for c in range(k)])
    return MAPProblem(y, k, np.eye(d))


def brute_force(problem: MAPProblem, cons: Constraints) -> float:
    """Minimum of Problem (4) over all assignments honouring ``cons`` (z-constraints only)."""
    best = np.inf
    for labels in itertools.product(range(problem.k), repeat=problem.n):
        lab = np.array(labels)
        if cons.violations(lab, problem.k):
            continue
        if cons.mu_lower is not None or cons.mu_upper is not None:  # 1-d: clip the means
            mu, pi = profile_parameters(problem.y, lab, problem.k)
            lo, hi = cons.mu_box(problem.k, problem.d, problem.y.min(0), problem.y.max(0))
            mu = np.clip(mu, lo, hi)
            val = map_objective(problem.y, lab, mu, pi, problem.precision)
        else:
            val = profiled_objective(problem.y, lab, problem.k, problem.precision)
        best = min(best, val)
    return best


@pytest.mark.parametrize(("n_per", "k", "d"), [(5, 2, 1), (6, 2, 2), (3, 3, 1)])
def test_minlp_certifies_the_brute_force_optimum(n_per, k, d):
    problem = instance(n_per, k, d, seed=n_per + k + d)
    cons = Constraints.paper_defaults()
    res = fit_minlp(problem, constraints=cons, **SCIP)
    opt = brute_force(problem, cons)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(opt, rel=1e-5)
    assert res.lower_bound <= opt + 1e-6 * abs(opt)
    assert res.gap <= 1e-4
    assert res.trace and res.trace[-1][1] == pytest.approx(res.upper_bound, rel=1e-5)


def test_miqp_bound_is_valid_and_objective_approaches_the_optimum():
    problem = instance(6, 2, 1, seed=3)
    cons = Constraints.paper_defaults()
    opt = brute_force(problem, cons)
    errors = []
    for breakpoints in (2, 6, 60):
        # cold start: from EM's assignment even 2 breakpoints reach the optimum (to 1e-7)
        res = fit_miqp(problem, constraints=cons, breakpoints=breakpoints, warm_start=None,
                       **SCIP)
        assert res.lower_bound <= opt + 1e-6 * abs(opt)  # tangents under-estimate Problem (4)
        assert res.objective >= opt - 1e-6 * abs(opt)  # a feasible point of Problem (4)
        errors.append(res.objective - opt)
    assert errors[-1] <= errors[0]
    assert errors[-1] < 1e-3 * abs(opt)


def test_time_limit_reports_bounds_and_gap():
    # 60 points, K = 3: far beyond what SCIP certifies in seconds (the paper needed hours at
    # n = 45), so the run ends at the limit with EM's warm start as incumbent and a dual bound
    problem = instance(60, 3, 1, seed=1)
    res = fit_minlp(problem, constraints=Constraints.paper_defaults(), backend="scip",
                    time_limit_s=5.0, warm_start="em")
    assert res.status == "time_limit"
    assert res.lower_bound is not None and res.upper_bound == res.objective
    assert res.lower_bound <= res.objective
    assert res.gap == pytest.approx((res.objective - res.lower_bound) / abs(res.objective))
    assert res.gap > 1e-4


CONSTRAINT_CASES = {
    "must_link": {"must_link": [[0, 9]]},
    "cannot_link": {"cannot_link": [[0, 1], [8, 9]]},
    "implies": {"implies": [[9, 0]]},
    "known_labels": {"known_labels": {0: 1, 9: 0}},
    "packing": {"packing": [{"points": [5, 6, 7, 8, 9], "component": 1, "at_most": 2}]},
    "partition": {"partition": [{"points": [0, 1, 2, 3], "component": 0, "exactly": 3}]},
    "cover": {"cover": [{"points": [0, 1, 2], "component": 1, "at_least": 2}]},
    "min_size": {"min_size": 4},
    "mu_bounds": {"mu_bounds": {"lower": -0.5, "upper": 1.5}},
}


@pytest.mark.parametrize("case", sorted(CONSTRAINT_CASES))
@pytest.mark.parametrize("fit", [fit_minlp, fit_miqp], ids=["minlp", "miqp"])
def test_every_constraint_type_is_honoured(case, fit):
    problem = instance(5, 2, 1, seed=7)
    cons = Constraints.from_dict(CONSTRAINT_CASES[case])
    kw = {"breakpoints": 60} if fit is fit_miqp else {}
    res = fit(problem, constraints=cons, **SCIP, **kw)
    assert cons.violations(res.labels, problem.k, mu=res.mu, pi=res.pi, tol=1e-6) == []
    if fit is fit_minlp:
        assert res.status == "optimal"
        assert res.objective == pytest.approx(brute_force(problem, cons), rel=1e-4)


def test_contradictory_constraints_fail_before_solving():
    problem = instance(5, 2, 1)
    cons = Constraints.from_dict({"must_link": [[0, 1], [1, 2]], "cannot_link": [[0, 2]]})
    with pytest.raises(InfeasibleConstraintsError, match="must_link"):
        fit_minlp(problem, constraints=cons, **SCIP)
    with pytest.raises(InfeasibleConstraintsError, match="min_size"):
        fit_miqp(problem, constraints=Constraints.from_dict({"min_size": 6}), **SCIP)


def test_missing_backends_give_clear_errors(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SolverUnavailableError, match="BARON executable"):
        check_backend("baron")
    import builtins
    real_import = builtins.__import__

    def no_gurobi(name, *args, **kwargs):
        if name == "gurobipy":
            raise ImportError("No module named 'gurobipy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gurobi)
    with pytest.raises(SolverUnavailableError, match="mixopt\\[gurobi\\]"):
        check_backend("gurobi")
    problem = instance(5, 2, 1)
    with pytest.raises(SolverUnavailableError, match="gurobi"):
        fit_minlp(problem, backend="gurobi", time_limit_s=5)
    res = fit_miqp(problem, backend="auto", time_limit_s=30, constraints=Constraints())
    assert any("using SCIP" in n for n in res.extra["notes"])


def _gurobi_license_is_size_limited(gurobipy) -> bool:
    """True when the licence refuses a model of 2001 variables (the pip package's licence)."""
    model = gurobipy.Model()
    model.Params.OutputFlag = 0
    model.addVars(2001)
    try:
        model.optimize()
    except gurobipy.GurobiError:
        return True
    return False


def test_gurobi_size_limited_license_falls_back_to_scip():
    gurobipy = pytest.importorskip("gurobipy")
    try:
        check_backend("gurobi")
    except SolverUnavailableError:
        pytest.skip("gurobipy installed without a usable license")
    if not _gurobi_license_is_size_limited(gurobipy):
        pytest.skip("a full Gurobi licence: the size-limited fallback cannot be exercised")
    problem = instance(150, 3, 1, seed=2)  # ~2000 variables: beyond the pip license
    res = fit_miqp(problem, backend="gurobi", time_limit_s=2, constraints=Constraints())
    assert res.solver["name"] == "scip"
    assert any("size-limited" in n for n in res.extra["notes"])
    assert res.lower_bound is None or res.lower_bound <= res.objective


@pytest.mark.parametrize("fit", [fit_minlp, fit_miqp], ids=["minlp", "miqp"])
def test_gurobi_backend_matches_brute_force_when_available(fit):
    pytest.importorskip("gurobipy")
    try:
        check_backend("gurobi")
    except SolverUnavailableError:
        pytest.skip("gurobipy installed without a usable license")
    problem = instance(5, 2, 1, seed=5)
    cons = Constraints.paper_defaults()
    kw = {"breakpoints": 100} if fit is fit_miqp else {}
    res = fit(problem, constraints=cons, backend="gurobi", time_limit_s=60, **kw)
    opt = brute_force(problem, cons)
    assert res.solver["name"] == "gurobi" and res.trace
    assert res.objective == pytest.approx(opt, rel=1e-4)
    assert res.lower_bound <= opt + 1e-6 * abs(opt)


@pytest.mark.parametrize("fit", [fit_minlp, fit_miqp])
def test_em_warm_start_gives_an_incumbent_no_worse_than_em(fit):
    """A 1-second run cannot do worse than EM's assignment when it starts from it."""
    from mixopt.methods.map.em import fit_em

    rng = np.random.default_rng(7)
    y = np.vstack([rng.normal(c, 0.6, size=(25, 2)) for c in (-2.0, 0.0, 2.0)])
    problem = MAPProblem(y, 3, np.eye(2) * 2.0)
    cons = Constraints(min_size=1, pi_order=True)
    em = fit_em(problem, constraints=cons)
    em_value = profiled_objective(y, em.labels, 3, problem.precision)
    res = fit(problem, constraints=cons, backend="scip", time_limit_s=1, warm_start="em")
    assert res.extra["notes"][0].startswith("warm start: EM's assignment")
    # the MIQP's pi is its tangent approximation; Problem (4) at its own mu, pi is at most
    # the profiled value plus the approximation error
    slack = 0.0 if fit is fit_minlp else 0.05 * abs(em_value)
    assert res.objective <= em_value + slack + 1e-6
    assert not [n for n in res.extra["notes"] if "violates" in n]


@pytest.mark.parametrize("fit", [fit_minlp, fit_miqp])
def test_warm_start_stays_the_incumbent_when_the_solver_stops_first(fit):
    """A time limit hit before SCIP takes up the warm start still reports EM's assignment."""
    from mixopt.methods.map.em import fit_em

    rng = np.random.default_rng(3)
    y = np.vstack([rng.normal(c, 0.6, size=(40, 2)) for c in (-2.0, 0.0, 2.0)])
    problem = MAPProblem(y, 3, np.eye(2) * 2.0)
    cons = Constraints(min_size=1)
    em = fit_em(problem, constraints=cons)
    res = fit(problem, constraints=cons, backend="scip", time_limit_s=1e-3, warm_start="em")
    assert res.status == "time_limit"
    assert len(res.labels) == problem.n
    assert any("before taking up the warm start" in n for n in res.extra["notes"])
    assert np.array_equal(res.labels, em.labels)
    assert res.objective == pytest.approx(
        profiled_objective(y, em.labels, 3, problem.precision), rel=1e-9)


@pytest.mark.parametrize("fit", [fit_minlp, fit_miqp], ids=["minlp", "miqp"])
def test_global_methods_start_from_em_by_default_and_cold_on_request(fit):
    """The Python API warm-starts from EM unless ``warm_start=None`` (the papers' cold start)."""
    y = np.r_[np.zeros(5), np.ones(5) * 10][:, None]
    problem = MAPProblem(y, 2, np.eye(1))
    warm = fit(problem, backend="scip", time_limit_s=5)
    cold = fit(problem, backend="scip", time_limit_s=5, warm_start=None)
    assert warm.extra["notes"][0].startswith("warm start: EM's assignment")
    assert not any("warm start" in n for n in cold.extra.get("notes", []))


def test_workflow_keeps_the_papers_warm_start_settings():
    """Table 2 starts from EM through the config; Fig. 1 keeps the paper's cold start explicitly,
    so the API default does not change either."""
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
    assert cfg["methods"]["minlp"]["warm_start"] == "em"
    assert cfg["methods"]["miqp"]["warm_start"] == "em"
    fig1 = cfg["studies"]["flaherty_fig1"]["method_options"]
    assert "warm_start" in fig1["minlp"] and fig1["minlp"]["warm_start"] is None
    assert "warm_start" in fig1["miqp"] and fig1["miqp"]["warm_start"] is None


def test_warm_start_from_em_honours_the_constraints():
    y = np.r_[np.zeros(5), np.ones(5) * 10][:, None]
    problem = MAPProblem(y, 2, np.eye(1))
    cons = Constraints(must_link=[(0, 9)])   # EM's own rounding separates 0 and 9: repaired
    res = fit_minlp(problem, constraints=cons, backend="scip", time_limit_s=5, warm_start="em")
    assert res.extra["notes"][0].startswith("warm start: EM's assignment")
    assert res.labels[0] == res.labels[9]


def test_warm_start_is_skipped_with_a_note_when_em_cannot_honour_the_model():
    y = np.r_[np.zeros(5), np.ones(5) * 10][:, None]
    problem = MAPProblem(y, 2, np.eye(1))
    cons = Constraints(mu_upper=8.0)   # EM cannot keep its means in a box
    res = fit_minlp(problem, constraints=cons, backend="scip", time_limit_s=5, warm_start="em")
    assert res.extra["notes"][0].startswith("no warm start: em cannot honour")
    assert np.all(res.mu <= 8.0 + 1e-6)


def test_unknown_warm_start_fails_clearly():
    problem = MAPProblem(np.linspace(0, 1, 6)[:, None], 2, np.eye(1))
    with pytest.raises(ValueError, match="warm_start"):
        fit_minlp(problem, backend="scip", warm_start="kmeans")


def test_a_crashing_solver_loses_nothing(monkeypatch):
    """SCIP runs in a child process: if it dies (SCIP 10 can abort), the run reports the warm
    start as its solution, the last streamed dual bound, and status ``error`` with a note."""
    import faulthandler
    import os

    from mixopt.methods.map import solvers

    def abort_after_one_trace_row(*args, on_trace=None, **kwargs):
        on_trace((0.5, 1e6, -7.0))
        faulthandler.disable()   # keep pytest's crash dump out of the output
        os.abort()

    monkeypatch.setattr(solvers, "_solve_contrib", abort_after_one_trace_row)
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(-2, 0.5, 8), rng.normal(2, 0.5, 8)][:, None]
    problem = MAPProblem(y, 2, np.eye(1) * 4)
    cons = Constraints(min_size=1, pi_order=True)
    res = fit_minlp(problem, constraints=cons, backend="scip", time_limit_s=5, warm_start="em")
    assert res.status == "error"
    assert res.lower_bound == -7.0
    assert res.objective == pytest.approx(profiled_objective(y, res.labels, 2, problem.precision))
    assert any("died (signal 6)" in n for n in res.extra["notes"])
    assert res.trace and res.trace[0][2] == -7.0
