"""The MSSC benchmark: minimum-sum-of-squares clustering of the SOS-SDP instances, certified by
method ``exact``.

MSSC is Problem (4) with equal fixed proportions ``pi_k = 1/K`` and identity precision: at a
clustering with its cluster means the objective is ``1/2 SSE + n log K``, so the MSSC value (the
sum of squared distances to the cluster means) is ``SSE = 2 (objective - n log K)`` and every lower
bound ``L`` on the objective gives the MSSC lower bound ``2 (L - n log K)``. One job runs one
instance (data set, K) and writes one run record, whose MSSC numbers (``metrics.mssc``,
``metrics.mssc_lower_bound``, ``metrics.mssc_gap``) the runner computes for every
equal-proportions run; :func:`run_instance` adds the instance (``extra.instance``: data set, n,
d, K), from which the table is built
(:mod:`mixopt.report.mssc_benchmark`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixopt.data.dataset import read_dataset
from mixopt.runner import JobSpec, run_on_dataset

STUDY = "mssc_benchmark"
METHOD = "exact"
# The MSSC model: Lambda = I (sigma = 1) and pi_k = 1/K.
PRECISION = {"sigma": 1.0}
PROPORTIONS = "equal"


@dataclass(frozen=True)
class Instance:
    """One benchmark instance: ``name`` (e.g. ``iris_k3``), processed data set and K."""

    name: str
    dataset: str
    k: int


def instances(study: dict[str, Any]) -> dict[str, Instance]:
    """The instances of the study's config (``instances: {name: {dataset, k}}``), in order;
    only those named in ``selected`` when the config has that list."""
    defined = study["instances"]
    selected = study.get("selected") or list(defined)
    unknown = [name for name in selected if name not in defined]
    if unknown:
        raise ValueError(f"{STUDY}: selected instances {unknown} are not defined; defined: "
                         f"{list(defined)}")
    return {name: Instance(name, defined[name]["dataset"], int(defined[name]["k"]))
            for name in selected}


def instance_spec(base: dict[str, Any], inst: Instance, time_limit_s: float, threads: int,
                  options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job spec (dict form of :class:`~mixopt.runner.JobSpec`) of one instance.

    ``base``: a spec with the method's options (the workflow's ``job_spec``); the study's
    ``options`` (e.g. ``solver_options``) go over them, then the profile's time limit and threads.
    """
    spec = dict(base)
    spec.update(study=STUDY, dataset=inst.name, method=METHOD, k=inst.k, precision=PRECISION,
                proportions=PROPORTIONS, constraints=None, subset_per_class=None,
                seed=int(base.get("seed", 0)))
    spec["options"] = {**base.get("options", {}), **(options or {}),
                       "time_limit_s": time_limit_s, "threads": threads}
    return spec


def sse(X: np.ndarray, labels: np.ndarray) -> float:
    """Sum of squared Euclidean distances of the points to the means of their clusters."""
    total = 0.0
    for c in np.unique(labels):
        pts = X[labels == c]
        total += float(((pts - pts.mean(axis=0)) ** 2).sum())
    return total


def run_instance(spec: JobSpec, data_csv: str | Path, out: str | Path,
                 config_hash: str | None = None, rule: str | None = None) -> dict[str, Any]:
    """Run one instance (``spec`` from :func:`instance_spec`) and write its record to ``out``,
    with the instance in ``extra.instance``."""
    if spec.proportions != PROPORTIONS or spec.precision != PRECISION:
        raise ValueError(f"{STUDY}: the MSSC model needs proportions {PROPORTIONS!r} and "
                         f"precision {PRECISION}, got {spec.proportions!r} and {spec.precision}")
    csv = Path(data_csv)
    ds = read_dataset(csv)
    return run_on_dataset(spec, ds, [csv, csv.with_suffix(".json")], out,
                          config_hash=config_hash, rule=rule, extra={"instance": {
                              "dataset": ds.name, "n": ds.n, "d": ds.d, "k": spec.k}})
