"""Tests for tclust (alpha = 0, equal weights; docs/reference-tclust.md) and the random/oracle
baselines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from mixopt.methods.baselines import fit_oracle, fit_random, random_labels
from mixopt.methods.robust.tclust import (
    _start,
    concentration_steps,
    fit_tclust,
    restrict,
    tclust_objective,
)
from mixopt.metrics import adjusted_rand_index
from mixopt.problem import RobustProblem
from mixopt.simulate import GPCM, mixsim, restr_sigma_gpcm, simdataset

MODES = ("gpcm", "eigen")


@pytest.fixture(scope="module")
def separated() -> tuple[np.ndarray, np.ndarray]:
    ms = mixsim(3, 2, sph=GPCM(shw=10.0), bar_omega=0.001, seed=1)
    return simdataset(200, ms.pi, ms.mu, ms.S, seed=1)


@pytest.fixture(scope="module")
def harder() -> tuple[np.ndarray, np.ndarray]:
    ms = mixsim(4, 5, sph=GPCM(shw=10.0), bar_omega=0.01, seed=2)
    return simdataset(200, ms.pi, ms.mu, ms.S, seed=2)


def _ratios(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    ev = np.linalg.eigvalsh(sigma)
    return ev.max(1) / ev.min(1), float(ev.max() / ev.min())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("r", [1.0, 4.0, 10.0])
def test_restriction_holds_on_returned_and_random_scatters(harder, mode, r) -> None:
    x, _ = harder
    res = fit_tclust(RobustProblem(x, 4, r), nsamp=10, seed=3, restriction=mode)
    within, overall = _ratios(res.sigma)
    assert np.all(within <= r * (1 + 1e-8))
    if mode == "eigen":
        assert overall <= r * (1 + 1e-8)
    # the restriction itself on arbitrary scatters, including a rank-deficient one
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5, 5)) * rng.uniform(0.1, 5.0, (4, 1, 5))
    s = np.einsum("jab,jcb->jac", a, a)
    s[2] = np.outer(a[2, 0], a[2, 0])
    out = restrict(s, np.array([50.0, 30.0, 1.0, 119.0]), r, mode)
    within, overall = _ratios(out)
    assert np.all(within <= r * (1 + 1e-8))
    if mode == "eigen":
        assert overall <= r * (1 + 1e-8)


@pytest.mark.parametrize("mode", MODES)
def test_objective_monotone_over_concentration_steps(harder, mode) -> None:
    x, _ = harder
    rng = np.random.default_rng(11)
    lengths = []
    for _ in range(15):
        mu, s = _start(x, 4, rng, 10.0, mode, 100.0, 50.0)
        run = concentration_steps(x, mu, s, 10.0, mode, refsteps=40)
        obj = np.array(run.objectives)
        lengths.append(obj.size)
        assert np.all(np.diff(obj) >= -1e-9 * np.abs(obj[:-1]).max())
    assert max(lengths) > 2  # the check is not vacuous


@pytest.mark.parametrize("mode", MODES)
def test_recovers_well_separated_mixture(separated, mode) -> None:
    x, y = separated
    res = fit_tclust(RobustProblem(x, 3, 10.0), nsamp=30, seed=0, restriction=mode)
    assert adjusted_rand_score(y, res.labels) > 0.95
    assert adjusted_rand_index(y, res.labels) > 0.95
    assert res.converged
    oracle = fit_oracle(x, y, 10.0, restriction=mode)
    rand = fit_random(x, 3, 10.0, seed=0, truth=y, restriction=mode)
    assert res.objective_labels > rand.objective
    assert abs(rand.ari) < 0.1
    assert oracle.ari == 1.0


@pytest.mark.parametrize("mode", MODES)
def test_best_objective_dominates_its_starts(harder, mode) -> None:
    x, _ = harder
    res = fit_tclust(RobustProblem(x, 4, 10.0), nsamp=12, seed=5, restriction=mode)
    assert res.objective == pytest.approx(res.fullsol.max(), abs=0)
    assert res.best_start == int(np.flatnonzero(res.fullsol == res.fullsol.max())[-1])
    assert np.all(res.objective >= res.start_objectives)
    assert np.all(res.fullsol >= res.start_objectives - 1e-9 * np.abs(res.start_objectives))
    # final reassignment (3.4) followed by a restricted ML step cannot lose (eigen: exact ML)
    if mode == "eigen":
        assert res.objective_labels >= res.objective - 1e-9 * abs(res.objective)
    # objective of the returned labels is recomputable from the labels alone
    assert res.objective_labels == pytest.approx(tclust_objective(x, res.labels, 4, 10.0, mode))


def test_restr_factor_one_gives_spherical(harder) -> None:
    x, _ = harder
    v = x.shape[1]
    res = fit_tclust(RobustProblem(x, 4, 1.0), nsamp=8, seed=1, restriction="eigen")
    lam = res.sigma[0, 0, 0]
    assert np.allclose(res.sigma, lam * np.eye(v)[None], rtol=1e-10, atol=1e-12 * lam)
    res = fit_tclust(RobustProblem(x, 4, 1.0), nsamp=8, seed=1, restriction="gpcm")
    for s in res.sigma:  # GPCM with shw = 1: spherical per cluster, volumes may differ
        assert np.allclose(s, s[0, 0] * np.eye(v), rtol=1e-10, atol=1e-12 * s[0, 0])


def test_reproducible_with_seed(harder) -> None:
    x, _ = harder
    a = fit_tclust(RobustProblem(x, 4, 10.0), nsamp=5, seed=7)
    b = fit_tclust(RobustProblem(x, 4, 10.0), nsamp=5, seed=7)
    assert np.array_equal(a.labels, b.labels) and a.objective == b.objective


def test_bad_input() -> None:
    x = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(ValueError, match="exceeds"):
        fit_tclust(RobustProblem(x, 11, 4.0), nsamp=2)
    with pytest.raises(ValueError, match="restr_factor"):
        fit_tclust(RobustProblem(x, 2, 0.5), nsamp=2)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_tclust(RobustProblem(bad, 2, 4.0), nsamp=2)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        fit_tclust(RobustProblem(bad, 2, 4.0), nsamp=2)
    with pytest.raises(ValueError, match="restriction"):
        fit_tclust(RobustProblem(x, 2, 4.0), nsamp=2, restriction="deter")  # type: ignore[arg-type]


def test_constant_column_dropped() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.standard_normal((60, 2)), np.zeros(60)])
    res = fit_tclust(RobustProblem(x, 2, 4.0), nsamp=5, seed=0)
    assert list(res.kept_columns) == [0, 1] and res.mu.shape == (2, 2)


def test_ari_matches_sklearn_and_fsda_degenerate_case() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b = rng.integers(0, 4, 50), rng.integers(0, 3, 50)
        assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-14)
    assert adjusted_rand_index(np.zeros(5), np.zeros(5)) == 0.0  # FSDA: T = E -> 0


def test_random_labels() -> None:
    lab = random_labels(1000, 4, seed=0)
    assert lab.min() == 0 and lab.max() == 3 and np.all(np.bincount(lab) > 200)
    m = random_labels(150, 3, seed=42, matlab_compatible=True)
    assert np.array_equal(m, np.floor(np.random.RandomState(42).random_sample(150) * 3))


def test_gpcm_restriction_of_a_singular_covariance_gives_identity() -> None:
    """A zero-volume Sigma_j makes FSDA's shapes NaN, and restrSigmaGPCM then returns I."""
    s = np.stack([np.diag([1.0, 2.0, 3.0]), np.zeros((3, 3))])
    out = restr_sigma_gpcm(s, [0.5, 0.5], GPCM(shw=10.0, shb=50.0, cdet=100.0))
    np.testing.assert_array_equal(out, np.repeat(np.eye(3)[None], 2, axis=0))
