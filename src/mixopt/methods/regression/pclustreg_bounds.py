"""Probabilistic upper bound of pclustreg: Eq. (2.3)/(3.1) and Problem (2.4) (thesis Sec. 2.2.3).

For a node with partial assignment C~ (cluster sizes n_j = n_j(C~), SSR_j = SSR_j(C~)) and for
integer m in [lo_j, hi_j], lo_j = max(n_j, n_MIN), hi_j = n - sum_{l != j} lo_l:

    f~_j(m) = 3 m log m - m log g_j(m),

    g_j(m) = sigma_MIN^2 chi2_eps(m - p)                               if n_j < p + 1,
             SSR_j + sigma_MIN^2 chi2_eps(m - n_j - p)                 otherwise ("chi2", Eq. 2.3),
             SSR_j + SSR_j F_eps(m - n_j - p, n_j - p)                 otherwise ("F", Sec. 3.1),

with quantiles of order eps and chi2_eps(T) = F_eps(T, .) = 0 for T <= 0. The bound is

    UB = c_n + 1/2 max { sum_j f~_j(n~_j) : n~_j >= lo_j, sum_j n~_j = n }       (Problem 2.4),

c_n = -(n/2)[log(2 pi) + 1] - n log n. If every f~_j is convex on its range (second differences
>= -tol), the maximum is attained at a vertex of the simplex (one cluster takes all the slack);
otherwise the O(k R^2) dynamic program over the slack R = n - sum_j lo_j is used (Sec. 2.2.3,
"Solution of Problem (2.4)"; the thesis does not describe the DP: this is a knapsack over
clusters).

Thesis erratum (documented, not applied by default): the ratio of two independent chi-square
variables with d1 and d2 degrees of freedom is (d1/d2) F(d1, d2), not F(d1, d2) as written in the
proof of Lemma 3.1.1. ``f_dof_scaling=True`` uses the correctly scaled quantile
(d1/d2) F_eps(d1, d2); the default reproduces the thesis' formula, which overestimates the
quantile (so underestimates the bound) whenever d1 < d2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

try:  # pragma: no cover - exercised implicitly
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        """Identity decorator when numba is missing."""
        if args and callable(args[0]):
            return args[0]
        return lambda f: f


Variant = Literal["chi2", "F"]
_LOG2PI = math.log(2.0 * math.pi)


def log_lik_constant(n: int) -> float:
    """c_n = -(n/2)[log(2 pi) + 1] - n log n (Sec. 2.1)."""
    return -0.5 * n * (_LOG2PI + 1.0) - n * math.log(n)


class QuantileTables:
    """Cached eps-quantiles chi2_eps(T) and F_eps(T, d2) for T = 0..n (value 0 for T = 0).

    The chi-square table is one array; F tables are cached per second degree of freedom d2,
    since the same (eps, d2) recur across nodes. Quantiles via the regularised incomplete
    gamma/beta inverses (identical to ``scipy.stats.chi2.ppf`` / ``f.ppf``, faster).
    """

    def __init__(self, n: int, eps: float) -> None:
        if not 0.0 < eps < 1.0:
            raise ValueError("eps must be in (0, 1)")
        self.n = int(n)
        self.eps = float(eps)
        self._chi2: NDArray[np.float64] | None = None
        self._f: dict[int, NDArray[np.float64]] = {}

    def chi2(self) -> NDArray[np.float64]:
        """Array q with q[T] = chi2_eps(T) for T = 1..n and q[0] = 0."""
        if self._chi2 is None:
            t = np.arange(1, self.n + 1, dtype=float)
            self._chi2 = np.concatenate([[0.0], 2.0 * special.gammaincinv(t / 2.0, self.eps)])
        return self._chi2

    def f(self, d2: int) -> NDArray[np.float64]:
        """Array q with q[T] = F_eps(T, d2) for T = 1..n and q[0] = 0 (d2 >= 1)."""
        d2 = int(d2)
        if d2 < 1:
            raise ValueError("the second degree of freedom of F must be >= 1")
        tab = self._f.get(d2)
        if tab is None:
            d1 = np.arange(1, self.n + 1, dtype=float)
            x = special.betaincinv(d1 / 2.0, d2 / 2.0, self.eps)
            with np.errstate(divide="ignore"):
                q = (d2 / d1) * x / (1.0 - x)
            tab = self._f[d2] = np.concatenate([[0.0], q])
        return tab


def g_values(m: NDArray[np.int64], nj: int, ssr: float, p: int, sigma_min: float | None,
             variant: Variant, tables: QuantileTables,
             f_dof_scaling: bool = False) -> NDArray[np.float64]:
    """g_j(m) of Eq. (2.3) ("chi2") or Sec. 3.1 ("F") for integer sizes m.

    ``sigma_min=None`` (allowed for "F" only) makes the first case g = 0, i.e. f~ = +inf: a
    trivially valid bound that never cuts a node in which some cluster has < p + 1 points.
    """
    m = np.asarray(m, dtype=np.int64)
    if nj < p + 1:
        if sigma_min is None:
            return np.zeros(m.shape)
        t = np.clip(m - p, 0, tables.n)
        return sigma_min**2 * tables.chi2()[t]
    t = np.clip(m - nj - p, 0, tables.n)
    if variant == "chi2":
        if sigma_min is None:
            raise ValueError("the chi2 variant needs sigma_min")
        return ssr + sigma_min**2 * tables.chi2()[t]
    q = tables.f(nj - p)[t]
    if f_dof_scaling:
        q = q * (t / (nj - p))
    return ssr + ssr * q


def f_tilde(m: NDArray[np.int64], g: NDArray[np.float64]) -> NDArray[np.float64]:
    """f~_j(m) = 3 m log m - m log g_j(m) (+inf where g = 0) (Sec. 2.2.3)."""
    m = np.asarray(m, dtype=float)
    with np.errstate(divide="ignore"):
        return 3.0 * m * np.log(m) - m * np.log(g)


def is_convex(f: NDArray[np.float64], tol: float = 1e-10) -> bool:
    """Discrete convexity: f[t+2] - 2 f[t+1] + f[t] >= -tol max(1, max |f|) for all t."""
    f = np.asarray(f, dtype=float)
    if f.size < 3:
        return True
    d2 = f[2:] - 2.0 * f[1:-1] + f[:-2]
    return bool(np.all(d2 >= -tol * max(1.0, float(np.max(np.abs(f))))))


def solve_vertex(F: NDArray[np.float64]) -> tuple[float, NDArray[np.int64]]:
    """max over the k simplex vertices of sum_j F[j, t_j], sum_j t_j = R (F is k x (R + 1)).

    Vertex j gives the whole slack R to cluster j; ties: the smallest j. Exact when every row
    of F is convex (Sec. 2.2.3).
    """
    k, r1 = F.shape
    base = float(F[:, 0].sum())
    vals = base - F[:, 0] + F[:, r1 - 1]
    j = int(np.argmax(vals))
    t = np.zeros(k, dtype=np.int64)
    t[j] = r1 - 1
    return float(vals[j]), t


@njit(cache=True)
def _dp(F: NDArray[np.float64]) -> tuple[float, NDArray[np.int64]]:  # pragma: no cover - numba
    k, r1 = F.shape
    val = F[0].copy()
    choice = np.zeros((k, r1), dtype=np.int64)
    for r in range(r1):
        choice[0, r] = r
    for j in range(1, k):
        new = np.empty(r1)
        lo_r = r1 - 1 if j == k - 1 else 0  # the last cluster only needs r = R
        for r in range(r1):
            new[r] = -np.inf
        for r in range(lo_r, r1):
            best = -np.inf
            arg = 0
            for x in range(r + 1):
                v = val[r - x] + F[j, x]
                if v > best:
                    best = v
                    arg = x
            new[r] = best
            choice[j, r] = arg
        val = new
    t = np.zeros(k, dtype=np.int64)
    r = r1 - 1
    for j in range(k - 1, 0, -1):
        t[j] = choice[j, r]
        r -= t[j]
    t[0] = r
    return val[r1 - 1], t


def solve_dp(F: NDArray[np.float64]) -> tuple[float, NDArray[np.int64]]:
    """Exact max of sum_j F[j, t_j] over t >= 0 integer, sum_j t_j = R (O(k R^2) DP)."""
    F = np.ascontiguousarray(F, dtype=np.float64)
    value, t = _dp(F)
    return float(value), np.asarray(t, dtype=np.int64)


def solve_problem_24(F: NDArray[np.float64],
                     tol: float = 1e-10) -> tuple[float, NDArray[np.int64] | None, bool]:
    """Solve Problem (2.4) on the table F[j, t] = f~_j(lo_j + t): (max, t, used_dp).

    Vertex enumeration after the convexity check, else the dynamic program. A +inf entry
    gives (+inf, None, False): every t_j in 0..R is part of a feasible n~.
    """
    F = np.asarray(F, dtype=float)
    if np.any(np.isposinf(F)):
        return math.inf, None, False
    if all(is_convex(row, tol) for row in F):
        value, t = solve_vertex(F)
        return value, t, False
    value, t = solve_dp(F)
    return value, t, True


@dataclass
class UpperBound:
    """Bound of one node: ``value`` = c_n + 1/2 max (2.4); ``ntilde`` its maximiser."""

    value: float
    ntilde: NDArray[np.int64] | None
    used_dp: bool
    lo: NDArray[np.int64]


def node_upper_bound(nj: NDArray[np.int64], ssr: NDArray[np.float64], n: int, p: int,
                     n_min: int, sigma_min: float | None, variant: Variant,
                     tables: QuantileTables, f_dof_scaling: bool = False,
                     tol: float = 1e-10) -> UpperBound:
    """Probabilistic upper bound (Problem 2.4) of a node with sizes ``nj`` and SSRs ``ssr``.

    ``ssr[j]`` is ignored when ``nj[j] < p + 1``. Returns -inf when sum_j lo_j > n (no
    completion with every cluster of size >= n_MIN exists).
    """
    nj = np.asarray(nj, dtype=np.int64)
    k = nj.size
    lo = np.maximum(nj, n_min)
    slack = n - int(lo.sum())
    if slack < 0:
        return UpperBound(-math.inf, None, False, lo)
    F = np.empty((k, slack + 1))
    t = np.arange(slack + 1, dtype=np.int64)
    for j in range(k):
        m = lo[j] + t
        g = g_values(m, int(nj[j]), float(ssr[j]), p, sigma_min, variant, tables, f_dof_scaling)
        F[j] = f_tilde(m, g)
    value, tt, used_dp = solve_problem_24(F, tol)
    ntilde = None if tt is None else lo + tt
    return UpperBound(log_lik_constant(n) + 0.5 * value, ntilde, used_dp, lo)
