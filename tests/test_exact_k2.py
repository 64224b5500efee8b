"""K = 2 branch-and-bound over mean-difference directions (``mixopt.methods.map.exact.k2``): its
certified optimum equals brute force, its bounds are valid when stopped early."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixopt.methods.map.exact.k2 import DirectionSearch


def data(n: int, d: int, seed: int, ties: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.3, 3.0, size=d)
    x[: n // 2] += 2.0
    if ties:
        x = np.round(x)   # repeated projections and duplicate points
    return x - x.mean(axis=0)


def brute_force(search: DirectionSearch) -> float:
    return min(search.objective(np.array(bits))
               for bits in itertools.product([0, 1], repeat=search.n))


@pytest.mark.parametrize(("n", "d", "seed", "min_size", "ties"), [
    (9, 1, 0, 1, False), (10, 2, 1, 1, False), (11, 3, 2, 2, False), (10, 4, 3, 1, False),
    (10, 2, 4, 3, True), (11, 3, 5, 1, True), (8, 5, 6, 1, False)])
def test_certified_optimum_equals_brute_force(n, d, seed, min_size, ties):
    search = DirectionSearch(data(n, d, seed, ties), min_size=min_size)
    opt = brute_force(search)
    res = search.run(rel_gap=1e-10)
    assert res.status == "optimal"
    assert res.upper_bound == pytest.approx(opt, rel=1e-12)
    assert search.objective(res.labels) == pytest.approx(res.upper_bound, rel=1e-12)
    assert opt - 1e-9 * abs(opt) <= res.lower_bound <= opt + 1e-9 * abs(opt)
    assert min(np.bincount(res.labels, minlength=2)) >= min_size


@pytest.mark.parametrize("max_boxes", [1, 5, 20])
def test_bounds_stay_valid_when_stopped_early(max_boxes):
    search = DirectionSearch(data(11, 3, seed=7), min_size=1)
    opt = brute_force(search)
    res = search.run(rel_gap=1e-10, max_boxes=max_boxes)
    assert res.lower_bound <= opt + 1e-9 * abs(opt) <= res.upper_bound + 2e-9 * abs(opt)
    assert [t[2] for t in res.trace] == sorted(t[2] for t in res.trace)   # bound never drops


def test_time_limit_is_reported():
    search = DirectionSearch(data(300, 6, seed=8), min_size=1)
    res = search.run(rel_gap=0.0, time_limit_s=0.2)
    assert res.status == "time_limit"
    assert res.lower_bound < res.upper_bound


def test_impossible_sizes_fail_clearly():
    with pytest.raises(ValueError, match="no two clusters"):
        DirectionSearch(data(5, 2, seed=0), min_size=3)
