"""Checks of method options before a run: known names, types, choices and numeric ranges.

The valid options of a method are the keyword parameters of its fit function (after ``problem``,
``seed`` and ``constraints``, which the caller gives separately). Their types come from the
function's annotations; the range of every numeric parameter comes from :data:`RANGES`, keyed by
parameter name (the same name means the same thing in every method). A numeric parameter without
a rule is a programming error caught by the test suite.
"""

from __future__ import annotations

import inspect
import math
import numbers
import types
import typing
from dataclasses import dataclass, replace
from typing import Any, Literal

from mixopt.methods.base import get_method

# Parameters of every fit function that are not options.
NOT_OPTIONS = ("problem", "seed", "constraints")


class OptionError(ValueError):
    """A method option is unknown or out of range."""


@dataclass(frozen=True)
class Range:
    """Valid values of a numeric option: ``kind`` (integer or any finite number) >= ``low``
    (> ``low`` when ``strict``)."""

    kind: Literal["int", "float"]
    low: float
    strict: bool = False

    def accepts(self, value: Any) -> bool:
        """Is ``value`` of the right kind, finite and in range?"""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind == "int" and not isinstance(value, numbers.Integral):
            return False
        v = float(value)
        return math.isfinite(v) and (v > self.low if self.strict else v >= self.low)

    def describe(self) -> str:
        """E.g. 'an integer >= 1' or 'a finite number > 0'."""
        what = "an integer" if self.kind == "int" else "a finite number"
        return f"{what} {'>' if self.strict else '>='} {self.low:g}"


def _at_least(low: float) -> Range:
    return Range("int", low)


_POSITIVE = Range("float", 0.0, strict=True)
_NON_NEGATIVE = Range("float", 0.0)

# Range of every numeric option, by parameter name (fit functions of mixopt.methods.METHODS and
# the Chapter 1 options of mixopt.studies.fois_ch1).
RANGES: dict[str, Range] = {
    # iterations, starts, sizes
    "max_iter": _at_least(1), "kmeans_n_init": _at_least(1), "restarts": _at_least(1),
    "batch": _at_least(1), "niter": _at_least(1), "niter_success": _at_least(1),
    "breakpoints": _at_least(1), "em_starts": _at_least(1), "node_limit": _at_least(1),
    "max_rounds": _at_least(1), "mio_node_limit": _at_least(0), "threads": _at_least(1),
    "cut_rounds": _at_least(0), "round_budget": _POSITIVE, "round_triangles": _at_least(0),
    "round_pairs": _at_least(0),
    "nsamp": _at_least(1), "set_size": _at_least(1), "n_candidates": _at_least(0),
    # tolerances, steps, temperatures
    "tol": _POSITIVE, "ftol": _POSITIVE, "temperature": _POSITIVE, "stepsize": _POSITIVE,
    "eps": _POSITIVE, "step": _POSITIVE, "psd_floor": _POSITIVE,
    "rel_gap": _NON_NEGATIVE, "rel_tol": _NON_NEGATIVE,
    # time limits (seconds)
    "time_limit_s": _POSITIVE, "time_budget_s": _POSITIVE, "node_time_limit_s": _POSITIVE,
    "mio_time_limit_s": _POSITIVE,
}


@dataclass(frozen=True)
class OptionType:
    """What a fit function's annotation says about one option."""

    numeric: bool = False
    boolean: bool = False
    choices: tuple[Any, ...] | None = None
    allow_none: bool = False


def option_type(hint: Any) -> OptionType:
    """Classify a resolved annotation: numeric, boolean, a choice (Literal) or other; optional."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        inner = (option_type(members[0]) if len(members) == 1   # e.g. int | None
                 else OptionType(numeric=all(m in (int, float) for m in members)))
        return replace(inner, allow_none=inner.allow_none or type(None) in args)
    if typing.get_origin(hint) is Literal:
        return OptionType(choices=args, allow_none=None in args)
    if hint is bool:
        return OptionType(boolean=True)
    if hint in (int, float):
        return OptionType(numeric=True)
    return OptionType()


def method_options(method: str) -> dict[str, OptionType]:
    """Name -> type of every option of ``method`` (keyword parameters of its fit function)."""
    fn = get_method(method)
    hints = typing.get_type_hints(fn)
    params = inspect.signature(fn).parameters
    return {name: option_type(hints.get(name, Any)) for name in params if name not in NOT_OPTIONS}


def configured_options(config: dict[str, Any], method: str,
                       profile: dict[str, Any] | None = None,
                       study_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``method``'s options in the workflow, later sources winning: ``methods.<method>`` of the
    configuration ``config``, the profile's ``method_overrides`` (``profile``: default the
    active one, ``profiles.<profile>``), then a study's ``method_options`` (``study_options``,
    keyed by method). The order every job spec, the cost plan and the benchmarks use."""
    if profile is None:
        profile = config["profiles"][config["profile"]]
    options = dict(config["methods"].get(method) or {})
    options.update((profile.get("method_overrides") or {}).get(method) or {})
    options.update((study_options or {}).get(method) or {})
    return options


def check_value(name: str, value: Any, allow_none: bool = False, label: str | None = None) -> None:
    """Raise :class:`OptionError` unless ``value`` is in the range of the numeric option ``name``
    (``label``: how the message names it, e.g. a command-line flag)."""
    if value is None and allow_none:
        return
    rule = RANGES[name]
    if not rule.accepts(value):
        raise OptionError(f"{label or name} must be {rule.describe()}, got {value!r}")


def check_options(method: str, options: dict[str, Any]) -> None:
    """Raise :class:`OptionError` (one line) for an unknown option of ``method`` (listing the
    valid ones), a value of the wrong type, a choice not offered, or a number out of range."""
    valid = method_options(method)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        listed = ", ".join(sorted(valid)) or "none"
        raise OptionError(f"unknown option{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))} for method {method}; valid options: "
                          f"{listed}")
    for name, value in options.items():
        kind, label = valid[name], f"{method} option {name}"
        if value is None and kind.allow_none:
            continue
        if kind.numeric:
            check_value(name, value, label=label)
        elif kind.boolean and not isinstance(value, bool):
            raise OptionError(f"{label} must be true or false, got {value!r}")
        elif kind.choices is not None and value not in kind.choices:
            raise OptionError(f"{label} must be one of {list(kind.choices)}, got {value!r}")
