"""Simulation settings of the thesis' Chapter 1 scenarios (Sec. 1.3.3) and their names.

A setting is (k, p, r^2, BarOmega) with n = 200 points; its name, e.g. ``k4_p8_r2-10_omega0.01``,
names the simulated data sets and the records. Scenario s varies one parameter around the base
setting (k = 4, p = 8, r^2 = 10, BarOmega = 0.01), so the base setting is shared by all four
scenarios and is simulated and run once (docs/reference-bclust.md 6).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

VARIED = ("p", "k", "r2", "bar_omega")
_NAME = re.compile(r"^k(\d+)_p(\d+)_r2-([0-9.eE+-]+)_omega([0-9.eE+-]+)$")


def _num(x: float) -> str:
    """Shortest text of a number: 10.0 -> '10', 0.01 -> '0.01'."""
    return f"{x:g}"


@dataclass(frozen=True)
class SimSetting:
    """k components in p dimensions, within-cluster eigenvalue ratio r2 = r^2, average overlap."""

    k: int
    p: int
    r2: float
    bar_omega: float

    def __post_init__(self) -> None:
        if self.k < 2 or self.p < 1:
            raise ValueError(f"need k >= 2 and p >= 1, got k = {self.k}, p = {self.p}")
        if self.r2 < 1:
            raise ValueError(f"r2 must be >= 1, got {self.r2}")
        if not 0 < self.bar_omega < 1:
            raise ValueError(f"bar_omega must be in (0, 1), got {self.bar_omega}")

    @property
    def name(self) -> str:
        return f"k{self.k}_p{self.p}_r2-{_num(self.r2)}_omega{_num(self.bar_omega)}"

    @classmethod
    def from_name(cls, name: str) -> SimSetting:
        m = _NAME.match(name)
        if not m:
            raise ValueError(f"not a simulation setting name: {name!r}")
        return cls(int(m[1]), int(m[2]), float(m[3]), float(m[4]))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def scenario_settings(base: dict[str, Any], vary: str, values: list[float]) -> list[SimSetting]:
    """The settings of one scenario: ``base`` with ``vary`` set to each of ``values``."""
    if vary not in VARIED:
        raise ValueError(f"a scenario varies one of {VARIED}, got {vary!r}")
    b = SimSetting(int(base["k"]), int(base["p"]), float(base["r2"]), float(base["bar_omega"]))
    cast = int if vary in ("k", "p") else float
    return [replace(b, **{vary: cast(v)}) for v in values]


def all_settings(base: dict[str, Any], scenarios: dict[str, dict[str, Any]]) -> list[SimSetting]:
    """Distinct settings over all scenarios, in scenario order."""
    out: list[SimSetting] = []
    for sc in scenarios.values():
        for s in scenario_settings(base, sc["vary"], sc["values"]):
            if s not in out:
                out.append(s)
    return out


_REG_NAME = re.compile(r"^reg_k(\d+)_p(\d+)_n(\d+)_omega([0-9.eE+-]+)$")


@dataclass(frozen=True)
class RegSetting:
    """Clusterwise-regression setting of thesis Chapters 2-3 (Secs. 2.3.3, 3.2.2): k lines, p
    coefficients including the intercept, n points, average overlap BarOmega, pi_low = 1/(3k)."""

    k: int
    p: int
    n: int
    bar_omega: float

    def __post_init__(self) -> None:
        if self.k < 1 or self.p < 1:
            raise ValueError(f"need k >= 1 and p >= 1, got k = {self.k}, p = {self.p}")
        if self.n < self.k * (self.p + 1):
            raise ValueError(f"n = {self.n} < k (p + 1) = {self.k * (self.p + 1)}")
        if not 0 < self.bar_omega < 1:
            raise ValueError(f"bar_omega must be in (0, 1), got {self.bar_omega}")

    @property
    def pi_low(self) -> float:
        return 1.0 / (3 * self.k)

    @property
    def name(self) -> str:
        return f"reg_k{self.k}_p{self.p}_n{self.n}_omega{_num(self.bar_omega)}"

    @classmethod
    def from_name(cls, name: str) -> RegSetting:
        m = _REG_NAME.match(name)
        if not m:
            raise ValueError(f"not a regression setting name: {name!r}")
        return cls(int(m[1]), int(m[2]), int(m[3]), float(m[4]))
