"""Common result type and registry of clustering methods."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from mixopt.constraints import Constraints
from mixopt.objectives import equal_constant
from mixopt.problem import MAPProblem

Status = Literal["optimal", "approximate", "time_limit", "local", "infeasible", "error"]


@dataclass(kw_only=True)
class Result:
    """What every method returns, whatever its family (MAP, robust clustering, regression).

    ``labels`` is the assignment (0-based); ``objective`` the method's objective value at it (the
    family's own sense: Problem (4) is minimised, the regression log-likelihood maximised);
    ``lower_bound``/``upper_bound`` bound the optimal objective when the method provides them
    (``None`` otherwise); ``status`` says how the run ended; ``solver`` names what solved it;
    ``trace`` holds (time_s, incumbent, bound) rows; ``time_s`` is the method's own wall time when
    it measures one; ``extra`` holds method-specific details, its ``notes`` list included.
    ``constant`` is the part of the objective that no clustering changes and that the relative
    gap leaves out: ``n log K`` for equal proportions (the gap is then that of the sum of
    squares), 0 otherwise; :func:`enforce_invariants` sets it from the model.
    """

    labels: NDArray[np.int64]
    objective: float
    status: str
    lower_bound: float | None = None
    upper_bound: float | None = None
    solver: dict[str, Any] = field(default_factory=dict)
    trace: list[tuple[float, float | None, float | None]] = field(default_factory=list)
    time_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    constant: float = 0.0

    @property
    def gap(self) -> float | None:
        """Relative gap (UB - LB) / |UB - constant| when both bounds are known."""
        if self.lower_bound is None or self.upper_bound is None:
            return None
        return relative_gap(self.upper_bound, self.lower_bound, self.constant)

    @property
    def notes(self) -> list[str]:
        """Remarks the method or the common checks attached to the run."""
        return list(self.extra.get("notes", []))

    @property
    def parameters(self) -> dict[str, Any]:
        """The fitted model parameters by name (family-specific)."""
        return {}


def relative_gap(upper: float, lower: float, constant: float = 0.0) -> float:
    """``(upper - lower) / |upper - constant|``: the relative gap of the part of the objective
    that depends on the clustering (``constant``: :attr:`Result.constant`)."""
    return (upper - lower) / max(abs(upper - constant), 1e-12)


def objective_constant(problem: MAPProblem) -> float:
    """The constant the relative gap leaves out: ``n log K`` for equal proportions, else 0."""
    return equal_constant(problem.n, problem.k) if problem.proportions == "equal" else 0.0


@dataclass(kw_only=True)
class MethodResult(Result):
    """What one MAP method run returns.

    ``objective`` is Problem (4) at the returned (labels, mu, pi). ``lower_bound``/``upper_bound``
    are certified bounds on the global optimum when the method provides them (``None`` for local
    methods). ``trace`` holds (time_s, incumbent, bound) rows for convergence plots.
    """

    mu: NDArray[np.float64]
    pi: NDArray[np.float64]
    status: Status
    iterations: int | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        """Means ``mu`` (K x d) and proportions ``pi``."""
        return {"mu": self.mu, "pi": self.pi}


MethodFn = Callable[..., MethodResult]

#: Side-constraint keys beyond ``min_size`` (see :mod:`mixopt.constraints`).
SIDE_CONSTRAINTS = ("pi_order", "must_link", "cannot_link", "implies", "packing", "partition",
                    "cover", "known_labels", "mu_bounds")
#: Relative slack within which a lower bound above the objective is rounding, not a contradiction.
BOUND_SLACK = 1e-6


class ModelNotSupportedError(ValueError):
    """The method cannot solve the model it was asked to solve (it refuses rather than answer a
    different one)."""


@dataclass(frozen=True)
class Capabilities:
    """What a method can honour: side-constraint keys, proportions models, empty clusters
    (``min_size: 0``), whether it certifies optimality with a bound, and the family and problem
    type it solves (MAP methods: ``MAPProblem``)."""

    constraints: tuple[str, ...]
    proportions: tuple[str, ...] = ("free",)
    empty_clusters: bool = True
    certifies: bool = False
    family: str = "map"
    problem: str = "MAPProblem"


CAPABILITIES: dict[str, Capabilities] = {}


def model_description(problem: MAPProblem, constraints: Constraints) -> dict[str, Any]:
    """The model a run solves, as stated in its record: K, what "K clusters" means, proportions
    and the side constraints in use."""
    return {"k": problem.k, "min_size": constraints.min_size,
            "clusters": "at most K clusters (empty ones allowed)"
            if constraints.empty_clusters_allowed
            else f"exactly K non-empty clusters (at least {constraints.min_size} point"
                 f"{'s' if constraints.min_size > 1 else ''} each)",
            "proportions": problem.proportions,
            "side_constraints": [key for key in constraints.keys_in_use() if key != "min_size"]}


def check_model(name: str, caps: Capabilities, problem: MAPProblem,
                constraints: Constraints) -> None:
    """Refuse (:class:`ModelNotSupportedError`) a model that method ``name`` cannot honour."""
    unsupported = [key for key in constraints.keys_in_use()
                   if key != "min_size" and key not in caps.constraints]
    if unsupported:
        raise ModelNotSupportedError(
            f"{name} cannot honour the constraint(s) {unsupported}; it supports "
            f"{['min_size', *caps.constraints]}")
    if constraints.empty_clusters_allowed and not caps.empty_clusters:
        raise ModelNotSupportedError(
            f"{name} solves K non-empty clusters only; min_size 0 (empty clusters allowed) is "
            "not supported: use min_size >= 1 or another method")
    if problem.proportions not in caps.proportions:
        raise ModelNotSupportedError(
            f"{name} does not support proportions {problem.proportions!r}; it supports "
            f"{list(caps.proportions)}")


def _note(result: MethodResult, text: str) -> None:
    result.extra.setdefault("notes", []).append(text)


def enforce_invariants(name: str, problem: MAPProblem, constraints: Constraints,
                       result: MethodResult) -> MethodResult:
    """Guarantees of every MAP method, checked on its result.

    A returned clustering satisfies the model (else status ``error``; with equal proportions
    pi must be 1/K); its objective is finite (else ``error``); a lower bound never exceeds the
    objective of the returned feasible solution (beyond :data:`BOUND_SLACK` relative rounding it
    is dropped and the status is ``error``; within it, it is clipped to the objective).
    """
    result.extra["model"] = model_description(problem, constraints)
    result.constant = objective_constant(problem)
    labels = np.asarray(result.labels)
    if result.status in ("infeasible", "error") or labels.size == 0:
        return result
    k = problem.k
    broken = constraints.violations(labels, k, mu=result.mu, pi=result.pi, tol=1e-6)
    pi = np.asarray(result.pi, dtype=float)
    if pi.shape != (k,) or np.any(pi < -1e-9) or abs(pi.sum() - 1.0) > 1e-6:
        broken.append(f"pi is not a probability vector of length K = {k}: {pi.tolist()}")
    elif problem.proportions == "equal" and np.any(np.abs(pi - 1.0 / k) > 1e-9):
        broken.append(f"pi is not 1/K (equal proportions): {pi.tolist()}")
    if broken:
        result.status = "error"
        _note(result, f"{name} returned a clustering outside the model: {broken[0]}")
        result.lower_bound = None
        return result
    if not np.isfinite(result.objective):
        result.status = "error"
        _note(result, f"{name}: the objective of the returned clustering is not finite "
                      f"({result.objective}); data or precision too large to evaluate")
        result.lower_bound = None
        return result
    lb = result.lower_bound
    if lb is not None:
        slack = BOUND_SLACK * max(1.0, abs(result.objective))
        if lb > result.objective + slack:
            _note(result, f"{name}: lower bound {lb} exceeds the objective {result.objective} "
                          "of its own feasible solution; bound dropped, run marked as an error")
            result.lower_bound = None
            result.status = "error"
        elif lb > result.objective:
            result.lower_bound = result.objective
    return result


def map_method(name: str, constraints: tuple[str, ...], proportions: tuple[str, ...] = ("free",),
               empty_clusters: bool = True,
               certifies: bool = False) -> Callable[[MethodFn], MethodFn]:
    """Register a fit function's capabilities and wrap it with the common model contract.

    The wrapper takes ``fit(problem, seed=0, constraints=None, **options)``, refuses models the
    method cannot honour (:func:`check_model`), validates the constraints against the problem,
    runs the method and applies :func:`enforce_invariants`. ``constraints=None`` is the default
    model, :class:`~mixopt.constraints.Constraints` ``()`` (K non-empty clusters).
    """
    caps = Capabilities(tuple(constraints), tuple(proportions), empty_clusters, certifies)
    CAPABILITIES[name] = caps

    def wrap(fit: MethodFn) -> MethodFn:
        @functools.wraps(fit)
        def wrapper(problem: MAPProblem, seed: int = 0, constraints: Constraints | None = None,
                    **options: Any) -> MethodResult:
            cons = Constraints() if constraints is None else constraints
            check_model(name, caps, problem, cons)
            cons.validate(problem.n, problem.k, problem.d)
            result = fit(problem, seed=seed, constraints=cons, **options)
            return enforce_invariants(name, problem, cons, result)

        wrapper.capabilities = caps  # type: ignore[attr-defined]
        return wrapper

    return wrap

# Methods that search for a global optimum: they run with a time limit, threads and a solver
# back end (the workflow's profiles and ``mixopt cluster --time-limit`` set them).
GLOBAL_METHODS: tuple[str, ...] = ("minlp", "miqp", "exact")

# name -> "module:function"; imported lazily so that optional solver stacks load on demand.
METHODS: dict[str, str] = {
    "em": "mixopt.methods.map.em:fit_em",
    "em_restarts": "mixopt.methods.map.em_restarts:fit_em_restarts",
    "slsqp": "mixopt.methods.map.slsqp:fit_slsqp",
    "sa": "mixopt.methods.map.sa:fit_sa",
    "minlp": "mixopt.methods.map.minlp:fit_minlp",
    "miqp": "mixopt.methods.map.miqp:fit_miqp",
    "exact1d": "mixopt.methods.map.exact.exact1d:fit_exact1d",
    "exact": "mixopt.methods.map.exact.exact:fit_exact",
    "bandi": "mixopt.methods.map.bandi:fit_bandi",
}


def get_method(name: str) -> MethodFn:
    """Return the fit function registered as ``name`` (clear error listing the known ones)."""
    try:
        target = METHODS[name]
    except KeyError:
        raise KeyError(f"unknown method {name!r}; known methods: {sorted(METHODS)}") from None
    module, func = target.split(":")
    fn: MethodFn = getattr(importlib.import_module(module), func)
    return fn


def capabilities(name: str) -> Capabilities:
    """What method ``name`` can honour (imports it to register its capabilities)."""
    get_method(name)
    return CAPABILITIES[name]


def run_method(name: str, problem: MAPProblem, seed: int, **options: Any) -> MethodResult:
    """Run method ``name`` on ``problem`` with ``seed`` and method-specific ``options``."""
    return get_method(name)(problem, seed=seed, **options)


def single_threaded_blas() -> Any:
    """Context limiting BLAS/LAPACK to one thread in this process. For methods whose linear
    algebra is on small matrices (dimensions of a few to tens): threads cannot speed those up,
    and on a shared machine OpenBLAS's threads wait for a busy core. Measured: SLSQP's
    iterations about 100x slower with them; tclust on a 200 x 9 data set (60 starts) 22.8 s
    with 2 threads against 2.0 s with one, with another process busy on the second core."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def family_method(name: str, family: str, problem_type: type,
                  certifies: bool = False) -> Callable[[Callable[..., Result]],
                                                       Callable[..., Result]]:
    """Register a robust-clustering or regression method's capabilities: ``fit(problem,
    **options)`` takes a ``problem_type`` instance (TypeError otherwise) and runs with one BLAS
    thread (:func:`single_threaded_blas`: their matrices are small)."""
    caps = Capabilities((), (), False, certifies, family, problem_type.__name__)
    CAPABILITIES[name] = caps

    def wrap(fit: Callable[..., Result]) -> Callable[..., Result]:
        @functools.wraps(fit)
        def wrapper(problem: Any, **options: Any) -> Result:
            if not isinstance(problem, problem_type):
                raise TypeError(f"{name} takes a {problem_type.__name__}, got "
                                f"{type(problem).__name__}")
            with single_threaded_blas():
                return fit(problem, **options)

        wrapper.capabilities = caps  # type: ignore[attr-defined]
        return wrapper

    return wrap
