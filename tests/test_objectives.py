import itertools

import numpy as np
import pytest

from mixopt.objectives import (
    map_objective,
    one_hot,
    profile_parameters,
    profiled_objective,
    sq_mahalanobis,
)
from mixopt.problem import MAPProblem, class_precision


def loop_objective(y, labels, mu, pi, lam):
    total = 0.0
    for i, k in enumerate(labels):
        r = y[i] - mu[k]
        total += 0.5 * r @ lam @ r - np.log(pi[k])
    return total


def test_objective_matches_explicit_sum():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(20, 3))
    a = rng.normal(size=(3, 3))
    lam = a @ a.T + np.eye(3)
    labels = rng.integers(0, 4, size=20)
    mu = rng.normal(size=(4, 3))
    pi = rng.dirichlet(np.ones(4))
    assert map_objective(y, labels, mu, pi, lam) == pytest.approx(
        loop_objective(y, labels, mu, pi, lam), rel=1e-12)
    assert map_objective(y, one_hot(labels, 4), mu, pi, lam) == pytest.approx(
        loop_objective(y, labels, mu, pi, lam), rel=1e-12)


def test_one_dimensional_form_with_eta():
    # Paper, Problem (4) in 1-d: eta sum z (y - mu)^2 - sum z log pi, eta = 1 / (2 sigma^2).
    y = np.array([0.1, 0.4, 2.0, 2.5])
    labels = np.array([0, 0, 1, 1])
    mu, pi, sigma = np.array([0.2, 2.2]), np.array([0.4, 0.6]), 0.4
    eta = 1 / (2 * sigma**2)
    expected = sum(eta * (y[i] - mu[k]) ** 2 - np.log(pi[k]) for i, k in enumerate(labels))
    value = map_objective(y[:, None], labels, mu[:, None], pi, 1 / sigma**2)
    assert value == pytest.approx(expected)


def test_profiled_parameters_are_optimal_for_fixed_labels():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(15, 2))
    labels = rng.integers(0, 3, size=15)
    best = profiled_objective(y, labels, 3, np.eye(2))
    mu, pi = profile_parameters(y, labels, 3)
    for _ in range(50):
        mu2 = mu + rng.normal(scale=0.1, size=mu.shape)
        pi2 = rng.dirichlet(np.ones(3) * 20)
        assert map_objective(y, labels, mu2, pi2, np.eye(2)) >= best - 1e-12


def test_unassigned_component_with_zero_weight_is_ignored_and_assigned_is_infinite():
    y = np.array([[0.0], [1.0]])
    assert np.isfinite(map_objective(y, [0, 0], [[0.5], [9.0]], [1.0, 0.0], 1.0))
    assert map_objective(y, [0, 1], [[0.5], [9.0]], [1.0, 0.0], 1.0) == np.inf


def test_sq_mahalanobis_nonnegative_and_exact():
    rng = np.random.default_rng(3)
    y, mu = rng.normal(size=(7, 2)), rng.normal(size=(3, 2))
    lam = np.array([[2.0, 0.3], [0.3, 1.0]])
    d2 = sq_mahalanobis(y, mu, lam)
    for i, k in itertools.product(range(7), range(3)):
        r = y[i] - mu[k]
        assert d2[i, k] == pytest.approx(r @ lam @ r)


@pytest.mark.parametrize("bad", [np.array([[1.0, 2.0], [0.0, 1.0]]), -np.eye(2), np.eye(3)])
def test_invalid_precision_is_rejected(bad):
    with pytest.raises(ValueError, match="precision"):
        MAPProblem(np.zeros((4, 2)), 2, bad)


def test_problem_validation():
    with pytest.raises(ValueError, match="exceeds the number of points"):
        MAPProblem(np.zeros((2, 1)), 3, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        MAPProblem(np.array([[np.nan], [1.0]]), 1, 1.0)


def test_class_precision_rules():
    rng = np.random.default_rng(4)
    y = np.vstack([rng.normal(size=(30, 2)), 3 * rng.normal(size=(30, 2))])
    lab = np.repeat([0, 1], 30)
    s0, s1 = np.cov(y[:30].T), np.cov(y[30:].T)
    np.testing.assert_allclose(class_precision(y, lab, "inverse_mean_class_covariance"),
                               np.linalg.inv((s0 + s1) / 2))
    np.testing.assert_allclose(class_precision(y, lab, "mean_class_precision"),
                               (np.linalg.inv(s0) + np.linalg.inv(s1)) / 2)
