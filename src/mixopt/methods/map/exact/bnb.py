"""Branch-and-bound over anchors, cluster sizes and assignments (method ``exact``).

A node is a set of must-link merges (super-points), cannot-links, *anchors* (super-points known to
lie in distinct clusters; anchor j names cluster j) and, once all K clusters have an anchor, an
integer size range per cluster. Children partition the parent's clusterings:

* **seeds** (the root, no anchors, an incumbent, K <= 5): one seed per incumbent cluster (the
  member costliest to move to another cluster); each clustering puts the seeds into exactly one
  set partition, so the root has Bell(K) children, each merging the seeds of a block and
  anchoring the blocks. The child with K singleton blocks identifies every cluster at once
  (components are exchangeable, so the seeds may name them); the others force seeds of
  different incumbent clusters together;
* **anchoring** (fewer than K anchors): a super-point b joins anchor j (K' children, must-link) or
  is cannot-linked to all of them and becomes a new anchor (one child). Without seeds the first
  anchor is free, for the same exchangeability (not so with known labels, whose groups are the
  anchors from the start). With K - 1 anchors and a free cluster of at least n/K points this
  comes before any size bisection;
* **size** (anchored clusters): the size range of the cluster whose entropy under-estimator is
  loosest is bisected; the ranges are then tightened with ``sum_j n_j = n``;
* **assignment** (K anchors, tight sizes): the most fractional super-point joins each anchor in
  turn (K children);
* **pairs** (option ``branching: pairs``, equal proportions, nodes without anchors): the pair of
  super-points whose SDP entry is most ambiguous is must-linked in one child and cannot-linked
  in the other, as SOS-SDP branches; a node of K super-points is a leaf. With known labels the
  root has anchors, and anchoring is used instead.

Bounds come from :func:`mixopt.methods.map.exact.sdp.sdp_bound` (certified by weak duality); upper
bounds from rounding each node's SDP solution and a hard-assignment local search. Before a node
branches, *reduced-cost fixing* evaluates its certified Lagrangian on the clusterings where a
super-point joins an anchor (one eigenvalue problem per pair, in the worker that solved the
node) and cannot-links the pairs that already reach the pruning level
(:meth:`BranchAndBound.fix`). The children of a size bisection start their conic solve from
the parent's solution (:class:`~mixopt.methods.map.exact.sdp.WarmStart`).

**Equal proportions** (``BnBProblem.entropy`` False): the search minimises ``1/2 SSE`` (the
constant ``n log K`` is left to the caller, so that the gap tolerance applies to the sum of
squares); the node bounds have no entropy term and sizes are never bisected (anchoring and
assignment branching, or pairs). A root that branches into seeds is solved first, so the search
has a finite bound at once and the seed children start from its cuts.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from mixopt.lifetime import ScriptSafePool, die_with_parent, stop_pool
from mixopt.methods.map.exact.admm import AdmmStart
from mixopt.methods.map.exact.entropy import cluster_entropy, cluster_hull, hull_value
from mixopt.methods.map.exact.sdp import (
    ROUND_BUDGET,
    ROUND_CUTS,
    BoundResult,
    NodeModel,
    Refinement,
    WarmStart,
    cannot_pairs,
    sdp_bound,
)

log = logging.getLogger("mixopt.methods.exact")

# Nodes with more super-points than this are solved in a worker process even with one thread,
# so that the time limit can stop them (their conic set-up takes seconds; a worker's start,
# about 2 s, is small beside it). Smaller nodes are solved in this process.
WORKER_MIN_POINTS = 120
REFINE_LEARN = 5    # refined nodes before the window follows their rises (refine_window)
REFINE_REACH = 1.5   # the window: this many times the largest rise seen
BRANCHING = ("anchors", "pairs")   # see BranchAndBound.children and _pair_children
SizeSplit = Literal["midpoint", "sdp"]   # where a size range is split (_size_children)
SIZE_SPLITS: tuple[str, ...] = get_args(SizeSplit)


@dataclass
class Node:
    """One node (see module doc). ``groups[i]`` is point i's super-point (0..m-1)."""

    groups: NDArray[np.int64]
    anchors: list[int]
    cannot: frozenset[tuple[int, int]]
    size_lo: list[int] = field(default_factory=list)
    size_hi: list[int] = field(default_factory=list)
    depth: int = 0
    branch: str = "root"
    warm: WarmStart | AdmmStart | None = field(default=None, repr=False)   # parent's solution
    tri: list[NDArray[np.int64]] | None = field(default=None, repr=False)   # parent's triangles
    gtri: NDArray[np.int64] | None = field(default=None, repr=False)   # parent's separated cuts

    @property
    def m(self) -> int:
        return int(self.groups.max()) + 1


