"""Every method of every family with its options, the problem it takes, the constraints it honours
and what it certifies (``mixopt methods``).

All methods share one calling convention: ``fit_<name>(problem, **options) -> Result``, with
``problem`` a :class:`~mixopt.problem.MAPProblem` (MAP clustering, :data:`METHODS`), a
:class:`~mixopt.problem.RobustProblem` (robust clustering) or a
:class:`~mixopt.problem.RegressionProblem` (clusterwise regression), and a result deriving from
:class:`~mixopt.methods.base.Result`. :func:`fit` runs any of them by name.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from mixopt.methods.base import CAPABILITIES, METHODS, Result, capabilities, get_method

# Parameters that are the problem or the data, not options a user sets.
_NOT_OPTIONS = {"problem", "seed", "constraints", "init_labels", "node_callback", "restr_factor"}

# name -> (family, "module:function", what it certifies): the robust-clustering and regression
# families (the MAP family is base.METHODS). Each fit function is registered with
# base.family_method, which records its family and problem type in base.CAPABILITIES.
FAMILY_METHODS: dict[str, tuple[str, str, str]] = {
    "bclust": ("robust clustering (mixopt bclust)", "mixopt.methods.robust.bclust:fit_bclust",
               "nothing (local search from a start, e.g. tclust)"),
    "tclust": ("robust clustering (bclust's default start)",
               "mixopt.methods.robust.tclust:fit_tclust", "nothing (random starts)"),
    "pclustreg": ("clusterwise regression (mixopt clusterreg)",
                  "mixopt.methods.regression.pclustreg:fit_pclustreg",
                  "a probabilistic bound (holds with probability s)"),
    "tclustreg": ("clusterwise regression (mixopt clusterreg)",
                  "mixopt.methods.regression.tclustreg:fit_tclustreg", "nothing (random starts)"),
}


def known_methods() -> list[str]:
    """Every registered method name, the MAP family first."""
    return [*METHODS, *FAMILY_METHODS]


def fit_function(name: str) -> Any:
    """The fit function of method ``name``, whatever its family (KeyError listing the known
    ones)."""
    if name in METHODS:
        return get_method(name)
    if name not in FAMILY_METHODS:
        raise KeyError(f"unknown method {name!r}; known methods: {sorted(known_methods())}")
    module, func = FAMILY_METHODS[name][1].split(":")
    return getattr(importlib.import_module(module), func)


def fit(name: str, problem: Any, **options: Any) -> Result:
    """Run method ``name`` on ``problem`` (the problem type of its family) with ``options``."""
    return fit_function(name)(problem, **options)


@dataclass
class MethodInfo:
    """One method as listed by ``mixopt methods``."""

    name: str
    family: str
    summary: str
    options: dict[str, Any] = field(default_factory=dict)
    constraints: tuple[str, ...] = ()
    proportions: tuple[str, ...] = ()
    empty_clusters: bool | None = None
    certifies: str = ""
    problem: str = "MAPProblem"
    unavailable: str | None = None


def _options(fn: Any) -> dict[str, Any]:
    """Keyword parameters of ``fn`` with their defaults (problem and data left out)."""
    return {p.name: p.default for p in inspect.signature(fn).parameters.values()
            if p.default is not inspect.Parameter.empty and p.name not in _NOT_OPTIONS}


def _summary(fn: Any) -> str:
    """The first sentence of ``fn``'s docstring."""
    para = " ".join((inspect.getdoc(fn) or "").split("\n\n")[0].split())
    return re.split(r"\.\s+(?=[A-Z`])", para)[0].rstrip(".") + "." if para else ""


def method_info(name: str) -> MethodInfo:
    """The entry of method ``name`` (KeyError listing the known ones)."""
    if name in METHODS:
        try:
            fn = get_method(name)
        except ImportError as exc:
            return MethodInfo(name, "MAP clustering (mixopt cluster)", "", unavailable=str(exc))
        caps = capabilities(name)
        return MethodInfo(name, "MAP clustering (mixopt cluster)", _summary(fn), _options(fn),
                          caps.constraints, caps.proportions, caps.empty_clusters,
                          "global optimality (lower bound, gap)" if caps.certifies
                          else "nothing (local method)")
    if name in FAMILY_METHODS:
        family, _, certifies = FAMILY_METHODS[name]
        fn = fit_function(name)
        return MethodInfo(name, family, _summary(fn), _options(fn), certifies=certifies,
                          problem=CAPABILITIES[name].problem)
    raise KeyError(f"unknown method {name!r}; known methods: {sorted(known_methods())}")


def all_methods() -> list[MethodInfo]:
    """Every method: the MAP registry first, then the robust and regression methods."""
    return [method_info(n) for n in known_methods()]


def format_method(info: MethodInfo) -> str:
    """A few indented lines describing ``info``."""
    lines = [f"{info.name}  [{info.family}]"]
    if info.unavailable:
        return "\n".join([*lines, f"  not available here: {info.unavailable}"])
    if info.summary:
        lines.append(f"  {info.summary}")
    lines.append(f"  problem: {info.problem}")
    opts = ", ".join(f"{k}={v!r}" for k, v in info.options.items())
    lines.append(f"  options: {opts or '-'}")
    if info.empty_clusters is not None:
        lines.append(f"  constraints: {', '.join(info.constraints) or 'none'}; proportions: "
                     f"{', '.join(info.proportions)}; empty clusters (min_size 0): "
                     f"{'yes' if info.empty_clusters else 'no'}")
    lines.append(f"  certifies: {info.certifies}")
    return "\n".join(lines)
