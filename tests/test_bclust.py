"""bclust (thesis Ch. 1): the objective in both modes, the local search, and Table 1.5 numbers."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from mixopt.data.preprocess import build_dataset, raw_keys_for
from mixopt.data.sources import load_registry
from mixopt.methods.baselines import random_labels
from mixopt.methods.robust.bclust import (
    ClusterCache,
    best_relabelling,
    contributions,
    fit_bclust,
    top_sets,
)
from mixopt.methods.robust.bclust_objective import (
    BclustSolverError,
    bclust_objective,
    clip_eigenvalues,
    cluster_solver,
    fit_cluster_cvxpy,
    fit_cluster_likelihood,
    installed_conic_solvers,
)
from mixopt.methods.robust.tclust import fit_tclust
from mixopt.metrics import adjusted_rand_index
from mixopt.problem import RobustProblem
from mixopt.report.fois_ch1 import _matches_printed
from mixopt.report.published import load_published

R10 = math.sqrt(10.0)
REAL = ["fois_wine", "fois_seeds", "fois_iris", "fois_algerian_bejaia", "fois_algerian_sidi",
        "fois_star"]


@pytest.fixture(scope="module")
def real(mirror: Path):
    registry = load_registry()
    return {name: build_dataset(name, {k: mirror / registry[k].mirror for k in raw_keys_for(name)})
            for name in REAL}


def _published_row(ds: str, method: str) -> dict:
    return load_published("fois_ch1")["table1_5"]["rows"][ds][method]


def _blobs(seed: int, n_per: int = 25, p: int = 2, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, p))
    X = np.vstack([c + rng.normal(size=(n_per, p)) @ np.diag(rng.uniform(0.5, 1.5, p))
                   for c in centres])
    return X, np.repeat(np.arange(k), n_per)


# --- the objective ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_clip_eigenvalues_is_optimal_on_a_grid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.exponential(size=rng.integers(1, 7)) * rng.choice([1e-3, 1.0, 50.0])
    if seed == 0:
        d[0] = 0.0  # a zero eigenvalue (constant column)
    c = float(rng.choice([1.0, 2.0, 10.0, 30.0]))
    lam, a = clip_eigenvalues(d, c)
    assert lam.max() <= c * lam.min() * (1 + 1e-12)

    def h(x: np.ndarray) -> float:
        return float(np.sum(d / x + np.log(x)))

    grid = np.geomspace(max(d.max(), 1e-12) / c / 1e3, max(d.max(), 1e-12) * 10, 4000)
    best_grid = min(h(np.clip(d, g, c * g)) for g in grid)
    assert h(lam) <= best_grid + 1e-10


def test_clip_eigenvalues_rejects_all_zero() -> None:
    with pytest.raises(ValueError, match="coincide"):
        clip_eigenvalues(np.zeros(3), 10.0)


@pytest.mark.parametrize(("n", "p", "seed"), [(5, 2, 0), (20, 3, 1), (40, 5, 2), (12, 4, 3),
                                              (30, 6, 4)])
def test_likelihood_closed_form_equals_conic_program(n: int, p: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) * rng.uniform(0.1, 10)
    if seed == 3:
        X[:, 1] = 0.0  # a zero column, as in the standardised Algerian 2 data
    for R in (1.0, 2.0, R10, math.sqrt(30)):
        closed = fit_cluster_likelihood(X, R)
        conic = fit_cluster_cvxpy(X, R, "likelihood")
        assert closed.value == pytest.approx(conic.value, rel=1e-6, abs=1e-6)
        ev = np.linalg.eigvalsh(closed.M)
        assert ev.max() <= R * ev.min() * (1 + 1e-9)


def test_likelihood_value_is_the_gaussian_classification_likelihood() -> None:
    X, y = _blobs(0)
    value, fits = bclust_objective(X, y, 3, 1e6, "likelihood")  # inactive restriction: plain ML
    loglik = sum(multivariate_normal(X[y == j].mean(0), np.cov(X[y == j].T, ddof=0)).logpdf(
        X[y == j]).sum() for j in range(3))
    assert value == pytest.approx(-loglik, rel=1e-9)
    contr = contributions(X, fits)
    dens = np.column_stack([multivariate_normal(f.mean, np.linalg.inv(f.precision)).logpdf(X)
                            for f in fits])
    np.testing.assert_allclose(contr, dens + X.shape[1] / 2 * math.log(2 * math.pi), atol=1e-8)


def test_clusters_below_two_points_are_infeasible() -> None:
    X, y = _blobs(1)
    y = y.copy()
    y[y == 2] = 1
    y[0] = 2
    for mode in ("thesis", "likelihood"):
        value, _ = bclust_objective(X, y, 3, R10, mode)
        assert value == math.inf


def test_objective_input_errors() -> None:
    X, y = _blobs(2)
    with pytest.raises(ValueError, match=">= 1"):
        bclust_objective(X, y, 3, 0.5)
    with pytest.raises(ValueError, match="labels"):
        bclust_objective(X, y + 1, 3, R10)
    with pytest.raises(ValueError, match="NaN"):
        bclust_objective(np.where(X > 3, np.nan, X), y, 3, R10)
    with pytest.raises(ValueError, match="mode"):
        cluster_solver("squared", R10)  # type: ignore[arg-type]
    if "MOSEK" not in installed_conic_solvers():
        with pytest.raises(BclustSolverError, match="MOSEK"):
            cluster_solver("thesis", R10, solver="MOSEK")


def test_table1_5_oracle_row(real) -> None:
    """The thesis' Obj convention reproduces the oracle row to every printed digit."""
    for name, ds in real.items():
        value, _ = bclust_objective(ds.X, ds.labels, ds.K, R10)
        assert _matches_printed(value, _published_row(name, "oracle")["obj"]), (name, value)


