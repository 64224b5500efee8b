"""One job: one method on one data set with one seed, written as one validated run record."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mixopt import provenance
from mixopt.constraints import Constraints
from mixopt.data.dataset import Dataset, read_dataset
from mixopt.methods.base import MethodResult, relative_gap, run_method
from mixopt.methods.options import check_options
from mixopt.metrics import table2_metrics
from mixopt.objectives import mssc_value
from mixopt.problem import MAPProblem, class_precision
from mixopt.records import SOLUTION_STATUSES, record_id, write_record

# Largest squared whitened distance a run may meet: sums of n such terms must stay finite with
# room for the solvers' intermediate products (float64 overflows at about 1.8e308).
MAX_SQUARED_SCALE = 1e300


@dataclass
class JobSpec:
    """Everything that determines a run's numbers (hashed into the record's ``settings_hash``).

    ``subset_per_class`` restricts the data set to the first m points of every class (in file
    order), as in the paper's iris1d subsets (Sec. 4.1, Fig. 1).
    ``constraints`` is the dict form of :class:`mixopt.constraints.Constraints` (None: the default
    model, K non-empty clusters). ``proportions``: ``free`` (Problem (4)) or ``equal``.
    ``precision`` is ``{"sigma": s}`` (Lambda = I / s^2), ``{"matrix": [[...]]}``, or
    ``{"rule": name, "ddof": 1}`` for a precision built from the data set's true classes (see
    :func:`mixopt.problem.class_precision`), or ``{"estimate": "tied_gmm", "random_state": s}``
    for one estimated from the unlabelled points (see
    :func:`mixopt.precision_estimate.estimate_precision`; the record's notes say how).
    """

    study: str
    dataset: str
    method: str
    seed: int
    k: int
    precision: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    constraints: dict[str, Any] | None = None
    subset_per_class: int | None = None
    proportions: str = "free"


def precision_matrix(ds: Dataset, spec: dict[str, Any], k: int | None = None) -> np.ndarray:
    """Precision matrix for ``ds`` from a precision spec (see :class:`JobSpec`); ``k`` is the
    number of components of an estimated precision."""
    return precision_with_note(ds, spec, k)[0]


def precision_with_note(
    ds: Dataset, spec: dict[str, Any], k: int | None = None
) -> tuple[np.ndarray, str | None]:
    """Precision matrix for ``ds`` and, for an estimated one, how it was obtained."""
    if "estimate" in spec:
        from mixopt.precision_estimate import ESTIMATORS, estimate_precision

        if spec["estimate"] not in ESTIMATORS:
            raise ValueError(f"unknown precision estimate {spec['estimate']!r}; known: "
                             f"{list(ESTIMATORS)}")
        if k is None:
            raise ValueError("an estimated precision needs the number of components K")
        lam, how = estimate_precision(ds.X, k, random_state=spec.get("random_state", 0))
        return lam, f"precision estimated from the data: {how}"
    return _given_precision(ds, spec), None


def _given_precision(ds: Dataset, spec: dict[str, Any]) -> np.ndarray:
    if "sigma" in spec:
        sigma = float(spec["sigma"])
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {sigma}")
        lam = 1.0 / (sigma * sigma) if sigma * sigma > 0 else math.inf
        if not 0 < lam < math.inf:
            raise ValueError(f"sigma = {sigma:g} is out of range: the precision "
                             f"1/sigma^2 = {lam:g} is not a positive finite number")
        return np.eye(ds.d) / sigma**2
    if "matrix" in spec:
        return np.asarray(spec["matrix"], dtype=float)
    if "rule" in spec:
        if ds.labels is None:
            raise ValueError(f"data set {ds.name!r} has no labels to build a class precision from")
        return class_precision(ds.X, ds.labels, spec["rule"], int(spec.get("ddof", 1)))
    raise ValueError(f"precision spec needs 'sigma', 'matrix', 'rule' or 'estimate', got {spec}")


def check_scale(problem: MAPProblem) -> None:
    """Refuse data whose squared distances in the precision's metric overflow floating point.

    Problem (4) sums n terms 1/2 (y_i - mu_k)' Lambda (y_i - mu_k); with ``L L' = Lambda`` and
    mu in the data's box, each is at most |L' y|_max^2 d (2 for the difference, squared: 4).
    """
    yw = problem.y @ np.linalg.cholesky(problem.precision)
    top = float(np.max(np.abs(yw)))
    log_bound = math.log10(4.0 * problem.n * problem.d) + 2.0 * math.log10(top) if top > 0 \
        else -math.inf
    if not math.isfinite(top) or log_bound > math.log10(MAX_SQUARED_SCALE):
        raise ValueError(
            f"the data in the precision's metric are too large for floating point (max |L'y| = "
            f"{top:.3g} with Lambda = L L'; the sums of squared distances would overflow): "
            "rescale the data or the precision")


def failed_objective(result: MethodResult) -> str | None:
    """Why a run that reports a solution has no usable objective (None: it has one)."""
    if result.status not in SOLUTION_STATUSES or len(result.labels) == 0:
        return None
    obj = result.objective
    if obj is not None and math.isfinite(obj):
        return None
    return (f"the objective at the returned solution is not finite ({obj}): the computation "
            "overflowed or failed, so the solution is not reported as a result")


def mssc_metrics(problem: MAPProblem, result: MethodResult) -> dict[str, float | None]:
    """Equal proportions: the sum of squares in the precision's metric (``mssc``, plain MSSC
    under identity precision) of the objective, ``2 (objective - n log K)``, of the lower bound
    (``mssc_lower_bound``; None without a finite one, e.g. -inf before every open node of a
    search had a bound) and their relative gap ``mssc_gap`` (None without a bound)."""
    value = mssc_value(result.objective, problem.n, problem.k)
    lb = result.lower_bound
    bound = None if lb is None or not math.isfinite(lb) else mssc_value(lb, problem.n, problem.k)
    gap = None if bound is None else max(0.0, relative_gap(value, bound))
    return {"mssc": value, "mssc_lower_bound": bound, "mssc_gap": gap}


def result_record(
    spec: JobSpec, ds: Dataset, problem: MAPProblem, result: MethodResult
) -> dict[str, Any]:
    """The record fields that come from the method's result (no timing or provenance)."""
    metrics: dict[str, Any] = {}
    has_solution = len(result.labels) == problem.n and result.status != "error"
    if has_solution and ds.labels is not None and len(ds.label_names) == spec.k:
        metrics = table2_metrics(ds.X, ds.labels, result.labels, result.mu, result.pi)
    if has_solution and problem.proportions == "equal":
        metrics.update(mssc_metrics(problem, result))
    return {
        "study": spec.study,
        "dataset": spec.dataset,
        "method": spec.method,
        "seed": spec.seed,
        "status": result.status,
        "objective": result.objective,
        "lower_bound": result.lower_bound,
        "upper_bound": result.upper_bound,
        "gap": result.gap,
        "assignment": result.labels,
        "params": {"k": spec.k, "pi": result.pi, "mu": result.mu,
                   "precision": problem.precision, "settings": asdict(spec),
                   "model": result.extra.pop("model", None)},
        "metrics": metrics,
        "trace": [list(row) for row in result.trace],
        "notes": list(result.extra.pop("notes", [])),
        "extra": {"iterations": result.iterations, **result.extra,
                  **({"subset_indices": ds.meta["subset_indices"]}
                     if "subset_indices" in ds.meta else {})},
    }