@dataclass
class BnBProblem:
    """Whitened, centred data and the constants of the search."""

    x: NDArray[np.float64]
    k: int
    min_size: int
    solver: str = "SCS"
    solver_options: dict = field(default_factory=dict)
    node_time_limit_s: float | None = None
    cuts: str = "triangles"
    cut_rounds: int = 0   # rounds of separated cuts per node (sdp.cut_rounds_bound)
    round_budget: float = ROUND_BUDGET   # their budget, in first solves (cut_rounds_bound)
    round_cuts: tuple[int, int] = ROUND_CUTS   # new triangles, pairs
    branching: str = "anchors"   # or "pairs" (equal proportions; BranchAndBound._pair_children)
    size_split: SizeSplit = "midpoint"   # or "sdp" (BranchAndBound._size_children)
    entropy: bool = True   # False: equal proportions, the objective is 1/2 SSE

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def weights(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        """The proportions of clusters of sizes ``counts``: n_k / n, or 1/K (equal)."""
        if self.entropy:
            return counts / self.n
        return np.full(self.k, 1.0 / self.k)


def merge(node: Node, b: int, a: int, branch: str) -> Node | None:
    """Child with super-point ``b`` merged into ``a`` (None if a cannot-link forbids it)."""
    if b == a:
        return node
    if (min(a, b), max(a, b)) in node.cannot or (a in node.anchors and b in node.anchors):
        return None
    return merge_into_anchors(node, [(b, a)], branch, node.depth + 1)


def merge_into_anchors(node: Node, pairs: list[tuple[int, int]], branch: str,
                       depth: int) -> Node | None:
    """Node with each super-point b of ``pairs`` merged into its a (no a is itself merged);
    None when a cannot-link joins two merged super-points."""
    old = np.arange(node.m)
    for b, a in pairs:
        old[b] = a
    _, remap = np.unique(old, return_inverse=True)
    groups = remap[node.groups]
    cannot = frozenset((min(remap[s], remap[t]), max(remap[s], remap[t])) for s, t in node.cannot)
    if any(s == t for s, t in cannot):
        return None
    anchors = [int(remap[s]) for s in node.anchors]
    return Node(groups, anchors, cannot, list(node.size_lo), list(node.size_hi), depth, branch,
                tri=_remapped(node.tri, remap), gtri=remapped_cuts(node.gtri, remap))


def _remapped(tri: list[NDArray[np.int64]] | None, remap: NDArray[np.int64]
              ) -> list[NDArray[np.int64]] | None:
    """Triangle pairs (per anchor) in the super-points of a merge (``remap``: old -> new);
    pairs merged into one super-point are dropped (any set of triangles is valid)."""
    if tri is None:
        return None
    out = []
    for pairs in tri:
        new = remap[pairs] if len(pairs) else pairs
        out.append(new[new[:, 0] != new[:, 1]] if len(pairs) else pairs)
    return out


def remapped_cuts(gtri: NDArray[np.int64] | None, remap: NDArray[np.int64]
                       ) -> NDArray[np.int64] | None:
    """Separated cuts (triangle rows i, j, l with j < l; pair rows i, j, j) in the
    super-points of a merge (``remap``: old -> new); rows whose points merged are dropped (any
    set of valid cuts is valid; a triangle whose j and l merged is not a pair cut)."""
    if gtri is None or not len(gtri):
        return gtri
    pair = gtri[:, 1] == gtri[:, 2]
    new = remap[gtri]
    new[:, 1:] = np.sort(new[:, 1:], axis=1)
    keep = (new[:, 0] != new[:, 1]) & (new[:, 0] != new[:, 2]) & \
        ((new[:, 1] != new[:, 2]) | pair)
    return np.unique(new[keep], axis=0)


def tighten_sizes(lo: list[int], hi: list[int], n: int, free: int = 0,
                  lmin: int = 1) -> tuple[list[int], list[int]] | None:
    """Propagate ``sum_j n_j + (sizes of the free clusters) = n`` through the anchored clusters'
    size ranges; ``free`` clusters without an anchor hold at least ``lmin`` points each. None
    when no sizes fit."""
    lo, hi = list(lo), list(hi)
    for _ in range(len(lo) + 1):
        changed = False
        for j in range(len(lo)):
            new_hi = min(hi[j], n - (sum(lo) - lo[j]) - free * lmin)
            new_lo = lo[j] if free else max(lo[j], n - (sum(hi) - hi[j]))
            if new_lo > new_hi:
                return None
            changed |= (new_lo, new_hi) != (lo[j], hi[j])
            lo[j], hi[j] = new_lo, new_hi
        if not changed:
            break
    return lo, hi


def free_range(lo: list[int], hi: list[int], n: int, free: int, lmin: int) -> tuple[int, int]:
    """Size range of each of the ``free`` clusters without an anchor."""
    top = n - sum(lo) - (free - 1) * lmin
    bottom = max(lmin, n - sum(hi)) if free == 1 else lmin
    return bottom, top


def set_partitions(items: list[int]) -> list[list[list[int]]]:
    """All partitions of ``items`` into non-empty blocks (Bell(len(items)) of them)."""
    if not items:
        return [[]]
    head, rest = items[0], items[1:]
    out = []
    for part in set_partitions(rest):
        out.append([[head], *part])
        for i in range(len(part)):
            out.append([*part[:i], [head, *part[i]], *part[i + 1:]])
    return out


def assignment_cost(sums: NDArray[np.float64], weights: NDArray[np.float64],
                    means: NDArray[np.float64], pi: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hard-assignment cost of each super-point in each cluster, ``sum_{i in s} 1/2
    |x_i - mu_c|^2 - log pi_c`` up to a per-row constant (``1/2 sum_i |x_i|^2``, which no
    choice of cluster changes): ``-X_s' mu_c + w_s/2 |mu_c|^2 - w_s log pi_c``."""
    return -sums @ means.T + weights[:, None] * (0.5 * (means ** 2).sum(axis=1)
                                                 - np.log(pi))[None, :]


class BranchAndBound:
    """Best-first search; see the module doc. ``run`` returns the incumbent and the bounds."""

    def __init__(self, prob: BnBProblem, root: Node, rel_gap: float, time_limit_s: float,
                 node_limit: int | None = None,
                 feasible: Callable[[NDArray[np.int64]], bool] | None = None) -> None:
        self.p = prob
        self.sq_total = float((prob.x ** 2).sum())
        self.best_labels: NDArray[np.int64] | None = None   # labels of the search clusters
        self.ub = np.inf
        self.rel_gap = rel_gap
        self.time_limit_s = time_limit_s
        self.node_limit = node_limit
        self.feasible = feasible or (lambda labels: True)
        self.queue: list[tuple[float, int, Node]] = []
        self.counter = itertools.count()
        self.pruned_lb = np.inf       # smallest bound among nodes pruned by the gap tolerance
        self.nodes = 0
        self.fixed = 0                # cannot-links added by reduced-cost fixing
        self.warm_starts = 0          # node solves started from the parent's conic solution
        self.refine_gains: list[float] = []   # what each refined solve added to its bound
        self.trace: list[tuple[float, float | None, float | None]] = []
        self.notes: list[str] = []
        self.flight: dict[futures.Future, tuple[float, Node]] = {}   # being solved: parent bound
        self.push(root, -np.inf)

    # -- queue --------------------------------------------------------------------------------

    def push(self, node: Node, bound: float) -> None:
        heapq.heappush(self.queue, (bound, next(self.counter), node))

    def global_lb(self) -> float:
        """The certified lower bound: the least bound of the open nodes (those being solved
        too), of the nodes pruned within the gap tolerance, and the incumbent."""
        open_lb = self.queue[0][0] if self.queue else np.inf
        flying = min((bound for bound, _ in self.flight.values()), default=np.inf)
        return float(min(open_lb, flying, self.pruned_lb, self.ub))

    def level(self) -> float:
        """The pruning level: a node whose bound reaches it cannot improve on the incumbent by
        more than the relative gap tolerance."""
        return self.ub - self.rel_gap * abs(self.ub)

    def gap(self) -> float:
        return (self.ub - self.global_lb()) / max(abs(self.ub), 1e-12)

    # -- node data ----------------------------------------------------------------------------

    def model(self, node: Node) -> NodeModel:
        n, k, lmin = self.p.n, self.p.k, max(self.p.min_size, 1)
        w, sums = self.super_points(node)
        r = len(node.anchors)
        flo, fhi = free_range(node.size_lo, node.size_hi, n, k - r, lmin) if r < k else (1, 1)
        lows = list(node.size_lo) + ([flo] if r < k else [])
        highs = list(node.size_hi) + ([fhi] if r < k else [])
        lo = np.maximum(w, min(lows))
        hi = np.full(w.size, max(highs))
        for j, a in enumerate(node.anchors):
            lo[a], hi[a] = max(node.size_lo[j], w[a]), node.size_hi[j]
        return NodeModel(weights=w, sums=sums, anchors=list(node.anchors),
                         cannot=sorted(node.cannot), anchor_lo=list(node.size_lo),
                         anchor_hi=list(node.size_hi), lo=lo, hi=np.maximum(hi, lo),
                         free_lo=flo, free_hi=max(fhi, flo), entropy=self.p.entropy,
                         tri=node.tri, gtri=node.gtri)

    def super_points(self, node: Node) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Each super-point's weight (points merged into it) and coordinate sums."""
        w = np.bincount(node.groups)
        sums = np.zeros((w.size, self.p.x.shape[1]))
        np.add.at(sums, node.groups, self.p.x)
        return w, sums

    # -- upper bounds -------------------------------------------------------------------------

    def objective(self, labels: NDArray[np.int64]) -> float:
        """Profiled Problem (4) of point labels (whitened data: 1/2 SSE + entropy; 1/2 SSE
        alone with equal proportions)."""
        k, n = self.p.k, self.p.n
        counts = np.bincount(labels, minlength=k)
        if np.any(counts == 0):
            return np.inf
        sums = np.zeros((k, self.p.x.shape[1]))
        np.add.at(sums, labels, self.p.x)
        sse = self.sq_total - float(((sums ** 2).sum(1) / counts).sum())
        return 0.5 * sse + (float(cluster_entropy(counts, n).sum()) if self.p.entropy else 0.0)

    def local_search(self, node: Node, sp_labels: NDArray[np.int64]) -> NDArray[np.int64]:
        """Hard-assignment EM (CEM) on super-points with the anchors' clusters fixed."""
        k = self.p.k
        w, sums = self.super_points(node)
        w = w.astype(float)
        lab = sp_labels.copy()
        anchors = np.asarray(node.anchors, dtype=np.int64)
        for _ in range(100):
            cnt = np.bincount(lab, weights=w, minlength=k)
            if np.any(cnt == 0):
                break
            mu = np.zeros((k, sums.shape[1]))
            np.add.at(mu, lab, sums)
            mu /= cnt[:, None]
            new = np.argmin(assignment_cost(sums, w, mu, self.p.weights(cnt)), axis=1)
            new[anchors] = np.arange(anchors.size)
            if np.array_equal(new, lab):
                break
            lab = new
        return lab

    def try_incumbent(self, node: Node, z: NDArray[np.float64] | None,
                      others: Sequence[NDArray[np.float64]] = ()) -> None:
        """Upper bounds from a node's SDP solution: with K anchors, each super-point to the
        anchor it shares most with, then the local search with the anchors fixed; at every
        node also the *centroid rounding* (:meth:`rounded`) of ``z`` and of the node's other
        cut rounds' solutions ``others``, free of the node's branching (any clustering that
        satisfies the constraints is an upper bound)."""
        k = self.p.k
        if z is None:
            return
        cands: list[tuple[Node, NDArray[np.int64]]] = []
        if len(node.anchors) == k:
            a = np.asarray(node.anchors)
            t = np.maximum(np.diag(z)[a], 1e-12)
            frac = z[a, :] / t[:, None]
            sp = np.argmax(frac, axis=0)
            sp[a] = np.arange(k)
            cands += [(node, sp), (node, self.local_search(node, sp))]
        free = replace(node, anchors=[])
        for z_r in (z, *others):
            rounded = self.rounded(node, z_r)
            if rounded is not None:
                cands.append((free, self.local_search(free, rounded)))
        for owner, cand in cands:
            labels = cand[owner.groups]
            value = self.objective(labels)
            if value < self.ub - 1e-9 * abs(self.ub) and self.feasible(labels):
                self.ub, self.best_labels = value, labels
                how = "rounding" if owner is free else "anchors"
                self.notes.append(f"incumbent {value:.6f} from node {self.nodes} "
                                  f"({node.branch}; {how})")

    def rounded(self, node: Node, z: NDArray[np.float64]) -> NDArray[np.int64] | None:
        """Centroid rounding of a node's Peng-Wei matrix (as exact MSSC solvers round theirs):
        row s of ``Z X_sums`` is the mean of s's cluster when Z is a clustering's matrix, so
        weighted K-means (10 starts, seeded) on those rows gives super-point labels. Measured on
        glass, K = 6, first node (plain bound, MSSC 69.02): the rounding and the local search give
        72.9647, the optimum, where 1,000 K-means starts on the data give 73.3686 and the
        search's starts 73.5293."""
        from sklearn.cluster import KMeans  # (lazy: job start-up)

        w, sums = self.super_points(node)
        if w.size < self.p.k or z.shape != (w.size, w.size) or not np.isfinite(z).all():
            return None
        feats = z @ sums
        with warnings.catch_warnings():   # (fewer distinct rows than K: still labels)
            warnings.simplefilter("ignore")
            km = KMeans(n_clusters=self.p.k, n_init=10, random_state=0).fit(
                feats, sample_weight=w)
        return km.labels_.astype(np.int64)

    def evaluate_leaf(self, node: Node) -> None:
        """A node whose K super-points are its anchors, or (pair branching) K super-points
        without anchors, each its own cluster: score it if its sizes fit."""
        w = np.bincount(node.groups)[node.anchors]
        if len(node.size_lo) and (np.any(w < node.size_lo) or np.any(w > node.size_hi)):
            return
        labels = np.empty(self.p.n, dtype=np.int64)
        for j, a in enumerate(node.anchors):
            labels[node.groups == a] = j
        if not node.anchors:   # (pair branching: K super-points, each its own cluster)
            if np.bincount(node.groups).min() < max(self.p.min_size, 1):
                return
            labels = node.groups.copy()
        value = self.objective(labels)
        if value < self.ub and self.feasible(labels):
            self.ub, self.best_labels = value, labels
        if value < self.ub + self.rel_gap * abs(self.ub):
            self.pruned_lb = min(self.pruned_lb, value)

    # -- reduced-cost fixing -------------------------------------------------------------------

    def fix(self, node: Node, merged: NDArray[np.float64]) -> str:
        """Reduced-cost fixing: super-point b may not join anchor j when the node's Lagrangian,
        restricted to the clusterings where it does (``merged[b, j]``, from
        :meth:`Lagrangian.merged_bounds`), already reaches the pruning level; (b, a_j) becomes a
        cannot-link. With all K clusters anchored, a point left with one anchor joins it.
        Returns "" (nothing fixed), "links" (cannot-links added; the node's solution still
        indexes it), "reduced" (points merged: solve again) or "empty" (no clustering of the
        node is below the pruning level)."""
        level = self.level()
        anchors = node.anchors
        k, r = self.p.k, len(anchors)
        new_links: set[tuple[int, int]] = set()
        forced: list[tuple[int, int]] = []
        for b in range(node.m):
            if b in anchors:
                continue
            allowed = []
            for j, a in enumerate(anchors):
                pair = (min(a, b), max(a, b))
                if pair in node.cannot:
                    continue
                value = float(merged[b, j])
                if value >= level:
                    new_links.add(pair)
                    self.pruned_lb = min(self.pruned_lb, value)
                else:
                    allowed.append(a)
            if r == k and not allowed:
                return "empty"
            if r == k and len(allowed) == 1:
                forced.append((b, allowed[0]))
        if not new_links:
            return ""
        self.fixed += len(new_links)
        node.cannot = node.cannot | frozenset(new_links)
        if not forced:
            return "links"
        reduced = merge_into_anchors(node, forced, node.branch, node.depth)
        if reduced is None:
            return "empty"
        node.groups, node.anchors, node.cannot = reduced.groups, reduced.anchors, reduced.cannot
        node.tri, node.gtri = reduced.tri, reduced.gtri   # (renumbered with the merges)
        return "reduced"

    # -- branching ----------------------------------------------------------------------------

    def children(self, node: Node, z: NDArray[np.float64]) -> list[Node]:
        k, n, lmin = self.p.k, self.p.n, max(self.p.min_size, 1)
        anchors = node.anchors
        r = len(anchors)
        if r == 0 and self.p.branching == "pairs":
            return self._pair_children(node, z)
        if r == 0:
            seeds = self._seeds(node)
            if len(seeds) > 1:
                return self._seed_children(node, seeds)
            first = self._first_anchor(node)
            lo, hi = free_range([], [], n, k, lmin)
            return [Node(node.groups, [first], node.cannot, [max(lo, int(
                np.bincount(node.groups)[first]))], [hi], node.depth, "anchor 0")]
        a = np.asarray(anchors)
        t = np.maximum(np.diag(z)[a], 1e-12)
        frac = z[a, :] / t[:, None]
        errors = []
        for j in range(r):
            lo, hi = node.size_lo[j], node.size_hi[j]
            if hi == lo or not self.p.entropy:   # (equal proportions: no size branching)
                errors.append(-1.0)
                continue
            size = float(np.clip(1.0 / t[j], lo, hi))
            errors.append(float(cluster_entropy(size, n))
                          - hull_value(cluster_hull(lo, hi, n), 1.0 / size))
        # a free cluster of at least n/K points gets its anchor before any size bisection:
        # measured on wine (seeds of two clusters merged, sizes [2, 12] x [1, 22], bound 1303.7),
        # bisection gives children 1301-1304, the anchoring 1333.4, 1321.9 and 1927.3; after
        # 600 s the weakest such subtree is at 1327.6 against 1312.1 without the rule
        big_free = False
        if r == k - 1 and self.p.entropy:   # the free cluster's range follows the anchored
            # ones: split the widest
            flo, fhi = free_range(node.size_lo, node.size_hi, n, 1, lmin)
            big_free = flo * k >= n
            if fhi > flo:
                widths = np.array(node.size_hi) - np.array(node.size_lo)
                j_w = int(np.argmax(widths))
                size = float(np.clip(n - sum(1.0 / t), flo, fhi))
                free_err = float(cluster_entropy(size, n)) - min(
                    float(cluster_entropy(flo, n)), float(cluster_entropy(fhi, n)))
                if widths[j_w] > 0 and free_err > errors[j_w]:
                    errors[j_w] = free_err
        j = int(np.argmax(errors))
        fractional = 1.0 - frac.max(axis=0) if r == k else 1.0 - frac.sum(axis=0)
        fractional[a] = -np.inf
        s = int(np.argmax(fractional))
        slack = 0.2 * self.rel_gap * abs(self.ub) if np.isfinite(self.ub) else 0.0
        if not big_free and (errors[j] > slack or (errors[j] > 0 and fractional[s] <= 1e-6)):
            return self._size_children(node, j, t[j])
        if r < k:   # probe: s joins an anchor, or starts a new cluster
            cover = frac.sum(axis=0)
            cover[a] = np.inf
            b = int(np.argmin(cover))
            kids = [merge(node, b, int(aj), f"{b} joins anchor {i}") for i, aj in enumerate(a)]
            lo = list(node.size_lo) + [max(lmin, int(np.bincount(node.groups)[b]))]
            hi = list(node.size_hi) + [n]
            ranged = tighten_sizes(lo, hi, n, k - r - 1, lmin)
            if ranged is not None:
                kids.append(Node(node.groups, [*anchors, b], node.cannot | {
                    (min(b, int(aj)), max(b, int(aj))) for aj in a}, ranged[0], ranged[1],
                    node.depth + 1, f"{b} is anchor {r}"))
            return [c for c in kids if c is not None]
        kids = [merge(node, s, int(aj), f"{s} joins anchor {i}") for i, aj in enumerate(a)]
        return [c for c in kids if c is not None]

    def _size_children(self, node: Node, j: int, t_j: float) -> list[Node]:
        """Split cluster j's size range [lo, hi] into [lo, c] and [c + 1, hi]. ``size_split``
        "midpoint": c = (lo + hi) // 2 when the range is wider than 8, else the SDP size;
        "sdp": always the SDP size, c = floor(1/t_j) clipped to [lo, hi - 1] (docs/exact.md,
        "Splitting sizes at the SDP's size")."""
        n, k, lmin = self.p.n, self.p.k, max(self.p.min_size, 1)
        lo, hi = node.size_lo[j], node.size_hi[j]
        at_sdp = int(np.clip(np.floor(1.0 / t_j), lo, hi - 1))
        cut = (lo + hi) // 2 if self.p.size_split == "midpoint" and hi - lo > 8 else at_sdp
        kids = []
        for new_lo, new_hi in ((lo, cut), (cut + 1, hi)):
            slo, shi = list(node.size_lo), list(node.size_hi)
            slo[j], shi[j] = new_lo, new_hi
            ranged = tighten_sizes(slo, shi, n, k - len(node.anchors), lmin)
            if ranged is not None:
                kids.append(Node(node.groups, list(node.anchors), node.cannot, ranged[0],
                                 ranged[1], node.depth + 1, f"n_{j} in [{new_lo}, {new_hi}]"))
        return kids

    def _pair_children(self, node: Node, z: NDArray[np.float64]) -> list[Node]:
        """Branching on a pair (equal proportions, as SOS-SDP branches): the super-points s, t
        whose correlation ``r = Z_st / sqrt(Z_ss Z_tt)`` (1 together, 0 apart at every
        clustering) is most ambiguous, ``min(r, 1 - r)`` largest, among the pairs not
        cannot-linked; children: s and t merged (must-link), and (s, t) cannot-linked. Every
        clustering of the node lies in exactly one."""
        m = node.m
        if z.shape != (m, m):   # (a failed solve's neutral point: any pair will do)
            z = np.full((m, m), 1.0 / m)
        d = np.sqrt(np.maximum(np.diagonal(z), 1e-12))
        corr = z / np.outer(d, d)
        ambiguity = np.minimum(corr, 1.0 - corr)
        iu, iv = np.triu_indices(m, 1)
        score = np.nan_to_num(ambiguity[iu, iv], nan=0.0, posinf=0.0, neginf=0.0)
        if node.cannot:
            cs, ct = np.array(sorted(node.cannot)).T
            score[np.isin(iu * m + iv, cs * m + ct)] = -np.inf
        best = int(np.argmax(score))
        if score[best] == -np.inf:   # every pair cannot-linked: no clustering beyond a leaf
            return []
        s, t = int(iu[best]), int(iv[best])
        kids = [merge(node, t, s, f"{t} with {s}"),
                Node(node.groups, [], node.cannot | {(s, t)}, [], [], node.depth + 1,
                     f"{t} apart from {s}")]
        return [c for c in kids if c is not None]

    def _seeds(self, node: Node) -> list[int]:
        """One super-point per incumbent cluster: the member with the largest *relocation
        margin*, the rise of its hard-assignment cost ``1/2 |x_i - mu_c|^2 - log pi_c`` when it
        moves to its next-best cluster (none without an incumbent, or when K > 5: the Bell
        number of seed partitions grows too fast). Moving a seed away costs about its margin (at
        the incumbent's means and weights), so the children that merge seeds of different
        clusters are far from the incumbent.
        Measured on wine: margins 29.3, 29.5, 28.6 against 11.5, 11.7, 22.6 for the points
        nearest the means; root children's bounds 1213-1237 against 1196-1215, and after 600 s
        on one core the global bound 1311.3 against 1291.8."""
        lab = self.best_labels
        if lab is None or not 2 <= self.p.k <= 5:
            return []
        k, x, n = self.p.k, self.p.x, self.p.n
        counts = np.bincount(lab, minlength=k)
        if np.any(counts == 0):
            return []
        means = np.array([x[lab == c].mean(axis=0) for c in range(k)])
        cost = assignment_cost(x, np.ones(n), means, self.p.weights(counts))
        own = cost[np.arange(n), lab]
        cost[np.arange(n), lab] = np.inf
        margin = cost.min(axis=1) - own
        seeds: list[int] = []
        for c in range(k):
            members = np.flatnonzero(lab == c)
            i = members[np.argmax(margin[members])]
            if int(node.groups[i]) not in seeds:
                seeds.append(int(node.groups[i]))
        return seeds

    def _seed_children(self, node: Node, seeds: list[int]) -> list[Node]:
        """Root branching on the partition of the seeds among clusters: each clustering puts
        the seeds into exactly one set partition (Bell(K) children); a child merges each block
        (must-link), makes the blocks its anchors and cannot-links them. The child with K
        singleton blocks has all clusters identified at once, where the bound is strongest."""
        n, k, lmin = self.p.n, self.p.k, max(self.p.min_size, 1)
        kids = []
        for blocks in set_partitions(seeds):
            pairs = [(b, block[0]) for block in blocks for b in block[1:]]
            child = merge_into_anchors(node, pairs, "", node.depth + 1)
            if child is None:
                continue
            anchors = [int(child.groups[np.flatnonzero(node.groups == block[0])[0]])
                       for block in blocks]
            w = np.bincount(child.groups)
            ranged = tighten_sizes([max(lmin, int(w[a])) for a in anchors], [n] * len(anchors),
                                   n, k - len(anchors), lmin)
            if ranged is None:
                continue
            child.anchors = anchors
            child.cannot = child.cannot | {(min(a, b), max(a, b)) for a in anchors
                                           for b in anchors if a < b}
            child.size_lo, child.size_hi = ranged
            child.branch = "seeds " + " | ".join(",".join(map(str, block)) for block in blocks)
            kids.append(child)
        return kids

    def _first_anchor(self, node: Node) -> int:
        """The super-point nearest the largest incumbent cluster's mean (any point would do)."""
        lab = self.best_labels
        if lab is None:
            return int(node.groups[0])
        big = int(np.argmax(np.bincount(lab, minlength=self.p.k)))
        centre = self.p.x[lab == big].mean(axis=0)
        i = int(np.argmin(((self.p.x - centre) ** 2).sum(axis=1)))
        return int(node.groups[i])

    # -- main loop ----------------------------------------------------------------------------

    def _next_solve(self, start: float
                    ) -> tuple[float, Node, NodeModel, dict, Refinement | None] | None:
        """Pop the best open node; settle it when no solve is needed (pruned, root seeds, too
        few super-points, sizes that do not fit, a leaf) and return None, else return it with
        its model and the solver options."""
        parent_bound, _, node = heapq.heappop(self.queue)
        if parent_bound >= self.level():
            self.pruned_lb = min(self.pruned_lb, parent_bound)
            return None
        pairs = self.p.branching == "pairs" and not node.anchors
        if len(node.anchors) == 0 and not pairs and (
                self.p.entropy or np.isfinite(parent_bound) or len(self._seeds(node)) < 2):
            for child in self.children(node, np.zeros((1, 1))):
                self.push(child, parent_bound)
            return None
        # (equal proportions: a root that branches into its seeds' partitions is solved first,
        # so the search has a finite bound at once and, with cut rounds, every seed child
        # starts from the root's cuts; docs/exact.md, "Centroid rounding, separated cuts and
        # pair branching")
        if node.m < self.p.k:   # fewer super-points than clusters: no clustering here
            return None
        w = np.bincount(node.groups)   # anchors' weights bound their clusters' sizes
        ranged = tighten_sizes([max(lo, int(w[a])) for lo, a in
                                zip(node.size_lo, node.anchors, strict=True)],
                               node.size_hi, self.p.n, self.p.k - len(node.anchors),
                               max(self.p.min_size, 1))
        if ranged is None:
            return None
        node.size_lo, node.size_hi = ranged
        if node.m == self.p.k and (pairs or len(node.anchors) == self.p.k):
            self.evaluate_leaf(node)   # a leaf: one clustering
            return None
        self.nodes += 1
        options = dict(self.p.solver_options)
        refine = None
        if self.p.solver == "SCS" and "eps_abs" not in options and "eps_rel" not in options:
            # loose first (the safe bound absorbs the residuals); warm-started at 1e-5 when
            # the bound lands within 0.5 % below the pruning level. Measured on wine, three
            # anchors, sizes within 40 of the optimum's: 1e-5 alone 1334.30 in 48 s, 1e-4
            # alone 1330.67 in 8 s, 1e-4 then 1e-5 1334.32 in 26 s
            options.update(eps_abs=1e-4, eps_rel=1e-4)
            level = self.level()
            if np.isfinite(level):
                refine = Refinement(level - self.refine_window(), level,
                                    {"eps_abs": 1e-5, "eps_rel": 1e-5})
        # a node's solve never overruns the time limit (ADMM: the bound of the best
        # multipliers so far)
        if self.p.solver in ("SCS", "ADMM"):
            left = max(1.0, self.time_limit_s - (time.perf_counter() - start))
            cap = self.p.node_time_limit_s
            options.setdefault("time_limit_secs", left if cap is None else min(left, cap))
        return parent_bound, node, self.model(node), options, refine

    def refine_window(self) -> float:
        """How far below the pruning level a node's first bound (SCS at 1e-4) may land and
        still be solved again at 1e-5: 0.5 % of the incumbent, and once
        :data:`REFINE_LEARN` nodes were refined, at most :data:`REFINE_REACH` times the largest
        rise a refinement gave so far in this search, because a bound further below the level
        than any refinement ever lifted one is unlikely to reach it. The SCS error at 1e-4
        differs between data sets: on pam50-4d the refinements of a 300-s search rose 0.45 at
        most, on wine 4.0 (docs/exact.md, "Refining a node's bound")."""
        window = 0.005 * abs(self.ub)
        if len(self.refine_gains) >= REFINE_LEARN:
            window = min(window, REFINE_REACH * max(self.refine_gains))
        return window

    def _settle(self, node: Node, parent_bound: float, res: BoundResult,
                merged: NDArray[np.float64] | None, seconds: float) -> None:
        """Use a node's bound: incumbent from its solution, prune, fix (``merged``: the
        Lagrangian's bounds with one point merged into one anchor), or branch."""
        bound = max(parent_bound, res.safe)
        log.debug("node (%s): %d anchors, m %d, sizes %s..%s, bound %.4f (%s%s%s), %.1f s",
                  node.branch, len(node.anchors), node.m, node.size_lo, node.size_hi, bound,
                  res.status, ", refined" if "refined" in res.notes else "",
                  ", warm" if res.warm_started else "", seconds)
        self.warm_starts += res.warm_started
        if res.refine_gain is not None:
            self.refine_gains.append(res.refine_gain)
        if res.safe == np.inf:
            return   # the solver's infeasibility certificate: no clustering in this node
        if res.z is None:
            self.notes.append(f"node {self.nodes}: conic solve failed ({res.status}); "
                              "its parent's bound is kept")
        self.try_incumbent(node, res.z, res.round_z)
        if res.tri is not None:   # cuts "separated": the node's triangles (renumbered by fixing)
            node.tri = res.tri
        if res.gtri is not None:   # cut rounds: the node's separated cuts (the same)
            node.gtri = res.gtri
        if bound >= self.level():
            self.pruned_lb = min(self.pruned_lb, bound)
        elif merged is not None and (fixed := self.fix(node, merged)) in (
                "reduced", "empty"):
            if fixed == "reduced":   # forced merges renumber the super-points: solve again
                self.push(node, bound)
        else:   # the cannot-links that fixing added pass on to the children
            # a failed solve still branches (any branching partitions the node), from a
            # neutral point: sizes are bisected, anchors grow
            m = node.m
            z = res.z if res.z is not None else np.full((m, m), 1.0 / m)
            for child in self.children(node, z):
                if isinstance(res.warm, AdmmStart):   # ADMM: mapped to the child's points
                    child.warm = replace(res.warm, to_child=_merge_map(node.groups, child.groups)
                                         if child.m != m else np.arange(m))
                elif child.m == m and len(child.anchors) == len(node.anchors):
                    child.warm = res.warm   # same layout unless fixing added cannot-links
                if res.tri is not None:   # cuts "separated": start from this node's triangles
                    child.tri = res.tri if child.m == m else _remapped(
                        res.tri, _merge_map(node.groups, child.groups))
                if res.gtri is not None:   # cut rounds: start from its separated cuts
                    child.gtri = res.gtri if child.m == m else remapped_cuts(
                        res.gtri, _merge_map(node.groups, child.groups))
                self.push(child, bound)

    def run(self, threads: int = 1) -> str:
        """Best-first search until the gap closes, the time or node limit is reached. With
        ``threads`` > 1 that many node bounds are solved at once in worker processes (the
        order of solves then depends on timing; every bound stays certified); nodes still in
        flight at the limit go back to the queue with their parents' bounds.

        The time limit holds to about a second: a node with more than
        :data:`WORKER_MIN_POINTS` super-points is solved in a worker process even with one
        thread (the conic solver's set-up, the KKT factorisation, cannot be interrupted inside
        this process: measured 17.5 s for the root of a 440-point instance), and the worker is
        stopped at the limit; reduced-cost fixing is skipped once the limit has passed."""
        start = time.perf_counter()
        last_log = start
        pool = _node_pool(threads) if threads > 1 else None
        flight = self.flight
        try:
            while self.queue or flight:
                if time.perf_counter() - start > self.time_limit_s:
                    return "time_limit"
                if self.node_limit is not None and self.nodes >= self.node_limit:
                    return "node_limit"
                while self.queue and len(flight) < max(threads, 1):
                    job = self._next_solve(start)
                    if job is None:
                        continue
                    parent_bound, node, model, options, refine = job
                    left = self.time_limit_s - (time.perf_counter() - start)
                    args = (model, self.p.k, self.p.n, self.sq_total, self.p.solver, options,
                            self.p.cuts, refine, node.warm, self.level(), left,
                            self.p.cut_rounds, self.p.round_budget, self.p.round_cuts)
                    node.warm = None   # (a node put back after fixing has a new layout)
                    if pool is None and model.weights.size > WORKER_MIN_POINTS:
                        pool = _node_pool(1)   # (large node: stoppable at the time limit)
                    if pool is None:
                        self._settle(node, parent_bound, *_solve_node(*args))
                        break
                    flight[pool.submit(_solve_node, *args)] = (parent_bound, node)
                if flight:
                    left = self.time_limit_s - (time.perf_counter() - start)
                    done, _ = futures.wait(flight, timeout=max(left, 0.0) + 0.05,
                                           return_when=futures.FIRST_COMPLETED)
                    for fut in done:
                        parent_bound, node = flight.pop(fut)
                        self._settle(node, parent_bound, *fut.result())
                now = time.perf_counter()
                self.trace.append((now - start, self.ub, self.global_lb()))
                if now - last_log > 10.0:
                    last_log = now
                    log.info("exact: %.0f s, %d nodes, %d open, UB %.6f, LB %.6f, gap %.2e",
                             now - start, self.nodes, len(self.queue) + len(flight), self.ub,
                             self.global_lb(), self.gap())
            return "optimal"
        finally:
            for parent_bound, node in flight.values():   # unfinished: open again
                self.push(node, parent_bound)
            flight.clear()
            if pool is not None:   # (workers still on a node would run on: stop them)
                stop_pool(pool)


def _merge_map(parent: NDArray[np.int64], child: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each parent super-point's super-point in a child that merged some of them."""
    out = np.zeros(int(parent.max()) + 1, dtype=np.int64)
    out[parent] = child
    return out


def _solve_node(model: NodeModel, k: int, n: int, sq_total: float, solver: str, options: dict,
                cuts: str, refine: Refinement | None, warm: WarmStart | None, level: float,
                time_left: float = np.inf, cut_rounds: int = 0,
                round_budget: float = ROUND_BUDGET,
                round_cuts: tuple[int, int] = ROUND_CUTS
                ) -> tuple[BoundResult, NDArray[np.float64] | None, float]:
    """One node's certified bound, the table of its Lagrangian's bounds with one point merged
    into one anchor (for reduced-cost fixing; None when the bound reaches the pruning ``level``
    of the time of submission, which only falls, when there is no Lagrangian, or when the
    search's ``time_left`` at submission has run out) and the seconds it took. Run in a worker
    with threads > 1, so the eigenvalue problems of fixing run in parallel too."""
    t0 = time.perf_counter()
    res = sdp_bound(model, k, n, sq_total, solver=solver, solver_options=options, cuts=cuts,
                    refine=refine, warm=warm, stop_at=level, cut_rounds=cut_rounds,
                    round_budget=round_budget, round_cuts=round_cuts)
    merged = None   # (fixing excludes point-anchor pairs: nothing to fix without anchors)
    if res.lagrangian is not None and res.safe < level and model.anchors and \
            time.perf_counter() - t0 < time_left:
        merged = res.lagrangian.merged_bounds(set(cannot_pairs(model)), below=level)
    res.lagrangian = None   # (not needed by the search: not sent back)
    return res, merged, time.perf_counter() - t0


def _init_worker(parent: int) -> None:
    """A node worker: ends with the process ``parent`` that started it, one BLAS thread."""
    die_with_parent(parent)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # pragma: no cover - scikit-learn installs it
        return
    threadpool_limits(1)


def _node_pool(threads: int) -> futures.ProcessPoolExecutor:
    """Worker processes for node bounds (spawned: no fork of a threaded parent; the caller's
    script is not run again in them), one BLAS thread each so that ``threads`` workers use
    ``threads`` cores."""
    return ScriptSafePool(max_workers=threads, mp_context=multiprocessing.get_context("spawn"),
                          initializer=_init_worker, initargs=(os.getpid(),))
