"""Certified MAP clustering with two components in low dimension: branch-and-bound over directions.

For K = 2 with whitened, centred data ``x_i`` (sum_i x_i = 0), a cluster S of size m with
coordinate sum ``s_S`` has (the other cluster's sum is ``-s_S``)

    f(S) = 1/2 tr(X'X) + H(m) - n / (2 m (n - m)) |s_S|^2,
    H(m) = m log(n/m) + (n-m) log(n/(n-m)).

**Bound over a set of directions.** Let U be a region of the unit sphere whose directions lie
within angle eps of a unit vector u0 (eps < pi/2). For every S of size m whose direction
``s_S / |s_S|`` lies in U, ``u0's_S >= |s_S| cos(eps)`` and ``u0's_S <= h_m(u0)``, the sum of the m
largest projections ``u0'x_i``. Hence

    f(S) >= 1/2 tr(X'X) + H(m) - n / (2 m (n - m)) h_m(u0)^2 / cos(eps)^2,

and the minimum over m is a lower bound of f over every clustering whose direction lies in U.
The loss against the best split along u0 is of order eps^2 (quadratic: |s_S| is flat in the
direction at its maximiser), so a fine cover certifies to any gap. The sets S and its
complement have opposite directions, so the faces ``u_j = max_i |u_i| > 0`` of the cube around
the sphere cover every clustering; each face is a (d-1)-box of gnomonic coordinates, bisected
on its longest side (best first). The angle of a box is attained at a corner (the box is
geodesically convex), so ``eps`` is the largest angle between the centre and the corners.

**Equal proportions** (``entropy=False``): the objective is ``1/2 SSE`` alone (``H(m)`` is
dropped: the constant ``n log 2`` of pi = 1/2 is added by the caller), the same bound applies.

**Incumbents.** At each box centre the best split into the m largest projections (any m) is
scored exactly. The search needs O(n log n) work per box and about ``eps^-(d-1)`` boxes near
the optimum, so it suits small d (the ``brca`` data of Table 2: n = 569, d = 3); the SDP search
(:mod:`mixopt.methods.map.exact.bnb`) handles any K and d.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger("mixopt.methods.exact")


@dataclass
class DirectionResult:
    """Outcome of :meth:`DirectionSearch.run`: the best split found and the certified bound."""

    labels: NDArray[np.int64]
    upper_bound: float
    lower_bound: float
    status: str
    boxes: int
    trace: list[tuple[float, float, float]] = field(default_factory=list)


def _entropy(sizes: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """H(m) = m log(n/m) + (n-m) log(n/(n-m))."""
    return sizes * np.log(n / sizes) + (n - sizes) * np.log(n / (n - sizes))


def _directions(face: NDArray[np.int64], coords: NDArray[np.float64], d: int
                ) -> NDArray[np.float64]:
    """Unit directions of gnomonic coordinates ``coords`` (B x d-1) on the faces ``face`` (B)."""
    u = np.empty((coords.shape[0], d))
    for i in range(coords.shape[0]):   # the face axis (value 1) among the other coordinates
        u[i] = np.insert(coords[i], face[i], 1.0)
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def _box_angle(face: int, lo: NDArray[np.float64], hi: NDArray[np.float64], d: int
               ) -> tuple[NDArray[np.float64], float]:
    """Centre direction of a box and the largest angle between it and the box's corners."""
    centre = _directions(np.array([face]), ((lo + hi) / 2)[None, :], d)[0]
    corners = np.array(list(itertools.product(*zip(lo, hi, strict=True))))
    dirs = _directions(np.full(len(corners), face), corners, d)
    cos = float(np.clip((dirs @ centre).min(), -1.0, 1.0))
    return centre, float(np.arccos(cos))


