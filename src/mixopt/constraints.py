"""Side constraints on MAP clustering (Flaherty et al., Sec. 3 and 4.1), shared by all methods.

Problem (4) already requires ``sum_k z_ik = 1``, ``z_ik in {0,1}``, ``pi`` on the simplex and
``mu`` in the data box. Sec. 3 adds prior knowledge as constraints; Sec. 4.1 uses two of them
(``pi_1 <= ... <= pi_K`` and ``sum_i z_ik >= 1``) for every method that admits constraints. With
``I`` a set of points, ``c`` a component and ``L`` a count (all indices 0-based):

**The model.** "K clusters" means K *non-empty* clusters: ``min_size`` defaults to 1 for every
method (CLI, Python API, workflow). ``min_size: 0`` asks for *at most* K clusters (a component may
stay empty, with ``pi_k = 0``). A method that cannot honour the model it is asked to solve refuses
with :class:`~mixopt.methods.base.ModelNotSupportedError`; it never answers a different model.

=============  ===========================================  ===============================
key            constraint                                   YAML entry
=============  ===========================================  ===============================
min_size       ``sum_i z_ik >= L`` for every k (default 1)  ``min_size: 1``
pi_order       ``pi_1 <= pi_2 <= ... <= pi_K``              ``pi_order: true``
must_link      ``z_ik = z_jk`` for all k                    ``must_link: [[0, 5], [3, 4]]``
cannot_link    ``z_ik + z_jk <= 1`` for all k               ``cannot_link: [[1, 2]]``
implies        ``z_jk <= z_ik`` for all k (j in k => i)     ``implies: [[7, 8]]`` (j=7, i=8)
packing        ``sum_{i in I} z_ic <= L``                   ``{points: [..], component: c,
                                                            at_most: L}``
partition      ``sum_{i in I} z_ic = L``                    ``{..., exactly: L}``
cover          ``sum_{i in I} z_ic >= L``                   ``{..., at_least: L}``
known_labels   ``z_ic = 1``                                 ``{0: 1, 12: 0}`` or ``[[0, 1]]``
mu_bounds      ``lower_kj <= mu_kj <= upper_kj``            ``{lower: .., upper: ..}``
=============  ===========================================  ===============================

``packing``, ``partition`` and ``cover`` take lists of such mappings. ``mu_bounds.lower`` and
``.upper`` are each a scalar, a length-d list or a K x d nested list (either may be omitted;
``.inf`` is no bound); they intersect the data box. Because every row of z sums to one, an
implication ``z_jk <= z_ik`` for all k forces ``z_j = z_i`` (also in the relaxation), so for
feasibility reasoning implications act like must-links.

:meth:`Constraints.validate` rejects contradictions before any solver runs;
:meth:`Constraints.violations` lists what an assignment breaks; :meth:`Constraints.linear_system`
and :func:`mixopt.methods.map.formulations.add_side_constraints` hand the constraints to the
local and the global methods.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

Pair = tuple[int, int]
SET_KINDS = {"packing": "at_most", "partition": "exactly", "cover": "at_least"}
_PAIR_KEYS = ("must_link", "cannot_link", "implies")
KNOWN_KEYS = ("min_size", "pi_order", *_PAIR_KEYS, *SET_KINDS, "known_labels", "mu_bounds")


class ConstraintSpecError(ValueError):
    """A constraint specification is malformed (unknown key, wrong type or shape)."""


class InfeasibleConstraintsError(ValueError):
    """The side constraints contradict each other or the problem size: no clustering satisfies
    them."""


def _as_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConstraintSpecError(f"{where}: expected an integer, got {value!r}")
    return int(value)


def _as_pair(value: Any, where: str) -> Pair:
    if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConstraintSpecError(f"{where}: expected a pair [i, j] of point indices, "
                                  f"got {value!r}")
    return _as_int(value[0], f"{where}[0]"), _as_int(value[1], f"{where}[1]")


def _as_bound(value: Any, where: str) -> NDArray[np.float64] | None:
    if value is None:
        return None
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ConstraintSpecError(f"{where}: expected a number or a (nested) list of numbers, "
                                  f"got {value!r}") from None
    if arr.ndim > 2 or np.isnan(arr).any():
        raise ConstraintSpecError(f"{where}: expected a scalar, a length-d or a K x d array "
                                  f"without NaN, got {value!r}")
    arr.setflags(write=False)
    return arr


def _fmt_set(kind: str, idx: int, s: SetConstraint) -> str:
    return (f"{kind}[{idx}] (points {list(s.points)}, component {s.component}, "
            f"{SET_KINDS[kind]} {s.count})")


@dataclass(frozen=True)
class SetConstraint:
    """``sum_{i in points} z_{i, component}`` compared with ``count`` (packing/partition/cover)."""

    points: tuple[int, ...]
    component: int
    count: int

    def __post_init__(self) -> None:
        pts = self.points
        if isinstance(pts, str | bytes) or not hasattr(pts, "__iter__"):
            raise ConstraintSpecError(f"points: expected a list of point indices, got {pts!r}")
        pts = tuple(_as_int(p, f"points[{m}]") for m, p in enumerate(pts))
        if not pts:
            raise ConstraintSpecError("points: the set must not be empty")
        dupes = sorted({p for p in pts if pts.count(p) > 1})
        if dupes:
            raise ConstraintSpecError(f"points: duplicated point indices {dupes}")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "component", _as_int(self.component, "component"))
        object.__setattr__(self, "count", _as_int(self.count, "count"))

    @classmethod
    def from_dict(cls, entry: Any, kind: str, where: str) -> SetConstraint:
        """Parse ``{points: [...], component: c, <at_most|exactly|at_least>: L}``."""
        count_key = SET_KINDS[kind]
        if not isinstance(entry, dict):
            raise ConstraintSpecError(f"{where}: expected a mapping with keys points, component, "
                                      f"{count_key}; got {entry!r}")
        expected = {"points", "component", count_key}
        unknown = sorted(set(map(str, entry)) - expected)
        missing = sorted(expected - set(map(str, entry)))
        if unknown or missing:
            raise ConstraintSpecError(f"{where}: unknown keys {unknown}, missing keys {missing} "
                                      f"(a {kind} entry has keys {sorted(expected)})")
        try:
            return cls(entry["points"], entry["component"], entry[count_key])
        except ConstraintSpecError as exc:
            raise ConstraintSpecError(f"{where}.{exc}") from None

    def to_dict(self, kind: str) -> dict[str, Any]:
        return {"points": list(self.points), "component": self.component,
                SET_KINDS[kind]: self.count}


class _Links:
    """Union-find over must-link and implication edges, with the edge path between two points."""

    def __init__(self, n: int, edges: list[tuple[int, int, str]]) -> None:
        self.parent = list(range(n))
        self.adj: dict[int, list[tuple[int, str]]] = {}
        for a, b, name in edges:
            self.adj.setdefault(a, []).append((b, name))
            self.adj.setdefault(b, []).append((a, name))
            ra, rb = self.find(a), self.find(b)
            if ra != rb:
                self.parent[ra] = rb

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def path(self, a: int, b: int) -> str:
        """The chain of constraints linking ``a`` to ``b`` (breadth-first, shortest)."""
        prev: dict[int, tuple[int, str] | None] = {a: None}
        queue = deque([a])
        while queue and b not in prev:
            u = queue.popleft()
            for v, name in self.adj.get(u, []):
                if v not in prev:
                    prev[v] = (u, name)
                    queue.append(v)
        names: list[str] = []
        node = b
        while prev.get(node) is not None:
            u, name = prev[node]  # type: ignore[misc]
            names.append(name)
            node = u
        return ", ".join(reversed(names))


@dataclass(frozen=True, eq=False)
class Constraints:
    """Side constraints of Problem (4); see the module docstring for the meaning of each field.

    Lists are normalised to tuples and mu bounds to read-only float arrays; equality and hashing
    go through :meth:`to_dict`.
    """

    min_size: int = 1
    pi_order: bool = False
    must_link: tuple[Pair, ...] = ()
    cannot_link: tuple[Pair, ...] = ()
    implies: tuple[Pair, ...] = ()
    packing: tuple[SetConstraint, ...] = ()
    partition: tuple[SetConstraint, ...] = ()
    cover: tuple[SetConstraint, ...] = ()
    known_labels: tuple[Pair, ...] = ()
    mu_lower: NDArray[np.float64] | None = field(default=None)
    mu_upper: NDArray[np.float64] | None = field(default=None)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "min_size", _as_int(self.min_size, "min_size"))
        if self.min_size < 0:
            raise ConstraintSpecError(f"min_size: must be >= 0, got {self.min_size}")
        if not isinstance(self.pi_order, bool | np.bool_):
            raise ConstraintSpecError(f"pi_order: expected true or false, got {self.pi_order!r}")
        put(self, "pi_order", bool(self.pi_order))
        for key in (*_PAIR_KEYS, "known_labels"):
            value = getattr(self, key)
            if key == "known_labels" and isinstance(value, dict):
                value = list(value.items())
            if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                raise ConstraintSpecError(f"{key}: expected a list of pairs, got {value!r}")
            put(self, key, tuple(_as_pair(p, f"{key}[{m}]") for m, p in enumerate(value)))
        for kind in SET_KINDS:
            entries = []
            for m, s in enumerate(getattr(self, kind)):
                if not isinstance(s, SetConstraint):
                    s = SetConstraint.from_dict(s, kind, f"{kind}[{m}]")
                entries.append(s)
            put(self, kind, tuple(entries))
        put(self, "mu_lower", _as_bound(self.mu_lower, "mu_bounds.lower"))
        put(self, "mu_upper", _as_bound(self.mu_upper, "mu_bounds.upper"))

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def none(cls) -> Constraints:
        """No side constraints: Problem (4) with K non-empty clusters (the default model)."""
        return cls()

    @classmethod
    def paper_defaults(cls) -> Constraints:
        """The Table 2 setting (Sec. 4.1): ``sum_i z_ik >= 1`` and ``pi_1 <= ... <= pi_K``."""
        return cls(min_size=1, pi_order=True)

    @classmethod
    def from_dict(cls, spec: dict[str, Any] | None) -> Constraints:
        """Parse the YAML/dict form described in the module docstring."""
        if spec is None:
            return cls()
        if not isinstance(spec, dict):
            raise ConstraintSpecError(f"constraints: expected a mapping, got {spec!r}")
        unknown = sorted(str(key) for key in spec if key not in KNOWN_KEYS)
        if unknown:
            raise ConstraintSpecError(f"unknown constraint key(s) {unknown}; known keys: "
                                      f"{list(KNOWN_KEYS)}")
        kwargs: dict[str, Any] = {}
        for key in ("min_size", "pi_order", *_PAIR_KEYS):
            if spec.get(key) is not None:
                kwargs[key] = spec[key]
        for kind in SET_KINDS:
            entries = spec.get(kind) or []
            if not isinstance(entries, list | tuple):
                raise ConstraintSpecError(f"{kind}: expected a list of mappings, got {entries!r}")
            kwargs[kind] = tuple(SetConstraint.from_dict(e, kind, f"{kind}[{m}]")
                                 for m, e in enumerate(entries))
        known = spec.get("known_labels") or []
        if isinstance(known, dict):
            pairs = []
            for point, comp in known.items():
                if isinstance(point, str) and point.strip().lstrip("-").isdigit():
                    point = int(point)
                pairs.append(_as_pair((point, comp), f"known_labels[{point!r}]"))
            kwargs["known_labels"] = tuple(pairs)
        else:
            kwargs["known_labels"] = known
        bounds = spec.get("mu_bounds")
        if bounds is not None:
            if not isinstance(bounds, dict) or set(bounds) - {"lower", "upper"}:
                raise ConstraintSpecError(f"mu_bounds: expected a mapping with keys lower and/or "
                                          f"upper, got {bounds!r}")
            kwargs["mu_lower"], kwargs["mu_upper"] = bounds.get("lower"), bounds.get("upper")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the YAML form, known labels as [point, component] pairs)."""
        out: dict[str, Any] = {"min_size": self.min_size, "pi_order": self.pi_order}
        for key in _PAIR_KEYS:
            out[key] = [list(p) for p in getattr(self, key)]
        for kind in SET_KINDS:
            out[kind] = [s.to_dict(kind) for s in getattr(self, kind)]
        out["known_labels"] = [list(p) for p in self.known_labels]
        out["mu_bounds"] = {
            "lower": None if self.mu_lower is None else self.mu_lower.tolist(),
            "upper": None if self.mu_upper is None else self.mu_upper.tolist(),
        }
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraints) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))

    # -- properties --------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True when there is nothing beyond the default model (K non-empty clusters)."""
        return self == Constraints()

    @property
    def empty_clusters_allowed(self) -> bool:
        """True for ``min_size: 0`` (at most K clusters)."""
        return self.min_size == 0

    def keys_in_use(self) -> list[str]:
        """Constraint keys that restrict anything beyond the default model, in table order
        (``min_size`` counts when it differs from the default 1)."""
        used = ["min_size"] if self.min_size != 1 else []
        used += [key for key in ("pi_order", *_PAIR_KEYS, *SET_KINDS, "known_labels")
                 if getattr(self, key)]
        if self.mu_lower is not None or self.mu_upper is not None:
            used.append("mu_bounds")
        return used

    @property
    def names_components(self) -> bool:
        """True if some constraint refers to a specific component (known labels, set constraints,
        or mu bounds that differ between components), so components are not exchangeable."""
        if self.known_labels or self.packing or self.partition or self.cover:
            return True
        for arr in (self.mu_lower, self.mu_upper):
            if arr is not None and arr.ndim == 2 and arr.shape[0] > 1 and \
                    not np.all(arr == arr[:1]):
                return True
        return False

    def mu_box(
        self, k: int, d: int, lower: ArrayLike = -np.inf, upper: ArrayLike = np.inf
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """K x d bounds on mu: the given box (e.g. the data range) intersected with mu_bounds."""
        lo = np.broadcast_to(np.asarray(lower, dtype=float), (k, d)).copy()
        hi = np.broadcast_to(np.asarray(upper, dtype=float), (k, d)).copy()
        for arr, name, out, pick in ((self.mu_lower, "lower", lo, np.maximum),
                                     (self.mu_upper, "upper", hi, np.minimum)):
            if arr is None:
                continue
            try:
                b = np.broadcast_to(arr, (k, d))
            except ValueError:
                raise InfeasibleConstraintsError(
                    f"mu_bounds.{name} has shape {arr.shape}, which does not broadcast to "
                    f"K x d = {k} x {d}") from None
            out[...] = pick(out, b)
        return lo, hi

    def fixed_labels(self, n: int) -> dict[int, int]:
        """Known labels propagated through must-link and implication groups (point -> comp)."""
        links = self._links(n)
        by_root = {links.find(i): c for i, c in self.known_labels}
        return {i: by_root[links.find(i)] for i in range(n) if links.find(i) in by_root}

    def link_groups(self, n: int) -> NDArray[np.int64]:
        """Group id of every point under must-link and implication edges (equal = same group)."""
        links = self._links(n)
        return np.array([links.find(i) for i in range(n)], dtype=np.int64)

    def _links(self, n: int) -> _Links:
        edges = [(i, j, f"must_link ({i}, {j})") for i, j in self.must_link]
        edges += [(j, i, f"implies ({j} -> {i})") for j, i in self.implies]
        return _Links(n, edges)

    # -- validation --------------------------------------------------------------------------

    def _range_errors(self, n: int, k: int) -> list[str]:
        errs = []
        for key in _PAIR_KEYS:
            for m, (a, b) in enumerate(getattr(self, key)):
                bad = [p for p in (a, b) if not 0 <= p < n]
                if bad:
                    errs.append(f"{key}[{m}] ({a}, {b}): point index {bad[0]} is outside "
                                f"0..{n - 1} (n = {n})")
        for kind in SET_KINDS:
            for m, s in enumerate(getattr(self, kind)):
                bad = [p for p in s.points if not 0 <= p < n]
                if bad:
                    errs.append(f"{_fmt_set(kind, m, s)}: point indices {bad} are outside "
                                f"0..{n - 1} (n = {n})")
                if not 0 <= s.component < k:
                    errs.append(f"{_fmt_set(kind, m, s)}: component {s.component} is outside "
                                f"0..{k - 1} (K = {k})")
        for i, c in self.known_labels:
            if not 0 <= i < n:
                errs.append(f"known_labels {i} -> {c}: point index {i} is outside 0..{n - 1} "
                            f"(n = {n})")
            if not 0 <= c < k:
                errs.append(f"known_labels {i} -> {c}: component {c} is outside 0..{k - 1} "
                            f"(K = {k})")
        return errs

    def validate(self, n: int, k: int, d: int) -> None:
        """Raise :class:`InfeasibleConstraintsError` naming every contradiction found.

        Checks index ranges, ``L K > n``, must-link (also transitive, and via implications)
        against cannot-link, conflicting known labels, set-constraint counts against set sizes
        and known labels, must-link groups too few for K non-empty components, mu bounds, and
        ``pi_order`` together with component-specific constraints. Passing is necessary, not
        sufficient, for feasibility (e.g. cannot-links may still need more than K colours).
        """
        errs = self._range_errors(n, k)
        if errs:
            raise InfeasibleConstraintsError(_report(errs, n, k))
        if self.min_size * k > n:
            errs.append(f"min_size {self.min_size} for each of K = {k} components needs "
                        f"{self.min_size * k} points, but n = {n}")
        links = self._links(n)
        for i, j in self.cannot_link:
            if i == j:
                errs.append(f"cannot_link ({i}, {i}): a point cannot be separated from itself")
            elif links.find(i) == links.find(j):
                errs.append(f"cannot_link ({i}, {j}) contradicts {links.path(i, j)} (linked "
                            f"points share a component)")
            elif k == 1:
                errs.append(f"cannot_link ({i}, {j}) needs two components, but K = 1")
        group_label: dict[int, tuple[int, int]] = {}  # root -> (component, witness point)
        for i, c in self.known_labels:
            root = links.find(i)
            if root not in group_label:
                group_label[root] = (c, i)
                continue
            c0, i0 = group_label[root]
            if c0 != c:
                via = f" via {links.path(i0, i)}" if i0 != i else ""
                errs.append(f"known_labels {i0} -> {c0} and {i} -> {c} disagree{via} (these "
                            f"points must share a component)")
        fixed = {i: group_label[links.find(i)][0] for i in range(n)
                 if links.find(i) in group_label}
        for i, j in self.cannot_link:
            if i != j and links.find(i) != links.find(j) and i in fixed and j in fixed \
                    and fixed[i] == fixed[j]:
                errs.append(f"cannot_link ({i}, {j}) contradicts known labels putting both in "
                            f"component {fixed[i]} ({self._label_reason(i, links, group_label)}; "
                            f"{self._label_reason(j, links, group_label)})")
        for kind in SET_KINDS:
            for m, s in enumerate(getattr(self, kind)):
                errs += _set_errors(kind, m, s, fixed)
        n_groups = len({links.find(i) for i in range(n)})
        if self.min_size >= 1 and n_groups < k:
            errs.append(f"must_link/implies leave only {n_groups} groups of points, fewer than "
                        f"the K = {k} non-empty components required by min_size {self.min_size}")
        try:
            lo, hi = self.mu_box(k, d)
            bad = np.argwhere(lo > hi)
            if bad.size:
                kk, j = bad[0]
                errs.append(f"mu_bounds: lower {lo[kk, j]} > upper {hi[kk, j]} for mu[{kk}, {j}]"
                            f" ({len(bad)} entries in all)")
        except InfeasibleConstraintsError as exc:
            errs.append(str(exc))
        if self.pi_order and self.names_components:
            named = [key for key in ("known_labels", *SET_KINDS) if getattr(self, key)]
            named += ["component-specific mu_bounds"] if not named else []
            errs.append(f"pi_order combined with {', '.join(named)}: pi ordering is valid only "
                        "because relabelling the components of any solution gives an equally "
                        "good one; constraints naming specific components break that symmetry, "
                        "so pi ordering could cut off every optimal (or feasible) clustering; "
                        "set pi_order: false")
        if errs:
            raise InfeasibleConstraintsError(_report(errs, n, k))

    def _label_reason(self, i: int, links: _Links, group_label: dict[int, tuple[int, int]]) -> str:
        c, w = group_label[links.find(i)]
        return f"known_labels {i} -> {c}" if w == i else \
            f"known_labels {w} -> {c} with {links.path(w, i)}"

    # -- checking solutions ------------------------------------------------------------------

    def violations(
        self,
        labels: ArrayLike,
        k: int,
        mu: ArrayLike | None = None,
        pi: ArrayLike | None = None,
        tol: float = 1e-9,
    ) -> list[str]:
        """Every side constraint broken by integral ``labels`` (and ``mu``/``pi`` if given).

        Returns readable strings; ``[]`` means feasible. The Problem (4) constraints themselves
        (one component per point, pi on the simplex) are not rechecked here.
        """
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.dtype.kind not in "iu":
            return [f"labels must be an integer vector, got dtype {lab.dtype} shape {lab.shape}"]
        n = lab.size
        errs = self._range_errors(n, k)
        if lab.size and (lab.min() < 0 or lab.max() >= k):
            errs.append(f"labels outside 0..{k - 1}")
        if errs:
            return errs
        out: list[str] = []
        counts = np.bincount(lab, minlength=k)
        for c in np.flatnonzero(counts < self.min_size):
            out.append(f"min_size {self.min_size}: component {c} has {counts[c]} points")
        for i, j in self.must_link:
            if lab[i] != lab[j]:
                out.append(f"must_link ({i}, {j}): point {i} is in component {lab[i]}, "
                           f"point {j} in {lab[j]}")
        for i, j in self.cannot_link:
            if lab[i] == lab[j]:
                out.append(f"cannot_link ({i}, {j}): both points are in component {lab[i]}")
        for j, i in self.implies:
            if lab[i] != lab[j]:
                out.append(f"implies ({j} -> {i}): point {j} is in component {lab[j]} but "
                           f"point {i} is in {lab[i]}")
        for kind, ok in (("packing", np.less_equal), ("partition", np.equal),
                         ("cover", np.greater_equal)):
            for m, s in enumerate(getattr(self, kind)):
                got = int(np.sum(lab[list(s.points)] == s.component))
                if not ok(got, s.count):
                    out.append(f"{_fmt_set(kind, m, s)}: {got} of the points are in component "
                               f"{s.component}")
        for i, c in self.known_labels:
            if lab[i] != c:
                out.append(f"known_labels {i} -> {c}: point {i} is in component {lab[i]}")
        if mu is not None and (self.mu_lower is not None or self.mu_upper is not None):
            mu2 = np.asarray(mu, dtype=float).reshape(k, -1)
            lo, hi = self.mu_box(k, mu2.shape[1])
            bad = np.argwhere((mu2 < lo - tol) | (mu2 > hi + tol))
            for kk, j in bad:
                out.append(f"mu_bounds: mu[{kk}, {j}] = {mu2[kk, j]:.6g} is outside "
                           f"[{lo[kk, j]:.6g}, {hi[kk, j]:.6g}]")
        if pi is not None and self.pi_order:
            p = np.asarray(pi, dtype=float)
            for kk in np.flatnonzero(p[:-1] > p[1:] + tol):
                out.append(f"pi_order: pi[{kk}] = {p[kk]:.6g} > pi[{kk + 1}] = {p[kk + 1]:.6g}")
        return out

    # -- handing the constraints to solvers --------------------------------------------------

    def linear_system(
        self, n: int, k: int
    ) -> tuple[sparse.csr_array, NDArray[np.float64], sparse.csr_array, NDArray[np.float64]]:
        """``(A_eq, b_eq, A_ub, b_ub)`` with ``A_eq z = b_eq``, ``A_ub z <= b_ub`` over the
        row-major vectorised z (entry ``i*k + kk``).

        Includes ``sum_k z_ik = 1`` and every z-constraint (min_size, links, sets, known labels);
        not the bounds ``0 <= z <= 1`` nor the constraints on mu and pi.
        """
        errs = self._range_errors(n, k)
        if errs:
            raise InfeasibleConstraintsError(_report(errs, n, k))
        eq, ub = _Rows(n * k), _Rows(n * k)
        comps = np.arange(k)
        for i in range(n):
            eq.add(i * k + comps, np.ones(k), 1.0)
        for i, j in self.must_link:
            for kk in comps:
                eq.add([i * k + kk, j * k + kk], [1.0, -1.0], 0.0)
        for i, c in self.known_labels:
            eq.add([i * k + c], [1.0], 1.0)
        for s in self.partition:
            eq.add(np.asarray(s.points) * k + s.component, np.ones(len(s.points)), s.count)
        for i, j in self.cannot_link:
            for kk in comps:
                ub.add([i * k + kk, j * k + kk], [1.0, 1.0], 1.0)
        for j, i in self.implies:
            for kk in comps:
                ub.add([j * k + kk, i * k + kk], [1.0, -1.0], 0.0)
        for s in self.packing:
            ub.add(np.asarray(s.points) * k + s.component, np.ones(len(s.points)), s.count)
        for s in self.cover:
            ub.add(np.asarray(s.points) * k + s.component, -np.ones(len(s.points)), -s.count)
        if self.min_size > 0:
            for kk in comps:
                ub.add(np.arange(n) * k + kk, -np.ones(n), -self.min_size)
        return (*eq.build(), *ub.build())


class _Rows:
    """Accumulates sparse rows ``a' x (= or <=) b``."""

    def __init__(self, ncols: int) -> None:
        self.ncols = ncols
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs: list[float] = []

    def add(self, cols: ArrayLike, vals: ArrayLike, rhs: float) -> None:
        c = np.asarray(cols, dtype=np.int64).ravel()
        self.rows += [len(self.rhs)] * c.size
        self.cols += c.tolist()
        self.vals += np.asarray(vals, dtype=float).ravel().tolist()
        self.rhs.append(float(rhs))

    def build(self) -> tuple[sparse.csr_array, NDArray[np.float64]]:
        a = sparse.csr_array((self.vals, (self.rows, self.cols)),
                             shape=(len(self.rhs), self.ncols))
        return a, np.asarray(self.rhs, dtype=float)


def _set_errors(kind: str, m: int, s: SetConstraint, fixed: dict[int, int]) -> list[str]:
    size = len(s.points)
    inside = sum(fixed.get(p) == s.component for p in s.points)
    outside = sum(p in fixed and fixed[p] != s.component for p in s.points)
    name = _fmt_set(kind, m, s)
    errs = []
    if s.count < 0:
        errs.append(f"{name}: the count must be >= 0")
    if kind == "packing" and s.count < inside:
        errs.append(f"{name}: known labels already put {inside} of its points in component "
                    f"{s.component}")
    if kind in ("partition", "cover"):
        if s.count > size:
            errs.append(f"{name}: the set has only {size} points")
        elif s.count > size - outside:
            errs.append(f"{name}: known labels put {outside} of its {size} points in other "
                        f"components, leaving {size - outside}")
    if kind == "partition" and s.count < inside:
        errs.append(f"{name}: known labels already put {inside} of its points in component "
                    f"{s.component}")
    return errs


def _report(errs: list[str], n: int, k: int) -> str:
    return (f"infeasible side constraints (n = {n}, K = {k}):\n  - " + "\n  - ".join(errs))


def load_constraints(path: str | Path) -> Constraints:
    """Read a constraints YAML file (see the module docstring); an empty file means none."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConstraintSpecError(f"{path}: not valid YAML: {exc}") from None
    try:
        return Constraints.from_dict(spec)
    except ConstraintSpecError as exc:
        raise ConstraintSpecError(f"{path}: {exc}") from None


__all__ = [
    "ConstraintSpecError",
    "Constraints",
    "InfeasibleConstraintsError",
    "SetConstraint",
    "load_constraints",
]
