"""Tests for mixopt.simulate (MixSim, MixSimreg, simdataset, simdatasetreg;
docs/reference-mixsim.md)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mixopt.simulate import (
    GPCM,
    BetaDistrib,
    MixSimError,
    XDistrib,
    asymptotic_omega_map,
    gchisq_cdf,
    misclassification_prob,
    mixsim,
    mixsimreg,
    overlap,
    overlap_pars,
    restreigen,
    simdataset,
    simdatasetreg,
    summarize_omega,
)


def mc_omega_map(pi, mu, S, n: int, seed: int) -> np.ndarray:
    """Brute-force Monte Carlo of OmegaMap[i, j] = omega_{j|i} (n draws per component)."""
    rng = np.random.default_rng(seed)
    mu = np.asarray(mu, float).reshape(len(pi), -1)
    S = np.asarray(S, float).reshape(len(pi), mu.shape[1], mu.shape[1])
    k = len(pi)
    est = np.eye(k)
    for i in range(k):
        x = rng.multivariate_normal(mu[i], S[i], size=n)
        own = np.log(pi[i]) + stats.multivariate_normal(mu[i], S[i]).logpdf(x)
        for j in range(k):
            if j != i:
                other = np.log(pi[j]) + stats.multivariate_normal(mu[j], S[j]).logpdf(x)
                est[i, j] = np.mean(own < other)
    return est


def binom_se(p: np.ndarray, n: int) -> np.ndarray:
    """Standard error of a Monte Carlo proportion under the exact value p (z-test null)."""
    return np.sqrt(p * (1 - p) / n)


# ------------------------------------------------------------------ generalized chi-square cdf


@pytest.mark.parametrize("m", [2, 3, 6])
@pytest.mark.parametrize("a", [0.4, -1.5])
@pytest.mark.parametrize("ncp", [0.0, 3.0, 25.0])
def test_gchisq_cdf_matches_noncentral_chi2(m: int, a: float, ncp: float) -> None:
    # a * sum of m chi2_1(ncp/m) = a * chi2_m(ncp): closed form through scipy's ncx2
    dist = stats.ncx2(m, ncp)
    for q in (0.001, 0.2, 0.5, 0.9, 0.999):
        t = a * dist.ppf(q)
        exact = dist.cdf(t / a) if a > 0 else dist.sf(t / a)
        got = gchisq_cdf(t, np.full(m, a), np.full(m, ncp / m))
        assert abs(got - exact) < 1e-8
    for t in (0.0, 1e-9 * np.sign(a), -1e-9 * np.sign(a)):  # near the atom-free origin
        exact = dist.cdf(t / a) if a > 0 else dist.sf(t / a)
        assert abs(gchisq_cdf(t, np.full(m, a), np.full(m, ncp / m)) - exact) < 1e-8


def test_gchisq_cdf_normal_and_mixed_against_monte_carlo() -> None:
    assert gchisq_cdf(0.7, [], [], 2.0) == pytest.approx(stats.norm.cdf(0.35), abs=1e-15)
    assert gchisq_cdf(0.5, [], [], 0.0) == 1.0 and gchisq_cdf(-0.5, [], [], 0.0) == 0.0
    rng = np.random.default_rng(11)
    a = np.array([1.3, -0.6, 0.2])
    ncp = np.array([0.5, 2.0, 7.0])
    sig = 0.4
    n = 1_000_000
    w = rng.standard_normal((n, 3))
    q = (a * (w + np.sqrt(ncp)) ** 2).sum(1) + sig * rng.standard_normal(n)
    for t in np.quantile(q, [0.02, 0.5, 0.95]):
        exact = gchisq_cdf(t, a, ncp, sig)
        assert abs(exact - np.mean(q <= t)) < 4 * binom_se(exact, n)


def test_gchisq_cdf_bad_inputs() -> None:
    with pytest.raises(ValueError):
        gchisq_cdf(1.0, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        gchisq_cdf(1.0, [1.0], [-1.0])
    with pytest.raises(ValueError):
        gchisq_cdf(np.nan, [1.0], [1.0])


# ------------------------------------------------------------------ misclassification probability


def test_equal_spherical_covariances_closed_form() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        mi, mj = rng.normal(size=4), rng.normal(size=4)
        s2 = rng.uniform(0.2, 3.0)
        d = np.linalg.norm(mi - mj)
        # equal proportions: omega_{j|i} = Phi(-||mu_i - mu_j|| / (2 s))
        got = misclassification_prob(0.5, 0.5, mi, mj, s2 * np.eye(4), s2 * np.eye(4))
        assert got == pytest.approx(stats.norm.cdf(-d / (2 * np.sqrt(s2))), abs=1e-12)
        # unequal proportions: Phi((2 log(pi_j/pi_i) - D^2) / (2 D)), D = Mahalanobis distance
        dm = d / np.sqrt(s2)
        got = misclassification_prob(0.3, 0.7, mi, mj, s2 * np.eye(4), s2 * np.eye(4))
        want = stats.norm.cdf((2 * np.log(0.7 / 0.3) - dm**2) / (2 * dm))
        assert got == pytest.approx(want, abs=1e-12)


def test_nearly_equal_covariances_are_continuous() -> None:
    # lambda - 1 just above the 1e-6 threshold goes through the chi-square branch
    mi, mj = np.zeros(3), np.array([1.0, 0.5, 0.0])
    s = np.diag([1.0, 2.0, 0.5])
    base = misclassification_prob(0.4, 0.6, mi, mj, s, s)
    near = misclassification_prob(0.4, 0.6, mi, mj, s, s * (1 + 2e-6))
    assert abs(near - base) < 1e-5


def test_heterogeneous_pair_matches_monte_carlo() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    s = np.stack([a @ a.T + 0.2 * np.eye(3), b @ b.T + 0.2 * np.eye(3)])
    mu = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    pi = np.array([0.3, 0.7])
    exact = overlap(pi, mu, s).omega_map
    est = mc_omega_map(pi, mu, s, 400_000, seed=6)
    se = binom_se(exact, 400_000)
    assert np.all(np.abs(exact - est) <= 4 * se + 1e-12)
    assert 0.001 < exact[0, 1] < 0.999 and 0.001 < exact[1, 0] < 0.999  # not a trivial check


# ------------------------------------------------------------------ MixSim


@pytest.fixture(scope="module")
def gpcm_mix():
    return mixsim(4, 3, bar_omega=0.05, sph=GPCM(shw=10.0), pi_low=0.1, seed=7)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(k=3, p=2, bar_omega=0.05),
        dict(k=4, p=3, bar_omega=0.01, sph=True),
        dict(k=3, p=5, bar_omega=0.1, restrfactor=3.0, pi_low=0.2),
        dict(k=4, p=8, bar_omega=0.01, sph=GPCM(shw=10.0)),
    ],
)
def test_mixsim_hits_average_overlap(kwargs) -> None:
    res = mixsim(seed=3, **kwargs)
    assert not res.fail
    # recomputed from scratch from the returned parameters (covariances already scaled)
    again = overlap(res.pi, res.mu, res.S)
    assert abs(again.bar_omega - kwargs["bar_omega"]) < 1e-4
    assert abs(res.bar_omega - kwargs["bar_omega"]) <= 1e-6
    np.testing.assert_allclose(again.omega_map, res.omega_map, atol=1e-9)


def test_mixsim_max_omega_target() -> None:
    res = mixsim(3, 2, max_omega=0.2, seed=1)
    assert abs(overlap(res.pi, res.mu, res.S).max_omega - 0.2) < 1e-4
    assert res.bar_omega < 0.2


def test_mixsim_pairwise_overlaps_match_monte_carlo(gpcm_mix) -> None:
    res = gpcm_mix
    est = mc_omega_map(res.pi, res.mu, res.S, 200_000, seed=8)
    se = binom_se(res.omega_map, 200_000)
    k = len(res.pi)
    iu, ju = np.triu_indices(k, 1)
    exact_pair = res.omega_map[iu, ju] + res.omega_map[ju, iu]
    est_pair = est[iu, ju] + est[ju, iu]
    se_pair = np.sqrt(se[iu, ju] ** 2 + se[ju, iu] ** 2)
    assert np.all(np.abs(exact_pair - est_pair) <= 4 * se_pair + 1e-12)
    assert abs(est_pair.mean() - 0.05) < 4 * np.sqrt(np.sum(se_pair**2)) / len(iu)


def test_mixsim_proportions_and_gpcm_restrictions(gpcm_mix) -> None:
    res = gpcm_mix
    assert np.all(res.pi >= 0.1 - 1e-15)
    assert res.pi.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.ptp(res.pi) > 1e-3  # random, not the equal-proportion fallback
    ev = np.linalg.eigvalsh(res.S)
    assert np.all(ev > 0)
    assert np.all(ev[:, -1] / ev[:, 0] <= 10.0 * (1 + 1e-6))  # shw = r^2 within components
    det = np.prod(ev, axis=1)
    assert det.max() / det.min() <= 100.0 * (1 + 1e-6)  # cdet default


def test_mixsim_spherical_gpcm_and_equal_proportions() -> None:
    res = mixsim(3, 4, bar_omega=0.02, sph=GPCM(shw=1.0), seed=2)
    for s in res.S:
        np.testing.assert_allclose(s, s[0, 0] * np.eye(4), atol=1e-12 * s[0, 0])
    np.testing.assert_array_equal(res.pi, np.full(3, 1 / 3))  # FSDA default pi_low = 0


def test_mixsim_restrfactor_respected() -> None:
    res = mixsim(3, 5, bar_omega=0.05, restrfactor=4.0, seed=4)
    ev = np.linalg.eigvalsh(res.S)
    assert ev.max() / ev.min() <= 4.0 * (1 + 1e-9)


def test_mixsim_is_reproducible() -> None:
    a = mixsim(3, 2, bar_omega=0.05, seed=12)
    b = mixsim(3, 2, bar_omega=0.05, seed=12)
    np.testing.assert_array_equal(a.S, b.S)
    np.testing.assert_array_equal(a.mu, b.mu)


def test_mixsim_unreachable_target_raises() -> None:
    # heterogeneous covariances: the asymptotic (c -> inf) average overlap is far below 0.95
    with pytest.raises(MixSimError, match="unreachable"):
        mixsim(3, 4, bar_omega=0.95, res_n=3, seed=0)
    with pytest.warns(RuntimeWarning):
        res = mixsim(3, 4, bar_omega=0.95, res_n=2, seed=0, on_fail="return")
    assert res.fail
    asym = summarize_omega(asymptotic_omega_map(overlap_pars(res.pi, res.mu, res.S))).bar_omega
    assert asym < 0.95


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(k=1, p=2, bar_omega=0.05),
        dict(k=3, p=0, bar_omega=0.05),
        dict(k=3, p=2, bar_omega=1.5),
        dict(k=3, p=2, bar_omega=0.0),
        dict(k=3, p=2, bar_omega=-0.1),
        dict(k=3, p=2, bar_omega=0.05, pi_low=0.5),
        dict(k=3, p=2, bar_omega=0.05, pi_low=-0.1),
        dict(k=3, p=2, bar_omega=0.05, restrfactor=0.5),
        dict(k=3, p=2, bar_omega=0.05, ecc=1.5),
        dict(k=2, p=2, std_omega=0.01),
    ],
)
def test_mixsim_bad_inputs(kwargs) -> None:
    with pytest.raises(ValueError):
        mixsim(**kwargs)


def test_mixsim_unsupported_options() -> None:
    with pytest.raises(NotImplementedError):
        mixsim(3, 2, bar_omega=0.05, max_omega=0.1)
    with pytest.raises(NotImplementedError):
        GPCM(pars="EEE")
    with pytest.raises(ValueError):
        GPCM(pars="XYZ")


def test_restreigen_truncation() -> None:
    d = np.array([[0.1, 5.0], [1.0, 2.0]])
    e = restreigen(d, [0.5, 0.5], 4.0)
    assert e.max() / e.min() <= 4.0 * (1 + 1e-12)
    # entries inside [m, c m] are unchanged
    m = e.min()
    inside = (d >= m) & (d <= 4.0 * m)
    np.testing.assert_array_equal(e[inside], d[inside])
    np.testing.assert_array_equal(restreigen(d, [0.5, 0.5], 100.0), d)


# ------------------------------------------------------------------ samplers


def test_simdataset_sizes_labels_and_moments() -> None:
    pi = np.array([0.2, 0.5, 0.3])
    mu = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    s = np.stack([np.eye(2), np.diag([2.0, 0.5]), np.array([[1.0, 0.6], [0.6, 1.0]])])
    x, lab = simdataset(30_000, pi, mu, s, seed=1)
    assert x.shape == (30_000, 2)
    assert np.all(np.diff(lab) >= 0) and set(lab) == {0, 1, 2}  # blocked, sorted labels
    counts = np.bincount(lab)
    assert np.all(np.abs(counts / 30_000 - pi) < 0.02)
    for j in range(3):
        xj = x[lab == j]
        assert np.all(np.abs(xj.mean(0) - mu[j]) < 0.06)
        np.testing.assert_allclose(np.cov(xj, rowvar=False), s[j], atol=0.08)
    x_small, lab_small = simdataset(3, pi, mu, s, seed=2)  # n = k: one point each
    np.testing.assert_array_equal(lab_small, [0, 1, 2])
    with pytest.raises(ValueError):
        simdataset(2, pi, mu, s)
    with pytest.raises(ValueError):
        simdataset(10, [0.5, 0.6, -0.1], mu, s)


# ------------------------------------------------------------------ MixSimreg


def test_mixsimreg_thesis_settings() -> None:
    k, p = 5, 10
    res = mixsimreg(k, p, bar_omega=0.05, pi_low=1 / (3 * k), seed=9)
    assert not res.fail
    assert res.beta.shape == (p, k) and res.S.shape == (k,)
    assert np.all(res.pi >= 1 / (3 * k) - 1e-15) and res.pi.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(res.xdistrib.bar_x[:, 0], [1.0] + [0.5] * (p - 1))
    np.testing.assert_allclose(res.mu, np.sum(res.xdistrib.bar_x * res.beta, axis=0))
    again = overlap(res.pi, res.mu[:, None], res.S)
    assert abs(again.bar_omega - 0.05) < 1e-4
    # Monte Carlo of the univariate response mixture at the mean regressor
    est = mc_omega_map(res.pi, res.mu, res.S, 200_000, seed=10)
    se = binom_se(res.omega_map, 200_000)
    assert np.all(np.abs(est - res.omega_map) <= 4 * se + 1e-12)


def test_mixsimreg_options_and_errors() -> None:
    res = mixsimreg(3, 2, bar_omega=0.1, hom=True, seed=1,
                    betadistrib=BetaDistrib(type="HalfNormal"),
                    xdistrib=XDistrib(type="Normal", mu=2.0, sigma=0.5))
    assert np.all(res.beta >= 0)
    assert np.ptp(res.S) < 1e-12 * res.S.max()  # one shared variance
    np.testing.assert_allclose(res.xdistrib.bar_x, [[1, 1, 1], [2, 2, 2]])
    assert abs(overlap(res.pi, res.mu[:, None], res.S).bar_omega - 0.1) < 1e-4
    res = mixsimreg(3, 3, bar_omega=0.05, restrfactor=2.0, seed=2)
    assert res.S.max() / res.S.min() <= 2.0 * (1 + 1e-9)
    with pytest.raises(ValueError):
        mixsimreg(1, 3, bar_omega=0.05)
    with pytest.raises(ValueError):
        mixsimreg(3, 3, bar_omega=2.0)
    with pytest.raises(ValueError):
        mixsimreg(3, 3, bar_omega=0.05, pi_low=0.4)


def test_simdatasetreg_model() -> None:
    k, p, n = 3, 3, 60_000
    beta = np.array([[1.0, -2.0, 0.5], [2.0, 0.0, -1.0], [-1.0, 3.0, 1.0]])
    s2 = np.array([0.25, 1.0, 0.04])
    pi = np.array([0.3, 0.3, 0.4])
    y, x, lab = simdatasetreg(n, pi, beta, s2, seed=3)
    assert x.shape == (n, p) and y.shape == (n,)
    np.testing.assert_array_equal(x[:, 0], 1.0)
    assert x[:, 1:].min() >= 0 and x[:, 1:].max() <= 1
    for j in range(k):
        rows = lab == j
        coef, *_ = np.linalg.lstsq(x[rows], y[rows], rcond=None)
        resid = y[rows] - x[rows] @ coef
        np.testing.assert_allclose(coef, beta[:, j], atol=0.1)
        assert resid.var() == pytest.approx(s2[j], rel=0.05)
    xd = XDistrib(type="Uniform", a=[[0.0, 2.0, 4.0], [0.0, 2.0, 4.0]], b=[[1, 3, 5], [1, 3, 5]])
    _, x2, lab2 = simdatasetreg(300, pi, beta, s2, xd, seed=4)
    for j in range(k):
        xs = x2[lab2 == j, 1:]
        assert xs.min() >= 2 * j and xs.max() <= 2 * j + 1
    with pytest.raises(ValueError):
        simdatasetreg(10, pi, beta, s2[:2])