class DirectionSearch:
    """Best-first search over boxes of directions (see the module doc); ``entropy=False``
    minimises ``1/2 SSE`` (equal proportions)."""

    def __init__(self, x: NDArray[np.float64], min_size: int = 1, entropy: bool = True) -> None:
        self.x = np.asarray(x, dtype=float)
        self.n, self.d = self.x.shape
        if self.d < 1:
            raise ValueError("direction search needs at least one dimension")
        self.half_trace = 0.5 * float((self.x ** 2).sum())
        lmin = max(int(min_size), 1)
        if 2 * lmin > self.n:
            raise ValueError(f"no two clusters of at least {lmin} points in {self.n} points")
        self.sizes = np.arange(lmin, self.n - lmin + 1)
        self.entropy = entropy
        self.base = self.half_trace + self._h(self.sizes.astype(float))
        self.scale = self.n / (2.0 * self.sizes * (self.n - self.sizes))

    def _h(self, sizes: NDArray[np.float64]) -> NDArray[np.float64]:
        """H(m), or 0 with equal proportions."""
        return _entropy(sizes, self.n) if self.entropy else np.zeros_like(sizes)

    def evaluate(self, u0: NDArray[np.float64], eps: float
                 ) -> tuple[float, float, NDArray[np.int64]]:
        """(lower bound over the box, best split objective along ``u0``, its cluster 1)."""
        proj = self.x @ u0
        order = np.argsort(-proj, kind="stable")
        idx = self.sizes - 1
        h = np.maximum(np.cumsum(proj[order])[idx], 0.0)
        bound = float((self.base - self.scale * h ** 2 / np.cos(eps) ** 2).min())
        sums = np.cumsum(self.x[order], axis=0)[idx]
        values = self.base - self.scale * (sums ** 2).sum(axis=1)
        best = int(np.argmin(values))
        return bound, float(values[best]), order[: self.sizes[best]]

    def objective(self, labels: NDArray[np.int64]) -> float:
        """f of a two-cluster labelling (inf when a cluster breaks the size limits)."""
        m = int((labels == 0).sum())
        if m < self.sizes[0] or m > self.sizes[-1]:
            return np.inf
        s = self.x[labels == 0].sum(axis=0)
        return float(self.half_trace + self._h(np.array([m], float))[0]
                     - self.n / (2.0 * m * (self.n - m)) * float(s @ s))

    def run(self, rel_gap: float = 1e-4, time_limit_s: float = 3600.0,
            labels0: NDArray[np.int64] | None = None,
            max_boxes: int | None = None) -> DirectionResult:
        start = last_log = time.perf_counter()
        n, d = self.n, self.d
        best = np.zeros(n, dtype=np.int64) if labels0 is None else np.asarray(labels0).copy()
        ub = self.objective(best) if labels0 is not None else np.inf
        queue: list[tuple[float, int, int, NDArray[np.float64], NDArray[np.float64]]] = []
        counter = itertools.count()
        trace: list[tuple[float, float, float]] = []
        pruned = np.inf
        boxes = 0

        def push(face: int, lo: NDArray[np.float64], hi: NDArray[np.float64],
                 parent: float) -> None:
            nonlocal ub, best, boxes, pruned
            boxes += 1
            if d == 1:
                centre, eps = np.ones(1), 0.0
            else:
                centre, eps = _box_angle(face, lo, hi, d)
            bound = -np.inf
            if eps < np.pi / 2 - 1e-9:
                bound, value, top = self.evaluate(centre, eps)
                if value < ub:
                    labels = np.ones(n, dtype=np.int64)
                    labels[top] = 0
                    ub, best = value, labels
            bound = max(bound, parent)
            if bound >= ub - rel_gap * abs(ub):
                pruned = min(pruned, bound)
            else:
                heapq.heappush(queue, (bound, next(counter), face, lo, hi))

        for face in range(d):
            push(face, -np.ones(d - 1), np.ones(d - 1), -np.inf)
        status = "optimal"
        while queue:
            bound, _, face, lo, hi = queue[0]
            if bound >= ub - rel_gap * abs(ub):
                pruned = min(pruned, bound)
                heapq.heappop(queue)
                continue
            now = time.perf_counter()
            if now - start > time_limit_s:
                status = "time_limit"
                break
            if max_boxes is not None and boxes >= max_boxes:
                status = "node_limit"
                break
            heapq.heappop(queue)
            j = int(np.argmax(hi - lo))
            mid = 0.5 * (lo[j] + hi[j])
            left_hi, right_lo = hi.copy(), lo.copy()
            left_hi[j], right_lo[j] = mid, mid
            push(face, lo, left_hi, bound)
            push(face, right_lo, hi, bound)
            lb = min(queue[0][0] if queue else np.inf, pruned, ub)
            trace.append((now - start, ub, lb))
            if now - last_log > 10.0:
                last_log = now
                log.info("exact (K=2 directions): %.0f s, %d boxes, %d open, UB %.6f, LB %.6f",
                         now - start, boxes, len(queue), ub, lb)
        lb = min(queue[0][0] if queue else np.inf, pruned, ub)
        trace.append((time.perf_counter() - start, ub, lb))
        return DirectionResult(best, float(ub), float(lb), status, boxes, trace)
