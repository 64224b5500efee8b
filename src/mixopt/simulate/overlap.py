"""Exact pairwise misclassification probabilities of Gaussian mixtures (MixSim overlap).

Implements docs/reference-mixsim.md 1-3 (Maitra and Melnykov 2010; FSDA ``ComputePars``,
``GetOmegaMap``): the probability omega_{j|i} that a point of component i has a larger weighted
density under component j is the cdf of a linear combination of independent noncentral
chi-squares with one degree of freedom plus a normal term,

    Q = sum_l (lambda_l - 1) chi2_1(ncp_l) + sigma Z,   omega_{j|i} = P(Q <= t).

FSDA evaluates this cdf with Davies' algorithm AS 155 at accuracy 1e-6; here it is computed by
Gil-Pelaez inversion of the characteristic function with adaptive quadrature (QUADPACK through
``scipy.integrate.quad``; the oscillatory tail uses the Fourier-weighted rule QAWF), with absolute
error well below 1e-7 (docs/reference-mixsim.md 2.3 accepts any method with error <~ 1e-7).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

__all__ = [
    "OverlapPars",
    "OverlapSummary",
    "asymptotic_omega_map",
    "gchisq_cdf",
    "misclassification_prob",
    "omega_map",
    "overlap",
    "overlap_pars",
    "summarize_omega",
]

# |lambda - 1| <= this: coordinate goes to the normal term (docs/reference-mixsim.md 2.1)
_EIG_ONE_TOL = 1e-6
_HOM_TOL = 1e-14  # per-pair homogeneity test on eigenvalues (docs/reference-mixsim.md 2.2)
# entries set to zero before eigen-decompositions (docs/reference-mixsim.md 2.1, ComputePars)
_ZERO_TOL = 1e-10


def _log_cf(u: NDArray[np.float64], coef: NDArray, ncp: NDArray, sigma: float) -> NDArray:
    """log of the characteristic function of Q at real u >= 0 (docs/reference-mixsim.md 2.3), shape
    (len(u),)."""
    z = 1.0 - 2j * np.multiply.outer(u, coef)  # (n_u, m), real part 1: principal log continuous
    iu = 1j * np.multiply.outer(u, coef * ncp)
    out = np.sum(-0.5 * np.log(z) + iu / z, axis=-1) if coef.size else np.zeros(u.shape, complex)
    return out - 0.5 * sigma**2 * u**2


def gchisq_cdf(
    t: float,
    coef: ArrayLike,
    ncp: ArrayLike | None = None,
    sigma: float = 0.0,
    *,
    epsabs: float = 1e-10,
) -> float:
    """P(sum_l coef_l chi2_1(ncp_l) + sigma Z <= t) by Gil-Pelaez inversion
    (docs/reference-mixsim.md 2.3).

    F(t) = 1/2 - (1/pi) int_0^inf Im[exp(-i u t) phi_Q(u)] / u du. The integral is split at
    u = A: [0, A] by adaptive Gauss-Kronrod (QAGS), [A, inf) as a Fourier integral of the
    slowly varying factor phi_Q(u)/u (QAWF), which handles the algebraic ~u^(-1-m/2) tail.
    Degenerate case (all coefficients and sigma zero): 1 if t >= 0 else 0 (as FSDA ``ncx2mixtcdf``).
    """
    a = np.atleast_1d(np.asarray(coef, dtype=float))
    nc = np.zeros_like(a) if ncp is None else np.atleast_1d(np.asarray(ncp, dtype=float))
    if a.shape != nc.shape:
        raise ValueError("coef and ncp must have the same length")
    if np.any(nc < 0) or sigma < 0 or not np.all(np.isfinite(a)) or not np.isfinite(t):
        raise ValueError("ncp and sigma must be >= 0 and all inputs finite")
    keep = a != 0.0
    a, nc = a[keep], nc[keep]
    sigma = float(sigma)
    t = float(t)
    if a.size == 0:
        if sigma == 0.0:
            return 1.0 if t >= 0 else 0.0
        return float(ndtr(t / sigma))
    if a.size == 1 and sigma == 0.0:
        # closed form: a (W + b)^2 <= t with W ~ N(0,1), b = sqrt(ncp)
        b = math.sqrt(nc[0])
        r = t / a[0]
        if r <= 0:
            return 0.0 if a[0] > 0 else 1.0
        s = math.sqrt(r)
        p = float(ndtr(s - b) - ndtr(-s - b))
        return p if a[0] > 0 else 1.0 - p

    from scipy import integrate  # (here: a clustering job that never simulates skips 0.2 s)

    # scale so that the standard deviation of Q is 1 (improves the quadrature's conditioning)
    sd = math.sqrt(float(np.sum(2 * a**2 * (1 + 2 * nc))) + sigma**2)
    a, sigma_s, ts = a / sd, sigma / sd, t / sd

    def integrand(u: float) -> float:
        if u == 0.0:
            return float(np.sum(a * (1 + nc))) - ts  # limit: E[Q] - t
        uu = np.array([u])
        return float(np.imag(np.exp(-1j * u * ts + _log_cf(uu, a, nc, sigma_s)))[0] / u)

    # Split point A: at least 8 (past the structure of phi_Q for the bulk of the coefficients)
    # and at least 50/|t| so that the Fourier tail rule sees many periods of cos(u t).
    big_a = 8.0 if ts == 0.0 else max(8.0, 50.0 / abs(ts))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        head, lo, hi = 0.0, 0.0, 8.0
        while lo < big_a:  # geometric segments keep QAGS efficient on long ranges
            hi = min(hi, big_a)
            part, _ = integrate.quad(integrand, lo, hi, epsabs=epsabs, epsrel=0.0, limit=200)
            head += part
            lo, hi = hi, hi * 8.0
        if sigma_s * big_a > 12.0:  # exp(-sigma^2 u^2/2) < 1e-31 beyond A: tail negligible
            tail = 0.0
        elif ts == 0.0:
            tail, _ = integrate.quad(integrand, big_a, np.inf, epsabs=epsabs, epsrel=0.0, limit=200)
        else:

            def re_phi(u: float) -> float:
                return float(np.real(np.exp(_log_cf(np.array([u]), a, nc, sigma_s)))[0] / u)

            def im_phi(u: float) -> float:
                return float(np.imag(np.exp(_log_cf(np.array([u]), a, nc, sigma_s)))[0] / u)

            w = abs(ts)
            # Im[e^{-iut} phi] = Im(phi) cos(ut) - sign(t) Re(phi) sin(|t| u)
            c_part, _ = integrate.quad(im_phi, big_a, np.inf, weight="cos", wvar=w, limlst=200)
            s_part, _ = integrate.quad(re_phi, big_a, np.inf, weight="sin", wvar=w, limlst=200)
            tail = c_part - math.copysign(1.0, ts) * s_part
    p = 0.5 - (head + tail) / math.pi
    return float(min(1.0, max(0.0, p)))


@dataclass(frozen=True)
class OverlapPars:
    """Per ordered pair (i, j) quantities of docs/reference-mixsim.md 2.1 at scale c = 1 (FSDA
    ``ComputePars``).

    lam[i, j] are the eigenvalues of Sigma_{j|i} = Sigma_i^{1/2} Sigma_j^{-1} Sigma_i^{1/2},
    delta[i, j] = Gamma^T Sigma_i^{-1/2} (mu_i - mu_j), const[i, j] =
    log((pi_j/pi_i)^2 |Sigma_i| / |Sigma_j|), hom[i, j] True when the pair is homogeneous (2.2).
    """

    lam: NDArray[np.float64]  # (k, k, v)
    delta: NDArray[np.float64]  # (k, k, v)
    const: NDArray[np.float64]  # (k, k)
    hom: NDArray[np.bool_]  # (k, k)
    pi: NDArray[np.float64]  # (k,)

    @property
    def k(self) -> int:
        return int(self.const.shape[0])


def _sym_eig(m: NDArray) -> tuple[NDArray, NDArray]:
    m = np.where(np.abs(m) < _ZERO_TOL, 0.0, m)
    m = 0.5 * (m + m.T)
    w, v = np.linalg.eigh(m)
    return w, v


def _check_mixture(pi: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> tuple[NDArray, ...]:
    p = np.asarray(pi, dtype=float).ravel()
    m = np.asarray(mu, dtype=float)
    s = np.asarray(sigma, dtype=float)
    if m.ndim == 1:
        m = m[:, None]
    if s.ndim == 1:  # univariate variances
        s = s[:, None, None]
    k, v = m.shape
    if p.shape != (k,) or s.shape != (k, v, v):
        raise ValueError(f"shapes: pi {p.shape}, mu {m.shape}, S {s.shape}; expected (k,), (k, v), "
                         "(k, v, v) (covariances stacked on the first axis)")
    if k < 2:
        raise ValueError("need at least 2 components")
    if np.any(p <= 0) or not np.all(np.isfinite(p)) or not np.all(np.isfinite(s)):
        raise ValueError("mixing proportions must be > 0 and all parameters finite")
    return p, m, s


def overlap_pars(pi: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> OverlapPars:
    """Quantities of docs/reference-mixsim.md 2.1 for every ordered pair; sigma is (k, v, v) (or
    (k,) variances)."""
    p, m, s = _check_mixture(pi, mu, sigma)
    k, v = m.shape
    sqrt_s, inv_s, det_s = [], [], []
    for j in range(k):
        w, vec = _sym_eig(s[j])
        w = np.real(w)
        if np.any(w <= 0):
            raise ValueError(f"covariance {j} is not positive definite")
        sqrt_s.append((vec * np.sqrt(w)) @ vec.T)
        inv_s.append((vec / w) @ vec.T)
        det_s.append(float(np.prod(w)))
    lam = np.ones((k, k, v))
    delta = np.zeros((k, k, v))
    const = np.zeros((k, k))
    for i in range(k):
        inv_sqrt_i = inv_s[i] @ sqrt_s[i]  # Sigma_i^{-1/2} as FSDA forms it
        for j in range(k):
            if i == j:
                continue
            sji = sqrt_s[i] @ inv_s[j] @ sqrt_s[i]
            w, gam = _sym_eig(sji)
            lam[i, j] = w
            delta[i, j] = gam.T @ inv_sqrt_i @ (m[i] - m[j])
            const[i, j] = math.log((p[j] / p[i]) ** 2 * det_s[i] / det_s[j])
    hom = np.zeros((k, k), dtype=bool)
    for i in range(k):
        for j in range(i + 1, k):
            eq = bool(np.all(np.abs(np.sort(lam[i, j]) - np.sort(lam[j, i])) < _HOM_TOL))
            hom[i, j] = hom[j, i] = eq
    return OverlapPars(lam=lam, delta=delta, const=const, hom=hom, pi=p)


def _pair_prob(lam: NDArray, delta: NDArray, const: float, hom: bool, c: float) -> float:
    """omega_{j|i} at covariance scale c (delta -> delta / sqrt(c), docs/reference-mixsim.md 3)."""
    d = delta / math.sqrt(c)
    one = np.abs(lam - 1.0) <= _EIG_ONE_TOL
    if hom or np.all(one):
        # Closed form Phi((const - |d|^2) / (2 |d|)) (docs/reference-mixsim.md 2.2). FSDA's quirk of
        # moving every coordinate to the chi-square part when no eigenvalue differs from 1 is
        # replaced by this exact limit (the quirk is numerically ill-posed and never hit by FSDA
        # itself).
        dd = float(np.sum(d**2))
        if dd == 0.0:
            return 1.0 if const > 0 else (0.0 if const < 0 else 0.5)
        return float(ndtr((const - dd) / (2.0 * math.sqrt(dd))))
    l1 = lam[~one]
    d1 = d[~one]
    d0 = d[one]
    coef = l1 - 1.0
    ncp = (l1 * d1 / coef) ** 2
    sig = 2.0 * math.sqrt(float(np.sum(d0**2)))
    t = const + float(np.sum(l1 * d1**2 / coef)) - float(np.sum(d0**2))
    return gchisq_cdf(t, coef, ncp, sig)


def omega_map(pars: OverlapPars, c: float = 1.0) -> NDArray[np.float64]:
    """k x k OmegaMap[i, j] = omega_{j|i}, all covariances scaled by c (ones on the diagonal)."""
    if not c > 0:
        raise ValueError("scale c must be > 0")
    k = pars.k
    om = np.eye(k)
    for i in range(k):
        for j in range(k):
            if i != j:
                om[i, j] = _pair_prob(pars.lam[i, j], pars.delta[i, j], pars.const[i, j],
                                      bool(pars.hom[i, j]), c)
    return om


def asymptotic_omega_map(pars: OverlapPars) -> NDArray[np.float64]:
    """Limit of the map as c -> inf: P(sum (lambda_l - 1) chi2_1 <= const) (docs/reference-mixsim.md
    3)."""
    k = pars.k
    om = np.eye(k)
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            lam, const = pars.lam[i, j], float(pars.const[i, j])
            one = np.abs(lam - 1.0) <= _EIG_ONE_TOL
            if pars.hom[i, j] or np.all(one):
                om[i, j] = 1.0 if const > 0 else (0.0 if const < 0 else 0.5)
            else:
                om[i, j] = gchisq_cdf(const, lam[~one] - 1.0)
    return om


@dataclass(frozen=True)
class OverlapSummary:
    """BarOmega, MaxOmega, StdOmega and rcMax (0-based pair) of an OmegaMap
    (docs/reference-mixsim.md 1)."""

    omega_map: NDArray[np.float64]
    bar_omega: float
    max_omega: float
    std_omega: float
    rc_max: tuple[int, int]


def summarize_omega(om: NDArray[np.float64]) -> OverlapSummary:
    """Pairwise overlaps omega_ij = omega_{j|i} + omega_{i|j}, their mean, max and sd (ddof 1)."""
    k = om.shape[0]
    iu, ju = np.triu_indices(k, 1)
    pair = om[iu, ju] + om[ju, iu]
    r = int(np.argmax(pair))
    std = float(np.std(pair, ddof=1)) if pair.size > 1 else 0.0
    return OverlapSummary(om, float(pair.mean()), float(pair[r]), std, (int(iu[r]), int(ju[r])))


def overlap(pi: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> OverlapSummary:
    """Exact overlap summary of a Gaussian mixture (the R MixSim ``overlap`` function)."""
    return summarize_omega(omega_map(overlap_pars(pi, mu, sigma)))


def misclassification_prob(
    pi_i: float, pi_j: float, mu_i: ArrayLike, mu_j: ArrayLike, s_i: ArrayLike, s_j: ArrayLike
) -> float:
    """omega_{j|i} = P_{X ~ N(mu_i, S_i)}[pi_i phi_i(X) < pi_j phi_j(X)] (docs/reference-mixsim.md 1
    and 2.1)."""
    mi, mj = np.atleast_1d(np.asarray(mu_i, float)), np.atleast_1d(np.asarray(mu_j, float))
    si = np.atleast_2d(np.asarray(s_i, float))
    sj = np.atleast_2d(np.asarray(s_j, float))
    pars = overlap_pars([pi_i, pi_j], np.stack([mi, mj]), np.stack([si, sj]))
    return float(omega_map(pars)[0, 1])
