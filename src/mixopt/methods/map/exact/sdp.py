"""Semidefinite lower bound of Problem (4) at a branch-and-bound node, made safe by duality.

**Relaxation.** With whitened data ``x_i = L' y_i`` (``Lambda = L L'``), must-linked points merged
into m super-points (weights ``w_s``, coordinate sums ``X_s``) and the weighted Peng-Wei matrix
``Z`` (``Z_st = 1/n_k`` when super-points s and t share cluster k), Problem (4) profiled over
(mu, pi) is

    1/2 sum_i |x_i|^2 - 1/2 <X X', Z> + entropy,
    Z >= 0 (entrywise), Z w = 1, sum_s w_s Z_ss = K, Z psd, Z_st = 0 for cannot-links,
    1/hi_s <= Z_ss <= 1/lo_s (the size of the cluster holding s lies in [lo_s, hi_s]).

The entropy term is under-estimated by :mod:`mixopt.methods.map.exact.entropy`: per point by chords
or, when K mutually cannot-linked *anchors* identify the clusters, per cluster through
``t_j = Z_{a_j a_j} = 1/n_j``, with the valid equalities ``Z_ss = sum_j Z_{a_j s}`` and
inequalities ``Z_{a_j s} <= Z_{a_j a_j}``; once all K clusters are identified, also jointly, by
the convex envelope of ``sum_j g(n_j)`` over the polytope of size vectors
(:func:`_add_size_envelope`). Valid inequalities as in SOS-SDP tighten it: the triangles
``Z_as + Z_at <= Z_aa + Z_st`` through every anchor and, optionally, ``Z_st <= Z_ss``
(:func:`_add_cuts`; measured on pam50-4d with the incumbent's cluster sizes fixed: the bound
rises from 1221.84 to 1223.350, the incumbent's value, and SCS needs 1.9 s instead of 315 s).

**Equal proportions** (``NodeModel.entropy`` False): the objective is ``1/2 SSE`` alone and
the relaxation is the Peng-Wei bound of minimum sum-of-squares clustering with the anchors'
constraints and cuts (no entropy under-estimators, no assignment lifting).

**Assignment lifting.** Variables ``x_sj`` (super-point s in anchored cluster j) enter through
the McCormick envelope of ``Z_{a_j s} = x_sj t_j`` and of ``n_j t_j = 1`` with
``n_j = sum_s w_s x_sj`` (:func:`_add_assignment_lifting`); they tie the size ranges to the
assignments, which the hulls alone do not.

**Safe bound.** The conic solver's value is not used as a bound. From its (approximate) dual
multipliers the Lagrangian ``L(Z, e)`` is assembled in numpy, inequality multipliers clipped to
their sign, and minimised exactly over a set containing every feasible clustering:
``{0 <= Y <= I, tr Y = K}`` (``Y = D^1/2 Z D^1/2``, D = diag(w), is an orthogonal projection
of rank K for every clustering) gives the sum of the K smallest eigenvalues of
``D^-1/2 S D^-1/2`` (Ky Fan), and the entropy variables lie in ``[0, n/e]``. By weak duality
the result is a valid lower bound whatever the solver's accuracy (Jansson-style rigorous
bound; eigenvalue error is below 1e-9 relative and is subtracted).

**Warm starts.** With SCS a node's solve may start from another node's conic solution
(:class:`WarmStart`, SCS's x, y and s) when both problems have the same layout: the same
super-points and anchors give the same constraints, and the size-dependent blocks (hull lines,
size vertices) are padded to fixed lengths with repeated rows. Used for the children of a size
bisection; a start changes only the solver's path, never the certified bound.

**First-order solver** (solver ``ADMM``, entropy-free nodes only): :mod:`.admm` replaces the
conic solve; its multipliers, named as the constraints here, go through the same
:func:`_lagrangian` (see :func:`_admm_bound`), and every child starts from its parent's iterate.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from mixopt.methods.base import single_threaded_blas
from mixopt.methods.map.exact.admm import (
    AdmmStart,
    _Ops,
    admm_solve,
    cut_values,
    gtri_matrix,
    is_triangle,
)
from mixopt.methods.map.exact.entropy import (
    cluster_entropy,
    cluster_hull,
    free_point_hull,
    point_chord,
    size_vertices,
)


@dataclass
class NodeModel:
    """The data of one node, in super-points (must-link groups).

    Attributes:
        weights: points per super-point, length m.
        sums: coordinate sums of the whitened points per super-point, m x d.
        anchors: super-points known to lie in distinct clusters (cluster j holds anchors[j]).
        cannot: cannot-link pairs of super-points (s, t), s < t, beyond those among anchors.
        anchor_lo, anchor_hi: size range of the cluster of each anchor.
        lo, hi: size range of the cluster holding each super-point.
        free_lo, free_hi: size range of the clusters without an anchor (unused when all K
            clusters have one).
        entropy: False for equal proportions: the bound is that of ``1/2 SSE`` alone (no
            entropy under-estimators, no assignment lifting; the Peng-Wei bound with cuts).
    """

    weights: NDArray[np.int64]
    sums: NDArray[np.float64]
    anchors: list[int]
    cannot: list[tuple[int, int]]
    anchor_lo: list[int]
    anchor_hi: list[int]
    lo: NDArray[np.int64]
    hi: NDArray[np.int64]
    free_lo: int = 1
    free_hi: int = 1
    entropy: bool = True
    tri: list[NDArray[np.int64]] | None = None   # cuts "separated": triangles to start with
    gtri: NDArray[np.int64] | None = None   # separated cuts: triangles (i, j, l), pairs (i, j, j)


@dataclass(frozen=True)
class WarmStart:
    """SCS's solution vectors (x, y, s) of one node's problem; another node's solve starts from
    them when its problem's ``layout`` (the constraints' and variables' sizes, in order) is the
    same."""

    layout: tuple
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    s: NDArray[np.float64]
    cut_rows: tuple[int, int] | None = None   # SCS rows of the separated cuts (last inequalities)

    def with_cuts(self, kept: NDArray[np.bool_], added: int) -> WarmStart | None:
        """The start for the next cut round: the same problem with the cuts ``kept`` (a mask of
        this one's) and ``added`` new ones after them (the last inequality rows, see
        :func:`_node_problem`). The kept cuts keep their multipliers and slacks, the new ones
        start at 0 and the primal ``x`` is unchanged (cuts add no variable)."""
        if self.cut_rows is None:
            return None
        lo, hi = self.cut_rows
        if hi - lo != kept.size:
            return None
        cons = [e for e in self.layout if isinstance(e, tuple) and e[0] != "gtri"]
        sizes = [e for e in self.layout if not isinstance(e, tuple)]
        count = int(kept.sum()) + added
        layout = tuple(cons) + ((("gtri", count),) if count else ()) + tuple(sizes)

        def remap(v: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.concatenate([v[:lo], v[lo:hi][kept], np.zeros(added), v[hi:]])

        return WarmStart(layout, self.x, remap(self.y), remap(self.s), (lo, lo + count))


@dataclass
class BoundResult:
    """A node's bound: ``safe`` is the certified lower bound (``-inf`` when the solve failed);
    ``warm`` the solution to start similar nodes from (SCS: same layout; ADMM: any child, see
    :func:`mixopt.methods.map.exact.admm.map_start`)."""

    safe: float
    primal: float
    status: str
    z: NDArray[np.float64] | None = None
    notes: list[str] = field(default_factory=list)
    lagrangian: Lagrangian | None = None
    warm: WarmStart | AdmmStart | None = None
    warm_started: bool = False
    tri: list[NDArray[np.int64]] | None = None   # cuts "separated": triangles for children
    rounds: int = 1
    active: list[NDArray[np.int64]] = field(default_factory=list)       # (see _bound_once)
    active_all: list[NDArray[np.int64]] = field(default_factory=list)
    gtri: NDArray[np.int64] | None = None   # cut_rounds: separated cuts for children
    round_z: list[NDArray[np.float64]] = field(default_factory=list)   # other rounds' Z
    refine_gain: float | None = None   # a refined solve's rise over the first bound (>= 0)


@dataclass
class Lagrangian:
    """The certified Lagrangian of a node at fixed multipliers: for every clustering of the node,
    ``f >= const + <S, Z>`` and so ``f >= const + min over {0 <= Y <= I, tr Y = K}`` of
    ``<D^-1/2 S D^-1/2, Y>``: the sum of the K smallest eigenvalues (Ky Fan). The same multipliers
    bound any subset of the node's clusterings, in particular those where super-point ``s`` joins
    anchor ``a`` (:meth:`merged_bound`): there Z's rows s and a coincide, so Z = P Z' P' with the
    merged weights, and the bound is that of ``P' S P`` (reduced-cost fixing)."""

    s: NDArray[np.float64]          # symmetric m x m
    const: float
    weights: NDArray[np.float64]
    k: int
    x_coef: NDArray[np.float64] | None = None    # assignment variables' coefficients, m x r
    anchors: list[int] = field(default_factory=list)
    x_rows: NDArray[np.float64] = field(init=False)   # each row's minimum (assignment_minimum)
    vectors: NDArray[np.float64] | None = field(default=None, init=False)   # (merged_bounds)

    def __post_init__(self) -> None:
        self.x_rows = (np.zeros(self.weights.size) if self.x_coef is None else
                       assignment_minimum(self.x_coef, self.anchors, self.k))

    @staticmethod
    def _ky_fan(s: NDArray[np.float64], w: NDArray[np.float64], k: int) -> float:
        dm = 1.0 / np.sqrt(w)
        eig = np.linalg.eigvalsh(dm[:, None] * s * dm[None, :])
        # eigenvalue error is below 1e-9 relative; subtracted
        return float(eig[:k].sum()) - k * 1e-9 * max(1.0, float(np.abs(eig).max()))

    def bound(self) -> float:
        return self.const + float(self.x_rows.sum()) + self._ky_fan(self.s, self.weights, self.k)

    def merged_bound(self, b: int, a: int, below: float | None = None) -> float:
        """Bound over the node's clusterings in which super-point ``b`` shares ``a``'s cluster.
        With ``below`` (the pruning level) and ``below`` the node's K smallest eigenvectors
        ``self.vectors``: when the trace over those vectors (row b dropped, orthonormalised; a
        feasible Y, so at least the minimum) already stays under ``below``, -inf is returned
        without the eigenvalue problem (the bound cannot reach the level)."""
        keep = np.flatnonzero(np.arange(self.weights.size) != b)
        s = self.s[np.ix_(keep, keep)].copy()
        col = self.s[keep, b]
        ia = int(np.searchsorted(keep, a))
        s[ia, :] += col
        s[:, ia] += col
        s[ia, ia] += self.s[b, b]
        w = self.weights[keep].copy()
        w[ia] += self.weights[b]
        x_part = float(self.x_rows.sum())
        if self.x_coef is not None and a in self.anchors:   # b's row becomes e_j
            x_part += float(self.x_coef[b, self.anchors.index(a)] - self.x_rows[b])
        if below is not None and self.vectors is not None:
            q, _ = np.linalg.qr(self.vectors[keep])
            dm = 1.0 / np.sqrt(w)
            m_q = (dm[:, None] * s * dm[None, :]) @ q
            upper = self.const + x_part + float(np.einsum("ij,ij->", q, m_q))
            if upper < below - 1e-9 * max(1.0, abs(below)):
                return -np.inf
        return self.const + x_part + self._ky_fan(s, w, self.k)

    def merged_bounds(self, cannot: set[tuple[int, int]],
                      below: float | None = None) -> NDArray[np.float64]:
        """The table of :meth:`merged_bound` (b, anchors[j]) for every super-point b off the
        anchors (rows) and anchor j (columns); NaN on the anchors' rows and for cannot-linked
        pairs (s < t), which no clustering of the node merges. With ``below`` (the pruning
        level), -inf where the bound is shown to stay under it by a cheap upper estimate (so
        only the entries that can reach the level cost an eigenvalue problem; measured in
        ``benchmarks/bench_sdp_node.py``)."""
        self.vectors = None
        if below is not None:
            dm = 1.0 / np.sqrt(self.weights)
            _, vec = np.linalg.eigh(dm[:, None] * self.s * dm[None, :])
            self.vectors = vec[:, :self.k]
        table = np.full((self.weights.size, len(self.anchors)), np.nan)
        for b in np.setdiff1d(np.arange(self.weights.size), self.anchors):
            for j, a in enumerate(self.anchors):
                if (min(a, b), max(a, b)) not in cannot:
                    table[b, j] = self.merged_bound(int(b), a, below)
        return table