def test_table1_5_random_row(real) -> None:
    """numpy RandomState(42) = MATLAB rng(42): the random row is reproduced exactly."""
    for name, ds in real.items():
        labels = random_labels(ds.n, ds.K, 42, matlab_compatible=True)
        pub = _published_row(name, "random")
        value, _ = bclust_objective(ds.X, labels, ds.K, R10)
        assert _matches_printed(value, pub["obj"]), (name, value)
        assert round(adjusted_rand_index(labels, ds.labels), 4) == pub["ari"]


def test_table1_5_iris_tclust_and_bclust_rows(real) -> None:
    """On iris our tclust reaches the thesis' tclust solution, and bclust from it the thesis'."""
    ds = real["fois_iris"]
    tc = fit_tclust(RobustProblem(ds.X, 3, 10.0), seed=42)
    obj_t, _ = bclust_objective(ds.X, tc.labels, 3, R10)
    assert _matches_printed(obj_t, _published_row("fois_iris", "tclust")["obj"])
    res = fit_bclust(RobustProblem(ds.X, 3, 10.0), init_labels=tc.labels)
    pub = _published_row("fois_iris", "bclust")
    assert _matches_printed(res.objective, pub["obj"])
    assert round(adjusted_rand_index(res.labels, ds.labels), 4) == pub["ari"]


def test_matches_printed() -> None:
    assert _matches_printed(-3326.0688, "-3.3261e+03")
    assert not _matches_printed(-3326.2, "-3.3261e+03")
    assert _matches_printed(-653.86084, "-653.8608")
    assert not _matches_printed(None, "-653.8608")


# --- the search --------------------------------------------------------------------------------

def test_top_sets_equal_brute_force() -> None:
    rng = np.random.default_rng(3)
    score = rng.normal(size=9)
    order = np.argsort(-score, kind="stable")
    for u, h in ((1, 4), (2, 10), (3, 15)):
        got = [tuple(sorted(s)) for s in top_sets(order, score, u, h)]
        sums = sorted((-score[list(c)].sum(), c) for c in itertools.combinations(range(9), u))
        want = [c for _, c in sums[:h]]
        assert [score[list(g)].sum() for g in got] == pytest.approx(
            [score[list(w)].sum() for w in want])
        assert len(set(got)) == h


