"""Data samplers simdataset and simdatasetreg (docs/reference-mixsim.md 7 and 8.2).

Labels are 0-based (FSDA uses 1..k); rows come in blocks component by component, unshuffled, as in
FSDA. FSDA's optional contamination (noiseunits, noisevars, inverse Box-Cox) is not implemented.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.simulate.mixsim import XDistrib

__all__ = ["component_sizes", "simdataset", "simdatasetreg"]


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def component_sizes(n: int, pi: ArrayLike, rng: np.random.Generator) -> NDArray[np.int64]:
    """N = 1 + Multinomial(n - k, pi): every component gets at least one point
    (docs/reference-mixsim.md 7)."""
    p = np.asarray(pi, dtype=float).ravel()
    k = p.size
    if not (isinstance(n, int | np.integer) and n >= k):
        raise ValueError(f"n must be an integer >= k = {k}")
    if np.any(p <= 0) or np.any(p > 1) or abs(p.sum() - 1) > 1e-8:
        raise ValueError("pi must satisfy 0 < pi_j <= 1 and sum to 1")
    return 1 + rng.multinomial(n - k, p / p.sum())


def _chol(s: NDArray) -> NDArray:
    try:
        return np.linalg.cholesky(s)
    except np.linalg.LinAlgError:  # semidefinite: symmetric square root
        w, v = np.linalg.eigh(s)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def simdataset(
    n: int, pi: ArrayLike, mu: ArrayLike, S: ArrayLike, *, seed: int | np.random.Generator = 0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """n points from the mixture (pi, mu (k x v), S (k x v x v)); returns (X, labels)
    (docs/reference-mixsim.md 7).

    Sizes 1 + Multinomial(n - k, pi); component j's rows are mu_j + Z L_j^T, L_j = chol(S_j).
    """
    rng = _rng(seed)
    m = np.asarray(mu, dtype=float)
    s = np.asarray(S, dtype=float)
    if m.ndim == 1:
        m = m[:, None]
    if s.ndim == 1:
        s = s[:, None, None]
    k, v = m.shape
    if s.shape != (k, v, v):
        raise ValueError(f"S must be (k, v, v) = ({k}, {v}, {v}), got {s.shape}")
    sizes = component_sizes(n, pi, rng)
    x = np.empty((n, v))
    start = 0
    for j in range(k):
        nj = int(sizes[j])
        x[start:start + nj] = m[j] + rng.standard_normal((nj, v)) @ _chol(s[j]).T
        start += nj
    return x, np.repeat(np.arange(k), sizes)


def simdatasetreg(
    n: int,
    pi: ArrayLike,
    beta: ArrayLike,
    S: ArrayLike,
    xdistrib: XDistrib | None = None,
    *,
    seed: int | np.random.Generator = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Clusterwise regression data (docs/reference-mixsim.md 8.2); returns (y, X, labels), X n x p
    with intercept.

    beta is p x k, S the k error variances; rows of component j: x from the component's
    regressor distribution (Uniform a_j..b_j, Normal, HalfNormal, or the User matrix), then
    y = x' beta_j + sqrt(S_j) eps.
    """
    rng = _rng(seed)
    b = np.asarray(beta, dtype=float)
    if b.ndim == 1:
        b = b[:, None]
    p, k = b.shape
    s2 = np.asarray(S, dtype=float).ravel()
    if s2.shape != (k,) or np.any(s2 < 0):
        raise ValueError(f"S must hold k = {k} non-negative variances")
    xd = xdistrib if xdistrib is not None else XDistrib()
    sizes = component_sizes(n, pi, rng)
    labels = np.repeat(np.arange(k), sizes)
    q = p - 1 if xd.intercept else p
    if xd.type == "User":
        if xd.X is None:
            raise ValueError("Xdistrib type 'User' needs X for simulation")
        x = np.asarray(xd.X, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if xd.intercept and not np.any(np.all(x == 1, axis=0)):
            x = np.hstack([np.ones((x.shape[0], 1)), x])
        if x.shape != (n, p):
            raise ValueError(f"Xdistrib.X must give an n x p = ({n}, {p}) design")
    else:
        cols = np.empty((n, q))
        start = 0
        for j in range(k):
            nj = int(sizes[j])
            blk = slice(start, start + nj)
            if xd.type == "Uniform":
                a, bb = xd.param("a", q, k)[:, j], xd.param("b", q, k)[:, j]
                cols[blk] = a + (bb - a) * rng.random((nj, q))
            elif xd.type == "Normal":
                cols[blk] = (xd.param("mu", q, k)[:, j]
                             + xd.param("sigma", q, k)[:, j] * rng.standard_normal((nj, q)))
            elif xd.type == "HalfNormal":
                cols[blk] = xd.param("sigma", q, k)[:, j] * np.abs(rng.standard_normal((nj, q)))
            else:
                raise ValueError(f"unknown Xdistrib type {xd.type!r}")
            start += nj
        x = np.hstack([np.ones((n, 1)), cols]) if xd.intercept else cols
    y = np.einsum("ip,ip->i", x, b[:, labels].T) + np.sqrt(s2[labels]) * rng.standard_normal(n)
    return y, x, labels
