"""Convex under-estimators of the MAP entropy term over ranges of cluster sizes (method ``exact``).

After profiling out (mu, pi), Problem (4) with a known shared precision is

    f(C) = 1/2 SSE_Lambda(C) + sum_k g(n_k),   g(m) = m log(n / m),

and with the Peng-Wei matrix Z (``Z_ij = 1/n_k`` when i and j share cluster k) the entropy term is
``sum_i log(n Z_ii)`` (each point carries ``log(n / n_k)``). Cluster sizes are integers, so every
under-estimator here is the lower convex hull of the finitely many feasible points:

* per point, over ``t = Z_ii = 1/m`` with ``m`` in ``[lo, hi]``: ``log(n t)`` is concave in t, so
  the hull is the chord through the end points;
* per identified cluster (an *anchor* point a_j fixes the cluster's identity), over
  ``t_j = Z_{a_j a_j}``: the cluster's whole term is ``h(t) = g(1/t) = log(n t) / t``, which is
  convex where ``n t >= e^{3/2}`` and concave elsewhere; its hull over ``{1/m : m in [lo, hi]}`` is
  a piecewise-linear convex function, used through its supporting lines.

Both are exact at the end points (and at every hull vertex), so narrowing a size range closes the
gap; that is what the branch-and-bound's size branching does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Lines = NDArray[np.float64]  # rows (alpha, beta): value >= alpha + beta * t


def cluster_entropy(m: NDArray[np.float64] | float, n: int) -> NDArray[np.float64]:
    """``g(m) = m log(n / m)``: one cluster's contribution to ``sum_k n_k log(n / n_k)``."""
    mm = np.asarray(m, dtype=float)
    return np.where(mm > 0, mm * np.log(n / np.maximum(mm, 1e-300)), 0.0)


def point_chord(lo: NDArray[np.int64], hi: NDArray[np.int64], n: int) -> Lines:
    """Chord of ``log(n t)`` on ``t in [1/hi, 1/lo]`` per point: rows (alpha, beta).

    ``log(n t) >= alpha + beta t`` for every ``t = 1/m`` with integer ``m`` in ``[lo, hi]``.
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    t1, t2 = 1.0 / hi, 1.0 / lo
    f1, f2 = np.log(n * t1), np.log(n * t2)
    same = hi <= lo
    beta = np.where(same, 0.0, (f2 - f1) / np.where(same, 1.0, t2 - t1))
    alpha = np.where(same, f1, f1 - beta * t1)
    return np.column_stack([alpha, beta])


def cluster_hull(lo: int, hi: int, n: int, max_lines: int = 40) -> Lines:
    """Supporting lines of the lower convex hull of ``{(1/m, g(m)) : lo <= m <= hi}``.

    Every line is below every feasible point, so ``e >= alpha + beta t_j`` for all lines is a valid
    relaxation of ``e = g(1/t_j)``. At most ``max_lines`` lines are kept (a subset of valid lines
    is still valid); the end segments are always kept.
    """
    if lo < 1 or hi < lo:
        raise ValueError(f"invalid size range [{lo}, {hi}]")
    m = np.arange(hi, lo - 1, -1, dtype=float)      # increasing t = 1/m
    t = 1.0 / m
    v = cluster_entropy(m, n)
    if t.size == 1:
        return np.array([[float(v[0]), 0.0]])
    hull: list[int] = []
    for i in range(t.size):                           # monotone chain, lower hull
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (t[b] - t[a]) * (v[i] - v[a]) - (v[b] - v[a]) * (t[i] - t[a])
            if cross <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    idx = np.asarray(hull)
    beta = np.diff(v[idx]) / np.diff(t[idx])
    alpha = v[idx[:-1]] - beta * t[idx[:-1]]
    lines = np.column_stack([alpha, beta])
    if len(lines) > max_lines:
        keep = np.unique(np.linspace(0, len(lines) - 1, max_lines).round().astype(int))
        lines = lines[keep]
    return lines


def hull_value(lines: Lines, t: float) -> float:
    """The under-estimator ``max_l alpha_l + beta_l t``."""
    return float(np.max(lines[:, 0] + lines[:, 1] * t))


def lower_hull_lines(t: NDArray[np.float64], v: NDArray[np.float64]) -> Lines:
    """Supporting lines (alpha, beta) of the lower convex hull of the points (t_i, v_i)."""
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    hull: list[int] = []
    for i in range(t.size):
        if hull and t[i] == t[hull[-1]]:
            if v[i] >= v[hull[-1]]:
                continue
            hull.pop()
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (t[b] - t[a]) * (v[i] - v[a]) - (v[b] - v[a]) * (t[i] - t[a]) <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    idx = np.asarray(hull)
    if idx.size == 1:
        return np.array([[float(v[idx[0]]), 0.0]])
    beta = np.diff(v[idx]) / np.diff(t[idx])
    return np.column_stack([v[idx[:-1]] - beta * t[idx[:-1]], beta])


def free_point_hull(lo: int, hi: int, n: int, max_lines: int = 40) -> Lines:
    """Under-estimator of a point's share ``psi(q)`` of the entropy of the clusters that have no
    anchor, as a function of ``q = Z_ss - sum_j Z_{a_j s}``: ``q = 0`` (psi = 0) when the point
    lies in an anchored cluster, ``q = 1/m`` (psi = log(n/m)) when it lies in a free cluster of
    size m in ``[lo, hi]``. Lines of the lower convex hull of those points."""
    m = np.arange(lo, hi + 1, dtype=float)
    lines = lower_hull_lines(np.concatenate([[0.0], 1.0 / m]),
                             np.concatenate([[0.0], np.log(n / m)]))
    if len(lines) > max_lines:
        keep = np.unique(np.linspace(0, len(lines) - 1, max_lines).round().astype(int))
        lines = lines[keep]
    return lines


def size_vertices(lo: list[int], hi: list[int], n: int) -> NDArray[np.float64]:
    """Vertices of the size polytope ``{nu : lo <= nu <= hi, sum_j nu_j = n}`` (rows; none when
    it is empty): every vertex has all coordinates but one at a bound, the last fixed by the sum.

    ``sum_j g(nu_j)`` is concave, so its convex envelope over the polytope is the lower hull of its
    values at these vertices, ``min {sum_v lam_v H(v) : lam in simplex, sum_v lam_v v = nu}``:
    a joint under-estimator of the entropy that, unlike per-cluster hulls, uses
    ``sum_j n_j = n`` (box [61, 90] x [61, 90] x [1, 56] of wine: 128.9 at the worst vertex)."""
    lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    k = lo_a.size
    found: set[tuple[float, ...]] = set()
    for j in range(k):
        others = [i for i in range(k) if i != j]
        for mask in range(2 ** (k - 1)):
            v = np.empty(k)
            for bit, i in enumerate(others):
                v[i] = hi_a[i] if mask >> bit & 1 else lo_a[i]
            v[j] = n - v[others].sum()
            if lo_a[j] - 1e-9 <= v[j] <= hi_a[j] + 1e-9:
                found.add(tuple(v))
    return np.array(sorted(found)).reshape(-1, k)
