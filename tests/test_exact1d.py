"""exact1d: the DP optimum equals brute force and SCIP's certified MINLP optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixopt.constraints import Constraints
from mixopt.methods.map.exact.exact1d import fit_exact1d
from mixopt.methods.map.minlp import fit_minlp
from mixopt.objectives import profiled_objective
from mixopt.problem import MAPProblem


def brute_force(y: np.ndarray, k: int, sigma: float, min_size: int) -> tuple[float, np.ndarray]:
    best, arg = np.inf, None
    for labels in itertools.product(range(k), repeat=len(y)):
        lab = np.array(labels)
        if np.bincount(lab, minlength=k).min() < min_size:  # min_size 0: empty allowed
            continue
        val = profiled_objective(y[:, None], lab, k, 1 / sigma**2)
        if val < best:
            best, arg = val, lab
    return best, arg


@settings(max_examples=40, deadline=None)
@given(
    y=st.lists(st.floats(-5, 5, allow_nan=False), min_size=4, max_size=9, unique=True),
    k=st.integers(1, 3),
    sigma=st.floats(0.2, 3.0),
    min_size=st.integers(0, 2),
)
def test_dp_equals_brute_force_and_clusters_are_intervals(y, k, sigma, min_size):
    y = np.array(y)
    if k * min_size > y.size:
        return
    res = fit_exact1d(MAPProblem(y, k, 1 / sigma**2),
                      constraints=Constraints(min_size=min_size))
    best, _ = brute_force(y, k, sigma, min_size)
    # The best interval partition (the DP) is as good as the best of all K^n assignments.
    assert res.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert res.lower_bound == res.upper_bound == res.objective and res.status == "optimal"
    runs = res.labels[np.argsort(y, kind="stable")]
    assert np.count_nonzero(np.diff(runs)) == len(set(runs.tolist())) - 1


@pytest.mark.parametrize("seed", [0, 1])
def test_dp_equals_scip_certified_minlp(seed):
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(0, 0.5, 5), rng.normal(2, 0.5, 5)])
    problem = MAPProblem(y, 2, 1 / 0.4**2)
    cons = Constraints.paper_defaults()
    exact = fit_exact1d(problem, constraints=cons)
    scip = fit_minlp(problem, constraints=cons, backend="scip", time_limit_s=120)
    assert scip.status == "optimal"
    assert exact.objective == pytest.approx(scip.objective, rel=1e-5)
    assert scip.lower_bound <= exact.objective + 1e-6


def test_rejects_unsupported_input():
    with pytest.raises(ValueError, match="one-dimensional"):
        fit_exact1d(MAPProblem(np.zeros((4, 2)) + np.arange(4)[:, None], 2, np.eye(2)))
    with pytest.raises(ValueError, match="cannot honour the constraint"):
        fit_exact1d(MAPProblem(np.arange(4.0), 2, 1.0),
                    constraints=Constraints.from_dict({"must_link": [[0, 1]]}))
