"""Tests for tclustreg without trimming (docs/reference-tclustreg.md) and the thesis' log L^ (Sec.
2.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from mixopt.methods.regression.tclustreg import (
    _run_starts,
    draw_starts,
    fit_tclustreg,
    loglik_hat,
    prepare_design,
)
from mixopt.metrics import adjusted_rand_index
from mixopt.problem import RegressionProblem
from mixopt.simulate.mixsim import mixsimreg
from mixopt.simulate.sample import simdatasetreg


@pytest.fixture(scope="module")
def separated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ms = mixsimreg(3, 3, bar_omega=0.001, pi_low=1 / 9, seed=1)
    return simdatasetreg(300, ms.pi, ms.beta, ms.S, seed=1)


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Few points per cluster: many starts are abandoned at various steps."""
    ms = mixsimreg(3, 3, bar_omega=0.05, pi_low=1 / 9, seed=3)
    return simdatasetreg(60, ms.pi, ms.beta, ms.S, seed=3)


@pytest.fixture(scope="module")
def fitted(separated):
    y, X, _ = separated
    return fit_tclustreg(RegressionProblem(X, y, 3), nsamp=100, seed=0)


# --------------------------------------------------------------------------------------------
# naive reference: one start at a time, plain numpy/scipy, FSDA formulas
# (docs/reference-tclustreg.md 2-3)


def naive_run(X, y, k, subsets, props, refsteps=10):
    n, p = X.shape
    nsamp = subsets.shape[0]
    fullsol = np.full(nsamp, np.nan)
    abandoned = np.full(nsamp, -1)
    best = None  # (obj, start, step, labels)
    for i in range(nsamp):
        beta = np.empty((k, p))
        s2 = np.empty(k)
        for j in range(k):
            sel = subsets[i, j * p:(j + 1) * p]
            beta[j] = np.linalg.solve(X[sel], y[sel])
            s2[j] = np.var(y[sel], ddof=1)
        nj = props[i].astype(float)
        for step in range(1, refsteps + 1):
            ll = np.column_stack([math.log(nj[j] / nj.sum())
                                  + norm.logpdf(y - X @ beta[j], scale=math.sqrt(s2[j]))
                                  for j in range(k)])
            lab = np.argmax(ll, axis=1)
            nj = np.bincount(lab, minlength=k).astype(float)
            if np.any(nj <= p + 1):
                abandoned[i] = step
                break
            for j in range(k):
                m = lab == j
                beta[j] = np.linalg.lstsq(X[m], y[m], rcond=None)[0]
                s2[j] = np.sum((y[m] - X[m] @ beta[j]) ** 2) / nj[j]
            obj = sum(nj[j] * math.log(nj[j] / n)
                      + norm.logpdf(y[lab == j] - X[lab == j] @ beta[j],
                                    scale=math.sqrt(s2[j])).sum() for j in range(k))
            if best is None or (step == refsteps and obj >= best[0]):
                best = (obj, i, step, lab.copy())
            if step == refsteps:
                fullsol[i] = obj
    return fullsol, abandoned, best


# --------------------------------------------------------------------------------------------
# loglik_hat


def test_loglik_hat_equals_direct_gaussian_loglik(separated):
    y, X, labels = separated
    k = 3
    n = y.size
    direct = 0.0
    for j in range(k):
        m = labels == j
        beta = np.linalg.lstsq(X[m], y[m], rcond=None)[0]
        r = y[m] - X[m] @ beta
        nj = m.sum()
        direct += nj * math.log(nj / n) + norm.logpdf(r, scale=math.sqrt(r @ r / nj)).sum()
    assert loglik_hat(X, y, labels, k) == pytest.approx(direct, rel=1e-12, abs=1e-9)
    perm = np.random.default_rng(0).integers(0, k, n)  # any other full assignment
    direct = 0.0
    for j in range(k):
        m = perm == j
        beta = np.linalg.lstsq(X[m], y[m], rcond=None)[0]
        r = y[m] - X[m] @ beta
        nj = m.sum()
        direct += nj * math.log(nj / n) + norm.logpdf(r, scale=math.sqrt(r @ r / nj)).sum()
    assert loglik_hat(X, y, perm, k) == pytest.approx(direct, rel=1e-12, abs=1e-9)


