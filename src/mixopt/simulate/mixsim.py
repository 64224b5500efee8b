"""MixSim and MixSimreg: random mixtures with a prescribed pairwise overlap
(docs/reference-mixsim.md).

Follows FSDA 8.5.32 ``MixSim.m`` / ``MixSimreg.m`` (the version the thesis used),
docs/reference-mixsim.md sections 3-5 and 8.1. Differences from FSDA, all deliberate:

* random numbers come from ``numpy.random.Generator`` (MATLAB streams cannot be replayed,
  docs/reference-mixsim.md 10);
* the bisection ``FindC`` (200 halvings per bracket, stop when |omega - target| <= tol(1)) is
  replaced by ``scipy.optimize.brentq`` on the same brackets [0, 4], [4, 16], [16, 256], ... with
  the same acceptance test |omega - target| <= tol(1) and the same bracket cut-off quirk (a c found
  in the bracket whose successor's upper end exceeds the cut-off counts as a failure, so c <= 256
  for MixSim); a bracket without a sign change is skipped, where FSDA's bisection would run into its
  iteration limit and move on as well;
* a failure after ``res_n`` attempts raises :class:`MixSimError` by default (FSDA warns and
  returns ``fail = 1``; ``on_fail="return"`` gives that behaviour);
* ``pi_low > 1/k`` raises ``ValueError`` (FSDA silently falls back to equal proportions, which then
  violate the requested minimum).

Not implemented: giving both BarOmega and MaxOmega ("method 2") or BarOmega and StdOmega
("method 3"), GPCM models other than VVV, ``exactrestriction``, and FSDA's ``R_seed`` option.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.simulate.overlap import (
    OverlapPars,
    asymptotic_omega_map,
    omega_map,
    overlap_pars,
    summarize_omega,
)

__all__ = [
    "GPCM",
    "BetaDistrib",
    "MixSimError",
    "MixSimRegResult",
    "MixSimResult",
    "XDistrib",
    "gen_pi",
    "gen_sigma_gpcm",
    "mixsim",
    "mixsimreg",
    "restr_sigma_gpcm",
    "restreigen",
]

_GPCM_MODELS = ("VVE", "EVE", "VVV", "EVV", "VEE", "EEE", "VEV", "EEV", "VVI", "EVI", "VEI",
                "EEI", "VII", "EII")


class MixSimError(RuntimeError):
    """No mixture reaching the target overlap was found within ``res_n`` attempts."""


# --------------------------------------------------------------------------------------------
# restreigen (docs/reference-tclust.md 4)


def restreigen(d: ArrayLike, weights: ArrayLike, c: float, tol: float = 1e-8) -> NDArray:
    """Eigenvalue-ratio restriction of Fritz, Garcia-Escudero and Mayo-Iscar (2013).

    ``d`` is v x k (column j = eigenvalues of cluster j), ``weights`` the k cluster weights n_j,
    ``c >= 1`` the maximal ratio. Returns e_jl = min(max(d_jl, m*), c m*) with m* minimising
    sum_j (n_j/n) sum_l [log e_jl + d_jl / e_jl] over the 2kv+1 interval candidates
    (docs/reference-tclust.md 4).
    """
    d = np.asarray(d, dtype=float)
    if d.ndim == 1:
        d = d[:, None]
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != (d.shape[1],):
        raise ValueError("weights must have one entry per column of d")
    if c < 1:
        raise ValueError("restriction factor must be >= 1")
    pos = w > 0
    dp = d[:, pos]
    if dp.size == 0 or dp.max() <= tol:
        return d.copy()
    if dp.min() > 0 and dp.max() / dp.min() <= c:
        out = d.copy()
        out[:, ~pos] = dp.mean()
        return out
    nw = w / w.sum()
    e = np.sort(np.concatenate([d.ravel(), d.ravel() / c]))
    q = np.concatenate([[e[0] / 2], (e[:-1] + e[1:]) / 2, [1.5 * e[-1]]])  # 2kv+1 midpoints
    below = d[None, :, :] < q[:, None, None]  # (nq, v, k)
    above = d[None, :, :] > c * q[:, None, None]
    num = ((below * d).sum(1) + (above * d / c).sum(1)) @ nw
    den = (below.sum(1) + above.sum(1)) @ nw
    with np.errstate(invalid="ignore", divide="ignore"):
        m = num / den
    m = m[np.isfinite(m) & (m > 0)]

    def trunc(mm: NDArray) -> NDArray:
        return np.clip(d[None, :, :], mm[:, None, None], c * mm[:, None, None])

    ee = trunc(m)
    f = ((np.log(ee) + d[None] / ee).sum(1)) @ nw
    best = m[int(np.argmin(f))]
    return trunc(np.array([best]))[0]


# --------------------------------------------------------------------------------------------
# random parameters (docs/reference-mixsim.md 4)


def gen_pi(k: int, pi_low: float, rng: np.random.Generator) -> NDArray:
    """Mixing proportions (FSDA genPi, docs/reference-mixsim.md 4.1): pi_low + (1 - k pi_low)
    Dirichlet(1, ..., 1).

    pi_low = 0 (FSDA default) or pi_low = 1/k gives equal proportions and uses no random numbers.
    """
    if not 0 <= pi_low <= 1.0 / k + 1e-15:
        raise ValueError(f"pi_low must be in [0, 1/k] = [0, {1.0 / k:.6g}], got {pi_low}")
    if pi_low <= 0 or pi_low >= 1.0 / k:
        return np.full(k, 1.0 / k)
    g = rng.gamma(1.0, 1.0, size=k)
    return pi_low + g / g.sum() * (1.0 - k * pi_low)


def _gen_sigma_ecc(v: int, k: int, ecc: float, hom: bool, rng: np.random.Generator) -> NDArray:
    """FSDA genSigmaEcc: sample covariance of v+1 standard normal vectors, eccentricity <= ecc."""

    def one() -> NDArray:
        x = rng.standard_normal((v + 1, v))
        s = np.atleast_2d(np.cov(x, rowvar=False))
        lam, vec = np.linalg.eigh(s)
        lmin, lmax = lam[0], lam[-1]
        if lmax > 0 and math.sqrt(max(0.0, 1.0 - lmin / lmax)) > ecc:
            lam = lmax * (1.0 - ecc**2 * (lmax - lam) / (lmax - lmin))
            s = (vec * lam) @ vec.T
        return s

    if hom:
        s = one()
        return np.repeat(s[None], k, axis=0)
    return np.stack([one() for _ in range(k)])


def _gen_sph_sigma(v: int, k: int, hom: bool, rng: np.random.Generator) -> NDArray:
    """FSDA genSphSigma: Sigma_j = r_j I with r_j ~ U(0, 1) (one draw before the loop, as FSDA)."""
    r = rng.random()
    if not hom:
        r = rng.random(k)
    return np.asarray(r, dtype=float).reshape(-1, 1, 1) * np.eye(v)[None] * np.ones((k, 1, 1))


@dataclass(frozen=True)
class GPCM:
    """FSDA ``sph`` struct (docs/reference-mixsim.md 5): GPCM model letters and restriction
    constants.

    Only ``pars = "VVV"`` (the thesis model) is implemented; shw = r^2 in the thesis.
    """

    pars: str = "VVV"
    cdet: float = 100.0
    shw: float = 100.0
    shb: float = 100.0
    maxiter_dsr: int = 20
    tol_dsr: float = 1e-5
    maxiter_s: int = 20
    tol_s: float = 1e-5
    zerotol: float = 1e-10

    def __post_init__(self) -> None:
        if self.pars not in _GPCM_MODELS:
            raise ValueError(f"unknown GPCM model {self.pars!r}; one of {_GPCM_MODELS}")
        if self.pars != "VVV":
            raise NotImplementedError("only the VVV GPCM model is implemented")
        if min(self.cdet, self.shw, self.shb) < 1:
            raise ValueError("cdet, shw and shb must be >= 1")


def gen_sigma_gpcm(v: int, k: int, model: GPCM, rng: np.random.Generator) -> NDArray:
    """FSDA genSigmaGPCM (docs/reference-mixsim.md 5.1): Sigma_j = vol_j Omega_j diag(shape_j)
    Omega_j^T.

    Volumes U(0,1); rho ~ U(-1,1); shapes sorted U(0,1) divided by their geometric mean;
    rotations = eigenvectors (ascending) of the sample covariance of 10 rows Z R_rho, R_rho the
    upper Cholesky factor of the KMS matrix rho^|a-b|.
    """
    vol = rng.random(k)
    rho = rng.uniform(-1.0, 1.0)
    idx = np.arange(v)
    kms = rho ** np.abs(idx[:, None] - idx[None, :])
    r_up = np.linalg.cholesky(kms).T
    out = np.empty((k, v, v))
    for j in range(k):
        sh = np.sort(rng.random(v))
        sh = sh / np.exp(np.mean(np.log(sh)))
        z = rng.standard_normal((10, v)) @ r_up
        _, rot = np.linalg.eigh(np.atleast_2d(np.cov(z, rowvar=False)))
        out[j] = vol[j] * (rot * sh) @ rot.T
    return out


def _rel_change(new: NDArray, old: NDArray) -> float:
    den = float(np.sum(old**2))
    return float(np.sum((new - old) ** 2)) / den if den > 0 else math.inf


def restr_sigma_gpcm(s: NDArray, weights: ArrayLike, model: GPCM) -> NDArray:
    """FSDA restrSigmaGPCM for VVV (docs/reference-tclust.md 5.1): determinant-and-shape
    restriction.

    Enforces, up to the iteration tolerance, max/min eigenvalue <= shw within each Sigma_j,
    rank-wise shape ratios <= shb across clusters and max|Sigma_j|/min|Sigma_j| <= cdet.
    """
    s = np.asarray(s, dtype=float)
    k, v, _ = s.shape
    w = np.asarray(weights, dtype=float).ravel()
    eig = np.empty((v, k))
    rot = np.empty((k, v, v))
    for j in range(k):
        lam, vec = np.linalg.eigh(s[j])
        lam = np.abs(np.real(lam))
        order = np.argsort(-lam, kind="stable")
        eig[:, j], rot[j] = lam[order], vec[:, order]
    diag = np.stack([np.diag(rot[j].T @ s[j] @ rot[j]) for j in range(k)], axis=1)  # v x k
    vol = np.prod(eig, axis=0) ** (1.0 / v)
    g_old = np.full((v, k), 9999.0)
    vol_old = np.full(k, 999.0)
    gam = np.ones((v, k))
    for _ in range(model.maxiter_dsr):
        # shape step
        if model.shw == 1:
            gam = np.ones((v, k))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                gam = diag / vol[None, :]
            if not np.all(np.isfinite(gam)):  # a singular Sigma_j (zero volume): NaN shapes,
                return np.repeat(np.eye(v)[None], k, axis=0)  # which FSDA turns into I (5.1 3)
            for j in range(k):
                col = gam[:, j]
                if col.min() <= 0 or col.max() / col.min() > model.shw:
                    gam[:, j] = restreigen(col[:, None], [1.0], model.shw)[:, 0]
            gs_old = gam.copy()
            for _ in range(model.maxiter_s):
                with np.errstate(divide="ignore"):
                    gm = np.exp(np.mean(np.log(gam), axis=0))
                gm[(gm == 0) | ~np.isfinite(gm)] = 1.0
                gam = gam / gm[None, :]
                gam[gam == 0] = 1.0
                order = np.argsort(gam, axis=0, kind="stable")
                srt = np.take_along_axis(gam, order, axis=0)
                for lr in range(v):
                    row = srt[lr]
                    if row.min() <= 0 or row.max() / row.min() > model.shb:
                        srt[lr] = restreigen(row[None, :], w, model.shb)[0]
                new = np.empty_like(gam)
                np.put_along_axis(new, order, srt, axis=0)
                ch = _rel_change(new, gs_old)
                gam, gs_old = new, new.copy()
                if ch < model.tol_s:
                    break
        # volume step
        vol = np.mean(diag / gam, axis=0)
        cd = model.cdet ** (1.0 / v)
        if vol.max() / vol.min() > cd:
            vol = restreigen(vol[None, :], w, cd)[0]
        done = _rel_change(gam, g_old) < model.tol_dsr and _rel_change(vol, vol_old) < model.tol_dsr
        g_old, vol_old = gam.copy(), vol.copy()
        if done:
            break
    if np.any(np.isnan(gam)) or np.all(gam <= model.zerotol):
        return np.repeat(np.eye(v)[None], k, axis=0)
    return np.stack([vol[j] * (rot[j] * gam[:, j]) @ rot[j].T for j in range(k)])


def _restrict_eigen(s: NDArray, pi: NDArray, factor: float) -> NDArray:
    """restrfactor option (docs/reference-mixsim.md 4.4): restreigen on the v x k matrix of all
    eigenvalues."""
    k, v, _ = s.shape
    lam = np.empty((v, k))
    vecs = np.empty((k, v, v))
    for j in range(k):
        w, vec = np.linalg.eigh(s[j])
        lam[:, j], vecs[j] = np.maximum(np.real(w), 0.0), vec
    lam = restreigen(lam, pi, factor)
    return np.stack([(vecs[j] * lam[:, j]) @ vecs[j].T for j in range(k)])


# --------------------------------------------------------------------------------------------
# scale search (docs/reference-mixsim.md 3)


def _statistic(kind: str) -> Callable[[NDArray], float]:
    def f(om: NDArray) -> float:
        s = summarize_omega(om)
        return {"bar": s.bar_omega, "max": s.max_omega, "std": s.std_omega}[kind]

    return f


def _find_scale(
    omap: Callable[[float], NDArray], stat: Callable[[NDArray], float], target: float,
    tol: float, cutoff: float,
) -> float | None:
    """Bracket escalation [0,4], [4,16], [16,256], ... with brentq per bracket
    (docs/reference-mixsim.md 3, FindC).

    Returns c with |stat(omap(c)) - target| <= tol, or None (failure for this attempt).
    """
    from scipy.optimize import brentq  # (here: importing scipy.optimize costs a job 0.3 s)

    lower, upper = 0.0, 4.0
    f_low = -target  # overlap -> 0 as c -> 0
    while upper**2 <= cutoff:  # FSDA/R quirk: a c found in the last bracket counts as failure
        f_up = stat(omap(upper)) - target
        if abs(f_up) <= tol:
            return upper
        if f_low < 0 < f_up:
            root = brentq(lambda x: stat(omap(x)) - target if x > 0 else -target,
                          lower, upper, xtol=1e-14 * upper, rtol=1e-14, maxiter=200)
            if root > 0 and abs(stat(omap(root)) - target) <= tol:
                return root
        lower, upper, f_low = upper, upper**2, f_up
    return None


@dataclass(frozen=True)
class MixSimResult:
    """Output of :func:`mixsim` (docs/reference-mixsim.md 6); S is (k, v, v), rc_max a 0-based
    pair."""

    pi: NDArray[np.float64]
    mu: NDArray[np.float64]
    S: NDArray[np.float64]
    omega_map: NDArray[np.float64]
    bar_omega: float
    max_omega: float
    std_omega: float
    rc_max: tuple[int, int]
    fail: bool
    c: float
    attempts: int


def _overlap_fields(om: NDArray[np.float64], c: float, attempt: int) -> dict[str, Any]:
    """The overlap summary fields of a result; ``c`` is NaN when the search failed."""
    summ = summarize_omega(om)
    return {"omega_map": om, "bar_omega": summ.bar_omega, "max_omega": summ.max_omega,
            "std_omega": summ.std_omega, "rc_max": summ.rc_max, "fail": math.isnan(c),
            "c": c, "attempts": attempt}


def _check_search_options(
    k: int, kind: str, restrfactor: float | None, res_n: int, tol: tuple[float, float],
    on_fail: str, pi_low: float, seed: int | np.random.Generator,
) -> np.random.Generator:
    """Checks shared by MixSim and MixSimReg; returns the random generator for ``seed``."""
    if kind == "std" and k < 3:
        raise ValueError("std_omega needs k >= 3")
    if restrfactor is not None and not restrfactor >= 1:
        raise ValueError("restrfactor must be >= 1")
    if res_n < 1:
        raise ValueError("res_n must be >= 1")
    _check_tol(tol)
    if on_fail not in ("raise", "return"):
        raise ValueError("on_fail must be 'raise' or 'return'")
    if not 0 <= pi_low <= 1.0 / k + 1e-15:
        raise ValueError(f"pi_low must be in [0, 1/k] = [0, {1.0 / k:.6g}], got {pi_low}")
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _targets(
    bar_omega: float | None, max_omega: float | None, std_omega: float | None
) -> tuple[str, float]:
    given = {n: x for n, x in (("bar", bar_omega), ("max", max_omega), ("std", std_omega))
             if x is not None}
    if not given:
        return "max", 0.15  # FSDA default
    if len(given) > 1:
        raise NotImplementedError("only one of bar_omega, max_omega, std_omega may be given "
                                  "(FSDA methods 2 and 3 are not implemented)")
    kind, val = next(iter(given.items()))
    if not (isinstance(val, int | float) and math.isfinite(val) and 0 < val < 1):
        raise ValueError(f"{kind}_omega must be a number in (0, 1), got {val!r}")
    return kind, float(val)


def _check_tol(tol: tuple[float, float]) -> None:
    if len(tol) != 2 or not all(0 < x < 0.1 for x in tol):
        raise ValueError("tol must be a pair of small positive numbers")


def _search(
    pars: OverlapPars, kind: str, target: float, tol: float, cutoff: float
) -> tuple[float, NDArray] | None:
    stat = _statistic(kind)
    if stat(asymptotic_omega_map(pars)) - target < -tol:
        # target unreachable for these parameters (asymptotic check, docs/reference-mixsim.md 3)
        return None
    cache: dict[float, NDArray] = {}

    def omap(c: float) -> NDArray:
        if c not in cache:
            cache[c] = omega_map(pars, c)
        return cache[c]

    c = _find_scale(omap, stat, target, tol, cutoff)
    return None if c is None else (c, omap(c))


def _fail(msg: str, on_fail: str) -> None:
    if on_fail == "raise":
        raise MixSimError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


def mixsim(
    k: int,
    p: int,
    *,
    bar_omega: float | None = None,
    max_omega: float | None = None,
    std_omega: float | None = None,
    sph: bool | GPCM = False,
    hom: bool = False,
    ecc: float = 0.9,
    restrfactor: float | None = None,
    pi_low: float = 0.0,
    interval: tuple[float, float] = (0.0, 1.0),
    res_n: int = 100,
    tol: tuple[float, float] = (1e-6, 1e-6),
    seed: int | np.random.Generator = 0,
    on_fail: Literal["raise", "return"] = "raise",
) -> MixSimResult:
    """Random k-component Gaussian mixture in p dimensions with a target overlap (FSDA MixSim).

    Per attempt (docs/reference-mixsim.md 4): pi (``gen_pi``), means U(interval)^p, covariances
    (Wishart-type with eccentricity <= ``ecc``; spherical if ``sph=True``; GPCM if ``sph`` is a
    :class:`GPCM`), optional ``restrfactor`` eigenvalue restriction (ignored with GPCM, as in FSDA);
    then the common covariance scale c solving overlap(c) = target (docs/reference-mixsim.md 3). The
    overlap statistic is BarOmega, MaxOmega (default 0.15 when nothing is given) or StdOmega.
    ``tol[1]`` (Davies' accuracy in FSDA) is accepted for compatibility; the cdf here is accurate to
    ~1e-9.
    """
    if not (isinstance(k, int | np.integer) and k >= 2):
        raise ValueError("k must be an integer >= 2")
    if not (isinstance(p, int | np.integer) and p >= 1):
        raise ValueError("p must be an integer >= 1")
    kind, target = _targets(bar_omega, max_omega, std_omega)
    if not 0 < ecc <= 1:
        raise ValueError("ecc must be in (0, 1]")
    if not (len(interval) == 2 and interval[0] < interval[1]):
        raise ValueError("interval must be (low, high) with low < high")
    rng = _check_search_options(k, kind, restrfactor, res_n, tol, on_fail, pi_low, seed)

    last: MixSimResult | None = None
    for attempt in range(1, res_n + 1):
        pi = gen_pi(k, pi_low, rng)
        mu = rng.uniform(interval[0], interval[1], size=(k, p))
        if isinstance(sph, GPCM):
            s = restr_sigma_gpcm(gen_sigma_gpcm(p, k, sph, rng), pi, sph)
        else:
            s = _gen_sph_sigma(p, k, hom, rng) if sph else _gen_sigma_ecc(p, k, ecc, hom, rng)
            if restrfactor is not None:
                s = _restrict_eigen(s, pi, restrfactor)
        pars = overlap_pars(pi, mu, s)
        found = _search(pars, kind, target, tol[0], cutoff=1e5)
        if found is not None:
            c, om = found
            return MixSimResult(pi=pi, mu=mu, S=c * s, **_overlap_fields(om, c, attempt))
        last = MixSimResult(pi=pi, mu=mu, S=s,
                            **_overlap_fields(omega_map(pars), math.nan, attempt))
    _fail(f"MixSim: no mixture with {kind}_omega = {target} found in {res_n} attempts "
          "(target unreachable for these settings?)", on_fail)
    assert last is not None
    return last


# --------------------------------------------------------------------------------------------
# MixSimreg (docs/reference-mixsim.md 8.1)


@dataclass(frozen=True)
class XDistrib:
    """Distribution of the regressors (FSDA ``Xdistrib``, docs/reference-mixsim.md 8.1).

    type: "Uniform" (a, b; defaults 0 and 1), "Normal" (mu 0.5, sigma 1), "HalfNormal" (sigma 1)
    or "User" (bar_x given, optionally X for simdatasetreg). Parameters are scalars or arrays
    broadcastable to (q, k), q = number of non-intercept regressors.
    ``bar_x`` (p x k, intercept row included) is filled in by :func:`mixsimreg`.
    """

    type: str = "Uniform"
    intercept: bool = True
    a: ArrayLike | None = None
    b: ArrayLike | None = None
    mu: ArrayLike | None = None
    sigma: ArrayLike | None = None
    bar_x: NDArray | None = None
    X: NDArray | None = field(default=None, repr=False)

    def param(self, name: str, q: int, k: int) -> NDArray:
        default = {"a": 0.0, "b": 1.0, "mu": 0.5, "sigma": 1.0}[name]
        val = getattr(self, name)
        arr = np.asarray(default if val is None else val, dtype=float)
        if arr.ndim == 2 and arr.shape[0] == q + 1 and self.intercept:
            arr = arr[1:]  # FSDA also accepts p x k with an intercept row
        return np.broadcast_to(arr, (q, k)).astype(float)

    def means(self, p: int, k: int) -> NDArray:
        """p x k matrix of regressor means X-bar_j (intercept row of ones first)."""
        q = p - 1 if self.intercept else p
        if self.type == "Uniform":
            m = (self.param("a", q, k) + self.param("b", q, k)) / 2
        elif self.type == "Normal":
            m = self.param("mu", q, k)
        elif self.type == "HalfNormal":
            m = self.param("sigma", q, k) * math.sqrt(2 / math.pi)
        elif self.type == "User":
            if self.bar_x is None:
                raise ValueError("Xdistrib type 'User' needs bar_x")
            bx = np.asarray(self.bar_x, dtype=float)
            return np.broadcast_to(bx.reshape(p, -1) if bx.ndim == 1 else bx, (p, k)).copy()
        else:
            raise ValueError(f"unknown Xdistrib type {self.type!r}")
        return np.vstack([np.ones((1, k)), m]) if self.intercept else m


@dataclass(frozen=True)
class BetaDistrib:
    """Distribution of the regression coefficients (FSDA ``betadistrib``, docs/reference-mixsim.md
    8.1).

    Default (``None`` in :func:`mixsimreg`): N(0, 1). type "Normal" (mu default 0.5 as FSDA's
    struct, sigma 1), "Uniform" (a + (b - a) U(0,1), a and b default 0 as in FSDA, so beta = 0),
    "HalfNormal" (sigma |N(0,1)|, sigma default sqrt(2/pi)), "User" (beta, p x k).
    """

    type: str = "Normal"
    mu: ArrayLike | None = None
    sigma: ArrayLike | None = None
    a: ArrayLike | None = None
    b: ArrayLike | None = None
    beta: NDArray | None = None

    def draw(self, p: int, k: int, rng: np.random.Generator) -> NDArray:
        def par(v: ArrayLike | None, d: float) -> NDArray:
            return np.broadcast_to(np.asarray(d if v is None else v, dtype=float), (1, k))

        if self.type == "Normal":
            return par(self.mu, 0.5) + par(self.sigma, 1.0) * rng.standard_normal((p, k))
        if self.type == "Uniform":
            a, b = par(self.a, 0.0), par(self.b, 0.0)
            return a + (b - a) * rng.random((p, k))
        if self.type == "HalfNormal":
            return par(self.sigma, math.sqrt(2 / math.pi)) * np.abs(rng.standard_normal((p, k)))
        if self.type == "User":
            if self.beta is None:
                raise ValueError("betadistrib type 'User' needs beta")
            return np.asarray(self.beta, dtype=float).reshape(p, k).copy()
        raise ValueError(f"unknown betadistrib type {self.type!r}")


@dataclass(frozen=True)
class MixSimRegResult(MixSimResult):
    """Output of :func:`mixsimreg` (docs/reference-mixsim.md 8.1): the MixSim fields (mu: the k
    means of y, S: the k
    error variances) plus beta (p x k) and the distributions of X and beta."""

    beta: NDArray[np.float64]
    xdistrib: XDistrib
    betadistrib: BetaDistrib | None


def mixsimreg(
    k: int,
    p: int,
    *,
    bar_omega: float | None = None,
    max_omega: float | None = None,
    std_omega: float | None = None,
    hom: bool = False,
    restrfactor: float | None = None,
    pi_low: float = 0.0,
    xdistrib: XDistrib | None = None,
    betadistrib: BetaDistrib | None = None,
    res_n: int = 100,
    tol: tuple[float, float] = (1e-6, 1e-6),
    seed: int | np.random.Generator = 0,
    on_fail: Literal["raise", "return"] = "raise",
) -> MixSimRegResult:
    """Clusterwise linear regression mixture with a target overlap (FSDA MixSimreg,
    docs/reference-mixsim.md 8.1).

    p counts the coefficients including the intercept. Per attempt: pi, beta (p x k), error
    variances U(0,1) (one shared value if ``hom``), optional ``restrfactor`` on the variances;
    the overlap is that of the univariate mixture N(bar_x_j' beta_j, sigma_j^2) (it ignores the
    spread of X, as FSDA does), and the common variance scale c is searched with bracket cut-off
    1e10. Thesis (chapters 2-3): ``mixsimreg(k, p, bar_omega=0.05, pi_low=1/(3k))``.
    """
    if not (isinstance(k, int | np.integer) and k >= 2):
        raise ValueError("k must be an integer >= 2")
    if not (isinstance(p, int | np.integer) and p >= 1):
        raise ValueError("p must be an integer >= 1")
    kind, target = _targets(bar_omega, max_omega, std_omega)
    rng = _check_search_options(k, kind, restrfactor, res_n, tol, on_fail, pi_low, seed)
    xd = xdistrib if xdistrib is not None else XDistrib()
    bar_x = xd.means(p, k)
    xd = replace(xd, bar_x=bar_x)

    last: MixSimRegResult | None = None
    for attempt in range(1, res_n + 1):
        pi = gen_pi(k, pi_low, rng)
        beta = (betadistrib.draw(p, k, rng) if betadistrib is not None
                else rng.standard_normal((p, k)))
        s2 = np.full(k, rng.random()) if hom else rng.random(k)
        if restrfactor is not None:
            s2 = restreigen(s2[None, :], pi, restrfactor)[0]
        mu = np.sum(bar_x * beta, axis=0)
        if np.any(s2 <= 0):
            continue
        pars = overlap_pars(pi, mu[:, None], s2)
        found = _search(pars, kind, target, tol[0], cutoff=1e10)
        if found is not None:
            c, om = found
            return MixSimRegResult(pi=pi, mu=mu, S=c * s2, beta=beta, xdistrib=xd,
                                   betadistrib=betadistrib, **_overlap_fields(om, c, attempt))
        last = MixSimRegResult(pi=pi, mu=mu, S=s2, beta=beta, xdistrib=xd,
                               betadistrib=betadistrib,
                               **_overlap_fields(omega_map(pars), math.nan, attempt))
    _fail(f"MixSimreg: no mixture with {kind}_omega = {target} found in {res_n} attempts "
          "(target unreachable for these settings?)", on_fail)
    if last is None:
        raise MixSimError("MixSimreg: every attempt drew a zero variance")
    return last
