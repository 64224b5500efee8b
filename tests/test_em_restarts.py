"""EM restarted from random initial values (Flaherty et al. Sec. 4.1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

from mixopt.constraints import Constraints
from mixopt.data import build_dataset, load_registry, raw_keys_for
from mixopt.methods.map.em_restarts import batched_em, fit_em_restarts, random_starts
from mixopt.methods.map.exact.exact1d import fit_exact1d
from mixopt.problem import MAPProblem
from mixopt.runner import class_subset

CONS = Constraints(min_size=1, pi_order=True)


def em_loop(y, lam, mu, pi, iters):
    """Textbook EM, one start, fixed number of iterations (reference for the batched code)."""
    for _ in range(iters):
        d = y[:, None, :] - mu[None, :, :]
        logp = np.log(pi)[None, :] - 0.5 * np.einsum("nkd,de,nke->nk", d, lam, d)
        r = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
        mu = (r.T @ y) / r.sum(axis=0)[:, None]
        pi = r.sum(axis=0) / y.shape[0]
    return mu, pi


def test_batched_em_equals_textbook_em_start_by_start():
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(m, 0.5, size=(20, 2)) for m in (-2.0, 0.0, 2.5)])
    lam = np.array([[2.0, 0.3], [0.3, 1.5]])
    mu0, pi0 = random_starts(y, 3, 5, rng)
    _, mu, pi, _ = batched_em(y, lam, mu0, pi0, max_iter=25, tol=1e-300)
    for b in range(5):
        ref_mu, ref_pi = em_loop(y, lam, mu0[b], pi0[b], 25)
        np.testing.assert_allclose(mu[b], ref_mu, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(pi[b], ref_pi, rtol=1e-8, atol=1e-8)


def test_random_starts_use_distinct_points_and_simplex_weights():
    y = np.arange(10.0)[:, None]
    mu, pi = random_starts(y, 4, 100, np.random.default_rng(0))
    assert all(len(set(m[:, 0])) == 4 for m in mu)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    assert (pi > 0).all()


@pytest.mark.parametrize("seed", range(4))
def test_best_restart_is_never_below_the_certified_optimum(seed):
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(m, 0.6, size=12) for m in (-1.5, 0.0, 1.2)])[:, None]
    problem = MAPProblem(y, 3, np.array([[4.0]]))
    res = fit_em_restarts(problem, seed=seed, constraints=CONS, restarts=60, batch=16)
    optimum = fit_exact1d(problem, constraints=CONS).objective
    assert res.objective >= optimum - 1e-9
    steps = [v for _, v in res.extra["improvements"]]
    assert steps == sorted(steps, reverse=True) and steps[-1] == res.objective
    assert res.extra["restarts"] == 60
    assert sum(c for _, c in res.extra["local_optima"]) + res.extra["violating_min_size"] == 60


def test_time_budget_stops_unbounded_restarts():
    y = np.r_[np.linspace(-3, -2, 15), np.linspace(2, 3, 15)][:, None]
    res = fit_em_restarts(MAPProblem(y, 2, np.eye(1)), restarts=None, time_budget_s=0.2,
                          batch=8, constraints=CONS)
    assert res.extra["restarts"] >= 8


@pytest.mark.parametrize("kwargs, message", [
    ({"restarts": None, "time_budget_s": None}, "restart count"),
    ({"restarts": 0}, "restarts must be"),
    ({"score": "best"}, "score must be"),
])
def test_bad_options_fail_clearly(kwargs, message):
    problem = MAPProblem(np.linspace(0, 1, 8)[:, None], 2, np.eye(1))
    with pytest.raises(ValueError, match=message):
        fit_em_restarts(problem, **kwargs)


def test_reproduces_the_papers_n45_values(mirror: Path):
    """sigma = 0.2 on the first 15 points per class: 194.9582 (EM restarts), 194.9455 (global)."""
    registry = load_registry()
    iris = build_dataset("iris1d", {k: mirror / registry[k].mirror for k in raw_keys_for("iris1d")})
    sub = class_subset(iris, 15)
    problem = MAPProblem(sub.X, 3, np.array([[1 / 0.2**2]]))
    res = fit_em_restarts(problem, seed=0, constraints=CONS, restarts=200)
    assert round(res.objective, 4) == 194.9582
    assert round(fit_exact1d(problem, constraints=CONS).objective, 4) == 194.9455
