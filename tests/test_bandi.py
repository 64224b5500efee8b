"""Bandi et al. (2019) KS-MIO estimation (Flaherty et al. Sec. 4.1 comparison)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kstest, norm

from mixopt.methods.map.bandi import fit_bandi, nearest_psd
from mixopt.methods.map.bandi_mio import (
    fit_ks_mio,
    fit_ks_weights,
    ks_discrepancy,
    phi_breakpoints,
)
from mixopt.metrics import table2_metrics
from mixopt.problem import MAPProblem


def model_ks(x, pi, mu, sigma, g):
    """KS discrepancy with Phi replaced by its interpolant on breakpoints ``g`` (the MILP's)."""
    xs = np.sort(x)
    n = xs.size
    u = (xs[:, None] - mu[None, :]) / sigma[None, :]
    cdf = np.interp(u, g, norm.cdf(g)) @ pi
    return 0.5 / n + np.max(np.abs(cdf - (np.arange(1, n + 1) - 0.5) / n))


def test_ks_discrepancy_equals_scipy_for_one_gaussian():
    x = np.random.default_rng(0).normal(1.0, 2.0, size=40)
    ours = ks_discrepancy(x, np.ones(1), np.array([0.5]), np.array([1.5]))
    assert ours == pytest.approx(kstest(x, "norm", args=(0.5, 1.5)).statistic, abs=1e-12)


def test_milp_is_the_exact_minimizer_of_the_interpolated_ks():
    """K = 1, n = 9: no point of a fine (mu, sigma) grid beats the certified MILP optimum."""
    x = np.random.default_rng(1).normal(0.0, 1.0, size=9)
    fit = fit_ks_mio(x, np.ones(1), step=0.5, time_limit_s=60, rel_gap=1e-9)
    assert fit.status == "optimal"
    z_scale, centre = x.std(), x.mean()
    g = phi_breakpoints(0.5, 4.0, 1e6)
    grid = [model_ks((x - centre) / z_scale, np.ones(1), np.array([m]), np.array([s]), g)
            for m in np.linspace(-1, 1, 81) for s in np.linspace(0.3, 2.5, 89)]
    assert fit.ks_model <= min(grid) + 1e-7
    assert fit.bound is not None and fit.bound <= fit.ks_model + 1e-9
    # the interpolation error of Phi (step 0.5) bounds the gap to the true KS discrepancy
    assert abs(fit.ks - fit.ks_model) <= 0.25 / 8 * 0.25 + 1e-9


def test_weight_lp_beats_every_simplex_point_of_a_grid():
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(-2, 0.5, 30), rng.normal(1, 1.0, 50)]
    mu, sd = np.array([-2.0, 1.0]), np.array([0.5, 1.0])
    fit = fit_ks_weights(x, mu, sd)
    grid = min(ks_discrepancy(x, np.array([w, 1 - w]), mu, sd) for w in np.linspace(0, 1, 1001))
    assert fit.ks <= grid + 1e-9
    assert fit.pi.sum() == pytest.approx(1.0) and (fit.pi >= -1e-12).all()


def test_milp_never_worse_than_its_start():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(-2, 0.4, 40), rng.normal(0.5, 0.8, 40), rng.normal(3, 0.5, 40)]
    pi = np.full(3, 1 / 3)
    start = (np.array([-1.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0]))
    fit = fit_ks_mio(x, pi, start=start, time_limit_s=2)
    g = phi_breakpoints(0.5, 4.0, 1e6)
    assert fit.ks_model <= model_ks(x, pi, *start, g) + 1e-9


def test_bandi_recovers_a_separated_two_dimensional_mixture():
    rng = np.random.default_rng(4)
    cov = [np.array([[1.0, 0.6], [0.6, 1.0]]), np.array([[0.5, -0.2], [-0.2, 0.8]])]
    means = [np.array([-3.0, 0.0]), np.array([3.0, 2.0])]
    y = np.vstack([rng.multivariate_normal(m, c, size=60) for m, c in zip(means, cov, strict=True)])
    truth = np.repeat([0, 1], 60)
    res = fit_bandi(MAPProblem(y, 2, np.eye(2)), mio_time_limit_s=30, mio_node_limit=0)
    assert table2_metrics(y, truth, res.labels, res.mu, res.pi)["accuracy"] >= 0.98
    order = np.argsort(res.mu[:, 0])
    for est, true in zip(np.array(res.extra["covariances"])[order], cov, strict=True):
        assert np.abs(est - true).max() < 0.5
    assert res.extra["ks"] < 0.1 and len(res.extra["directions"]) == 3


def test_nearest_psd_clips_negative_eigenvalues():
    out = nearest_psd(np.array([[1.0, 2.0], [2.0, 1.0]]), 1e-3)
    assert np.linalg.eigvalsh(out).min() == pytest.approx(1e-3)


def test_bad_options_fail_clearly():
    problem = MAPProblem(np.linspace(0, 1, 10)[:, None], 2, np.eye(1))
    with pytest.raises(ValueError, match="covariance"):
        fit_bandi(problem, covariance="spherical")


def test_ks_milp_runs_after_another_highs_user_with_other_threads():
    """HiGHS sizes one scheduler per process at its first solve; a solve with another thread
    count (Pyomo's highs interface, say) used to make every later KS MILP fail to start."""
    import highspy

    other = highspy.Highs()
    other.setOptionValue("output_flag", False)
    other.setOptionValue("threads", 2)
    other.addVars(1, np.array([0.0]), np.array([1.0]))
    other.changeColsIntegrality(1, np.array([0], dtype=np.int32),
                                np.array([highspy.HighsVarType.kInteger]))
    other.run()
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(-2, 0.4, 30), rng.normal(3, 0.5, 30)]
    fit = fit_ks_mio(x, np.full(2, 0.5), time_limit_s=2, threads=1)
    assert np.isfinite(fit.ks_model)