def test_best_relabelling_equals_full_evaluation() -> None:
    X, y = _blobs(4, n_per=8)
    labels = y.copy()
    labels[[0, 9]] = [1, 2]
    cache = ClusterCache(X, cluster_solver("likelihood", R10))
    fits = cache.fits(labels, 3)
    obj = sum(f.value for f in fits)
    free = np.array([0, 9, 17])
    value, best = best_relabelling(free, labels, obj, fits, cache, 3)
    brute = []
    for combo in itertools.product(range(3), repeat=3):
        cand = labels.copy()
        cand[free] = combo
        if np.array_equal(cand, labels):
            continue
        brute.append(bclust_objective(X, cand, 3, R10, "likelihood")[0])
    assert value == pytest.approx(min(brute), rel=1e-12)
    assert best is not None and bclust_objective(X, best, 3, R10, "likelihood")[0] == \
        pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_search_ends_in_a_single_move_local_optimum(seed: int) -> None:
    """With h = n every single-point move was tried: none improves the returned labels."""
    X, y = _blobs(seed, n_per=12)
    start = np.random.default_rng(seed).permutation(y)
    res = fit_bclust(RobustProblem(X, 3, 10.0), init_labels=start, mode="likelihood",
                     n_candidates=X.shape[0])
    hist = [v for _, v, _ in res.trace]
    assert all(b <= a + 1e-9 * abs(a) for a, b in zip(hist, hist[1:], strict=False))
    assert res.objective == pytest.approx(bclust_objective(X, res.labels, 3, R10,
                                                           "likelihood")[0], rel=1e-12)
    assert np.bincount(res.labels, minlength=3).min() >= 2
    for i in range(X.shape[0]):
        for j in range(3):
            if j == res.labels[i]:
                continue
            cand = res.labels.copy()
            cand[i] = j
            assert bclust_objective(X, cand, 3, R10, "likelihood")[0] >= \
                res.objective - 1e-9 * abs(res.objective)


def test_search_improves_on_a_bad_start_in_thesis_mode() -> None:
    X, y = _blobs(5, n_per=15)
    start = y.copy()
    start[:6] = (start[:6] + 1) % 3
    before = bclust_objective(X, start, 3, R10)[0]
    res = fit_bclust(RobustProblem(X, 3, 10.0), init_labels=start, mode="thesis")
    assert res.objective < before
    assert adjusted_rand_index(res.labels, y) > adjusted_rand_index(start, y)
    assert res.n_cluster_solves > 0 and res.status == "local"


def test_policy_1_sets() -> None:
    X, y = _blobs(6, n_per=10)
    start = y.copy()
    start[[0, 1]] = 1
    res = fit_bclust(RobustProblem(X, 3, 10.0), init_labels=start, mode="likelihood",
                     policy="sets", set_size=2, n_candidates=5)
    assert res.objective <= bclust_objective(X, start, 3, R10, "likelihood")[0]
    assert res.extra["set_size"] == 2


def test_search_errors_and_time_limit() -> None:
    X, y = _blobs(7, n_per=10)
    bad = y.copy()
    bad[bad == 2] = 1
    bad[0] = 2
    with pytest.raises(ValueError, match=">= 2 points"):
        fit_bclust(RobustProblem(X, 3, 10.0), init_labels=bad)
    with pytest.raises(ValueError, match="policy"):
        fit_bclust(RobustProblem(X, 3, 10.0), init_labels=y, policy="best")  # type: ignore[arg-type]
    res = fit_bclust(RobustProblem(X, 3, 10.0), init_labels=y, mode="likelihood", time_limit_s=0.0)
    assert res.status == "time_limit"
    np.testing.assert_array_equal(res.labels, y)
