"""tclustreg without trimming: clusterwise linear regression by random starts and C-steps.

Python reimplementation of FSDA 8.5.32 ``tclustreg`` as the Fois thesis calls it
(docs/reference-tclustreg.md): ``tclustreg(y, X, k, restrfact, 0, 0, 'nsamp', nsamp)`` with alphaLik
= alphaX = 0 (no trimming), an inactive variance restriction (restrfact large or Inf), mixt = 0,
equalweights = false, intercept = 1, refsteps = 10.

Every start (docs/reference-tclustreg.md 2) fits group j exactly on p random points, then runs
exactly ``refsteps`` concentration steps (3: FSDA never converges early for mixt = 0); a start whose
groups fall to n_j <= p + 1 points is abandoned (3 step 4). The stored solution follows the storing
rule of 3 step 8. With the thesis settings the objective of the stored solution is the thesis'
log-likelihood of its labels (thesis eq. after (2.1), :func:`loglik_hat`):

    log L^(C) = -(n/2)[log(2 pi) + 1] - n log n + 1/2 sum_j [3 n_j log n_j - n_j log SSR_j].

All starts of a batch are processed together: one GEMM gives the residuals of all (start,
cluster) pairs, one GEMM of the one-hot memberships with the per-point products
[x x' (upper triangle), x y] gives all cluster Gram matrices, and batched ``np.linalg.solve``
gives the weighted least-squares coefficients (normal equations).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.methods.base import Result, family_method
from mixopt.problem import RegressionProblem
from mixopt.progress import Progress
from mixopt.simulate.mixsim import restreigen

__all__ = ["TclustregResult", "draw_starts", "fit_tclustreg", "loglik_hat", "prepare_design"]

_LOG2PI = math.log(2.0 * math.pi)
# A cluster whose residual sum of squares is <= _EXACT_FIT_RTOL * sum_{i in j} y_i^2 is an exact
# fit (SSR_j = 0 up to rounding): its likelihood is unbounded (thesis 2.1), see loglik_hat.
_EXACT_FIT_RTOL = 1e-20
# Target number of float64 entries of one (n, batch, k) work array (~4 MB): keeps the element-wise
# passes in cache-friendly sizes; about 8 such arrays are alive at once.
_BATCH_ENTRIES = 1 << 19
_MAX_BATCH_BYTES = 1 << 30


@dataclass(kw_only=True)
class TclustregResult(Result):
    """Output of :func:`fit_tclustreg` (FSDA ``out`` fields, docs/reference-tclustreg.md 3; labels
    0-based; ``status`` is ``local``).

    ``objective`` is FSDA's ``out.obj`` (the stored step objective, 3 step 6); ``loglik`` is
    :func:`loglik_hat` of ``labels`` (OLS refit per cluster). They agree for the thesis settings
    (no restriction active, equal_weights False). ``beta`` is p x k for the design columns in
    ``extra["design_columns"]``; ``fullsol`` holds each start's objective at its last step (NaN
    for abandoned starts).
    """

    beta: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    n_j: NDArray[np.int64]
    loglik: float
    best_start: int
    best_step: int
    fullsol: NDArray[np.float64]
    n_abandoned: int

    @property
    def parameters(self) -> dict[str, Any]:
        """Coefficients ``beta`` (p x k), error variances ``sigma2`` and cluster sizes ``n_j``."""
        return {"beta": self.beta, "sigma2": self.sigma2, "n_j": self.n_j}


# --------------------------------------------------------------------------------------------
# input checks and the thesis objective


def prepare_design(X: ArrayLike, y: ArrayLike, k: int,
                   intercept: bool = True) -> tuple[NDArray, NDArray, NDArray[np.int64]]:
    """Validated design and response (docs/reference-tclustreg.md 1, FSDA ``chkinputR``).

    Constant columns (ptp = 0): with ``intercept`` a column of ones is prepended if X has none,
    otherwise the first constant column is kept as the intercept; further constant columns are
    dropped in both cases. Returns (design, y, columns), ``columns`` = index of each design column
    in X (-1 for an added ones column). Unlike FSDA, which drops rows with NaN/Inf, non-finite
    values raise (so that labels stay aligned with the input rows).

    Raises ValueError for non-finite values, bad shapes, k < 1, n < k(p + 1) and a rank-deficient
    design.
    """
    x = np.asarray(X, dtype=float)
    yy = np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError("X must be a 2-D array (n x p)")
    if yy.ndim == 2 and yy.shape[1] == 1:
        yy = yy[:, 0]
    if yy.shape != (x.shape[0],):
        raise ValueError(f"y must be a vector of length n = {x.shape[0]}, got shape {yy.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(yy))):
        raise ValueError("X and y must be finite (FSDA drops rows with NaN/Inf; here they raise)")
    if not (isinstance(k, int | np.integer) and not isinstance(k, bool) and k >= 1):
        raise ValueError("k must be a positive integer")
    n = x.shape[0]
    cols = np.arange(x.shape[1])
    const = np.flatnonzero(np.ptp(x, axis=0) == 0) if n > 0 else cols
    keep = np.ones(x.shape[1], dtype=bool)
    keep[const[1:]] = False
    x, cols = x[:, keep], cols[keep]
    if intercept and const.size == 0:
        x = np.hstack([np.ones((n, 1)), x])
        cols = np.concatenate([[-1], cols])
    p = x.shape[1]
    if p == 0:
        raise ValueError("the design has no column (X empty and intercept=False)")
    if n < k * (p + 1):
        raise ValueError(f"n = {n} < k(p + 1) = {k * (p + 1)}: too few points for k = {k} "
                         f"regressions with p = {p} coefficients (intercept included)")
    if np.linalg.matrix_rank(x) < p:
        raise ValueError("X is rank deficient (after the intercept handling)")
    return x, yy, cols.astype(np.int64)


def loglik_hat(X: ArrayLike, y: ArrayLike, labels: ArrayLike, k: int) -> float:
    """Thesis log L^(C) of a full assignment (Sec. 2.1, the equation after (2.1)).

    ``X`` is used as given (the full design, intercept column included; p = its number of
    columns); ``labels`` are 0-based in 0..k-1. beta_j = OLS on cluster j (``np.linalg.lstsq``,
    minimum-norm if X_j is rank deficient; SSR_j from the residuals). Returns -inf for the
    assignments the thesis excludes (log L unbounded or undefined): some n_j < p + 1 (empty
    clusters included) or some SSR_j = 0 (exact fit, SSR_j <= 1e-20 sum_{i in j} y_i^2).
    """
    x = np.asarray(X, dtype=float)
    yy = np.asarray(y, dtype=float).ravel()
    lab = np.asarray(labels)
    if x.ndim == 1:
        x = x[:, None]
    n, p = x.shape
    if yy.shape != (n,) or lab.shape != (n,):
        raise ValueError("X, y and labels must have n rows")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(yy))):
        raise ValueError("X and y must be finite")
    if lab.size and (not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= k):
        raise ValueError("labels must be integers in 0..k-1")
    nj = np.bincount(lab, minlength=k)
    if np.any(nj < p + 1):
        return -math.inf
    total = 0.0
    for j in range(k):
        m = lab == j
        xj, yj = x[m], yy[m]
        beta = np.linalg.lstsq(xj, yj, rcond=None)[0]
        ssr = float(np.sum((yj - xj @ beta) ** 2))
        if ssr <= _EXACT_FIT_RTOL * float(yj @ yj):
            return -math.inf
        total += 3.0 * nj[j] * math.log(nj[j]) - nj[j] * math.log(ssr)
    return -0.5 * n * (_LOG2PI + 1.0) - n * math.log(n) + 0.5 * total


# --------------------------------------------------------------------------------------------
# random starts (docs/reference-tclustreg.md 2)


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _initial_props(k: int, h: int, nsamp: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Initial group sizes (docs/reference-tclustreg.md 2 step 1), all starts at once.

    Repeat {u ~ U(0,1)^k; n_j = floor(h u_j / sum u); add h - sum n_j to the smallest n_j} until
    min n_j > 0, at most 1000 tries per start (else ValueError).
    """
    out = np.zeros((nsamp, k), dtype=np.int64)
    todo = np.arange(nsamp)
    for _ in range(1000):
        if todo.size == 0:
            break
        u = rng.random((todo.size, k))
        nj = np.floor(h * u / u.sum(1, keepdims=True)).astype(np.int64)
        imin = np.argmin(nj, axis=1)
        nj[np.arange(todo.size), imin] += h - nj.sum(1)
        ok = nj.min(1) > 0
        out[todo[ok]] = nj[ok]
        todo = todo[~ok]
    if todo.size:
        raise ValueError(f"initialisation of the group proportions failed (min n_j = 0 after 1000 "
                         f"tries; k = {k} too large for h = {h}?)")
    return out


