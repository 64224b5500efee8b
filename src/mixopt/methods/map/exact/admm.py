"""First-order node solver of the entropy-free node SDP (backend ``admm``), certified by duality.

**Problem** (equal proportions, see :mod:`mixopt.methods.map.exact.sdp`): in ``Y = D^1/2 Z D^1/2``
(D = diag(w)),

    min 1/2 sq - 1/2 <G, Z>  s.t.  Y in F = {0 <= Y <= I, tr Y = K},  g(Z) <= 0 / g(Z) = 0,

where the blocks of g are those of :func:`~mixopt.methods.map.exact.sdp._node_problem` in cvxpy's
Lagrangian convention (``L = f + <y, g(Z)>``, y >= 0 on inequalities): ``rows`` Z w - 1,
``nonneg`` -Z, ``diag_lo`` 1/hi - diag Z, ``diag_hi`` diag Z - 1/lo, ``cannot`` Z_st, and with
anchors ``anchor_rows`` Z_{a s} - Z_{a a}, ``tri{j}`` Z_as + Z_at - Z_st - Z_aa, ``pairs``
Z_st - Z_ss, ``diag_sum`` q, ``free_q`` -q (q_s = Z_ss - sum_j Z_{a_j s}). F holds the PSD
constraint, the trace and ``Y <= I`` (implied: Z D is row-stochastic and similar to Y).

**Iteration** (linearised ADMM = primal-dual hybrid gradient, Chambolle-Pock, with diagonal
dual steps): with ``S(y) = -G/2 + A*(y)`` (the Lagrangian's matrix) and ``P = D^-1/2 . D^-1/2``,

    Y+ = proj_F(Y - tau P(sym S(y)))      (one eigh, eigenvalues onto the capped simplex
                                            {0 <= l <= 1, sum K});  V+ = V - tau_V N(y)
    y+ = [y + sigma g(P(2 Y+ - Y), 2 V+ - V)]_+       (inequality blocks clipped at 0)

with the diagonal steps of Pock and Chambolle (2011): ``sigma_i = 0.97 omega / sum_j |A_ij|``,
``tau_j = 0.97 / (omega sum_i |A_ij|)`` (one tau for all of Y, its largest column sum; so
``|Sigma^1/2 A T^1/2| < 1``: convergent), omega (the primal weight) starts at
``OMEGA_SCALE max |C|`` (C the objective in Y) and is rebalanced at each restart to the
ratio of the dual and primal moves since the last (PDLP's rule, geometric mean). Every
``check_every`` iterations the bound of the current and averaged multipliers is evaluated;
every 10 checks the iteration restarts from the averages. The split ``V = Z[a, :]`` (see
:class:`_Ops`) keeps the steps large: without it the ``Z_aa`` shared by all triangles of an
anchor forces a tiny step on all of Y.

**Certified bound**: any multipliers give, through
:func:`~mixopt.methods.map.exact.sdp._lagrangian` (inequality multipliers clipped to their
sign), ``const + sum of the K smallest eigenvalues of D^-1/2 S D^-1/2`` (Ky Fan), a valid lower
bound whatever the iterate's accuracy; the best multipliers found are certified once more with
that function and returned with their :class:`~mixopt.methods.map.exact.sdp.Lagrangian`
(reduced-cost fixing). Stops when the bound reaches ``stop_at`` (the pruning level), when the
bound and the primal objective (of the averaged, nearly feasible Y) agree to ``eps`` relative,
when the bound rose by less than ``stall_rel`` (relative) over the last ``stall_checks`` checks,
or at ``time_limit_secs`` / ``max_iters``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

OPTIONS = ("time_limit_secs", "max_iters", "eps", "check_every", "stall_checks", "stall_rel",
           "omega", "adapt", "t_boost", "v_boost",
           "restart_checks")
T_BOOST = 30.0      # step of V_{j a_j} = Z_{a_j a_j} times this (beyond Pock-Chambolle's bound,
                    # which its thousands of triangles make tiny): measured on glass K=6, the
                    # node with 2 anchors, 1500 iterations: bound 29.04 (x1; its stationarity
                    # residual spoils the bound), 34.524 (x30), 34.514 (x100); SCS 34.581.
                    # The V-steps of all entries x10 diverged there. The bound stays certified
                    # whatever the iterates do (the best multipliers are kept).
OMEGA_SCALE = 5.0   # primal weight / max |C| in Y: measured on the first glass K=6 node
                    # (3000 iterations: omega 4.8 -> bound 34.44, 15 -> 34.499, 25 -> 34.507;
                    # 200 iterations: 1 -> 30.05, 4.8 -> 33.30, 20 -> 34.12, 100 -> 31.76)


@dataclass
class AdmmStart:
    """An iterate (Y and the multipliers by constraint name) to start a node of the same
    ``layout`` from."""

    layout: tuple
    y: NDArray[np.float64]
    duals: dict[str, NDArray[np.float64]]
    omega: float
    tri: list[NDArray[np.int64]] = field(default_factory=list)   # the node's triangle positions
    weights: NDArray[np.float64] | None = None   # the node's super-points' weights
    to_child: NDArray[np.int64] | None = None   # a child: each super-point's index there
    gtri: NDArray[np.int64] | None = None    # the node's separated cuts (cut_values)


def map_start(start: AdmmStart, ops: _Ops, layout: tuple, k: int) -> AdmmStart | None:
    """The parent's iterate carried to a child (``start.to_child``: the parent's super-points'
    indices in the child, which merged some of them or anchored one more): every block indexed
    by super-points takes the value of a representative (an anchor where one merged), new
    anchors' rows and cannot-links start at 0, and Y is the parent's Z so re-indexed, weighted
    and projected onto F. Only a start: the child's bound is certified from its own multipliers.
    None when the parent's anchors are not the child's first anchors."""
    mp = start.to_child
    _, m_p, anchors_p, pairs_p = start.layout[:4]
    a_c = ops.a
    r_p = len(anchors_p)
    if mp is None or r_p > a_c.size or any(int(mp[a]) != int(a_c[j])
                                            for j, a in enumerate(anchors_p)):
        return None
    m = ops.w.size
    rep = np.full(m, -1, dtype=np.int64)
    for s in list(anchors_p) + list(range(m_p)):   # anchors first: they represent merges
        if rep[mp[s]] < 0:
            rep[mp[s]] = s
    if (rep < 0).any():
        return None
    d_p = start.duals
    out: dict[str, NDArray[np.float64]] = {}
    keys = ops.keys()
    out["rows"] = d_p["rows"][rep]
    out["nonneg"] = d_p["nonneg"][np.ix_(rep, rep)]
    out["diag_lo"], out["diag_hi"] = d_p["diag_lo"][rep], d_p["diag_hi"][rep]
    if "cannot" in keys:
        known = {(min(s, t), max(s, t)): float(v)
                 for (s, t), v in zip(pairs_p, d_p.get("cannot", []), strict=False)}
        out["cannot"] = np.array([known.get((min(rep[s], rep[t]), max(rep[s], rep[t])), 0.0)
                                  for s, t in zip(*ops.pairs_c, strict=True)])
    if "gtri" in keys:   # a cut (triangle or pair) of the parent's points keeps its multiplier
        known = {} if start.gtri is None or "gtri" not in d_p else {
            (int(i), *sorted((int(j), int(l_)))): float(v)
            for (i, j, l_), v in zip(start.gtri, d_p["gtri"], strict=True)}
        out["gtri"] = np.array([known.get((int(rep[i]), *sorted((int(rep[j]), int(rep[l_])))),
                                          0.0) for i, j, l_ in ops.gtri])
    r = a_c.size
    if r:
        for key in ("link", "anchor_rows"):
            out[key] = np.zeros((r, m))
            if key in d_p:
                out[key][:r_p] = d_p[key][:, rep]
        o_p = np.setdiff1d(np.arange(m_p), np.asarray(anchors_p, dtype=np.int64))
        pos_p = np.full(m_p, -1)
        pos_p[o_p] = np.arange(o_p.size)
        po = o_p.size
        table = np.full((po, po), -1)
        iu_p, iv_p = np.triu_indices(po)
        table[iu_p, iv_p] = np.arange(iu_p.size)
        table[iv_p, iu_p] = np.arange(iu_p.size)
        for j, p in enumerate(ops.tri):
            key = f"tri{j}"
            if key not in keys:
                continue
            val = np.zeros(p.size)
            if j < r_p and key in d_p and j < len(start.tri):
                full = np.zeros(iu_p.size)
                full[start.tri[j]] = d_p[key]
                s_p, t_p = pos_p[rep[ops.o[ops.iu[p]]]], pos_p[rep[ops.o[ops.iv[p]]]]
                ok = (s_p >= 0) & (t_p >= 0)
                val[ok] = full[table[s_p[ok], t_p[ok]]]
            out[key] = val
        q_p = d_p["diag_sum"] if "diag_sum" in d_p else (
            -d_p["free_q"] if "free_q" in d_p else None)
        for key in ("diag_sum", "free_q"):
            if key in keys:
                val = np.zeros(ops.o.size)
                if q_p is not None:
                    idx = pos_p[rep[ops.o]]
                    val[idx >= 0] = q_p[idx[idx >= 0]]
                out[key] = val if key == "diag_sum" else np.maximum(-val, 0.0)
    if set(out) != set(keys):
        return None
    return AdmmStart(layout, _child_y(start, rep, ops.w, k), out, start.omega)


def _child_y(start: AdmmStart, rep: NDArray[np.int64], w: NDArray[np.float64],
             k: int) -> NDArray[np.float64]:
    """The child's Y from the parent's: ``Z_c[c, d] = Z_p[rep c, rep d]``, ``Y = D^1/2 Z
    D^1/2`` with the child's weights, projected onto F."""
    if start.weights is None:
        return project_f(start.y[np.ix_(rep, rep)], k)
    dp = 1.0 / np.sqrt(start.weights)
    z = (dp[:, None] * start.y * dp[None, :])[np.ix_(rep, rep)]
    y = np.sqrt(w)[:, None] * z * np.sqrt(w)[None, :]
    return project_f(0.5 * (y + y.T), k)