def run_job(
    spec: JobSpec,
    data_csv: str | Path,
    out: str | Path,
    config_hash: str | None = None,
    rule: str | None = None,
    points: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``spec`` on the processed data set ``data_csv`` and write its record to ``out``.

    ``points`` (``name``, ``columns``, ``label_column``): ``data_csv`` is a user CSV of points
    instead (:func:`mixopt.studies.own_data.points_dataset`; no metadata file beside it)."""
    csv = Path(data_csv)
    if points is not None:
        from mixopt.studies.own_data import points_dataset

        ds = points_dataset(csv, **points)
        return run_on_dataset(spec, ds, [csv], out, config_hash=config_hash, rule=rule)
    ds = read_dataset(csv)
    if spec.subset_per_class is not None:
        ds = class_subset(ds, spec.subset_per_class)
    return run_on_dataset(spec, ds, [csv, csv.with_suffix(".json")], out,
                          config_hash=config_hash, rule=rule)


def class_subset(ds: Dataset, per_class: int) -> Dataset:
    """The first ``per_class`` points of every class, in file order (indices kept in meta)."""
    if ds.labels is None:
        raise ValueError(f"data set {ds.name!r} has no labels to take a per-class subset of")
    idx = np.concatenate([np.flatnonzero(ds.labels == c)[:per_class] for c in range(ds.K)])
    short = [ds.label_names[c] for c in range(ds.K) if np.count_nonzero(ds.labels == c) < per_class]
    if short:
        raise ValueError(f"classes {short} have fewer than {per_class} points")
    idx.sort()
    return Dataset(name=f"{ds.name}_n{idx.size}", X=ds.X[idx], labels=ds.labels[idx],
                   feature_names=ds.feature_names, label_names=ds.label_names,
                   meta={**ds.meta, "subset_of": ds.name, "subset_indices": idx.tolist()})


def run_on_dataset(
    spec: JobSpec,
    ds: Dataset,
    inputs: list[Path],
    out: str | Path,
    config_hash: str | None = None,
    rule: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``spec`` on ``ds`` (read from the files ``inputs``) and write its record to ``out``;
    ``extra``: a study's own fields, added to the record's ``extra``."""
    check_options(spec.method, spec.options)
    lam, how = precision_with_note(ds, spec.precision, spec.k)
    problem = MAPProblem(ds.X, spec.k, lam, proportions=spec.proportions)
    constraints = Constraints.from_dict(spec.constraints)
    constraints.validate(problem.n, problem.k, problem.d)
    check_scale(problem)
    start = provenance.now_utc()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = run_method(spec.method, problem, seed=spec.seed, constraints=constraints,
                        **spec.options)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    error = failed_objective(result)
    if error is not None:
        result.status = "error"
    if how is not None:
        result.extra["notes"] = [how, *result.extra.get("notes", [])]
    record = {
        "schema_version": 1,
        "record_id": record_id(spec.study, spec.dataset, spec.method, spec.seed),
        **result_record(spec, ds, problem, result),
        **({"error": error} if error is not None else {}),
        "wall_time_s": wall,
        "cpu_time_s": cpu,
        "solver": {"name": result.solver.get("name", spec.method),
                   "version": result.solver.get("version", provenance.mixopt.__version__),
                   "options": result.solver.get("options", spec.options)},
        "provenance": provenance.collect(
            inputs=list(inputs), config_hash=config_hash,
            start_time=start, end_time=provenance.now_utc(), settings=asdict(spec), rule=rule),
    }
    record["extra"].update(extra or {})
    write_record(out, record)
    return record