def draw_starts(n: int, k: int, p: int, nsamp: int,
                seed: int | np.random.Generator = 0) -> tuple[NDArray[np.int64], NDArray]:
    """Subsets and initial proportions of ``nsamp`` starts (docs/reference-tclustreg.md 2).

    Subsets: per start n uniforms, the indices of the k p largest in decreasing order of u (a
    uniform random subset in random order; FSDA draws k(p + intercept) and uses the first k p).
    Row i is (nsamp, k p); group j of start i gets entries j p .. (j + 1) p - 1. Then the
    initial proportions of :func:`_initial_props` (h = n). The stream does not depend on batching.
    """
    rng = _rng(seed)
    m = k * p
    if m > n:
        raise ValueError(f"k p = {m} exceeds n = {n}")
    subsets = np.empty((nsamp, m), dtype=np.int64)
    chunk = max(1, (1 << 22) // max(n, 1))
    for a in range(0, nsamp, chunk):
        b = min(nsamp, a + chunk)
        u = rng.random((b - a, n))
        idx = np.argpartition(-u, m - 1, axis=1)[:, :m] if m < n else np.tile(np.arange(n),
                                                                               (b - a, 1))
        order = np.argsort(-np.take_along_axis(u, idx, axis=1), axis=1, kind="stable")
        subsets[a:b] = np.take_along_axis(idx, order, axis=1)
    return subsets, _initial_props(k, n, nsamp, rng)


# --------------------------------------------------------------------------------------------
# concentration steps, vectorized over starts (docs/reference-tclustreg.md 3)


@dataclass
class _State:
    """A stored solution (docs/reference-tclustreg.md 3 step 8)."""

    labels: NDArray[np.int64]
    beta: NDArray[np.float64]  # (k, p)
    sigma2: NDArray[np.float64]
    n_j: NDArray[np.int64]
    obj: float
    start: int
    step: int


@dataclass
class _StartsOutput:
    """Result of :func:`_run_starts`.

    ``abandoned_at[i]`` = C-step at which start i was abandoned (0: singular exactly determined
    initial fit or zero initial variance), -1 if it ran all ``refsteps`` steps.
    """

    fullsol: NDArray[np.float64]
    abandoned_at: NDArray[np.int64]
    best: _State | None
    batch_size: int


def _restrict(sigma2: NDArray, weights: NDArray, factor: float) -> NDArray:
    """restreigen on each start's variances (docs/reference-tclustreg.md 2 step 3, 3 step 5); no-op
    if inactive."""
    if not math.isfinite(factor):
        return sigma2
    ratio = sigma2.max(1) / sigma2.min(1)
    for b in np.flatnonzero(~(ratio <= factor)):
        sigma2[b] = restreigen(sigma2[b][None, :], weights[b], factor)[0]
    return sigma2


def _solve_spd(gram: NDArray, rhs: NDArray) -> NDArray:
    """Batched solve of gram beta = rhs; exactly singular matrices use minimum-norm lstsq.

    (FSDA's ``Xw \\ yw`` gives a basic LS solution when X_j is rank deficient; fitted values and
    SSR are the same for every LS solution.)
    """
    try:
        return np.linalg.solve(gram, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(rhs)
        for i in range(gram.shape[0]):
            try:
                out[i] = np.linalg.solve(gram[i], rhs[i])
            except np.linalg.LinAlgError:
                out[i] = np.linalg.lstsq(gram[i], rhs[i], rcond=None)[0]
        return out


def _initial_fit(X: NDArray, y: NDArray, sub: NDArray, k: int) -> tuple[NDArray, NDArray, NDArray]:
    """Exactly determined fits on p points per group and sample variances
    (docs/reference-tclustreg.md 2 step 2).

    sub is (B, k p). Returns beta (B, k, p), sigma2 (B, k) (divisor p - 1; var(y) if p = 1) and
    ok (B,): False where a p x p system is exactly singular (MATLAB's backslash then gives Inf/NaN
    coefficients, the group receives no point and the start dies at step 1) or a variance is 0.
    """
    n, p = X.shape
    bsz = sub.shape[0]
    s = sub.reshape(bsz * k, p)
    xs, ys = X[s], y[s]  # (Bk, p, p), (Bk, p)
    ok = np.ones(bsz * k, dtype=bool)
    try:
        beta = np.linalg.solve(xs, ys[..., None])[..., 0]
    except np.linalg.LinAlgError:
        beta = np.zeros((bsz * k, p))
        for i in range(bsz * k):
            try:
                beta[i] = np.linalg.solve(xs[i], ys[i])
            except np.linalg.LinAlgError:
                ok[i] = False
    sigma2 = np.full(bsz * k, np.var(y, ddof=1)) if p == 1 else np.var(ys, axis=1, ddof=1)
    ok &= np.isfinite(beta).all(1) & (sigma2 > 0)
    return (beta.reshape(bsz, k, p), sigma2.reshape(bsz, k),
            ok.reshape(bsz, k).all(1))


def _objective(nj: NDArray, ssr: NDArray, sigma2: NDArray, n: int, k: int,
               equal_weights: bool) -> NDArray:
    """Classification log-likelihood of each start (docs/reference-tclustreg.md 3 step 6).

    sum_j [n_j log(n_j / n) + sum_{i in j} log phi(r_ij; 0, sigma2_j)], the inner sum written as
    -n_j/2 log(2 pi sigma2_j) - SSR_j / (2 sigma2_j); equalweights: log(1/k) once per group.
    """
    prop = np.full_like(nj, -math.log(k)) if equal_weights else nj * np.log(nj / n)
    dens = -0.5 * nj * (_LOG2PI + np.log(sigma2)) - 0.5 * ssr / sigma2
    return (prop + dens).sum(1)


def _default_batch(n: int, k: int, nsamp: int) -> int:
    cap = max(1, _MAX_BATCH_BYTES // (8 * 8 * n * k))
    return int(max(1, min(nsamp, cap, _BATCH_ENTRIES // (n * k) or 1)))


def _sq_residuals(X: NDArray, y: NDArray, beta: NDArray) -> NDArray:
    """Squared residuals (y_i - x_i'beta_bj)^2 of every point under every (start b, cluster j).

    beta is (nb, k, p); one GEMM; returns (k, nb, n).
    """
    nb, k, p = beta.shape
    r = beta.transpose(1, 0, 2).reshape(k * nb, p) @ X.T
    r -= y
    np.square(r, out=r)
    return r.reshape(k, nb, X.shape[0])


def _assign(ll: NDArray) -> tuple[NDArray, NDArray[np.int64]]:
    """One-hot memberships (k, nb, n) and labels (nb, n) = argmax_j ll (docs/reference-tclustreg.md
    3 step 2).

    Computed as ll == max_j ll (faster than argmax over a short axis); ties and NaN columns are
    redone with argmax (NaN ignored), so ties go to the smallest j as in MATLAB's max.
    """
    k = ll.shape[0]
    z = (ll == ll.max(axis=0)).astype(float).reshape(k, -1)
    tot, lab = np.stack([np.ones(k), np.arange(k, dtype=float)]) @ z
    bad = np.flatnonzero(tot != 1.0)
    if bad.size:
        sub = ll.reshape(k, -1)[:, bad]
        a = np.argmax(np.where(np.isnan(sub), -np.inf, sub), axis=0)
        z[:, bad] = 0.0
        z[a, bad] = 1.0
        lab[bad] = a
    return z.reshape(ll.shape), lab.astype(np.int64).reshape(ll.shape[1:])


def _run_starts(X: NDArray, y: NDArray, k: int, subsets: ArrayLike, props: ArrayLike,
                refsteps: int = 10, *, restr_factor: float = math.inf,
                equal_weights: bool = False, batch_size: int | None = None) -> _StartsOutput:
    """Run the given starts (docs/reference-tclustreg.md 2 steps 2-3 and 3), ``batch_size`` starts
    at a time.

    ``subsets`` (nsamp, k p) and ``props`` (nsamp, k initial n_j) as from :func:`draw_starts`;
    X is the final design (n x p), y the response. Each start runs exactly ``refsteps`` C-steps:
    scores ll_ij = log(n_j / n) + log phi(y_i - x_i'beta_j; 0, sigma2_j) (log(1/k) with
    ``equal_weights``), argmax (ties: first j), abandon if some n_j <= p + 1 (or an exact fit,
    SSR_j = 0: FSDA's objective would be Inf/NaN), OLS per cluster, sigma2_j = SSR_j / n_j,
    restriction, objective. Storing (3 step 8): the very first evaluated step of the run, then the
    last step of each start if obj >= best (ties: later start).
    """
    n, p = X.shape
    sub_all = np.asarray(subsets, dtype=np.int64)
    props_all = np.asarray(props, dtype=float)
    nsamp = sub_all.shape[0]
    if sub_all.shape != (nsamp, k * p) or props_all.shape != (nsamp, k):
        raise ValueError("subsets must be (nsamp, k p) and props (nsamp, k)")
    bsz = _default_batch(n, k, nsamp) if batch_size is None else int(batch_size)
    iu0, iu1 = np.triu_indices(p)
    nt = iu0.size
    # per-point products: [x x' (upper triangle), x y, 1, y^2] -> one GEMM gives all sufficient
    # statistics of all (start, cluster) pairs.
    prod = np.empty((n, nt + p + 2))
    prod[:, :nt] = X[:, iu0] * X[:, iu1]
    prod[:, nt:nt + p] = X * y[:, None]
    prod[:, nt + p] = 1.0
    prod[:, nt + p + 1] = y * y

    fullsol = np.full(nsamp, np.nan)
    abandoned_at = np.full(nsamp, -1, dtype=np.int64)
    best: _State | None = None
    progress = Progress("tclustreg", total=nsamp)

    def progress_fields(done: int) -> dict[str, object]:
        return {"starts": f"{done}/{nsamp}",
                "abandoned": int(np.count_nonzero(abandoned_at >= 0)),
                "incumbent": None if best is None else best.obj}

    for a in range(0, nsamp, bsz):
        if progress.due():
            progress.report(count=a, **progress_fields(a))
        ids = np.arange(a, min(nsamp, a + bsz))
        beta, sigma2, ok = _initial_fit(X, y, sub_all[ids], k)
        abandoned_at[ids[~ok]] = 0
        ids, beta, sigma2 = ids[ok], beta[ok], sigma2[ok]
        nj = props_all[ids]
        sigma2 = _restrict(sigma2, np.ones_like(nj) if equal_weights else nj, restr_factor)
        r2 = _sq_residuals(X, y, beta)  # (k, nb, n)
        for step in range(1, refsteps + 1):
            nb = ids.size
            if nb == 0:
                break
            # scores (3 step 1) and assignment (3 step 2)
            logpi = np.full_like(nj, -math.log(k)) if equal_weights else np.log(
                nj / nj.sum(1, keepdims=True))
            const = logpi - 0.5 * (_LOG2PI + np.log(sigma2))
            ll = r2 * (-0.5 / sigma2).T[:, :, None]
            ll += const.T[:, :, None]
            onehot, labels = _assign(ll)  # (k, nb, n), (nb, n)
            # sufficient statistics of every cluster (3 step 4): (nb, k, q)
            stats = (onehot.reshape(k * nb, n) @ prod).reshape(k, nb, -1).transpose(1, 0, 2)
            counts = stats[:, :, nt + p]
            alive = np.all(counts > p + 1, axis=1)
            beta = np.zeros((nb, k, p))
            if alive.any():
                gram = np.empty((int(alive.sum()), k, p, p))
                gram[:, :, iu0, iu1] = stats[alive, :, :nt]
                gram[:, :, iu1, iu0] = stats[alive, :, :nt]
                beta[alive] = _solve_spd(gram.reshape(-1, p, p),
                                         stats[alive, :, nt:nt + p].reshape(-1, p)
                                         ).reshape(-1, k, p)
            # SSR_j from the residuals of the new fit (no normal-equation cancellation); r2 is
            # also the next step's squared residuals.
            r2 = _sq_residuals(X, y, beta)
            ssr = np.einsum("jbn,jbn->bj", onehot, r2)
            alive &= np.all(ssr > _EXACT_FIT_RTOL * stats[:, :, nt + p + 1], axis=1)
            if not alive.all():
                abandoned_at[ids[~alive]] = step
                ids, labels, beta, counts, ssr, r2 = (
                    ids[alive], labels[alive], beta[alive], counts[alive], ssr[alive],
                    r2[:, alive])
                if ids.size == 0:
                    break
            nj = counts
            sigma2 = _restrict(ssr / nj, np.ones_like(nj) if equal_weights else nj, restr_factor)
            obj = _objective(nj, ssr, sigma2, n, k, equal_weights)
            if best is None:  # the very first evaluated step of the run (best = -1e20)
                best = _State(labels[0].copy(), beta[0].copy(), sigma2[0].copy(),
                              np.rint(nj[0]).astype(np.int64), float(obj[0]), int(ids[0]), step)
            if step == refsteps:
                fullsol[ids] = obj
                c = obj.size - 1 - int(np.argmax(obj[::-1]))  # last maximiser
                if obj[c] >= best.obj:
                    best = _State(labels[c].copy(), beta[c].copy(), sigma2[c].copy(),
                                  np.rint(nj[c]).astype(np.int64), float(obj[c]), int(ids[c]),
                                  step)
    progress.done("local", **progress_fields(nsamp))
    return _StartsOutput(fullsol, abandoned_at, best, bsz)


# --------------------------------------------------------------------------------------------
# main entry point


@family_method("tclustreg", "regression", RegressionProblem)
def fit_tclustreg(problem: RegressionProblem, *, nsamp: int = 300, refsteps: int = 10,
                  seed: int | np.random.Generator = 0, restr_factor: float | None = None,
                  equal_weights: bool = False, intercept: bool = True,
                  batch_size: int | None = None) -> TclustregResult:
    """tclustreg with alphaLik = alphaX = 0, mixt = 0 (docs/reference-tclustreg.md 1-3) on
    ``problem`` (``intercept``: add a ones column to ``problem.X`` unless it has one).

    ``nsamp`` random starts (uniform subsets of k p distinct points, :func:`draw_starts`), each
    with exactly ``refsteps`` C-steps. ``restr_factor=None`` (or inf): no variance restriction (the
    thesis call); otherwise restreigen with that factor (>= 1). ``labels`` are the stored
    assignment (no final reassignment). Raises ValueError for bad input (see
    :func:`prepare_design`) and RuntimeError if every start is abandoned.
    """
    t0 = time.perf_counter()
    k = problem.k
    x, yy, cols = prepare_design(problem.X, problem.y, k, intercept)
    n, p = x.shape
    for name, val in (("nsamp", nsamp), ("refsteps", refsteps)):
        if not (isinstance(val, int | np.integer) and not isinstance(val, bool) and val >= 1):
            raise ValueError(f"{name} must be an integer >= 1")
    factor = math.inf if restr_factor is None else float(restr_factor)
    if not factor >= 1:
        raise ValueError("restr_factor must be >= 1 (or None / inf for no restriction)")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    subsets, props = draw_starts(n, k, p, int(nsamp), _rng(seed))
    out = _run_starts(x, yy, k, subsets, props, int(refsteps), restr_factor=factor,
                      equal_weights=equal_weights, batch_size=batch_size)
    best = out.best
    if best is None:
        raise RuntimeError(f"tclustreg: all {nsamp} starts were abandoned (some group fell to "
                           f"<= p + 1 = {p + 1} points); try more starts or a smaller k")
    return TclustregResult(
        labels=best.labels,
        status="local",
        solver={"name": "mixopt.tclustreg"},
        beta=best.beta.T.copy(),
        sigma2=best.sigma2,
        n_j=best.n_j,
        objective=best.obj,
        loglik=loglik_hat(x, yy, best.labels, k),
        best_start=best.start,
        best_step=best.step,
        fullsol=out.fullsol,
        n_abandoned=int(np.count_nonzero(out.abandoned_at >= 0)),
        time_s=time.perf_counter() - t0,
        extra={"design_columns": cols, "p": p, "nsamp": int(nsamp), "refsteps": int(refsteps),
               "restr_factor": factor, "equal_weights": equal_weights, "intercept": intercept,
               "abandoned_at": out.abandoned_at, "batch_size": out.batch_size},
    )
