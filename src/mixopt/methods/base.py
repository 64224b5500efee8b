"""Common result type and registry of clustering methods."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from mixopt.problem import MAPProblem

Status = Literal["optimal", "approximate", "time_limit", "local", "infeasible", "error"]


@dataclass
class MethodResult:
    """What one method run returns.

    ``objective`` is Problem (4) at the returned (labels, mu, pi). ``lower_bound``/``upper_bound``
    are certified bounds on the global optimum when the method provides them (``None`` for local
    methods). ``trace`` holds (time_s, incumbent, bound) rows for convergence plots.
    """

    labels: NDArray[np.int64]
    mu: NDArray[np.float64]
    pi: NDArray[np.float64]
    objective: float
    status: Status
    lower_bound: float | None = None
    upper_bound: float | None = None
    iterations: int | None = None
    solver: dict[str, Any] = field(default_factory=dict)
    trace: list[tuple[float, float | None, float | None]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap (UB - LB) / |UB| when both bounds are known."""
        if self.lower_bound is None or self.upper_bound is None:
            return None
        return (self.upper_bound - self.lower_bound) / max(abs(self.upper_bound), 1e-12)


MethodFn = Callable[..., MethodResult]

# name -> "module:function"; imported lazily so that optional solver stacks load on demand.
METHODS: dict[str, str] = {
    "em": "mixopt.methods.em:fit_em",
    "em_restarts": "mixopt.methods.em_restarts:fit_em_restarts",
    "slsqp": "mixopt.methods.slsqp:fit_slsqp",
    "sa": "mixopt.methods.sa:fit_sa",
    "minlp": "mixopt.methods.minlp:fit_minlp",
    "miqp": "mixopt.methods.miqp:fit_miqp",
    "exact1d": "mixopt.methods.exact1d:fit_exact1d",
    "exact": "mixopt.methods.exact:fit_exact",
    "bandi": "mixopt.methods.bandi:fit_bandi",
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


def run_method(name: str, problem: MAPProblem, seed: int, **options: Any) -> MethodResult:
    """Run method ``name`` on ``problem`` with ``seed`` and method-specific ``options``."""
    return get_method(name)(problem, seed=seed, **options)