def test_loglik_hat_infeasible_is_minus_inf(separated):
    y, X, labels = separated
    p = X.shape[1]
    lab = labels.copy()
    lab[lab == 2] = 0
    lab[:p] = 2  # cluster 2 has p points: exact fit, unbounded
    assert loglik_hat(X, y, lab, 3) == -math.inf
    assert loglik_hat(X, y, labels, 4) == -math.inf  # empty cluster
    # p + 2 points exactly on a hyperplane: SSR_j = 0
    y2 = y.copy()
    lab = labels.copy()
    lab[lab == 2] = 0
    lab[: p + 2] = 2
    y2[: p + 2] = X[: p + 2] @ np.arange(1.0, p + 1)
    assert loglik_hat(X, y2, lab, 3) == -math.inf
    with pytest.raises(ValueError, match="labels"):
        loglik_hat(X, y, labels + 1, 3)


# --------------------------------------------------------------------------------------------
# fit_tclustreg: stored solution and objective


def test_objective_equals_loglik_and_storing_rule(fitted, separated):
    y, X, _ = separated
    r = fitted
    p = X.shape[1]
    assert r.objective == pytest.approx(r.loglik, rel=1e-10)
    assert r.loglik == pytest.approx(loglik_hat(X, y, r.labels, 3), rel=1e-12)
    assert r.best_step == 10
    assert r.objective == np.nanmax(r.fullsol)
    assert r.best_start == int(np.flatnonzero(r.fullsol == r.objective)[-1])  # ties: later
    assert np.all(r.n_j > p + 1)
    assert np.array_equal(r.n_j, np.bincount(r.labels, minlength=3))
    assert r.labels.dtype == np.int64 and r.beta.shape == (p, 3) and r.sigma2.shape == (3,)
    assert r.n_abandoned == int(np.isnan(r.fullsol).sum())
    for j in range(3):  # stored beta, sigma2 are the OLS / ML fits on the stored labels
        m = r.labels == j
        b = np.linalg.lstsq(X[m], y[m], rcond=None)[0]
        np.testing.assert_allclose(r.beta[:, j], b, rtol=1e-8, atol=1e-10)
        assert r.sigma2[j] == pytest.approx(np.sum((y[m] - X[m] @ b) ** 2) / m.sum(), rel=1e-9)


def test_recovery_on_separated_data(fitted, separated):
    y, X, labels = separated
    assert adjusted_rand_index(fitted.labels, labels) > 0.9
    assert fitted.loglik >= loglik_hat(X, y, labels, 3) - 1e-6


def test_reproducible_and_batch_independent(separated):
    y, X, _ = separated
    a = fit_tclustreg(RegressionProblem(X, y, 3), nsamp=40, seed=5)
    b = fit_tclustreg(RegressionProblem(X, y, 3), nsamp=40, seed=5, batch_size=3)
    np.testing.assert_allclose(a.fullsol, b.fullsol, rtol=1e-10)
    assert np.array_equal(a.labels, b.labels) and a.best_start == b.best_start


# --------------------------------------------------------------------------------------------
# vectorized vs naive


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_vectorized_matches_naive(small, batch_size):
    y, X, _ = small
    k, p = 3, X.shape[1]
    sub, props = draw_starts(y.size, k, p, 60, seed=11)
    out = _run_starts(X, y, k, sub, props, 10, batch_size=batch_size)
    fs, ab, best = naive_run(X, y, k, sub, props)
    assert np.array_equal(out.abandoned_at, ab)
    assert (ab > 0).any() and (ab == -1).any()  # both kinds occur
    np.testing.assert_allclose(out.fullsol, fs, rtol=1e-9, equal_nan=True)
    assert (out.best.start, out.best.step) == (best[1], best[2])
    assert np.array_equal(out.best.labels, best[3])
    assert out.best.obj == pytest.approx(best[0], rel=1e-9)


def test_first_evaluated_step_is_stored(small):
    """Rule 8: the first evaluated step is stored even if its start is abandoned later."""
    y, X, _ = small
    k, p = 3, X.shape[1]
    sub, props = draw_starts(y.size, k, p, 400, seed=2)
    out = _run_starts(X, y, k, sub, props, 10)
    late = np.flatnonzero(out.abandoned_at >= 2)
    early = np.flatnonzero(out.abandoned_at == 1)
    assert late.size and early.size
    rows = np.concatenate([early[:3], late[:1], early[3:6]])
    out2 = _run_starts(X, y, k, sub[rows], props[rows], 10)
    fs, _, best = naive_run(X, y, k, sub[rows], props[rows])
    assert np.all(np.isnan(out2.fullsol)) and np.all(np.isnan(fs))
    assert (out2.best.start, out2.best.step) == (3, 1) == (best[1], best[2])
    assert out2.best.obj == pytest.approx(loglik_hat(X, y, out2.best.labels, k), rel=1e-10)