def cannot_pairs(node: NodeModel) -> list[tuple[int, int]]:
    """Cannot-link pairs (s < t) of the node, those among anchors included, without repeats."""
    a = node.anchors
    pairs = {(min(s, t), max(s, t)) for s, t in node.cannot}
    pairs |= {(min(a[i], a[j]), max(a[i], a[j])) for i in range(len(a))
              for j in range(i + 1, len(a))}
    return sorted(pairs)


@dataclass
class _Entropy:
    """The entropy under-estimator's pieces (kept for the Lagrangian)."""

    chord: NDArray[np.float64] | None = None          # no anchor: per-point chords
    hulls: list[NDArray[np.float64]] = field(default_factory=list)   # anchored clusters
    free: NDArray[np.float64] | None = None           # points of clusters without an anchor
    free_cluster: NDArray[np.float64] | None = None   # the one cluster without an anchor
    others: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vertices: NDArray[np.float64] | None = None       # all K clusters identified: size vertices
    vertex_h: NDArray[np.float64] | None = None       # the entropy at each vertex
    tri: list[NDArray[np.int64]] | None = None        # triangles per anchor (None: all)


CUTS = ("none", "triangles", "separated", "all")
TRI_ROUNDS = 3        # cuts "separated": at most this many solves per node (one less when
                      # the node starts from its parent's triangles)
TRI_PER_ROUND = 1500  # cuts "separated": the most violated triangles added per round
TRI_TOL = 1e-4        # cuts "separated": violation (relative to Z_aa) that counts
GTRI_PER_ROUND = 30000  # cut_rounds: the most violated general triangles added per round
PAIR_PER_ROUND = 5000   # cut_rounds: the most violated pairs Z_ij <= Z_ii added per round
                        # (measured on the first glass K = 6 node: 3,000 + 3,000 per round
                        # reach MSSC 71.21 in 6 solves, 30,000 + 5,000 reach 72.92 in 4;
                        # benchmarks/bench_cut_rounds.py, docs/exact.md)
ROUND_CUTS = (GTRI_PER_ROUND, PAIR_PER_ROUND)   # the two, as cut_rounds_bound takes them
GTRI_KEEP = -1e-3       # cut_rounds: a cut stays while its slack (relative to Z_ii) is
                        # above this at the round's solution (nearly tight: likely active)
GTRI_GAIN = 1e-4        # cut_rounds: stop when a round raised the bound by less (relative)
ROUND_GROWTH = 2.0      # cut_rounds: the next round needs this times the last one's seconds
ROUND_BUDGET = 8.0      # cut_rounds: a node's rounds take at most this times its first solve
                        # (glass K = 6 certified in 94.5 s on one core, against 136.6 s with
                        # the 60 s node cap alone and 250.9 s with 300 s; docs/exact.md)
HULL_LINES = 40   # hull lines per entropy under-estimator, padded to this count (warm starts)
SCS_SCALE = 1.0   # SCS's initial scale (its default 0.1; it adapts from there), unless the
                  # solver options set one: the same nodes take 0.78 (pam50-4d) and 0.86 (wine)
                  # of the CPU seconds (benchmarks/bench_scs_options.py); whole searches in
                  # docs/exact.md, "SCS's scale" (wine: 1,643.5 s against 2,334.5 s)