@dataclass
class _Ops:
    """The constraint map g of one node (see module doc) on the split variables (Z, V): the
    anchors' rows of Z are copied into ``V`` (r x m, ``V_js = Z_{a_j s}``, constraint ``link``
    ``V - Z[a, :] = 0``) and ``anchor_rows``, the triangles and q are written in V, so that
    ``Z_aa`` and ``Z_as``, shared by thousands of triangles, get their own (small) steps. The
    bound substitutes V = Z[a, :] back (the multipliers of ``link`` are dropped)."""

    w: NDArray[np.float64]
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    pairs_c: tuple[NDArray[np.int64], NDArray[np.int64]] | None
    a: NDArray[np.int64]
    o: NDArray[np.int64]
    k: int
    tri: list[NDArray[np.int64]]               # per anchor: positions in triu_indices(o.size)
    cut_pairs: bool = False
    gtri: NDArray[np.int64] | None = None      # separated cuts (cut_values), see g

    def __post_init__(self) -> None:
        self.iu, self.iv = np.triu_indices(self.o.size)
        self.eq = {"rows", "cannot", "diag_sum", "link"}
        self.r = self.a.size
        self.tri_st = [(self.o[self.iu[p]], self.o[self.iv[p]]) for p in self.tri]

    def keys(self) -> list[str]:
        out = ["rows", "nonneg", "diag_lo", "diag_hi"]
        if self.pairs_c is not None:
            out.append("cannot")
        if self.r:
            out += ["link", "anchor_rows"]
            if self.cut_pairs and self.o.size:
                out.append("pairs")
            out += [f"tri{j}" for j, p in enumerate(self.tri) if p.size]
            if self.o.size:
                out.append("diag_sum" if self.r == self.k else "free_q")
        if self.gtri is not None and len(self.gtri):
            out.append("gtri")
        return out

    def g(self, z: NDArray[np.float64], v: NDArray[np.float64]
          ) -> dict[str, NDArray[np.float64]]:
        """The blocks' values g(Z, V) (feasible: <= 0, or == 0 for ``eq``)."""
        d = np.diagonal(z)
        out = {"rows": z @ self.w - 1.0, "nonneg": -z, "diag_lo": 1.0 / self.hi - d,
               "diag_hi": d - 1.0 / self.lo}
        if self.pairs_c is not None:
            out["cannot"] = z[self.pairs_c]
        a, o = self.a, self.o
        if self.r:
            out["link"] = v - z[a, :]
            va = v[np.arange(self.r), a]          # V_{j a_j} = Z_{a_j a_j}
            out["anchor_rows"] = v - va[:, None]
            if self.cut_pairs and o.size:
                out["pairs"] = z[np.ix_(o, o)] - d[o][:, None]
            for j, (s, t) in enumerate(self.tri_st):
                if s.size:
                    out[f"tri{j}"] = v[j, s] + v[j, t] - z[s, t] - va[j]
            if o.size:
                q = d[o] - v[:, o].sum(axis=0)
                out["diag_sum" if self.r == self.k else "free_q"] = q if self.r == self.k else -q
        if self.gtri is not None and len(self.gtri):
            out["gtri"] = cut_values(z, self.gtri)
        return out

    def adjoint(self, y: dict[str, NDArray[np.float64]]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """``(M, N, c)`` with ``<y, g(Z, V)> = <M, Z> + <N, V> + c`` (M not symmetrised)."""
        m, r = self.w.size, self.r
        s = np.outer(y["rows"], self.w) - y["nonneg"]
        c = -float(y["rows"].sum()) + float(y["diag_lo"] @ (1.0 / self.hi)) \
            - float(y["diag_hi"] @ (1.0 / self.lo))
        diag = y["diag_hi"] - y["diag_lo"]
        nv = np.zeros((r, m))
        if self.pairs_c is not None:
            np.add.at(s, self.pairs_c, y["cannot"])
        a, o = self.a, self.o
        if r:
            nv += y["link"]
            s[a, :] -= y["link"]
            rho = y["anchor_rows"]
            nv += rho
            nv[np.arange(r), a] -= rho.sum(axis=1)
            if "pairs" in y:
                s[np.ix_(o, o)] += y["pairs"]
                diag[o] -= y["pairs"].sum(axis=1)
            p_o = o.size
            soo = np.zeros((p_o, p_o))
            for j, p in enumerate(self.tri):
                if not p.size:
                    continue
                mu = y[f"tri{j}"]
                full = np.zeros((p_o, p_o))
                full[self.iu[p], self.iv[p]] = mu
                nv[j, o] += full.sum(axis=1) + full.sum(axis=0)
                soo -= full
                nv[j, a[j]] -= mu.sum()
            if p_o:
                s[np.ix_(o, o)] += soo
                coef = y["diag_sum"] if r == self.k else -y["free_q"]
                diag[o] += coef
                nv[:, o] -= coef[None, :]
        if "gtri" in y:
            s += gtri_matrix(self.gtri, y["gtri"], m)
        s[np.diag_indices(m)] += diag
        return s, nv, c

    def substituted(self, y: dict[str, NDArray[np.float64]]
                    ) -> tuple[NDArray[np.float64], float]:
        """``(M, c)`` of the Lagrangian in Z alone (V = Z[a, :], ``link`` dropped)."""
        y0 = dict(y)
        if self.r:
            y0["link"] = np.zeros_like(y["link"])
        s, nv, c = self.adjoint(y0)
        if self.r:
            s[self.a, :] += nv
        return s, c

    def steps(self, dm: NDArray[np.float64]
              ) -> tuple[dict[str, NDArray[np.float64]], float, NDArray[np.float64]]:
        """Diagonal steps of Pock and Chambolle (2011, alpha = 1): sigma_i = 1 / (row i's sum
        of |coefficients|), tau = 1 / (column sum), one tau for all of Y (its largest column
        sum: the projection onto F needs a scalar) and one per entry of V; then
        |Sigma^1/2 A T^1/2| <= 1. Coefficients are those of Y (Z = D^-1/2 Y D^-1/2)."""
        m, r, o, a = self.w.size, self.r, self.o, self.a
        u = 1.0 / dm
        cz = np.outer(dm, dm)                    # |dZ_st / dY_st|
        col = cz.copy()                          # nonneg
        col += dm[:, None] * u[None, :]          # rows: entry (s, t) in row s
        col[np.diag_indices(m)] += 2.0 / self.w  # diag_lo, diag_hi
        sig = {"rows": 1.0 / (dm * u.sum()), "nonneg": 1.0 / cz,
               "diag_lo": self.w.copy(), "diag_hi": self.w.copy()}
        if self.pairs_c is not None:
            col[self.pairs_c] += cz[self.pairs_c]
            sig["cannot"] = 1.0 / cz[self.pairs_c]
        colv = np.zeros((r, m))
        if r:
            col[a, :] += cz[a, :]
            colv += 1.0
            sig["link"] = 1.0 / (1.0 + cz[a, :])
            colv += 1.0
            colv[np.arange(r), a] += m - 1.0
            sig["anchor_rows"] = np.full((r, m), 0.5)
            if self.cut_pairs and o.size:
                col[np.ix_(o, o)] += cz[np.ix_(o, o)]
                col[o, o] += cz[o, o] * o.size
                sig["pairs"] = 1.0 / (cz[np.ix_(o, o)] + cz[o, o][:, None])
            for j, (s, t) in enumerate(self.tri_st):
                if not s.size:
                    continue
                np.add.at(col, (s, t), cz[s, t])
                np.add.at(colv[j], s, 1.0)
                np.add.at(colv[j], t, 1.0)
                colv[j, a[j]] += s.size
                sig[f"tri{j}"] = 1.0 / (1.0 + np.where(s == t, 2.0, 2.0) + cz[s, t])
            if o.size:
                col[o, o] += cz[o, o]
                colv[:, o] += 1.0
                key = "diag_sum" if r == self.k else "free_q"
                sig[key] = 1.0 / (cz[o, o] + r)
        if self.gtri is not None and len(self.gtri):
            i, j, l_ = self.gtri.T
            t3 = is_triangle(self.gtri)   # pair rows (i, j, j) have no (i, l), (j, l) terms
            for s_, t_, c_ in ((i, j, 1.0), (i, l_, t3), (j, l_, t3), (i, i, 1.0)):
                np.add.at(col, (s_, t_), c_ * cz[s_, t_])
            sig["gtri"] = 1.0 / (cz[i, j] + t3 * (cz[i, l_] + cz[j, l_]) + cz[i, i])
        tau_v = 1.0 / np.maximum(colv, 1.0)
        return sig, 1.0 / float(col.max()), tau_v


def is_triangle(gtri: NDArray[np.int64]) -> NDArray[np.float64]:
    """1.0 for a triangle row ``(i, j, l)`` (j != l), 0.0 for a pair row ``(i, j, j)``."""
    return (gtri[:, 1] != gtri[:, 2]).astype(float)


def cut_values(z: NDArray[np.float64], gtri: NDArray[np.int64]) -> NDArray[np.float64]:
    """Each separated cut's value, <= 0 at every clustering's Z: ``Z_ij + Z_il - Z_jl - Z_ii``
    for a triangle row ``(i, j, l)``, ``Z_ij - Z_ii`` for a pair row ``(i, j, j)`` (the
    triangle's second pair dropped; the triangle with j = l is implied by Z psd)."""
    i, j, l_ = gtri.T
    return z[i, j] - z[i, i] + is_triangle(gtri) * (z[i, l_] - z[j, l_])


def gtri_matrix(gtri: NDArray[np.int64], mu: NDArray[np.float64], m: int
                ) -> NDArray[np.float64]:
    """``M`` (not symmetric) with ``<M, Z> = sum_c mu_c g_c(Z)`` over the separated cuts
    ``gtri`` (:func:`cut_values`: triangles ``(i, j, l)`` and pairs ``(i, j, j)``)."""
    i, j, l_ = gtri.T
    mt = mu * is_triangle(gtri)
    flat = np.concatenate([i * m + j, i * m + l_, j * m + l_, i * m + i])
    return np.bincount(flat, weights=np.concatenate([mu, mt, -mt, -mu]),
                       minlength=m * m).reshape(m, m)


def capped_simplex(lam: NDArray[np.float64], k: float) -> NDArray[np.float64]:
    """Euclidean projection of ``lam`` onto ``{0 <= x <= 1, sum x = k}``: ``clip(lam - theta,
    0, 1)`` with theta found by bisection (to machine precision)."""
    lo, hi = float(lam.min()) - 1.0, float(lam.max())
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if np.clip(lam - mid, 0.0, 1.0).sum() > k:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * max(1.0, abs(mid)):
            break
    return np.clip(lam - 0.5 * (lo + hi), 0.0, 1.0)


def project_f(m_: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Projection of a symmetric matrix onto ``{0 <= Y <= I, tr Y = K}`` (one eigh)."""
    lam, vec = np.linalg.eigh(m_)
    lam = capped_simplex(lam, k)
    keep = lam > 0
    v = vec[:, keep] * np.sqrt(lam[keep])
    return v @ v.T


def ky_fan_bound(s: NDArray[np.float64], c: float, dm: NDArray[np.float64], k: int) -> float:
    """``c + sum of the K smallest eigenvalues of D^-1/2 sym(S) D^-1/2`` (the certified
    Lagrangian bound, without the final safety margin)."""
    ss = 0.5 * (s + s.T)
    eig = np.linalg.eigvalsh(dm[:, None] * ss * dm[None, :])
    return c + float(eig[:k].sum())


def admm_solve(ops: _Ops, g: NDArray[np.float64], sq_total: float, options: dict,
               stop_at: float = np.inf, start: AdmmStart | None = None, layout: tuple = ()
               ) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.float64], float, dict]:
    """Run the iteration (module doc). Returns the best multipliers (by their bound), the
    averaged Z iterate, its objective and statistics (iterations, bound, seconds, status)."""
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"admm: unknown solver options {sorted(unknown)}; known: {OPTIONS}")
    t0 = time.perf_counter()
    limit = float(options.get("time_limit_secs", np.inf) or np.inf)
    max_iters = int(options.get("max_iters", 20000))
    eps = float(options.get("eps", 1e-6))
    every = int(options.get("check_every", 20))
    stall = int(options.get("stall_checks", 10))
    stall_rel = float(options.get("stall_rel", 1e-4))
    k, w = ops.k, ops.w
    m, r = w.size, ops.r
    dm = 1.0 / np.sqrt(w)
    dmm = np.outer(dm, dm)
    c_z = -0.5 * g
    c0 = 0.5 * sq_total
    keys = ops.keys()
    sig0, tau_y0, tau_v0 = ops.steps(dm)
    sig0 = {key: 0.97 * sig0[key] for key in keys}
    tau_y0, tau_v0 = 0.97 * tau_y0, 0.97 * tau_v0
    tau_v0 = tau_v0 * float(options.get("v_boost", 1.0))
    if r:
        # (at most the smallest step of the row's other entries: more diverged on small nodes)
        rows_, cap = np.arange(r), tau_v0.copy()
        cap[rows_, ops.a] = np.inf
        tau_v0[rows_, ops.a] = np.minimum(tau_v0[rows_, ops.a] * float(
            options.get("t_boost", T_BOOST)), np.maximum(cap.min(axis=1), tau_v0[rows_, ops.a]))
    # primal weight: the objective's scale in Y (multipliers ~ |C|, Y ~ 1)
    if start is not None and start.layout != layout:
        start = map_start(start, ops, layout, k) if start.to_child is not None else None
    omega = float(options.get("omega", 0.0)) or \
        (start.omega if start is not None and start.layout == layout else 0.0) or \
        OMEGA_SCALE * max(float(np.abs(dmm * c_z).max()), 1e-12)
    if start is not None and start.layout == layout:
        y_mat = start.y.copy()
        duals = {key: start.duals[key].copy() for key in keys}
    else:
        lam, vec = np.linalg.eigh(dmm * c_z)   # argmin over F of the objective, then mixed
        y_mat = project_f(0.5 * (vec[:, :k] @ vec[:, :k].T) + 0.5 * k / m * np.eye(m), k)
        zero = ops.g(np.zeros((m, m)), np.zeros((r, m)))
        duals = {key: np.zeros_like(np.asarray(zero[key], dtype=float)) for key in keys}
    v_mat = (dmm * y_mat)[ops.a, :] if r else np.zeros((0, m))
    best_bound, best_duals = -np.inf, {key: v.copy() for key, v in duals.items()}
    start_bound = -np.inf   # a start's multipliers keep their bound (a parent's, or the last
    if start is not None:   # cut round's with the new cuts' at 0): returned if never beaten
        s, c = ops.substituted(duals)
        if np.isfinite(s).all() and np.isfinite(c):
            start_bound = ky_fan_bound(s + c_z, c + c0, dm, k)
    start_duals = {key: v.copy() for key, v in duals.items()}
    avg_y, avg_v = y_mat.copy(), v_mat.copy()
    avg_d = {key: v.copy() for key, v in duals.items()}
    avg_n = 0
    status, it, primal = "max_iters", 0, np.nan
    adapt = bool(options.get("adapt", True))
    restart = int(options.get("restart_checks", 10))
    last = (y_mat.copy(), v_mat.copy(), {key: v.copy() for key, v in duals.items()})
    checks: list[tuple[int, float, float, float]] = []
    while it < max_iters:
        s, nv, _ = ops.adjoint(duals)
        y_new = project_f(y_mat - (tau_y0 / omega) * (dmm * (0.5 * (s + s.T) + c_z)), k)
        v_new = v_mat - (tau_v0 / omega) * nv
        gz = ops.g(dmm * (2.0 * y_new - y_mat), 2.0 * v_new - v_mat)
        for key in keys:
            val = duals[key] + (omega * sig0[key]) * gz[key]
            duals[key] = val if key in ops.eq else np.maximum(val, 0.0)
        y_mat, v_mat = y_new, v_new
        it += 1
        if not (np.isfinite(v_mat).all() and np.isfinite(y_mat).all()):
            status = "diverged"   # (the best multipliers so far still give their bound)
            break
        avg_n += 1
        avg_y += (y_mat - avg_y) / avg_n
        avg_v += (v_mat - avg_v) / avg_n
        for key in keys:
            avg_d[key] += (duals[key] - avg_d[key]) / avg_n
        if it % every:
            continue
        for cand in (duals, avg_d):
            s, c = ops.substituted(cand)
            if not (np.isfinite(s).all() and np.isfinite(c)):
                continue
            b = ky_fan_bound(s + c_z, c + c0, dm, k)
            if b > best_bound:
                best_bound, best_duals = b, {key: v.copy() for key, v in cand.items()}
        z_avg = dmm * avg_y
        primal = c0 + float(np.sum(c_z * z_avg))
        res = ops.g(z_avg, avg_v)
        infeas = max(float(np.abs(v).max()) if key in ops.eq else float(np.maximum(v, 0).max())
                     for key, v in res.items() if np.size(v))
        checks.append((it, best_bound, primal, infeas))
        if max(best_bound, start_bound) >= stop_at:
            status = "stop_at"
            break
        if abs(primal - best_bound) <= eps * max(1.0, abs(primal)):
            status = "optimal"
            break
        if len(checks) > stall and best_bound - checks[-1 - stall][1] <= \
                stall_rel * max(1.0, abs(best_bound)):   # the bound has stopped rising
            status = "stalled"
            break
        if time.perf_counter() - t0 > limit:
            status = "time_limit"
            break
        if restart and it % (every * restart) == 0:   # from the averages, rebalanced omega
            if adapt:
                dx = np.sqrt(float(np.sum((avg_y - last[0]) ** 2)) / tau_y0
                             + float(np.sum((avg_v - last[1]) ** 2 / tau_v0)))
                dy = np.sqrt(sum(float(np.sum((avg_d[key] - last[2][key]) ** 2 / sig0[key]))
                                 for key in keys))
                if 1e-12 < dx < np.inf and 1e-12 < dy < np.inf:
                    omega = float(np.exp(0.5 * np.log(dy / dx) + 0.5 * np.log(omega)))
            y_mat, v_mat = avg_y.copy(), avg_v.copy()
            duals = {key: v.copy() for key, v in avg_d.items()}
            last = (y_mat.copy(), v_mat.copy(), {key: v.copy() for key, v in duals.items()})
            avg_n = 0
    if start_bound > best_bound:
        best_bound, best_duals = start_bound, start_duals
    info = {"iterations": it, "bound": best_bound, "primal": primal, "omega": omega,
            "started": start is not None and start.layout == layout,
            "seconds": time.perf_counter() - t0, "status": status, "checks": checks,
            "y": y_mat, "duals": duals}
    return best_duals, dmm * avg_y, primal, info