# --------------------------------------------------------------------------------------------
# starts, design, options


def test_draw_starts():
    sub, props = draw_starts(50, 3, 4, 200, seed=0)
    assert sub.shape == (200, 12) and props.shape == (200, 3)
    assert all(np.unique(row).size == 12 for row in sub)
    assert sub.min() >= 0 and sub.max() < 50
    assert np.all(props.sum(1) == 50) and props.min() > 0
    sub2, props2 = draw_starts(50, 3, 4, 200, seed=0)
    assert np.array_equal(sub, sub2) and np.array_equal(props, props2)


def test_intercept_handling(separated):
    y, X, _ = separated
    a = fit_tclustreg(RegressionProblem(X, y, 3), nsamp=30, seed=1)
    b = fit_tclustreg(RegressionProblem(X[:, 1:], y, 3), nsamp=30, seed=1)  # ones column added
    c = fit_tclustreg(RegressionProblem(np.column_stack([X, 2.0 * X[:, 0]]), y, 3), nsamp=30,
                      seed=1)
    d = fit_tclustreg(RegressionProblem(X, y, 3), nsamp=30, seed=1,
                      intercept=False)  # X already has one
    for r in (b, c, d):
        assert np.array_equal(r.labels, a.labels)
        assert r.objective == pytest.approx(a.objective, rel=1e-10)
    assert list(a.extra["design_columns"]) == [0, 1, 2]
    assert list(b.extra["design_columns"]) == [-1, 0, 1]
    assert list(c.extra["design_columns"]) == [0, 1, 2]
    x, _, cols = prepare_design(X[:, 1:], y, 3, intercept=False)
    assert x.shape[1] == 2 and list(cols) == [0, 1]


def test_restriction_and_equal_weights(separated):
    y, X, _ = separated
    a = fit_tclustreg(RegressionProblem(X, y, 3), nsamp=30, seed=2)
    problem = RegressionProblem(X, y, 3)
    b = fit_tclustreg(problem, nsamp=30, seed=2, restr_factor=1e12)  # inactive restriction
    assert np.array_equal(a.labels, b.labels) and a.objective == pytest.approx(b.objective)
    c = fit_tclustreg(problem, nsamp=30, seed=2, restr_factor=1.0)  # equal variances
    assert np.ptp(c.sigma2) <= 1e-8 * c.sigma2.max()
    assert c.objective <= c.loglik + 1e-8
    e = fit_tclustreg(RegressionProblem(X, y, 3), nsamp=30, seed=2, equal_weights=True)
    nj = e.n_j
    expected = np.sum(-math.log(3) - 0.5 * nj * (math.log(2 * math.pi) + np.log(e.sigma2))
                      - 0.5 * nj)
    assert e.objective == pytest.approx(expected, rel=1e-10)


def test_input_errors(separated):
    y, X, _ = separated
    bad = X.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fit_tclustreg(RegressionProblem(bad, y, 3))
    with pytest.raises(ValueError, match="k must"):
        fit_tclustreg(RegressionProblem(X, y, 0))
    with pytest.raises(ValueError, match="nsamp"):
        fit_tclustreg(RegressionProblem(X, y, 3), nsamp=0)
    with pytest.raises(ValueError, match="refsteps"):
        fit_tclustreg(RegressionProblem(X, y, 3), refsteps=0)
    with pytest.raises(ValueError, match="restr_factor"):
        fit_tclustreg(RegressionProblem(X, y, 3), restr_factor=0.5)
    with pytest.raises(ValueError, match="rank deficient"):
        fit_tclustreg(RegressionProblem(np.column_stack([X, X[:, 1] + X[:, 2]]), y, 3))
    with pytest.raises(ValueError, match="too few points"):
        fit_tclustreg(RegressionProblem(X[:11], y[:11], 3))
    with pytest.raises(ValueError, match="length n"):
        fit_tclustreg(RegressionProblem(X, y[:-1], 3))


def test_all_starts_abandoned_raises(separated):
    y, X, _ = separated
    n = 3 * (X.shape[1] + 1)  # n = k(p + 1): no cluster can reach p + 2 points
    with pytest.raises(RuntimeError, match="abandoned"):
        fit_tclustreg(RegressionProblem(X[:n], y[:n], 3), nsamp=20)