def _padded(rows: NDArray[np.float64], count: int) -> NDArray[np.float64]:
    """``rows`` with its last row repeated up to ``count`` rows (a repeated line or vertex
    changes no relaxation; fixed lengths keep the layouts of similar nodes equal)."""
    if len(rows) >= count:
        return rows
    return np.vstack([rows, np.repeat(rows[-1:], count - len(rows), axis=0)])


def _add_cuts(cons: dict[str, cp.Constraint], z: cp.Expression, a: NDArray[np.int64],
              o: NDArray[np.int64], cuts: str,
              tri: list[NDArray[np.int64]] | None = None) -> None:
    """Valid inequalities of the Peng-Wei matrix (as in SOS-SDP), both true since ``Z_st`` is
    ``1/n_k`` or 0 and ``Z_ss = 1/n_k(s)``: the triangles ``Z_as + Z_at <= Z_aa + Z_st`` through
    every anchor a (``cuts`` "triangles", "separated" or "all"; ``tri[j]``, when given, the
    positions in ``triu_indices(o.size)`` of anchor j's triangles, else all) and ``Z_st <= Z_ss``
    for the super-points s, t off the anchors ("all"). Measured on wine (3 anchors, sizes in
    [151, 176] x [1, 26] x [1, 26]): no cuts 1279.9, pairs alone 1299.8 (194 s), triangles alone
    1962.6 (39 s); the pairs only slow SCS down there."""
    if cuts == "all":
        zo = z[o][:, o]
        ones = np.ones((1, o.size))
        cons["pairs"] = zo <= cp.reshape(cp.diag(z)[o], (o.size, 1), order="F") @ ones
    iu, iv = np.triu_indices(o.size)
    for j, aj in enumerate(a):
        pos = np.arange(iu.size) if tri is None else tri[j]
        if not pos.size:
            continue
        za = z[int(aj), o]
        cons[f"tri{j}"] = za[iu[pos]] + za[iv[pos]] - z[o[iu[pos]], o[iv[pos]]] <= \
            z[int(aj), int(aj)]


