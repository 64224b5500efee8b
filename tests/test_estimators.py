"""The scikit-learn style estimators: scikit-learn's own checks and behaviour on known data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from mixopt import ClusterwiseRegression, MAPClustering, RestrictedClustering

# Checks that cannot apply, with the reason (scikit-learn's expected_failed_checks mechanism).
# ClusterwiseRegression: a point's regression cluster depends on its response, so ``predict``
# takes (X, y) and ``fit`` needs y; scikit-learn's clusterer checks call predict(X) or fit(X).
_NEEDS_Y = "predict needs the response y (a point's regression cluster depends on it)"
EXPECTED_FAILED: dict[str, dict[str, str]] = {"ClusterwiseRegression": {
    **{name: _NEEDS_Y for name in (
        "check_estimators_unfitted", "check_n_features_in_after_fitting",
        "check_estimators_dtypes", "check_dtype_object", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_dict_unchanged", "check_fit_idempotent",
        "check_fit2d_predict1d")},
    "check_clustering": "the clusterer check calls fit(X) without the response y",
    "check_estimators_nan_inf": "on the check's structureless random data tclustreg abandons "
                                "every start (RuntimeError); predict needs y",
}}


def _expected_failed(estimator):
    failed = EXPECTED_FAILED.get(type(estimator).__name__, {})
    # the readonly_memmap variants of a check carry its name with a suffix
    return {**failed, **{f"{name}(readonly_memmap=True)": why for name, why in failed.items()}}


@parametrize_with_checks(
    [MAPClustering(n_clusters=3, method="em", method_options={"kmeans_n_init": 2}),
     RestrictedClustering(n_clusters=3, method="tclust", nsamp=5),
     RestrictedClustering(n_clusters=3, method="bclust", nsamp=5)],
    expected_failed_checks=_expected_failed)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@parametrize_with_checks([ClusterwiseRegression(n_clusters=2, method="tclustreg", nsamp=20)],
                         expected_failed_checks=_expected_failed)
def test_sklearn_estimator_checks_regression(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------------
# behaviour


def blobs(n: int = 150, seed: int = 0):
    return make_blobs(n, centers=[[0, 0], [6, 0], [0, 6]], cluster_std=1.0, random_state=seed)


def test_map_em_recovers_the_clusters_without_a_covariance():
    X, truth = blobs()
    est = MAPClustering(n_clusters=3, method="em", random_state=0).fit(X)
    assert adjusted_rand_score(truth, est.labels_) > 0.9
    assert est.precision_source_.startswith("inverse tied covariance")
    assert est.record_["params"]["precision_source"] == est.precision_source_
    assert est.precision_.shape == (2, 2) and est.means_.shape == (3, 2)
    assert np.array_equal(est.predict(X), est.labels_)     # well separated: the MAP assignment
    assert np.allclose(est.predict_proba(X).sum(1), 1.0)
    assert np.array_equal(est.fit_predict(X), est.labels_)


def test_map_given_precision_is_used_and_recorded():
    X, _ = blobs()
    est = MAPClustering(n_clusters=3, precision=1 / 0.9**2, random_state=0).fit(X)
    assert np.allclose(est.precision_, np.eye(2) / 0.81)
    assert est.precision_source_ == "given"


def test_map_score_is_the_mean_log_likelihood_of_the_mixture():
    from scipy.stats import multivariate_normal

    X, _ = blobs(60)
    est = MAPClustering(n_clusters=3, random_state=0).fit(X)
    cov = np.linalg.inv(est.precision_)
    dens = sum(w * multivariate_normal(m, cov).pdf(X) for w, m in zip(est.weights_, est.means_,
                                                                       strict=True))
    assert est.score(X) == pytest.approx(np.mean(np.log(dens)), rel=1e-9)


@pytest.mark.parametrize("method", ["miqp", "minlp"])
def test_global_methods_from_the_em_warm_start_are_no_worse_than_em(method):
    """Global methods start from EM by default: a 2-second run does not end worse than EM (the
    MIQP's pi is its tangent approximation: Problem (4) at its own pi may exceed the profiled
    value by the approximation error, 5 % as in test_global_methods)."""
    from mixopt.objectives import profiled_objective

    X, _ = blobs(60)
    em = MAPClustering(n_clusters=3, method="em", random_state=0).fit(X)
    glob = MAPClustering(n_clusters=3, method=method, time_limit=2, random_state=0).fit(X)
    assert np.allclose(glob.precision_, em.precision_)
    em_value = profiled_objective(X, em.labels_, 3, em.precision_)
    slack = 0.05 * abs(em_value) if method == "miqp" else 1e-6 * abs(em_value)
    assert glob.objective_ <= em_value + slack
    assert glob.record_["notes"][0].startswith("warm start: EM's assignment")
    assert glob.lower_bound_ is not None and glob.lower_bound_ <= glob.objective_
    assert glob.status_ in ("optimal", "time_limit", "approximate")


def test_map_refuses_a_time_limit_for_a_method_without_one():
    X, _ = blobs(30)
    with pytest.raises(ValueError, match="takes no time limit"):
        MAPClustering(method="em", time_limit=1.0).fit(X)


@pytest.mark.parametrize("method", ["tclust", "bclust"])
def test_restricted_clustering_predicts_its_labels(method):
    X, truth = blobs(90)
    est = RestrictedClustering(n_clusters=3, method=method, nsamp=20, random_state=0).fit(X)
    assert adjusted_rand_score(truth, est.labels_) > 0.9
    assert np.array_equal(est.predict(X), est.labels_)
    assert est.covariances_.shape == (3, 2, 2)


def two_lines(n: int = 100, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    group = rng.integers(0, 2, n)
    y = np.where(group == 0, 1.0 + 2.0 * x, 8.0 - x) + rng.normal(0, 0.3, n)
    return x[:, None], y, group


@pytest.mark.parametrize("method", ["tclustreg", "pclustreg"])
def test_regression_recovers_two_lines_with_the_shared_intercept(method):
    X, y, group = two_lines()
    est = ClusterwiseRegression(n_clusters=2, method=method, random_state=0).fit(X, y)
    assert adjusted_rand_score(group, est.labels_) > 0.8
    order = np.argsort(est.coef_[:, 0])
    assert np.allclose(est.coef_[order, 0], [-1.0, 2.0], atol=0.1)
    assert np.allclose(est.intercept_[order], [8.0, 1.0], atol=0.3)
    assert np.array_equal(est.predict(X, y), est.labels_)
    assert est.predict_response(X).shape == (100, 2)


def test_regression_intercept_is_the_same_for_both_methods_with_a_constant_column():
    """A constant column in X is dropped (coefficient 0) and one intercept is fitted, by both."""
    X, y, group = two_lines()
    Xc = np.column_stack([np.ones(len(y)), X])
    for method in ("tclustreg", "pclustreg"):
        est = ClusterwiseRegression(n_clusters=2, method=method, random_state=0).fit(Xc, y)
        assert adjusted_rand_score(group, est.labels_) > 0.8
        assert np.all(est.coef_[:, 0] == 0.0)


def test_estimate_precision_recovers_a_shared_covariance():
    from mixopt.precision_estimate import estimate_precision

    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    X = np.vstack([rng.multivariate_normal(m, cov, 400) for m in ([0, 0], [8, 0], [0, 8])])
    lam, text = estimate_precision(X, 3, random_state=0)
    assert np.allclose(lam, np.linalg.inv(cov), atol=0.1)
    assert "tied" in text and "random_state 0" in text
    with pytest.raises(ValueError, match="k must be"):
        estimate_precision(X, 0)


def test_map_run_ending_in_error_raises_with_the_notes(monkeypatch):
    from mixopt.methods import base

    real = base.get_method

    def failing(name):
        def fit(problem, **kwargs):
            res = real("em")(problem, **kwargs)
            res.status = "error"
            res.extra["notes"] = ["solver died"]
            return res
        return fit

    monkeypatch.setattr(base, "get_method", failing)
    X, _ = blobs(30)
    with pytest.raises(RuntimeError, match="status error: solver died"):
        MAPClustering(random_state=0).fit(X)


def test_regression_without_intercept_fits_x_as_given():
    X, y, group = two_lines()
    Xc = np.column_stack([np.ones(len(y)), X])
    with_ones = ClusterwiseRegression(n_clusters=2, fit_intercept=False, random_state=0).fit(Xc, y)
    added = ClusterwiseRegression(n_clusters=2, random_state=0).fit(X, y)
    assert np.all(with_ones.intercept_ == 0.0)
    assert adjusted_rand_score(with_ones.labels_, added.labels_) == 1.0
    same = np.argsort(with_ones.coef_[:, 1])
    assert np.allclose(with_ones.coef_[same, 0], added.intercept_[np.argsort(added.coef_[:, 0])])
