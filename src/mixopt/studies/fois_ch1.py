"""One job of the thesis' Chapter 1 benchmark: one method on one data set -> one run record.

Methods (``benchmark.m``, docs/reference-bclust.md 5):

* ``random``: ids_i = floor(u_i k) (:func:`mixopt.methods.baselines.random_labels`);
* ``tclust``: FSDA tclust without trimming, equal weights, restriction r^2 (``nsamp`` starts);
* ``bclust``: Algorithm 1 in ``thesis`` mode, started from the tclust record's labels; its time
  excludes tclust's, as in the thesis;
* ``bclust_lik``: the same search in ``likelihood`` mode (the objective the thesis text states);
* ``oracle``: the true labels.

Every workflow record's ``objective`` is the thesis' Obj of its labels (bclust's objective in
``thesis`` mode, the number the tables print, whichever method produced the labels; ``mixopt
bclust --mode likelihood`` records the likelihood-mode Obj instead, and
``extra.objective_definition`` always names it); ``metrics`` add the ARI and accuracy against the
true labels, ``obj_thesis``, ``obj_likelihood`` (the same labels under each mode) and the method's
own objective. ``wall_time_s``/``cpu_time_s`` time the method alone (the thesis'
t(s)); evaluating Obj afterwards is timed in ``extra.evaluation_time_s``.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from mixopt import provenance
from mixopt.data.dataset import Dataset, read_dataset
from mixopt.methods.baselines import random_labels
from mixopt.methods.robust.bclust import fit_bclust
from mixopt.methods.robust.bclust_objective import BclustSolverError, bclust_objective
from mixopt.methods.robust.tclust import fit_tclust
from mixopt.metrics import adjusted_rand_index, label_accuracy
from mixopt.problem import RobustProblem
from mixopt.records import SOLUTION_STATUSES, read_record, record_id, write_record

CH1_METHODS = ("random", "tclust", "bclust", "bclust_lik", "oracle")
BCLUST_MODES = {"bclust": "thesis", "bclust_lik": "likelihood"}


@dataclass
class Ch1Spec:
    """Everything that determines one Chapter 1 run (hashed into the record's settings_hash).

    ``r2`` is the thesis' restriction factor r^2 (tclust's shw; bclust's R = sqrt(r2)).
    """

    study: str
    dataset: str
    method: str
    seed: int
    r2: float
    options: dict[str, Any] = field(default_factory=dict)
    k: int | None = None  # None: the data set's number of classes

    def __post_init__(self) -> None:
        if self.method not in CH1_METHODS:
            raise ValueError(f"unknown Chapter 1 method {self.method!r}; one of {CH1_METHODS}")
        if not self.r2 >= 1:
            raise ValueError(f"r2 must be >= 1, got {self.r2}")


@dataclass
class MethodOutput:
    """Labels of one method, its own objective and what else it reports."""

    labels: np.ndarray
    own_objective: float | None
    status: str
    time_s: float
    cpu_s: float
    solver: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    trace: list[list[float | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _timed(fn: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _conic_solver_info(solver: str) -> dict[str, Any]:
    lib = {"CLARABEL": "clarabel", "SCS": "scs", "MOSEK": "mosek"}.get(solver, solver.lower())
    info = {"name": f"cvxpy+{solver}", "version": f"cvxpy {version('cvxpy')}"}
    with contextlib.suppress(PackageNotFoundError):
        info["version"] += f", {lib} {version(lib)}"
    return info


def run_method(spec: Ch1Spec, ds: Dataset, k: int, start_labels: np.ndarray | None) -> MethodOutput:
    """Run ``spec.method`` on ``ds`` (``start_labels``: tclust's, for bclust)."""
    opts = dict(spec.options)
    mixopt_solver = {"name": f"mixopt.{spec.method}", "version": provenance.mixopt.__version__,
                     "options": opts}
    if spec.method == "random":
        labels, w, c = _timed(lambda: random_labels(ds.n, k, spec.seed,
                                                    bool(opts.get("matlab_compatible", False))))
        return MethodOutput(labels, None, "baseline", w, c, mixopt_solver)
    if spec.method == "oracle":
        if ds.labels is None or np.any(ds.labels < 0):
            raise ValueError(f"data set {ds.name!r} has no complete true labels for the oracle")
        return MethodOutput(ds.labels.copy(), None, "baseline", 0.0, 0.0, mixopt_solver)
    if spec.method == "tclust":
        res, w, c = _timed(lambda: fit_tclust(
            RobustProblem(ds.X, k, spec.r2), nsamp=int(opts.get("nsamp", 300)),
            niter=int(opts.get("niter", 15)), seed=spec.seed,
            restriction=opts.get("restriction", "gpcm")))
        return MethodOutput(res.labels, float(res.objective_labels), "local", w, c, mixopt_solver,
                            extra={"tclust_objective": float(res.objective),
                                   "n_iter": int(res.n_iter), "converged": bool(res.converged),
                                   "best_start": int(res.best_start),
                                   "n_not_converged": int(res.n_not_converged),
                                   "kept_columns": res.kept_columns.tolist()})
    if start_labels is None:
        raise ValueError(f"{spec.method} needs the tclust labels to start from")
    mode = BCLUST_MODES[spec.method]
    solver = str(opts.get("solver", "CLARABEL")).upper()
    res, w, c = _timed(lambda: fit_bclust(
        RobustProblem(ds.X, k, spec.r2), init_labels=start_labels, mode=mode,
        policy=opts.get("policy", "singletons"), set_size=int(opts.get("set_size", 1)),
        n_candidates=opts.get("n_candidates"), solver=solver,
        rel_tol=float(opts.get("rel_tol", 1e-9)), time_limit_s=opts.get("time_limit_s")))
    info = (_conic_solver_info(solver) if mode == "thesis"
            else {"name": "closed form (eigenvalue clipping)",
                  "version": provenance.mixopt.__version__})
    notes = ["P(F, c) solved by enumerating the free point's labels without the code's big-M "
             "coupling rows (separable relaxation; see mixopt.methods.robust.bclust)"]
    if res.extra["inaccurate_solves"]:
        notes.append(f"{res.extra['inaccurate_solves']} cluster problems solved to "
                     "'optimal_inaccurate' accuracy")
    return MethodOutput(
        res.labels, float(res.objective), res.status, w, c, {**info, "options": opts},
        extra={"mode": mode, "n_outer": res.n_outer, "n_inner_moves": res.n_inner_moves,
               "n_search_moves": res.n_search_moves, "n_cluster_solves": res.n_cluster_solves,
               "n_cache_hits": res.n_cache_hits, **res.extra},
        trace=[list(row) for row in res.trace], notes=notes)


OBJECTIVE_DEFINITIONS = {
    "thesis": "thesis Obj (bclustEvalObjective): non-squared norm, log(2 pi) per point",
    "likelihood": "likelihood-mode Obj: minus the Gaussian classification log-likelihood of "
                  "the labels (bclust_objective mode 'likelihood')",
}


def evaluate(ds: Dataset, labels: np.ndarray, k: int, r2: float,
             solver: str = "CLARABEL") -> dict[str, float | None]:
    """Thesis Obj, likelihood-mode Obj and ARI of ``labels`` (None where undefined)."""
    R = math.sqrt(r2)
    out: dict[str, float | None] = {}
    for key, mode in (("obj_thesis", "thesis"), ("obj_likelihood", "likelihood")):
        value, _ = bclust_objective(ds.X, labels, k, R, mode, solver)  # type: ignore[arg-type]
        out[key] = value if math.isfinite(value) else None
    known = ds.labels is not None and not np.any(ds.labels < 0)
    out["ari"] = adjusted_rand_index(labels, ds.labels) if known else None
    out["accuracy"] = label_accuracy(labels, ds.labels) if known and k == ds.K else None
    return out


def run_ch1_job(spec: Ch1Spec, data_csv: str | Path, out: str | Path,
                start_record: str | Path | None = None, config_hash: str | None = None,
                rule: str | None = None) -> dict[str, Any]:
    """Run ``spec`` on the data set ``data_csv`` and write its record to ``out``.

    ``start_record``: the tclust record whose labels bclust starts from."""
    csv = Path(data_csv)
    ds = read_dataset(csv)
    inputs = [csv, csv.with_suffix(".json")]
    start = None
    if start_record is not None:
        start = np.asarray(read_record(start_record)["assignment"], dtype=np.int64)
        inputs.append(Path(start_record))
    return run_ch1_on_dataset(spec, ds, inputs, out, start, config_hash=config_hash, rule=rule)


def run_ch1_on_dataset(spec: Ch1Spec, ds: Dataset, inputs: list[Path], out: str | Path,
                       start: np.ndarray | None = None, config_hash: str | None = None,
                       rule: str | None = None,
                       extra: dict[str, Any] | None = None,
                       objective: str = "thesis") -> dict[str, Any]:
    """Run ``spec`` on ``ds`` (read from ``inputs``) and write its record to ``out``.

    ``objective``: which value the record's ``objective`` holds, ``thesis`` (the thesis' Obj,
    what the tables print) or ``likelihood`` (the likelihood-mode Obj); ``extra``'s
    ``objective_definition`` names it and ``metrics`` hold both."""
    if objective not in ("thesis", "likelihood"):
        raise ValueError(f"objective must be 'thesis' or 'likelihood', got {objective!r}")
    k = spec.k if spec.k is not None else ds.K
    if k < 2:
        raise ValueError(f"need k >= 2 clusters, got {k} (give k for unlabelled data)")
    t_start = provenance.now_utc()
    solver = str(spec.options.get("solver", "CLARABEL")).upper()
    error = None
    try:
        res = run_method(spec, ds, k, start)
    except (ValueError, BclustSolverError) as exc:
        if spec.method not in BCLUST_MODES:
            raise
        error = f"bclust could not run: {exc}"
        res = MethodOutput(start if start is not None else np.zeros(0, dtype=np.int64), None,
                           "error", 0.0, 0.0, {"name": spec.method, "version": "",
                                               "options": spec.options}, notes=[error])
    ev, t_eval, _ = _timed(lambda: evaluate(ds, res.labels, k, spec.r2, solver)
                           if res.labels.size == ds.n else {})
    sizes = np.bincount(res.labels, minlength=k) if res.labels.size == ds.n else np.zeros(k)
    value = ev.get(f"obj_{objective}")
    notes = list(res.notes)
    status = res.status
    if res.labels.size == ds.n and value is None:
        notes.append(f"cluster sizes {sizes.tolist()}: a cluster has < 2 points, Obj infeasible")
        status = "infeasible" if status in SOLUTION_STATUSES else status
    record = {
        "schema_version": 1,
        "record_id": record_id(spec.study, spec.dataset, spec.method, spec.seed),
        "study": spec.study, "dataset": spec.dataset, "method": spec.method, "seed": spec.seed,
        "status": status, "objective": value,
        "lower_bound": None, "upper_bound": None, "gap": None,
        "assignment": res.labels,
        "params": {"k": k, "pi": sizes / max(sizes.sum(), 1), "r2": spec.r2,
                   "R": math.sqrt(spec.r2), "settings": asdict(spec)},
        "metrics": {"ari": ev.get("ari"), "accuracy": ev.get("accuracy"),
                    "obj_thesis": ev.get("obj_thesis"),
                    "obj_likelihood": ev.get("obj_likelihood"), "obj_method": res.own_objective},
        "wall_time_s": res.time_s, "cpu_time_s": res.cpu_s,
        "solver": {"options": spec.options, **res.solver},
        "trace": res.trace, "notes": notes,
        "extra": {**res.extra, **(extra or {}), "evaluation_time_s": t_eval,
                  "cluster_sizes": sizes.tolist(),
                  "objective_definition": OBJECTIVE_DEFINITIONS[objective]},
        "provenance": provenance.collect(inputs=inputs, config_hash=config_hash,
                                         start_time=t_start, end_time=provenance.now_utc(),
                                         settings=asdict(spec), rule=rule),
        **({"error": error} if error is not None else {}),
    }
    write_record(out, record)
    return record