def triangle_positions(node: NodeModel, o: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """``node.tri`` (per anchor, super-point pairs s <= t) as positions in
    ``triu_indices(o.size)``; pairs that are no longer both off the anchors are dropped."""
    m, p = node.weights.size, o.size
    inv = np.full(m, -1)
    inv[o] = np.arange(p)
    table = np.full((p, p), -1)
    iu, iv = np.triu_indices(p)
    table[iu, iv] = np.arange(iu.size)
    out = []
    for j in range(len(node.anchors)):
        pairs = node.tri[j] if node.tri is not None and j < len(node.tri) else None
        if pairs is None or not len(pairs):
            out.append(np.zeros(0, dtype=np.int64))
            continue
        s, t = inv[pairs[:, 0]], inv[pairs[:, 1]]
        ok = (s >= 0) & (t >= 0)
        lo, hi = np.minimum(s[ok], t[ok]), np.maximum(s[ok], t[ok])
        out.append(np.unique(table[lo, hi]))
    return out


def triangle_violations(z: NDArray[np.float64], a: NDArray[np.int64],
                        o: NDArray[np.int64]) -> NDArray[np.float64]:
    """``Z_as + Z_at - Z_st - Z_aa`` over ``triu_indices(o.size)`` for each anchor (rows),
    divided by ``Z_aa``."""
    iu, iv = np.triu_indices(o.size)
    zoo = z[o[iu], o[iv]]
    out = np.empty((a.size, iu.size))
    for j, aj in enumerate(a):
        za = z[aj, o]
        out[j] = (za[iu] + za[iv] - zoo - z[aj, aj]) / max(z[aj, aj], 1e-12)
    return out


def _add_envelope(cons: dict[str, cp.Constraint], key: str, prod: cp.Expression,
                  x: cp.Expression, t_rows: cp.Expression, t: cp.Expression, size: cp.Expression,
                  lo: NDArray[np.float64] | float, hi: NDArray[np.float64] | float,
                  inv_lo: NDArray[np.float64] | float, inv_hi: NDArray[np.float64] | float) -> None:
    """McCormick envelopes of ``prod = x t`` (x in [0, 1], t = 1/size in [1/hi, 1/lo]; ``t_rows``,
    ``inv_lo``, ``inv_hi`` broadcast to prod's shape) and of ``size t = 1`` (size in [lo, hi]),
    under the keys ``key + mc_a..mc_d, n_lo, n_hi, nt_a, nt_b``."""
    cons[f"{key}mc_a"] = prod - cp.multiply(x, inv_hi) >= 0
    cons[f"{key}mc_b"] = prod - cp.multiply(x, inv_lo) <= 0
    cons[f"{key}mc_c"] = prod - cp.multiply(x, inv_lo) - t_rows + inv_lo >= 0
    cons[f"{key}mc_d"] = prod - cp.multiply(x, inv_hi) - t_rows + inv_hi <= 0
    cons[f"{key}n_lo"] = size - lo >= 0
    cons[f"{key}n_hi"] = size - hi <= 0
    cons[f"{key}nt_a"] = 1 - size / hi - cp.multiply(lo, t) + lo / hi >= 0
    cons[f"{key}nt_b"] = 1 + hi / lo - cp.multiply(hi, t) - size / lo >= 0


def _envelope_terms(cons: dict[str, cp.Constraint], key: str, w: NDArray[np.float64],
                    lo: NDArray[np.float64] | float, hi: NDArray[np.float64] | float
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                               float]:
    """Multiplier terms of :func:`_add_envelope` (size = sum_s w_s x_s): the coefficients of
    prod (its shape), of t (one per column), of x (prod's shape) and the constant, in cvxpy's
    convention (``-lam * expr`` for ``expr >= 0``, ``+lam * expr`` for ``expr <= 0``)."""
    l1, l2, l3, l4 = (_dual(cons, f"{key}mc_{c}") for c in "abcd")
    l5, l6, l7, l8 = (_dual(cons, f"{key}{c}") for c in ("n_lo", "n_hi", "nt_a", "nt_b"))
    if l1.ndim == 1:   # a single column (the free cluster): its size terms are scalars
        l5, l6, l7, l8 = (float(v.sum()) for v in (l5, l6, l7, l8))
    coef_prod = -l1 + l2 - l3 + l4
    coef_t = (l3 - l4).sum(axis=0) + l7 * lo + l8 * hi
    const = float((-l3 / lo + l4 / hi).sum() + np.sum(l5 * lo - l6 * hi - l7 * (1 + lo / hi)
                                                      - l8 * (1 + hi / lo)))
    per_size = -l5 + l6 + l7 / hi + l8 / lo
    coef_x = l1 / hi - l2 / lo + l3 / lo - l4 / hi + np.multiply.outer(w, per_size).reshape(
        l1.shape)
    return coef_prod, coef_t, coef_x, const


def _add_size_envelope(cons: dict[str, cp.Constraint], entropy: cp.Expression, xa: cp.Variable,
                       node: NodeModel, k: int, n: int, w: NDArray[np.float64], ent: _Entropy
                       ) -> cp.Expression | None:
    """All K clusters identified (K anchors, or K - 1 and the free cluster): the entropy is also
    bounded by the convex envelope of ``sum_j g(n_j)`` over the size polytope
    (:func:`~mixopt.methods.map.exact.entropy.size_vertices`), with ``n_j = sum_s w_s x_sj``:
    ``E >= sum_v lam_v H(v)``, ``sum_v lam_v v_j = n_j`` (j < K; the last size follows), lam in
    the simplex, next to ``E >= `` the per-cluster hulls. Returns E (None: empty polytope)."""
    lo = list(node.anchor_lo) + ([node.free_lo] if len(node.anchors) < k else [])
    hi = list(node.anchor_hi) + ([node.free_hi] if len(node.anchors) < k else [])
    ent.vertices = size_vertices(lo, hi, n)
    if not ent.vertices.size:
        return None
    # a vertex has K - 1 sizes at a bound and the K-th from the sum: at most K 2^(K-1)
    ent.vertices = _padded(ent.vertices, k * 2 ** (k - 1))
    ent.vertex_h = cluster_entropy(ent.vertices, n).sum(axis=1)
    big_e = cp.Variable()
    lam = cp.Variable(len(ent.vertices), nonneg=True)
    cons["env_sum"] = cp.sum(lam) == 1
    cons["env_sizes"] = ent.vertices[:, :k - 1].T @ lam == (w @ xa)[:k - 1]
    cons["ent_sum"] = big_e - entropy >= 0
    cons["ent_env"] = big_e - ent.vertex_h @ lam >= 0
    return big_e


def _add_assignment_lifting(cons: dict[str, cp.Constraint], z: cp.Expression, node: NodeModel,
                            k: int) -> cp.Variable:
    """Assignment variables ``x_sj = [s in cluster j]`` of the anchored clusters, linked to Z by
    the McCormick envelope of ``Z_{a_j s} = x_sj t_j`` (``t_j = Z_{a_j a_j} = 1/n_j`` in
    ``[1/hi_j, 1/lo_j]``), with ``n_j = sum_s w_s x_sj`` in ``[lo_j, hi_j]`` and the envelope of
    ``n_j t_j = 1``. Exact for every clustering; it ties the size ranges to the assignments
    (measured on pam50-4d, sizes within 3 of the incumbent's: bound 1213.7 -> 1223.0 against
    the incumbent's 1223.35; wine, within 10: 1359.6 -> 1364.0 against 1366.03)."""
    a = np.asarray(node.anchors)
    r, m = a.size, node.weights.size
    lo = np.asarray(node.anchor_lo, dtype=float)
    hi = np.asarray(node.anchor_hi, dtype=float)
    w = node.weights.astype(float)
    xa = cp.Variable((m, r), nonneg=True)
    zat = z[a, :].T                                      # Z_{a_j s}, m x r
    t = cp.hstack([z[int(aj), int(aj)] for aj in a])
    ones = np.ones((m, 1))
    tt = ones @ cp.reshape(t, (1, r), order="F")
    n_j = w @ xa
    cons["x_rows"] = cp.sum(xa, axis=1) == 1 if r == k else cp.sum(xa, axis=1) <= 1
    cons["x_anchor"] = xa[a, np.arange(r)] == 1
    _add_envelope(cons, "", zat, xa, tt, t, n_j, lo, hi, ones @ (1 / lo)[None, :],
                  ones @ (1 / hi)[None, :])
    return xa


def _add_free_cluster(cons: dict[str, cp.Constraint], q: cp.Expression, xa: cp.Variable,
                      node: NodeModel, n: int, ent: _Entropy) -> cp.Expression:
    """K - 1 anchors: the one cluster without an anchor is identified too. Its size n_f lies in
    [free_lo, free_hi]; ``q_s = Z_ss - sum_j Z_{a_j s}`` equals ``x_sf t_f`` with
    ``x_sf = 1 - sum_j x_sj`` and a variable ``t_f = 1/n_f``, so the anchored clusters' McCormick
    envelopes apply, ``q_s <= t_f``, ``sum_s w_s q_s = 1``, and the cluster's entropy is the hull
    of h over its sizes in t_f (instead of the per-point hull). Returns the entropy term."""
    o = ent.others
    w = node.weights.astype(float)[o]
    flo, fhi = float(node.free_lo), float(node.free_hi)
    tf, ef = cp.Variable(), cp.Variable()
    xf = 1 - cp.sum(xa[o], axis=1)
    nf = w @ xf
    cons["f_t_lo"] = tf >= 1 / fhi
    cons["f_t_hi"] = tf <= 1 / flo
    cons["f_rows"] = w @ q == 1
    cons["f_qt"] = q - tf <= 0
    _add_envelope(cons, "f_", q, xf, tf, tf, nf, flo, fhi, 1 / flo, 1 / fhi)
    ent.free_cluster = _padded(cluster_hull(int(flo), int(fhi), n, HULL_LINES), HULL_LINES)
    cons["f_hull"] = ef >= ent.free_cluster[:, 0] + ent.free_cluster[:, 1] * tf
    return ef


def _free_cluster_terms(cons: dict[str, cp.Constraint], node: NodeModel, n: int, ent: _Entropy,
                        ent_weight: float = 1.0
                        ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Multiplier terms of :func:`_add_free_cluster`: (constant, including the minima over the
    boxes of t_f and e_f, whose objective weight is ``ent_weight``; coefficients of q over the
    others; coefficients of x_sf)."""
    w = node.weights.astype(float)[ent.others]
    flo, fhi = float(node.free_lo), float(node.free_hi)
    coef_q, coef_t, coef_x, const = _envelope_terms(cons, "f_", w, flo, fhi)
    t_lo, t_hi = float(_dual(cons, "f_t_lo")[0]), float(_dual(cons, "f_t_hi")[0])
    nu = float(_dual(cons, "f_rows", sign=False)[0])
    qt = _dual(cons, "f_qt")
    kap = _dual(cons, "f_hull")
    coef_q = coef_q + nu * w + qt
    coef_t = float(coef_t) - qt.sum() - t_lo + t_hi + float(kap @ ent.free_cluster[:, 1])
    const += -nu + t_lo / fhi - t_hi / flo + float(kap @ ent.free_cluster[:, 0])
    const += min(coef_t / fhi, coef_t / flo)                  # t_f in [1/fhi, 1/flo]
    const += min(ent_weight - kap.sum(), 0.0) * n / np.e       # e_f in [0, n/e]
    return const, coef_q, coef_x


def _assignment_terms(cons: dict[str, cp.Constraint], node: NodeModel, k: int,
                      s: NDArray[np.float64], diag: NDArray[np.float64]
                      ) -> tuple[float, NDArray[np.float64]]:
    """Add the lifting's multiplier terms in Z to ``s``/``diag``; return the constant and the
    coefficients of x (m x r) in the Lagrangian (cvxpy's convention: ``-lam * expr`` for
    ``expr >= 0``, ``+lam * expr`` for ``expr <= 0``)."""
    a = np.asarray(node.anchors)
    r = a.size
    lo = np.asarray(node.anchor_lo, dtype=float)
    hi = np.asarray(node.anchor_hi, dtype=float)
    w = node.weights.astype(float)
    coef_prod, coef_t, coef, const = _envelope_terms(cons, "", w, lo, hi)
    s[a, :] += coef_prod.T
    diag[a] += coef_t
    nu = _dual(cons, "x_rows", sign=r < k)
    coef += nu[:, None]
    const -= float(nu.sum())
    nu_a = _dual(cons, "x_anchor", sign=False)
    coef[a, np.arange(r)] += nu_a
    const -= float(nu_a.sum())
    return const, coef


def assignment_minimum(coef: NDArray[np.float64], anchors: list[int],
                       k: int) -> NDArray[np.float64]:
    """Per super-point, the smallest x-coefficient over its possible assignments: x_s is a unit
    vector (all K clusters anchored) or a unit vector or zero (a free cluster is left); anchor
    j's row is e_j."""
    r = coef.shape[1]
    best = coef.min(axis=1)
    if r < k:
        best = np.minimum(best, 0.0)
    a = np.asarray(anchors)
    best[a] = coef[a, np.arange(r)]
    return best


@dataclass
class Refinement:
    """Solve a node again, warm-started, with ``options`` (tighter tolerances) when its first
    safe bound lies in ``[low, high)``: close below the pruning level, where accuracy pays."""

    low: float
    high: float
    options: dict


def sdp_bound(node: NodeModel, k: int, n: int, sq_norm_total: float,
              solver: str = "SCS", solver_options: dict | None = None,
              cuts: str = "triangles", refine: Refinement | None = None,
              warm: WarmStart | None = None, stop_at: float = np.inf,
              cut_rounds: int = 0, round_budget: float = ROUND_BUDGET,
              round_cuts: tuple[int, int] = ROUND_CUTS) -> BoundResult:
    """Certified lower bound of Problem (4) over the clusterings of ``node`` (see module doc);
    ``cuts`` (one of :data:`CUTS`) chooses the valid inequalities of :func:`_add_cuts`;
    ``refine`` re-solves near the pruning level (both bounds are valid; the larger is kept);
    ``warm`` starts SCS from a solution of a problem with the same layout (ignored otherwise).

    With ``cuts`` "separated" the triangles are found by separation (as in SOS-SDP): the node
    starts from ``node.tri`` (its parent's triangles; none at first), and after each solve the
    multiplier-carrying triangles are kept and the :data:`TRI_PER_ROUND` most violated ones are
    added, for at most :data:`TRI_ROUNDS` solves or until the bound reaches ``stop_at`` (the
    pruning level). Every round's bound is certified; the best round is returned, its
    triangles in ``tri`` for the children (same set: the same layout, so a warm start).

    With ``cut_rounds`` > 0, general triangles and pair inequalities over all super-points
    are separated around that (see :func:`cut_rounds_bound`; ``round_budget`` its budget,
    ``round_cuts`` the new triangles and pairs each round adds)."""
    if cut_rounds > 0:
        return cut_rounds_bound(node, k, n, sq_norm_total, solver, solver_options, cuts,
                                refine, warm, stop_at, cut_rounds, round_budget, round_cuts)
    if cuts != "separated" or not node.anchors:
        return _bound_once(node, k, n, sq_norm_total, solver, solver_options, cuts, refine, warm,
                           stop_at)
    options = dict(solver_options or {})
    a = np.asarray(node.anchors)
    o = np.setdiff1d(np.arange(node.weights.size), a)
    iu, iv = np.triu_indices(o.size)
    started = time.perf_counter()
    best: BoundResult | None = None
    rounds = 0
    limit = TRI_ROUNDS - 1 if node.tri is not None else TRI_ROUNDS   # (inherited: one less)
    while True:
        rounds += 1
        res = _bound_once(node, k, n, sq_norm_total, solver, options, cuts, refine,
                          warm if rounds == 1 else None, stop_at)
        if best is None or res.safe >= best.safe:
            best = res
            best.tri = [np.column_stack([o[iu[p]], o[iv[p]]]) for p in res.active_all]
        if res.z is None or res.safe >= stop_at or rounds >= limit or not o.size:
            break
        viol = triangle_violations(res.z, a, o)
        for j, p in enumerate(res.active_all):
            viol[j, p] = -np.inf                           # already in the problem
        flat = np.flatnonzero(viol.ravel() > TRI_TOL)
        if not flat.size:
            break
        flat = flat[np.argsort(-viol.ravel()[flat])[:TRI_PER_ROUND]]
        rows, cols = np.divmod(flat, iu.size)
        keep = [np.union1d(res.active[j], cols[rows == j]) for j in range(a.size)]
        node = replace(node, tri=[np.column_stack([o[iu[p]], o[iv[p]]]) for p in keep])
        if not _time_left(options, solver_options, started):
            break
    best.rounds = rounds
    return best


def _time_left(options: dict, solver_options: dict | None, started: float,
               need: float = 0.1) -> bool:
    """Rounds share the node's time limit: set ``options``' limit to what is left of
    ``solver_options``' since ``started``; False when less than ``need`` seconds are left (SCS
    reads 0 as no limit)."""
    if "time_limit_secs" not in options:
        return True
    left = solver_options["time_limit_secs"] - (time.perf_counter() - started)
    options["time_limit_secs"] = left
    return left > max(need, 0.1)


def cut_rounds_bound(node: NodeModel, k: int, n: int, sq_norm_total: float, solver: str,
                     solver_options: dict | None, cuts: str, refine: Refinement | None,
                     warm: WarmStart | AdmmStart | None, stop_at: float, rounds: int,
                     budget: float = ROUND_BUDGET,
                     per_round: tuple[int, int] = ROUND_CUTS
                     ) -> BoundResult:
    """Cutting-plane rounds of general triangles ``Z_ij + Z_il <= Z_ii + Z_jl`` and pair
    inequalities ``Z_ij <= Z_ii`` (all super-points, as SOS-SDP separates them at every node):
    the node starts from ``node.gtri`` (its parent's cuts), and after each solve the cuts still
    nearly tight at the solution (:data:`GTRI_KEEP`) are kept and the ``per_round`` most
    violated new triangles and pairs added (default :data:`GTRI_PER_ROUND`,
    :data:`PAIR_PER_ROUND`)
    (:func:`separate_triangles`, :func:`separate_pairs`), for at most ``rounds`` solves, until
    the bound reaches ``stop_at``, a round gains less than :data:`GTRI_GAIN` (relative), or the
    next round (:data:`ROUND_GROWTH` times the last one's seconds) would take the node past
    ``budget`` (default :data:`ROUND_BUDGET`) times its first solve or past its time limit. Every
    round's bound is certified (the cuts' multipliers enter :func:`_lagrangian`); the best is
    returned, with its nearly tight cuts in ``gtri`` for the children and the other rounds'
    solutions in ``round_z`` (rounded for incumbents too). ADMM starts each round from the
    previous one's iterate (the new cuts' multipliers at 0); SCS starts cold (started from the
    last round's solution, :meth:`WarmStart.with_cuts`, its rounds took longer)."""
    options = dict(solver_options or {})
    started = time.perf_counter()
    best: BoundResult | None = None
    done = 0
    solutions = []
    first = 0.0
    for done in range(1, rounds + 1):
        t_round = time.perf_counter()
        res = sdp_bound(node, k, n, sq_norm_total, solver, options, cuts, refine, warm, stop_at)
        took = time.perf_counter() - t_round
        first = first or took
        if res.z is not None:
            solutions.append(res.z)
        gtri = np.zeros((0, 3), dtype=np.int64) if node.gtri is None else node.gtri
        if res.z is not None:
            gtri = kept_cuts(res.z, gtri)
        gain = np.inf if best is None else res.safe - best.safe
        if best is None or res.safe >= best.safe:
            best = res
            best.gtri = gtri
        if res.z is None or res.safe >= stop_at or done == rounds or \
                gain < GTRI_GAIN * max(1.0, abs(best.safe)):
            break
        new = np.vstack([separate_triangles(res.z, per_round[0], skip=gtri),
                         separate_pairs(res.z, per_round[1], skip=gtri)])
        if not len(new):
            break
        # SCS starts cold: from the last round's solution (WarmStart.with_cuts) the rounds took
        # 1.15 times as long (benchmarks/bench_cut_rounds.py --start both; docs/exact.md)
        warm = replace(res.warm, to_child=np.arange(node.weights.size)) \
            if isinstance(res.warm, AdmmStart) else None
        node = replace(node, gtri=np.vstack([gtri, new]))
        # a round with more cuts takes longer (first glass node: 1.3-2 times the last one's):
        # none is started that would likely overrun the node's limit (a worker stopped at the
        # search's limit loses the node's bound) or its budget (rounds pay while their cuts
        # lift the bound faster than branching would; in units of the node's own first solve
        # the budget scales with its size: wholesale_std's 440-point root gets its four
        # rounds, glass's nodes stop where their gains tail off)
        need = ROUND_GROWTH * took
        if time.perf_counter() - started + need > budget * first or \
                not _time_left(options, solver_options, started, need=need):
            break
    best.rounds = done
    best.round_z = [z for z in solutions if z is not best.z]
    best.notes.append(f"{done} cut rounds, {0 if best.gtri is None else len(best.gtri)} "
                      "separated cuts passed on")
    return best


def _bound_once(node: NodeModel, k: int, n: int, sq_norm_total: float, solver: str,
                solver_options: dict | None, cuts: str, refine: Refinement | None,
                warm: WarmStart | AdmmStart | None, stop_at: float = np.inf) -> BoundResult:
    """One conic solve's certified bound (see :func:`sdp_bound`), refined near the pruning
    level; with cuts "separated", ``active``/``active_all`` hold the triangles (positions, per
    anchor) that carry a multiplier / that are in the problem. Solver ``ADMM``: the first-order
    solver of :mod:`mixopt.methods.map.exact.admm` (entropy-free nodes only; no refinement,
    stops at ``stop_at``)."""
    g = node.sums @ node.sums.T
    if solver == "ADMM":
        return _admm_bound(node, k, n, sq_norm_total, g, solver_options or {}, cuts,
                           warm if isinstance(warm, AdmmStart) else None, stop_at)
    if isinstance(warm, AdmmStart):
        warm = None
    prob, cons, ent, dm, y = _node_problem(node, k, n, sq_norm_total, g, cuts)
    if prob is None:   # no size vector fits the ranges: no clustering here
        return BoundResult(np.inf, np.nan, "infeasible (sizes)")
    conic = _ConicSolve(prob, solver, problem_layout(prob, cons))

    def solve(options: dict, start: WarmStart | None) -> BoundResult:
        try:
            raw, started = conic.solve(options, start)
        except cp.error.SolverError as exc:
            return BoundResult(-np.inf, np.nan, "solver_error", notes=[str(exc)])
        if prob.status in ("infeasible", "infeasible_inaccurate"):
            return BoundResult(np.inf if prob.status == "infeasible" else -np.inf, np.nan,
                               str(prob.status))
        if prob.status not in ("optimal", "optimal_inaccurate") or \
                cons["rows"].dual_value is None:
            return BoundResult(-np.inf, np.nan, str(prob.status))
        lag = _lagrangian(cons, node, k, n, sq_norm_total, g, ent)
        res = BoundResult(lag.bound(), float(prob.value), str(prob.status),
                          z=dm[:, None] * np.asarray(y.value) * dm[None, :], lagrangian=lag,
                          warm=raw, warm_started=started)
        if ent.tri is not None:
            res.active_all = ent.tri
            res.active = [p[_dual(cons, f"tri{j}") > 0] if f"tri{j}" in cons else p
                          for j, p in enumerate(ent.tri)]
        return res

    started = time.perf_counter()
    first = solve(dict(solver_options or {}), warm)
    if refine is None or not refine.low <= first.safe < refine.high:
        return first
    options = {**(solver_options or {}), **refine.options}
    if "time_limit_secs" in options:   # the two solves share the node's time limit
        options["time_limit_secs"] -= time.perf_counter() - started
        if options["time_limit_secs"] <= 0.1:   # (SCS reads 0 as no limit)
            return first
    second = solve(options, first.warm)
    second.warm_started = first.warm_started
    if second.safe == np.inf or second.safe > first.safe:   # both bounds are valid: the best
        second.notes.append("refined")
        if np.isfinite(first.safe) and np.isfinite(second.safe):
            second.refine_gain = second.safe - first.safe
        return second
    if np.isfinite(first.safe):
        first.refine_gain = 0.0
    return first


def problem_layout(prob: cp.Problem, cons: dict[str, cp.Constraint]) -> tuple:
    """A node problem's layout: its constraints' names and sizes, in order, then its variables'
    sizes (two problems with one layout take each other's SCS solutions as starts)."""
    return tuple((key, c.size) for key, c in cons.items()) + tuple(
        v.size for v in prob.variables())


class _ConicSolve:
    """Solve one cvxpy problem, with SCS from a :class:`WarmStart` of the same layout (through
    cvxpy's ``get_problem_data``/``unpack_results``) and from :data:`SCS_SCALE` unless the
    options set ``scale``; other solvers through ``solve``."""

    def __init__(self, prob: cp.Problem, solver: str, layout: tuple) -> None:
        self.prob, self.solver, self.layout = prob, solver, layout
        self._compiled: tuple | None = None

    def solve(self, options: dict, start: WarmStart | None) -> tuple[WarmStart | None, bool]:
        """Solve; return SCS's solution as a start for others and whether ``start`` was used."""
        if self.solver != "SCS":
            self.prob.solve(solver=self.solver, **options)
            return None, False
        if self._compiled is None:
            self._compiled = self.prob.get_problem_data(cp.SCS)
        data, chain, inverse = self._compiled
        cache = {}
        started = start is not None and start.layout == self.layout and \
            start.x.size == data["A"].shape[1] and start.y.size == data["A"].shape[0]
        if started:
            cache[cp.SCS] = {"x": start.x, "y": start.y, "s": start.s}
        raw = chain.solver.solve_via_data(data, warm_start=started, verbose=False,
                                          solver_opts={"scale": SCS_SCALE, **options},
                                          solver_cache=cache)
        with warnings.catch_warnings():
            # "Solution may be inaccurate": harmless here, the bound is certified from the
            # multipliers whatever their accuracy (an inaccurate solve only weakens it).
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            self.prob.unpack_results(raw, chain, inverse)
        if raw.get("x") is None:
            return None, started
        return WarmStart(self.layout, np.asarray(raw["x"]), np.asarray(raw["y"]),
                         np.asarray(raw["s"]), self._cut_rows(data["dims"])), started

    def _cut_rows(self, dims: object) -> tuple[int, int] | None:
        """SCS's rows of the separated cuts: the last of the linear inequalities (SCS orders
        its rows by cone, zero then nonnegative, each in the constraints' order; cvxpy puts
        its own rows for nonnegative variables before the constraints')."""
        count = dict(e for e in self.layout if isinstance(e, tuple)).get("gtri", 0)
        if count and next(e for e in reversed(self.layout) if isinstance(e, tuple))[0] != "gtri":
            return None
        end = dims.zero + dims.nonneg
        return end - count, end


def _node_problem(node: NodeModel, k: int, n: int, sq_norm_total: float,
                  g: NDArray[np.float64], cuts: str
                  ) -> tuple[cp.Problem | None, dict[str, cp.Constraint], _Entropy,
                             NDArray[np.float64], cp.Variable]:
    """The node's conic relaxation (see module doc): the problem (None when no size vector fits
    the ranges), its constraints by name, the entropy pieces, ``D^-1/2`` and the variable Y;
    ``g`` is the Gram matrix of the super-points' sums."""
    if cuts not in CUTS:
        raise ValueError(f"cuts must be one of {CUTS}, got {cuts!r}")
    w = node.weights.astype(float)
    m = w.size
    r = len(node.anchors)
    # Y = D^1/2 Z D^1/2 has eigenvalues in [0, 1] whatever the weights (better conditioned)
    y = cp.Variable((m, m), PSD=True)
    dm = 1.0 / np.sqrt(w)
    z = cp.multiply(np.outer(dm, dm), y)
    cons: dict[str, cp.Constraint] = {}
    cons["nonneg"] = z >= 0
    cons["rows"] = z @ w == 1
    cons["trace"] = cp.trace(y) == k
    cons["diag_lo"] = cp.diag(z) >= 1.0 / node.hi.astype(float)
    cons["diag_hi"] = cp.diag(z) <= 1.0 / node.lo.astype(float)
    pairs = cannot_pairs(node)
    if pairs:
        pi_, pj_ = np.array(pairs).T
        cons["cannot"] = z[pi_, pj_] == 0
    objective = 0.5 * sq_norm_total - 0.5 * cp.sum(cp.multiply(g, z))
    ent = _Entropy()
    if not node.entropy:   # equal proportions: 1/2 SSE alone
        _add_sse_node(cons, z, node, k, cuts, ent)
    elif r == 0:
        ent.chord = point_chord(node.lo, node.hi, n)
        objective = objective + w @ ent.chord[:, 0] + cp.sum(cp.multiply(w * ent.chord[:, 1],
                                                                          cp.diag(z)))
    else:
        a = np.array(node.anchors)
        ent.others = np.setdiff1d(np.arange(m), a)
        cons["anchor_rows"] = z[a, :] <= cp.reshape(cp.diag(z)[a], (r, 1), order="F") @ \
            np.ones((1, m))
        o = ent.others
        if cuts != "none" and o.size:
            if cuts == "separated":
                ent.tri = triangle_positions(node, o)
            _add_cuts(cons, z, a, o, cuts, ent.tri)
        e = cp.Variable(r)
        for j in range(r):
            lines = _padded(cluster_hull(node.anchor_lo[j], node.anchor_hi[j], n, HULL_LINES),
                            HULL_LINES)
            ent.hulls.append(lines)
            cons[f"hull{j}"] = e[j] >= lines[:, 0] + lines[:, 1] * z[a[j], a[j]]
        entropy = cp.sum(e)
        xa = _add_assignment_lifting(cons, z, node, k)
        if o.size:
            q = cp.diag(z)[o] - cp.sum(z[a][:, o], axis=0)   # 1/n_c off the anchored clusters
            if r == k:
                cons["diag_sum"] = q == 0
            elif r == k - 1:
                cons["free_q"] = q >= 0
                entropy = entropy + _add_free_cluster(cons, q, xa, node, n, ent)
            else:
                ent.free = _padded(free_point_hull(node.free_lo, node.free_hi, n, HULL_LINES),
                                   HULL_LINES)
                f = cp.Variable(o.size)
                cons["free_q"] = q >= 0
                cons["free_hull"] = cp.reshape(f, (o.size, 1), order="F") @ \
                    np.ones((1, len(ent.free))) >= np.ones((o.size, 1)) @ \
                    ent.free[:, :1].T + cp.reshape(q, (o.size, 1), order="F") @ \
                    ent.free[:, 1:].T
                objective = objective + w[o] @ f
        if r == k or "f_rows" in cons:
            entropy = _add_size_envelope(cons, entropy, xa, node, k, n, w, ent)
        if entropy is None:   # no size vector fits the ranges: no clustering here
            return None, cons, ent, dm, y
        objective = objective + entropy
    if node.gtri is not None and len(node.gtri):   # separated cuts (admm.cut_values), last
        ti, tj, tl = node.gtri.T                     # (WarmStart.with_cuts: their SCS rows)
        cons["gtri"] = z[ti, tj] - z[ti, ti] + cp.multiply(
            is_triangle(node.gtri), z[ti, tl] - z[tj, tl]) <= 0
    return cp.Problem(cp.Minimize(objective), list(cons.values())), cons, ent, dm, y


def _add_sse_node(cons: dict[str, cp.Constraint], z: cp.Expression, node: NodeModel, k: int,
                  cuts: str, ent: _Entropy) -> None:
    """The anchors' valid constraints without entropy (equal proportions): ``Z_{a_j s} <=
    Z_{a_j a_j}``, the cuts and ``q_s = Z_ss - sum_j Z_{a_j s}`` (0 with K anchors, else >= 0)."""
    r, m = len(node.anchors), node.weights.size
    if r == 0:
        return
    a = np.array(node.anchors)
    o = ent.others = np.setdiff1d(np.arange(m), a)
    cons["anchor_rows"] = z[a, :] <= cp.reshape(cp.diag(z)[a], (r, 1), order="F") @ \
        np.ones((1, m))
    if cuts != "none" and o.size:
        _add_cuts(cons, z, a, o, cuts)
    if o.size:
        q = cp.diag(z)[o] - cp.sum(z[a][:, o], axis=0)
        if r == k:
            cons["diag_sum"] = q == 0
        else:
            cons["free_q"] = q >= 0


def kept_mask(z: NDArray[np.float64], gtri: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which separated cuts (triangles and pairs) are still nearly tight at ``z``: relative
    slack (to ``Z_ii``) above :data:`GTRI_KEEP`, the ones a round keeps."""
    if not len(gtri):
        return np.zeros(0, dtype=bool)
    diag = np.maximum(z[gtri[:, 0], gtri[:, 0]], 1e-12)
    return cut_values(z, gtri) / diag > GTRI_KEEP


def kept_cuts(z: NDArray[np.float64], gtri: NDArray[np.int64]) -> NDArray[np.int64]:
    """The separated cuts still nearly tight at ``z`` (:func:`kept_mask`)."""
    return gtri[kept_mask(z, gtri)]


def separate_triangles(z: NDArray[np.float64], count: int, tol: float = TRI_TOL,
                       skip: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """The ``count`` most violated general triangles ``Z_ij + Z_il - Z_jl - Z_ii <= 0`` (apex
    i; j < l; i, j, l distinct) of ``z`` as rows ``(i, j, l)``, by violation relative to
    ``Z_ii`` (at least ``tol``), without the rows of ``skip``. Valid for every clustering of
    super-points: ``Z_ij`` and ``Z_il`` are each ``Z_ii`` or 0, and both are ``Z_ii`` only when
    j and l share i's cluster, where ``Z_jl = Z_ii``. Evaluated apex by apex (m^3 / 2 entries
    in all)."""
    m = z.shape[0]
    iu, iv = np.triu_indices(m, 1)
    zjl = z[iu, iv]
    found_v, found_t = [], []
    per = max(count, 1)
    for i in range(m):
        zi = z[i]
        viol = (zi[iu] + zi[iv] - zjl - zi[i]) / max(zi[i], 1e-12)
        viol[(iu == i) | (iv == i)] = -np.inf
        hit = np.flatnonzero(viol > tol)
        if hit.size > per:
            hit = hit[np.argpartition(-viol[hit], per)[:per]]
        found_v.append(viol[hit])
        found_t.append(np.column_stack([np.full(hit.size, i), iu[hit], iv[hit]]))
    viol = np.concatenate(found_v)
    tri = np.concatenate(found_t).astype(np.int64)
    if skip is not None and len(skip) and len(tri):
        code = (tri[:, 0] * m + tri[:, 1]) * m + tri[:, 2]
        old = (skip[:, 0] * m + skip[:, 1]) * m + skip[:, 2]
        keep = ~np.isin(code, old)
        tri, viol = tri[keep], viol[keep]
    order = np.argsort(-viol, kind="stable")[:count]
    return tri[order]


def separate_pairs(z: NDArray[np.float64], count: int, tol: float = TRI_TOL,
                   skip: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """The ``count`` most violated pair inequalities ``Z_ij <= Z_ii`` (i != j) of ``z`` as rows
    ``(i, j, j)`` (see :func:`mixopt.methods.map.exact.admm.cut_values`), by violation
    relative to ``Z_ii`` (at least ``tol``), without the rows of ``skip``. Valid for every
    clustering of super-points: ``Z_ij`` is ``Z_ii`` or 0. Not implied by Z psd (which gives
    only ``Z_ij^2 <= Z_ii Z_jj``); SOS-SDP separates them beside the triangles."""
    m = z.shape[0]
    diag = np.maximum(np.diagonal(z), 1e-12)
    viol = (z - diag[:, None]) / diag[:, None]
    viol[np.diag_indices(m)] = -np.inf
    if skip is not None and len(skip):
        pair = skip[:, 1] == skip[:, 2]
        viol[skip[pair, 0], skip[pair, 1]] = -np.inf
    hit = np.flatnonzero(viol > tol)
    if hit.size > count:
        hit = hit[np.argpartition(-viol.flat[hit], count)[:count]]
    hit = hit[np.argsort(-viol.flat[hit], kind="stable")]
    i, j = np.divmod(hit, m)
    return np.column_stack([i, j, j]).astype(np.int64)


def _dual(cons: dict[str, cp.Constraint | NDArray[np.float64]], key: str,
          sign: bool = True) -> NDArray[np.float64]:
    """The multiplier of ``cons[key]``: a cvxpy constraint's dual value, or an array given
    directly (the ADMM solver's), clipped at 0 for inequalities (``sign``)."""
    item = cons[key]
    value = np.atleast_1d(np.asarray(getattr(item, "dual_value", item), dtype=float))
    return np.maximum(value, 0.0) if sign else value


def _lagrangian(cons: dict[str, cp.Constraint | NDArray[np.float64]], node: NodeModel, k: int,
                n: int,
                sq_norm_total: float, g: NDArray[np.float64], ent: _Entropy) -> Lagrangian:
    """Weak-duality bound from the solver's multipliers (cvxpy: ``L = f + lam (lhs - rhs)`` for
    ``lhs <= rhs`` with ``lam >= 0``, ``L = f + nu (lhs - rhs)`` for equalities), read from the
    cvxpy constraints or from arrays under the same names (:func:`_dual`)."""
    w = node.weights.astype(float)
    m = w.size
    s = -0.5 * g.copy()
    c0 = 0.5 * sq_norm_total
    diag = np.zeros(m)
    if ent.chord is not None:
        c0 += float(w @ ent.chord[:, 0])
        diag += w * ent.chord[:, 1]
    nu = _dual(cons, "rows", sign=False)
    s += nu[:, None] * w[None, :]
    c0 -= nu.sum()
    s -= _dual(cons, "nonneg")
    lam = _dual(cons, "diag_lo")
    c0 += float(lam @ (1.0 / node.hi))
    diag -= lam
    mu = _dual(cons, "diag_hi")
    c0 -= float(mu @ (1.0 / node.lo))
    diag += mu
    if "cannot" in cons:
        pi_, pj_ = np.array(cannot_pairs(node)).T
        np.add.at(s, (pi_, pj_), _dual(cons, "cannot", sign=False))
    box = 0.0   # min over the entropy variables' boxes of their Lagrangian coefficients
    x_coef = None
    # the hull variables' objective weight: 1, or E's multiplier when E bounds them
    ent_weight = float(_dual(cons, "ent_sum")[0]) if "ent_sum" in cons else 1.0
    if node.anchors:
        a = np.array(node.anchors)
        rho = _dual(cons, "anchor_rows")
        s[a, :] += rho
        diag[a] -= rho.sum(axis=1)
        o = ent.others

        def add_q(coef: NDArray[np.float64]) -> None:
            """Add ``sum_s coef_s q_s`` with ``q_s = Z_ss - sum_j Z_{a_j s}``."""
            diag[o] += coef
            s[np.ix_(a, o)] -= coef[None, :]

        if "pairs" in cons:   # Z_st - Z_ss <= 0
            lam_p = _dual(cons, "pairs")
            s[np.ix_(o, o)] += lam_p
            diag[o] -= lam_p.sum(axis=1)
        iu, iv = np.triu_indices(o.size)
        for j, aj in enumerate(a):   # Z_as + Z_at - Z_st - Z_aa <= 0
            if f"tri{j}" in cons:
                mu_t = _dual(cons, f"tri{j}")
                if ent.tri is not None:
                    mu_t = np.zeros(iu.size)
                    mu_t[ent.tri[j]] = _dual(cons, f"tri{j}")
                np.add.at(s, (np.full(iu.size, aj), o[iu]), mu_t)
                np.add.at(s, (np.full(iv.size, aj), o[iv]), mu_t)
                np.add.at(s, (o[iu], o[iv]), -mu_t)
                diag[aj] -= mu_t.sum()
        if "x_rows" in cons:
            const_x, x_coef = _assignment_terms(cons, node, k, s, diag)
            c0 += const_x
        if "diag_sum" in cons:
            add_q(_dual(cons, "diag_sum", sign=False))
        if "f_rows" in cons:
            const_f, coef_q, coef_xf = _free_cluster_terms(cons, node, n, ent, ent_weight)
            c0 += const_f + float(coef_xf.sum())    # x_sf = 1 - sum_j x_sj
            x_coef[o, :] -= coef_xf[:, None]
            add_q(coef_q)
        if "free_q" in cons:
            add_q(-_dual(cons, "free_q"))
        if "free_hull" in cons:
            kap = _dual(cons, "free_hull").reshape(o.size, -1)
            c0 += float(kap.sum(axis=0) @ ent.free[:, 0])
            add_q(kap @ ent.free[:, 1])
            coef_f = w[o] - kap.sum(axis=1)          # f_s in [0, log n]
            box += float(np.minimum(coef_f, 0.0).sum() * np.log(n))
        for j, lines in enumerate(ent.hulls):
            kap = _dual(cons, f"hull{j}")
            c0 += float(kap @ lines[:, 0])
            diag[a[j]] += float(kap @ lines[:, 1])
            box += min(ent_weight - kap.sum(), 0.0) * n / np.e   # e_j in [0, n/e]
        if "ent_sum" in cons:   # E >= the hulls, E >= sum_v lam_v H(v), E in [0, n log K]
            beta = float(_dual(cons, "ent_env")[0])
            eta = _dual(cons, "env_sizes", sign=False)
            coef_lam = beta * ent.vertex_h + ent.vertices[:, :k - 1] @ eta
            c0 += float(coef_lam.min())                   # lam in the simplex
            x_coef[:, :k - 1] -= w[:, None] * eta[None, :]
            box += min(1.0 - ent_weight - beta, 0.0) * n * np.log(k)
    if "gtri" in cons:   # separated cuts (admm.cut_values) <= 0
        s += gtri_matrix(node.gtri, _dual(cons, "gtri"), m)
    s[np.diag_indices(m)] += diag
    return Lagrangian(s=0.5 * (s + s.T), const=float(c0 + box), weights=w, k=k,
                      x_coef=x_coef, anchors=list(node.anchors))


def _admm_bound(node: NodeModel, k: int, n: int, sq_norm_total: float, g: NDArray[np.float64],
                options: dict, cuts: str, start: AdmmStart | None, stop_at: float
                ) -> BoundResult:
    """The certified bound of an entropy-free node from the first-order solver
    (:func:`mixopt.methods.map.exact.admm.admm_solve`): its best multipliers, named as the cvxpy
    constraints of :func:`_node_problem`, go through :func:`_lagrangian` (the same algebra and
    the same Ky Fan bound as with SCS)."""
    if node.entropy:
        raise ValueError("admm: only the entropy-free node SDP (equal proportions) is "
                         "supported; use the SCS backend for proportions 'free'")
    if cuts not in CUTS:
        raise ValueError(f"cuts must be one of {CUTS}, got {cuts!r}")
    w = node.weights.astype(float)
    m = w.size
    a = np.asarray(node.anchors, dtype=np.int64)
    ent = _Entropy()
    o = np.setdiff1d(np.arange(m), a)
    tri: list[NDArray[np.int64]] = []
    if a.size:
        ent.others = o
        if cuts != "none" and o.size:
            if cuts == "separated":
                ent.tri = triangle_positions(node, o)
                tri = ent.tri
            else:
                tri = [np.arange(o.size * (o.size + 1) // 2)] * a.size
    else:
        o = np.zeros(0, dtype=np.int64)
    pairs = cannot_pairs(node)
    pairs_c = tuple(np.array(pairs, dtype=np.int64).T) if pairs else None
    ops = _Ops(w=w, lo=node.lo.astype(float), hi=node.hi.astype(float), pairs_c=pairs_c, a=a,
               o=o, k=k, tri=tri, cut_pairs=cuts == "all" and a.size > 0, gtri=node.gtri)
    layout = ("admm", m, tuple(node.anchors), tuple(pairs), tuple(p.size for p in tri),
              0 if node.gtri is None else len(node.gtri))
    # one BLAS thread: measured 5.6 ms per iteration (glass, m = 214) against 25-300 ms with
    # the default threads beside two busy builds on the 2-core machine
    with single_threaded_blas():
        duals, z, primal, info = admm_solve(ops, g, sq_norm_total, options, stop_at, start,
                                            layout)
    lag = _lagrangian(duals, node, k, n, sq_norm_total, g, ent)
    res = BoundResult(lag.bound(), primal, f"admm {info['status']}", z=z, lagrangian=lag,
                      warm=AdmmStart(layout, info["y"], duals, info["omega"], tri=tri,
                                     weights=w, gtri=node.gtri),
                      warm_started=bool(info["started"]),
                      notes=[f"admm: {info['iterations']} iterations, {info['seconds']:.2f} s, "
                             f"{info['status']}"])
    if ent.tri is not None:
        res.active_all = ent.tri
        res.active = [p[duals[f"tri{j}"] > 0] if f"tri{j}" in duals else p
                      for j, p in enumerate(ent.tri)]
    return res
