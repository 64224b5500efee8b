"""One model for every MAP method: "K clusters" means K non-empty clusters unless ``min_size: 0``;
the proportions are free (Problem (4)) or equal (pi_k = 1/K, minimum sum-of-squares clustering).

The cross-method test enumerates every assignment of small instances (brute force) and checks,
for each model, that no method returns an objective below the true optimum, that no method's
lower bound exceeds it (a certificate is a valid bound for the model asked for), that a method
reporting ``optimal`` is optimal, and that every returned clustering satisfies the model.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from mixopt.cli import main
from mixopt.constraints import Constraints
from mixopt.methods.base import (
    CAPABILITIES,
    METHODS,
    MethodResult,
    ModelNotSupportedError,
    capabilities,
    enforce_invariants,
    get_method,
)
from mixopt.objectives import mssc_value, profiled_objective
from mixopt.problem import MAPProblem

GLOBAL_OPTIONS = {"time_limit_s": 60.0}
OPTIONS: dict[str, dict[str, object]] = {
    "em": {}, "slsqp": {}, "sa": {"niter": 3}, "em_restarts": {"restarts": 20},
    "minlp": {**GLOBAL_OPTIONS, "backend": "scip"}, "miqp": {**GLOBAL_OPTIONS, "backend": "scip"},
    "exact": {"time_limit_s": 60.0, "log_progress": False}, "exact1d": {},
}


def brute_force(problem: MAPProblem, min_size: int) -> float:
    """Global optimum of Problem (4) over all K^n assignments with every cluster >= min_size."""
    best = np.inf
    for labels in itertools.product(range(problem.k), repeat=problem.n):
        lab = np.asarray(labels, dtype=np.int64)
        if np.bincount(lab, minlength=problem.k).min() < min_size:
            continue
        best = min(best, profiled_objective(problem.y, lab, problem.k, problem.precision,
                                            problem.proportions))
    return best


def equal(problem: MAPProblem) -> MAPProblem:
    """The same instance with equal proportions."""
    return MAPProblem(problem.y, problem.k, problem.precision, proportions="equal")


def instances() -> list[tuple[str, MAPProblem]]:
    rng = np.random.default_rng(20)
    out = []
    # two tight groups and K = 3: the optimum with an empty cluster beats any 3 non-empty ones
    two = np.concatenate([rng.normal(0.0, 0.05, 4), rng.normal(3.0, 0.05, 4)])[:, None]
    out.append(("two-groups-1d", MAPProblem(two, 3, np.eye(1) / 0.3**2)))
    out.append(("spread-1d", MAPProblem(rng.normal(0.0, 1.0, (8, 1)), 3, np.eye(1))))
    out.append(("three-groups-2d", MAPProblem(
        np.concatenate([rng.normal(c, 0.3, (3, 2)) for c in (0.0, 2.0, 4.0)])[:8], 3,
        np.eye(2) / 0.5**2)))
    out.append(("random-2d", MAPProblem(rng.normal(0.0, 1.0, (8, 2)), 2, np.eye(2))))
    return out


CASES = [(name, model(problem), min_size) for name, problem in instances()
         for model in (lambda p: p, equal) for min_size in (1, 0, 2)]
#: methods that must run (not refuse) on every case of each proportions model
MUST_RUN = {"free": {"em", "minlp", "miqp"}, "equal": {"em", "em_restarts", "minlp", "miqp"}}
#: certified methods that must reach the brute-force optimum when they run
MUST_SOLVE = {"exact", "exact1d"}


@pytest.mark.parametrize(("name", "problem", "min_size"), CASES,
                         ids=[f"{c[0]}-{c[1].proportions}-min_size{c[2]}" for c in CASES])
def test_no_method_beats_the_brute_force_optimum_or_bounds_above_it(
        name: str, problem: MAPProblem, min_size: int) -> None:
    optimum = brute_force(problem, min_size)
    cons = Constraints(min_size=min_size)
    tol = 1e-5 * max(1.0, abs(optimum))
    ran = []
    for method, options in OPTIONS.items():
        if method == "exact1d" and problem.d != 1:
            continue
        fit = get_method(method)
        if problem.proportions not in capabilities(method).proportions:
            with pytest.raises(ModelNotSupportedError, match="proportions"):
                fit(problem, seed=0, constraints=cons, **options)
            continue
        if min_size == 0 and not capabilities(method).empty_clusters:
            with pytest.raises(ModelNotSupportedError, match="min_size 0"):
                fit(problem, seed=0, constraints=cons, **options)
            continue
        res = fit(problem, seed=0, constraints=cons, **options)
        ran.append(method)
        assert res.status != "error", (method, res.extra.get("notes"))
        counts = np.bincount(res.labels, minlength=problem.k)
        assert counts.min() >= min_size, (method, counts)
        assert res.objective >= optimum - tol, (method, res.objective, optimum)
        if res.lower_bound is not None:
            assert res.lower_bound <= optimum + tol, (method, res.lower_bound, optimum)
        if res.status == "optimal":
            assert res.objective <= optimum + 1e-4 * abs(optimum) + tol, (method, res.objective)
        if method in MUST_SOLVE:
            assert res.status == "optimal", (method, res.status)
            assert res.objective == pytest.approx(optimum, rel=1e-6, abs=1e-9), method
        if problem.proportions == "equal":
            assert np.allclose(res.pi, 1.0 / problem.k), (method, res.pi)
        assert res.extra["model"]["min_size"] == min_size
        assert res.extra["model"]["proportions"] == problem.proportions
    assert MUST_RUN[problem.proportions] <= set(ran)


def brute_force_sse(x: np.ndarray, k: int) -> float:
    """Minimum sum of squares over all K^n assignments into K non-empty clusters (vectorised)."""
    n = x.shape[0]
    labels = np.array(list(itertools.product(range(k), repeat=n)), dtype=np.int64)
    onehot = labels[:, :, None] == np.arange(k)[None, None, :]            # (N, n, K)
    counts = onehot.sum(axis=1)
    sums = np.einsum("znk,nd->zkd", onehot.astype(float), x)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where(counts > 0, (sums ** 2).sum(axis=2) / counts, 0.0).sum(axis=1)
    sse = float((x ** 2).sum()) - between
    return float(sse[counts.min(axis=1) > 0].min())


@pytest.mark.parametrize("search", ["sdp", "directions"])
def test_exact_equal_proportions_is_minimum_sum_of_squares(search: str) -> None:
    """Identity precision, equal proportions: exact's optimum is the brute-force MSSC optimum,
    its objective is ``SSE / 2 + n log K`` and its relative gap is that of the sum of squares."""
    rng = np.random.default_rng(24)
    k = 3 if search == "sdp" else 2
    x = np.concatenate([rng.normal(c, 0.7, (4, 2)) for c in range(3)])    # n = 12
    problem = MAPProblem(x, k, np.eye(2), proportions="equal")
    res = get_method("exact")(problem, search=search, log_progress=False, time_limit_s=120.0)
    sse = brute_force_sse(x, k)
    n = x.shape[0]
    assert res.status == "optimal"
    assert res.objective == pytest.approx(0.5 * sse + n * np.log(k), rel=1e-9)
    assert mssc_value(res.objective, n, k) == pytest.approx(sse, rel=1e-9)
    assert res.constant == pytest.approx(n * np.log(k))
    assert res.gap == pytest.approx(
        (res.objective - res.lower_bound) / (0.5 * sse), rel=1e-9, abs=1e-15)
    assert res.gap <= 1e-4


def test_the_issue_instance_has_one_model_for_exact_and_miqp() -> None:
    """20 points in two tight groups, K = 3, sigma 0.3: exact's certificate and MIQP's
    incumbent answer the same model, so the bound never exceeds the MIQP objective."""
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0.0, 0.05, (10, 2)), rng.normal(3.0, 0.05, (10, 2))])
    problem = MAPProblem(y, 3, np.eye(2) / 0.3**2)
    exact = get_method("exact")(problem, time_limit_s=120.0, log_progress=False)
    miqp = get_method("miqp")(problem, backend="scip", time_limit_s=60.0)
    assert exact.status == "optimal"
    assert exact.lower_bound <= miqp.objective + 1e-6
    assert np.bincount(miqp.labels, minlength=3).min() >= 1
    with pytest.raises(ModelNotSupportedError):
        get_method("exact")(problem, constraints=Constraints(min_size=0))
    loose = get_method("miqp")(problem, constraints=Constraints(min_size=0), backend="scip",
                               time_limit_s=60.0)
    # at most K clusters: the two-cluster solution, strictly better than any 3 non-empty ones
    assert loose.objective < exact.lower_bound
    assert loose.lower_bound <= loose.objective


def test_exact1d_allows_empty_clusters_only_when_asked() -> None:
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.normal(0.0, 0.05, 10), rng.normal(3.0, 0.05, 10)])[:, None]
    problem = MAPProblem(y, 3, np.eye(1) / 0.3**2)
    fit = get_method("exact1d")
    three = fit(problem)
    at_most = fit(problem, constraints=Constraints(min_size=0))
    assert np.bincount(three.labels, minlength=3).min() >= 1
    assert np.count_nonzero(np.bincount(at_most.labels, minlength=3)) == 2
    assert at_most.objective < three.objective
    assert at_most.lower_bound == pytest.approx(at_most.objective)


def test_default_constraints_are_k_non_empty_clusters() -> None:
    assert Constraints().min_size == 1 and Constraints.none().min_size == 1
    assert Constraints.from_dict({}).min_size == 1
    assert Constraints(min_size=0).empty_clusters_allowed
    assert Constraints(min_size=0).keys_in_use() == ["min_size"]


def test_em_honours_a_cannot_link_instead_of_noting_it() -> None:
    rng = np.random.default_rng(2)
    y = np.concatenate([rng.normal(0.0, 0.05, (10, 2)), rng.normal(3.0, 0.05, (10, 2))])
    problem = MAPProblem(y, 2, np.eye(2))
    cons = Constraints(cannot_link=((0, 1),))
    plain = get_method("em")(problem)
    assert plain.labels[0] == plain.labels[1]  # the constraint binds
    res = get_method("em")(problem, constraints=cons)
    assert res.labels[0] != res.labels[1]
    assert res.status == "local"
    assert any("repaired" in note for note in res.extra["notes"])


@pytest.mark.parametrize("method", ["slsqp", "bandi"])
def test_methods_refuse_what_they_cannot_honour(method: str) -> None:
    problem = MAPProblem(np.linspace(0.0, 1.0, 8)[:, None], 2, np.eye(1),
                         proportions="equal")
    with pytest.raises(ModelNotSupportedError, match="proportions"):
        get_method(method)(problem)


def test_unsupported_side_constraints_are_refused_by_name() -> None:
    problem = MAPProblem(np.linspace(0.0, 1.0, 8)[:, None], 2, np.eye(1))
    with pytest.raises(ModelNotSupportedError, match="mu_bounds"):
        get_method("em")(problem, constraints=Constraints(mu_upper=0.5))
    with pytest.raises(ModelNotSupportedError, match="cannot_link"):
        get_method("exact1d")(problem, constraints=Constraints(cannot_link=((0, 1),)))
    with pytest.raises(ModelNotSupportedError, match="packing"):
        get_method("exact")(problem, constraints=Constraints(
            packing=({"points": [0, 1], "component": 0, "at_most": 1},)))


def test_every_registered_method_declares_its_capabilities() -> None:
    for name in METHODS:
        get_method(name)
        assert name in CAPABILITIES
    assert capabilities("exact").certifies and not capabilities("exact").empty_clusters


def _result(objective: float, lower: float | None, labels: list[int]) -> MethodResult:
    lab = np.asarray(labels, dtype=np.int64)
    pi = np.bincount(lab, minlength=2) / lab.size
    return MethodResult(labels=lab, mu=np.zeros((2, 1)), pi=pi, objective=objective,
                        status="optimal", lower_bound=lower, upper_bound=objective)


def test_invariants_drop_a_bound_above_the_objective_and_flag_model_violations() -> None:
    problem = MAPProblem(np.arange(4.0)[:, None], 2, np.eye(1))
    cons = Constraints()
    bad = enforce_invariants("x", problem, cons, _result(1.0, 2.0, [0, 0, 1, 1]))
    assert bad.status == "error" and bad.lower_bound is None
    clipped = enforce_invariants("x", problem, cons, _result(1.0, 1.0 + 1e-9, [0, 0, 1, 1]))
    assert clipped.status == "optimal" and clipped.lower_bound == 1.0
    empty = enforce_invariants("x", problem, cons, _result(1.0, 0.5, [0, 0, 0, 0]))
    assert empty.status == "error" and "min_size" in empty.extra["notes"][0]
    nan = enforce_invariants("x", problem, cons, _result(float("nan"), None, [0, 0, 1, 1]))
    assert nan.status == "error"


def test_cli_states_the_model_and_refuses_what_a_method_cannot_solve(tmp_path, capsys) -> None:
    data = tmp_path / "pts.csv"
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(0.0, 0.05, 6), rng.normal(3.0, 0.05, 6)])
    data.write_text("x\n" + "\n".join(f"{v}" for v in y) + "\n")
    out = tmp_path / "r.json"
    assert main(["cluster", "--data", str(data), "--k", "3", "--sigma", "0.3",
                 "--method", "exact1d", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "exactly K non-empty clusters" in printed
    model = json.loads(out.read_text())["params"]["model"]
    assert model["min_size"] == 1 and model["proportions"] == "free"
    assert main(["cluster", "--data", str(data), "--k", "3", "--sigma", "0.3", "--min-size", "0",
                 "--method", "exact1d", "--out", str(out)]) == 0
    assert "at most K clusters" in capsys.readouterr().out
    assert main(["cluster", "--data", str(data), "--k", "3", "--sigma", "0.3", "--min-size", "0",
                 "--method", "exact", "--out", str(tmp_path / "x.json")]) == 2
    assert "min_size 0" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_equal_proportions_record_cli_and_estimator(tmp_path, capsys) -> None:
    """The equal model through the CLI (record: model, mssc metrics, gap of the sum of squares)
    and the estimator (weights 1/K)."""
    from mixopt.estimators import MAPClustering

    rng = np.random.default_rng(4)
    y = np.concatenate([rng.normal(0.0, 0.3, 7), rng.normal(3.0, 0.3, 5)])
    data = tmp_path / "pts.csv"
    data.write_text("x\n" + "\n".join(f"{v}" for v in y) + "\n")
    out = tmp_path / "r.json"
    assert main(["cluster", "--data", str(data), "--k", "2", "--sigma", "1",
                 "--method", "exact1d", "--proportions", "equal", "--out", str(out)]) == 0
    assert "proportions equal" in capsys.readouterr().out
    rec = json.loads(out.read_text())
    n, k = y.size, 2
    assert rec["params"]["model"]["proportions"] == "equal"
    assert rec["params"]["pi"] == [0.5, 0.5]
    lab = np.asarray(rec["assignment"])
    sse = sum(float(((y[lab == c] - y[lab == c].mean()) ** 2).sum()) for c in range(k))
    assert rec["metrics"]["mssc"] == pytest.approx(sse, rel=1e-9)
    assert rec["objective"] == pytest.approx(0.5 * sse + n * np.log(k), rel=1e-12)
    assert rec["metrics"]["mssc_lower_bound"] == pytest.approx(sse, rel=1e-9)
    est = MAPClustering(n_clusters=3, method="exact", precision=1.0, proportions="equal",
                        method_options={"log_progress": False}).fit(
        np.column_stack([y, rng.normal(0.0, 0.3, y.size)]))
    assert np.allclose(est.weights_, 1.0 / 3) and est.status_ == "optimal"
    assert est.record_["params"]["model"]["proportions"] == "equal"
    assert est.gap_ <= 1e-4 and "mssc" in est.record_["metrics"]


def test_invariants_flag_weights_other_than_one_over_k_for_equal_proportions() -> None:
    problem = MAPProblem(np.arange(4.0)[:, None], 2, np.eye(1), proportions="equal")
    res = enforce_invariants("x", problem, Constraints(), _result(1.0, 0.5, [0, 0, 0, 1]))
    assert res.status == "error" and "1/K" in res.extra["notes"][0]
    ok = _result(1.0, 0.5, [0, 0, 1, 1])
    ok = enforce_invariants("x", problem, Constraints(), ok)
    assert ok.status == "optimal" and ok.constant == pytest.approx(4 * np.log(2))
    assert ok.gap == pytest.approx(0.5 / abs(1.0 - 4 * np.log(2)))   # (UB - LB) / |UB - n log K|


def test_workflow_schema_takes_proportions_for_table2() -> None:
    from pathlib import Path

    import jsonschema
    import yaml

    schema = yaml.safe_load((Path(__file__).parents[1] / "config" / "schema.yaml").read_text())
    node = schema["properties"]["studies"]["properties"]["flaherty_table2"]["properties"]
    jsonschema.validate("equal", node["proportions"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("unequal", node["proportions"])
