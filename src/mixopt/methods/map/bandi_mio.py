"""Bandi, Bertsimas and Mazumder (2019): one-dimensional Gaussian-mixture fit by mixed-integer
optimization of the Kolmogorov-Smirnov discrepancy.

For sorted points x_(1) <= ... <= x_(n) and known weights pi, the mixture CDF at x_(i) is
F_i = sum_k pi_k Phi(u_ik) with u_ik = (x_(i) - mu_k) / sigma_k. Writing a_k = 1/sigma_k and
b_k = mu_k/sigma_k makes u_ik = a_k x_(i) - b_k *linear* in the parameters; Phi is replaced by
its piecewise-linear interpolant on breakpoints g_0 < ... < g_S (incremental formulation: segment
fills delta_iks in [0, 1] with binaries w_iks forcing segments to fill in order), and

    KS = max_i max(|F_i - i/n|, |F_i - (i-1)/n|) = 1/(2n) + max_i |F_i - (i - 1/2)/n|

is minimized as a MILP (HiGHS). Because a_k > 0, u_ik increases with i, so every segment
indicator is monotone in i (w_iks <= w_(i+1)ks): valid cuts that make the model much tighter.
Components with equal weights are interchangeable, so their b_k are ordered (symmetry breaking).

The fit is done on standardized data (z = (x - mean)/sd) with sigma_k in [sigma_min, sigma_max]
and mu_k in [min z, max z], then mapped back. The MILP's optimum is the exact minimum of the KS
discrepancy for the interpolated Phi; the interpolation error (<= max |Phi''| h^2 / 8 for a grid
step h) bounds the difference to the true KS discrepancy, which is reported separately.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog, minimize
from scipy.stats import norm

FloatArray = NDArray[np.float64]


@dataclass
class KSFit:
    """Result of one KS fit: parameters in data units and the discrepancy reached."""

    mu: FloatArray
    sigma: FloatArray
    pi: FloatArray
    ks: float                 # true KS discrepancy of (pi, mu, sigma) on the data
    ks_model: float | None    # MILP objective (interpolated Phi), None for the LP step
    bound: float | None       # MILP dual bound on the interpolated KS
    status: str
    seconds: float


def ks_discrepancy(x: FloatArray, pi: FloatArray, mu: FloatArray, sigma: FloatArray) -> float:
    """Kolmogorov-Smirnov distance between the empirical CDF of ``x`` and the mixture CDF."""
    xs = np.sort(np.asarray(x, dtype=float))
    n = xs.size
    cdf = norm.cdf((xs[:, None] - mu[None, :]) / sigma[None, :]) @ pi
    i = np.arange(1, n + 1)
    return float(max(np.max(np.abs(cdf - i / n)), np.max(np.abs(cdf - (i - 1) / n))))


def phi_breakpoints(step: float, half_width: float, outer: float) -> FloatArray:
    """Breakpoints: a regular grid on [-half_width, half_width] plus +-outer for the flat tails."""
    inner = np.arange(-half_width, half_width + step / 2, step)
    return np.concatenate([[-outer], inner, [outer]])


def fit_ks_mio(
    x: FloatArray,
    pi: FloatArray,
    step: float = 0.5,
    half_width: float = 4.0,
    sigma_range: tuple[float, float] = (0.05, 3.0),
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-4,
    threads: int = 1,
    start: tuple[FloatArray, FloatArray] | None = None,
    polish: bool = True,
    node_limit: int | None = None,
) -> KSFit:
    """Means and standard deviations minimizing the KS discrepancy for fixed weights ``pi``.

    ``start`` = (mu, sigma) in data units (default: the quantile split of the sorted data) is
    first improved by a Nelder-Mead descent on the KS discrepancy (``polish``; HiGHS alone finds
    few improving solutions of this MILP) and given to HiGHS as its first incumbent, so the
    result is never worse than the start on the model.
    """
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=float)
    pi = np.asarray(pi, dtype=float)
    centre, scale = float(x.mean()), float(x.std()) or 1.0
    z = np.sort((x - centre) / scale)
    n, k = z.size, pi.size
    a_lo, a_hi = 1.0 / sigma_range[1], 1.0 / sigma_range[0]
    zmax = float(np.max(np.abs(z)))
    outer = 2.0 * a_hi * zmax + half_width
    g = phi_breakpoints(step, half_width, outer)
    s_count = g.size - 1
    width = np.diff(g)
    dphi = np.diff(norm.cdf(g))
    # Variable layout: delta (n, k, S) | w (n, k, S-1) | a (k) | b (k) | t
    n_delta, n_w = n * k * s_count, n * k * (s_count - 1)
    i_a = n_delta + n_w
    i_b, i_t = i_a + k, i_a + 2 * k
    nvar = i_t + 1
    delta = np.arange(n_delta).reshape(n, k, s_count)
    w = n_delta + np.arange(n_w).reshape(n, k, s_count - 1)
    rows, cols, vals = [], [], []
    lo, hi = [], []
    r = 0

    def add(row_cols: NDArray[np.int64], row_vals: FloatArray, lower: FloatArray,
            upper: FloatArray) -> None:
        """Append len(lower) rows; row_cols/row_vals have shape (rows, entries per row)."""
        nonlocal r
        m = row_cols.shape[0]
        rows.append(np.repeat(np.arange(r, r + m), row_cols.shape[1]))
        cols.append(row_cols.ravel())
        vals.append(row_vals.ravel())
        lo.append(lower)
        hi.append(upper)
        r += m

    # (1) u_ik = a_k z_i - b_k = g_0 + sum_s width_s delta_iks
    ii, kk = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    ii, kk = ii.ravel(), kk.ravel()
    c1 = np.column_stack([i_a + kk, i_b + kk, delta[ii, kk, :]])
    v1 = np.column_stack([z[ii], -np.ones(ii.size), -np.broadcast_to(width, (ii.size, s_count))])
    add(c1, v1, np.full(ii.size, g[0]), np.full(ii.size, g[0]))
    # (2) delta_(s+1) <= w_s <= delta_s
    ws = w.reshape(-1, s_count - 1)
    ds = delta.reshape(-1, s_count)
    m = ws.size
    add(np.column_stack([ds[:, 1:].ravel(), ws.ravel()]), np.tile([1.0, -1.0], (m, 1)),
        np.full(m, -np.inf), np.zeros(m))
    add(np.column_stack([ws.ravel(), ds[:, :-1].ravel()]), np.tile([1.0, -1.0], (m, 1)),
        np.full(m, -np.inf), np.zeros(m))
    # (3) monotone segment indicators: w_iks <= w_(i+1)ks
    m = (n - 1) * k * (s_count - 1)
    add(np.column_stack([w[:-1].ravel(), w[1:].ravel()]), np.tile([1.0, -1.0], (m, 1)),
        np.full(m, -np.inf), np.zeros(m))
    # (4) |sum_k pi_k phi_ik - c_i| <= t with phi_ik = Phi(g_0) + sum_s dphi_s delta_iks
    c = (np.arange(1, n + 1) - 0.5) / n - norm.cdf(g[0]) * pi.sum()
    coef = (pi[:, None] * dphi[None, :]).ravel()
    c4 = np.column_stack([delta.reshape(n, -1), np.full(n, i_t)])
    add(c4, np.column_stack([np.tile(coef, (n, 1)), -np.ones(n)]), np.full(n, -np.inf), c)
    add(c4, np.column_stack([np.tile(-coef, (n, 1)), -np.ones(n)]), np.full(n, -np.inf), -c)
    # (5) mu_k = b_k / a_k in [min z, max z];  symmetry: b ordered among equal weights
    kk = np.arange(k)
    add(np.column_stack([i_a + kk, i_b + kk]), np.column_stack([np.full(k, z[0]), -np.ones(k)]),
        np.full(k, -np.inf), np.zeros(k))
    add(np.column_stack([i_b + kk, i_a + kk]), np.column_stack([np.ones(k), np.full(k, -z[-1])]),
        np.full(k, -np.inf), np.zeros(k))
    for p, q in _equal_weight_pairs(pi):
        add(np.array([[i_b + p, i_b + q]]), np.array([[1.0, -1.0]]),
            np.array([-np.inf]), np.array([0.0]))
    A = sparse.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(r, nvar))
    lb = np.zeros(nvar)
    ub = np.ones(nvar)
    lb[i_a:i_b], ub[i_a:i_b] = a_lo, a_hi
    lb[i_b:i_t], ub[i_b:i_t] = -a_hi * zmax, a_hi * zmax
    lb[i_t], ub[i_t] = 0.0, 1.0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    if node_limit is not None:   # deterministic work limit (a time limit is not reproducible)
        h.setOptionValue("mip_max_nodes", int(node_limit))
    h.addVars(nvar, lb, ub)
    h.changeColsCost(1, np.array([i_t], dtype=np.int32), np.array([1.0]))
    A = A.tocsr()
    h.addRows(r, np.concatenate(lo), np.concatenate(hi), A.nnz, A.indptr[:-1].astype(np.int32),
              A.indices.astype(np.int32), A.data)
    h.changeColsIntegrality(n_w, np.arange(n_delta, n_delta + n_w, dtype=np.int32),
                            np.full(n_w, highspy.HighsVarType.kInteger))
    # Warm start (default: the quantile split of the sorted data into groups of sizes n pi_k).
    if start is None:
        mu0, sd0 = quantile_start(z, pi, sigma_range)
    else:
        mu0 = np.clip((np.asarray(start[0], dtype=float) - centre) / scale, z[0], z[-1])
        sd0 = np.clip(np.asarray(start[1], dtype=float) / scale, *sigma_range)
    if polish:
        mu0, sd0 = polish_start(z, pi, mu0, sd0, sigma_range)
    a0, b0 = 1.0 / sd0, mu0 / sd0
    for p, q in _equal_weight_pairs(pi):
        if b0[p] > b0[q]:
            a0[[p, q]], b0[[p, q]] = a0[[q, p]], b0[[q, p]]
    start = np.zeros(nvar)
    u0 = np.clip(a0[None, :] * z[:, None] - b0[None, :], g[0], g[-1])
    d0 = np.clip((u0[:, :, None] - g[None, None, :-1]) / width[None, None, :], 0.0, 1.0)
    start[:n_delta] = d0.ravel()
    start[n_delta:n_delta + n_w] = (u0[:, :, None] > g[None, None, 1:-1]).astype(float).ravel()
    start[i_a:i_b], start[i_b:i_t] = a0, b0
    cdf0 = norm.cdf(g[0]) * pi.sum() + (d0 * dphi[None, None, :]).sum(axis=2) @ pi
    start[i_t] = float(np.max(np.abs(cdf0 - (np.arange(1, n + 1) - 0.5) / n)))
    h.setSolution(nvar, np.arange(nvar, dtype=np.int32), start)
    # HiGHS keeps one task scheduler per process, sized by the first solve; another HiGHS user
    # in the process (e.g. Pyomo's highs interface) with a different thread count makes run()
    # refuse to start. Reset it so that this solve gets its `threads`.
    highspy.Highs.resetGlobalScheduler(True)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        raise RuntimeError(f"KS MILP found no solution ({h.modelStatusToString(model_status)})")
    sol = np.asarray(h.getSolution().col_value)
    a, b = sol[i_a:i_b], sol[i_b:i_t]
    mu = centre + scale * b / a
    sigma = scale / a
    status = ("optimal" if model_status == highspy.HighsModelStatus.kOptimal else
              "time_limit" if model_status == highspy.HighsModelStatus.kTimeLimit else
              "node_limit" if model_status == highspy.HighsModelStatus.kSolutionLimit else
              h.modelStatusToString(model_status))
    return KSFit(mu=mu, sigma=sigma, pi=pi.copy(), ks=ks_discrepancy(x, pi, mu, sigma),
                 ks_model=float(info.objective_function_value) + 0.5 / n,
                 bound=(float(info.mip_dual_bound) + 0.5 / n
                        if np.isfinite(info.mip_dual_bound) else None),
                 status=status, seconds=time.perf_counter() - t0)


def _equal_weight_pairs(pi: FloatArray) -> list[tuple[int, int]]:
    """Consecutive pairs of interchangeable components (equal weights), for symmetry breaking."""
    pairs = []
    for p in range(pi.size):
        for q in range(p + 1, pi.size):
            if np.isclose(pi[p], pi[q]):
                pairs.append((p, q))
                break
    return pairs


def polish_start(z: FloatArray, pi: FloatArray, mu: FloatArray, sd: FloatArray,
                 sigma_range: tuple[float, float]) -> tuple[FloatArray, FloatArray]:
    """Nelder-Mead descent of the KS discrepancy over (mu, log sigma), kept in the MILP's box."""
    k = mu.size
    lo, hi = np.log(sigma_range[0]), np.log(sigma_range[1])

    def unpack(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        return (np.clip(theta[:k], z[0], z[-1]),
                np.exp(np.clip(theta[k:], lo, hi)))

    def ks(theta: FloatArray) -> float:
        return ks_discrepancy(z, pi, *unpack(theta))

    theta0 = np.concatenate([mu, np.log(sd)])
    res = minimize(ks, theta0, method="Nelder-Mead",
                   options={"maxfev": 400 * theta0.size, "xatol": 1e-6, "fatol": 1e-7})
    return unpack(res.x) if res.fun < ks(theta0) else (mu, sd)


def quantile_start(z: FloatArray, pi: FloatArray,
                   sigma_range: tuple[float, float]) -> tuple[FloatArray, FloatArray]:
    """Means and sds of consecutive groups of the sorted data with sizes about n pi_k."""
    edges = np.rint(np.concatenate([[0.0], np.cumsum(pi)]) * z.size).astype(int)
    groups = [z[edges[j]:max(edges[j + 1], edges[j] + 1)] for j in range(pi.size)]
    mu = np.array([g.mean() for g in groups])
    sd = np.clip([g.std() for g in groups], *sigma_range)
    return mu, sd


def fit_ks_weights(x: FloatArray, mu: FloatArray, sigma: FloatArray,
                   pi_min: float = 0.0) -> KSFit:
    """Weights minimizing the KS discrepancy for fixed (mu, sigma): a linear program."""
    t0 = time.perf_counter()
    xs = np.sort(np.asarray(x, dtype=float))
    n, k = xs.size, mu.size
    phi = norm.cdf((xs[:, None] - mu[None, :]) / sigma[None, :])     # (n, k)
    c = (np.arange(1, n + 1) - 0.5) / n
    # variables: pi (k), t;  |phi pi - c| <= t, sum pi = 1, pi >= pi_min
    a_ub = np.block([[phi, -np.ones((n, 1))], [-phi, -np.ones((n, 1))]])
    b_ub = np.concatenate([c, -c])
    a_eq = np.concatenate([np.ones(k), [0.0]])[None, :]
    cost = np.zeros(k + 1)
    cost[-1] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                  bounds=[(pi_min, 1.0)] * k + [(0.0, 1.0)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"KS weight LP failed: {res.message}")
    pi = res.x[:k]
    return KSFit(mu=mu.copy(), sigma=sigma.copy(), pi=pi, ks=ks_discrepancy(x, pi, mu, sigma),
                 ks_model=None, bound=None, status="optimal",
                 seconds=time.perf_counter() - t0)
