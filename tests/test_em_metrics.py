import itertools

import numpy as np
import pytest

from mixopt.methods import get_method
from mixopt.methods.map.em import fit_em
from mixopt.metrics import match_components, pair_adjusted_rand_score, table2_metrics
from mixopt.objectives import profiled_objective
from mixopt.problem import MAPProblem


def brute_force_optimum(y, k, lam):
    best = np.inf
    for labels in itertools.product(range(k), repeat=len(y)):
        best = min(best, profiled_objective(y, np.array(labels), k, lam))
    return best


def test_em_never_beats_the_global_optimum():
    rng = np.random.default_rng(0)
    for trial in range(5):
        y = np.concatenate([rng.normal(0, 1, 5), rng.normal(2.5, 1, 5)])[:, None]
        opt = brute_force_optimum(y, 2, np.eye(1))
        res = fit_em(MAPProblem(y, 2, np.eye(1)), seed=trial)
        assert res.objective >= opt - 1e-9
        assert res.status == "local" and res.lower_bound is None


def test_em_recovers_well_separated_clusters():
    rng = np.random.default_rng(5)
    y = np.vstack([rng.normal(m, 0.3, size=(40, 2)) for m in (0.0, 4.0, 8.0)])
    truth = np.repeat([0, 1, 2], 40)
    res = fit_em(MAPProblem(y, 3, np.eye(2) / 0.09), seed=1)
    m = table2_metrics(y, truth, res.labels, res.mu, res.pi)
    assert m["accuracy"] == 1.0 and m["ari"] == 1.0
    assert m["pi_sup"] < 1e-6 and m["mu_l2"] < 1e-6
    assert res.extra["converged"]


def test_registry_lookup_and_unknown_method():
    assert get_method("em") is fit_em
    with pytest.raises(KeyError, match="known methods"):
        get_method("nope")


def test_matching_is_label_permutation_invariant():
    rng = np.random.default_rng(6)
    mu_true = rng.normal(size=(4, 3))
    perm = np.array([2, 0, 3, 1])
    mu_hat = np.empty_like(mu_true)
    mu_hat[perm] = mu_true  # estimated component perm[c] is class c
    np.testing.assert_array_equal(match_components(mu_hat, mu_true), perm)


def test_metrics_count_misassigned_points():
    y = np.array([[0.0], [0.1], [5.0], [5.1], [5.2]])
    truth = np.array([0, 0, 1, 1, 1])
    labels = np.array([1, 0, 0, 0, 0])  # components swapped, first point wrong
    mu_hat = np.array([[5.0], [0.0]])
    m = table2_metrics(y, truth, labels, mu_hat, np.array([0.6, 0.4]))
    assert m["z_mean_sup"] == pytest.approx(0.2)
    assert m["pi_sup"] == pytest.approx(0.0)


def test_pair_adjusted_rand_score_is_scikit_learns_to_the_last_bit():
    """Table 2's ARI is computed without scikit-learn (a job's start-up); the same float."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    cases = [(np.zeros(5, int), np.zeros(5, int)), (np.arange(6), np.arange(6)),
             (np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0])), (np.arange(4), np.zeros(4, int))]
    for _ in range(500):
        n = int(rng.integers(1, 60))
        a = rng.integers(0, int(rng.integers(1, 6)), n)
        cases.append((a, rng.integers(0, int(rng.integers(1, 6)), n)))
        cases.append((a, np.where(rng.random(n) < 0.2, 7, a)))   # mostly agreeing
    for a, b in cases:
        assert pair_adjusted_rand_score(a, b) == adjusted_rand_score(a, b), (a, b)
    with pytest.raises(ValueError, match="same length"):
        pair_adjusted_rand_score([0, 1], [0, 1, 1])
