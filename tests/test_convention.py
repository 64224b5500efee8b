"""One calling convention for every method family: ``fit_<name>(problem, **options) -> Result``."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from mixopt.methods.base import CAPABILITIES, METHODS, MethodResult, Result
from mixopt.methods.catalog import FAMILY_METHODS, fit, fit_function, known_methods, method_info
from mixopt.problem import MAPProblem, RegressionProblem, RobustProblem

PROBLEM_OF_FAMILY = {"map": "MAPProblem", "robust": "RobustProblem",
                     "regression": "RegressionProblem"}


def blobs() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(c * 4.0, 1.0, (15, 2)) for c in range(2)])


def lines() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 5.0, 40)
    X = np.column_stack([np.ones(40), x])
    y = np.where(np.arange(40) % 2 == 0, 1.0 + 0.5 * x, 10.0 - 0.5 * x) + 0.1 * rng.normal(size=40)
    return X, y


@pytest.mark.parametrize("name", [*METHODS, *FAMILY_METHODS])
def test_every_method_takes_a_problem_first_and_is_registered_with_its_family(name: str) -> None:
    fn = fit_function(name)
    params = list(inspect.signature(fn).parameters.values())
    assert params[0].name == "problem"
    assert all(p.default is not inspect.Parameter.empty or p.kind == p.VAR_KEYWORD
               or p.name == "init_labels" for p in params[1:]), name
    caps = CAPABILITIES[name]
    assert caps.problem == PROBLEM_OF_FAMILY[caps.family]
    assert method_info(name).problem == caps.problem


def test_every_family_returns_a_result_with_the_common_fields() -> None:
    X = blobs()
    tc = fit("tclust", RobustProblem(X, 2, 10.0), nsamp=5, seed=0)
    bc = fit("bclust", RobustProblem(X, 2, 10.0), init_labels=tc.labels, mode="likelihood")
    Xr, y = lines()
    pc = fit("pclustreg", RegressionProblem(Xr, y, 2), sigma_min=0.05, node_limit=10, seed=0)
    tr = fit("tclustreg", RegressionProblem(Xr, y, 2), nsamp=20, seed=0)
    em = fit("em", MAPProblem(X, 2, np.eye(2)), seed=0)
    for res in (tc, bc, pc, tr, em):
        assert isinstance(res, Result)
        assert res.labels.shape == (X.shape[0] if res in (tc, bc, em) else Xr.shape[0],)
        assert np.isfinite(res.objective) and isinstance(res.status, str)
        assert isinstance(res.parameters, dict) and isinstance(res.notes, list)
    assert isinstance(em, MethodResult) and set(em.parameters) == {"mu", "pi"}
    assert tc.status == tr.status == bc.status == "local"
    assert set(tc.parameters) == {"mu", "sigma", "pi"} and "beta" in tr.parameters
    # bclust's trace has the (time, incumbent, bound) rows of every method
    assert bc.trace[-1][1] == bc.objective and bc.trace[-1][2] is None
    # pclustreg states its bounds on the maximal log-likelihood, hence a gap
    assert pc.lower_bound == pc.objective and pc.upper_bound is not None
    assert pc.gap == pytest.approx((pc.upper_bound - pc.objective) / abs(pc.upper_bound))
    assert tc.gap is None and tr.lower_bound is None


def test_a_method_refuses_another_familys_problem() -> None:
    X = blobs()
    with pytest.raises(TypeError, match="tclust takes a RobustProblem"):
        fit("tclust", MAPProblem(X, 2, np.eye(2)))
    with pytest.raises(TypeError, match="tclustreg takes a RegressionProblem"):
        fit("tclustreg", RobustProblem(X, 2, 10.0))
    with pytest.raises(KeyError, match="known methods"):
        fit("nope", RobustProblem(X, 2, 10.0))


def test_robust_problem_refuses_trimming() -> None:
    with pytest.raises(ValueError, match="trimming alpha = 0.1 is not implemented"):
        RobustProblem(blobs(), 2, 10.0, alpha=0.1)


def test_catalog_lists_every_family() -> None:
    names = known_methods()
    assert names[:len(METHODS)] == list(METHODS)
    assert {"bclust", "tclust", "pclustreg", "tclustreg"} <= set(names)


def test_robust_methods_run_with_one_blas_thread(monkeypatch) -> None:
    """family_method limits BLAS to one thread during the fit (small matrices; threads only
    wait for busy cores) and gives the caller's setting back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import mixopt.methods.robust.tclust as tclust_module

    def blas_threads() -> int:
        return max(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas")

    seen: list[int] = []
    check_input = tclust_module.check_input

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return check_input(*args, **kwargs)

    monkeypatch.setattr(tclust_module, "check_input", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        fit("tclust", RobustProblem(blobs(), 2, 10.0), nsamp=3)
        after = blas_threads()
    assert seen == [1]
    assert after == 2
