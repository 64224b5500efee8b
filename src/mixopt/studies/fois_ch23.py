"""One job of the thesis' Chapters 2-3: one clusterwise-regression method on one data set.

Methods (Secs. 2.3.1, 3.2.1, 3.3):

* ``tclustreg``: FSDA tclustreg without trimming or variance restriction (``nsamp`` starts);
* ``pclustreg1``: pclustreg with the chi-square bound (Ch. 2), used as a heuristic (node limit);
* ``pclustreg2``: pclustreg with the F bound (Ch. 3);
* ``oracle``: the true labels.

A method id may carry the number of starts (``tclustreg-ns3200``; for pclustreg the node limit
nsamp / (2k)), a node limit (``pclustreg1-nl100``) and ``-sigmatrue``: sigma_min = the smallest
true error sd of the simulated data set (a valid underestimate, as the bound requires), instead
of the configured value (the thesis' 1). Every record's ``objective`` is log L̂ of its labels (the
thesis' objective, Sec. 2.1; higher is better), ``metrics.ari`` the ARI against the true labels
when they are known.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mixopt import provenance
from mixopt.data.dataset import read_dataset
from mixopt.metrics import adjusted_rand_index, label_accuracy
from mixopt.records import SOLUTION_STATUSES, record_id, write_record
from mixopt.simulate.fois_ch23_data import regression_arrays

CH23_METHODS = ("tclustreg", "pclustreg1", "pclustreg2", "oracle")
_METHOD_ID = re.compile(
    r"^(tclustreg|pclustreg1|pclustreg2|oracle)(?:-ns(\d+))?(?:-nl(\d+))?(-sigmatrue)?$")


def parse_method_id(method_id: str) -> tuple[str, int | None, int | None]:
    """Method id -> (method, nsamp, node limit): ``'tclustreg-ns3200'`` -> (tclustreg, 3200,
    None), ``'pclustreg1-nl100'`` -> (pclustreg1, None, 100), ``'oracle'`` -> (oracle, None,
    None). For pclustreg, ``-ns<N>`` means the node limit N / (2k) of Sec. 3.2.1."""
    m = _METHOD_ID.match(method_id)
    if not m:
        raise ValueError(f"unknown Chapter 2-3 method {method_id!r}; one of {CH23_METHODS}, "
                         "optionally with -ns<nsamp>, -nl<node limit>, -sigmatrue")
    return m[1], None if m[2] is None else int(m[2]), None if m[3] is None else int(m[3])


def true_sigma_min(meta: dict[str, Any]) -> float:
    """The smallest true error sd of a simulated data set: min_j sqrt(S_j) (MixSimreg)."""
    try:
        return float(np.sqrt(np.min(meta["simulation"]["S"])))
    except KeyError:
        raise ValueError("sigma_min 'true_min' needs a simulated data set (its true "
                         "variances); give a number instead") from None


def resolved_options(method_id: str, k: int, options: dict[str, Any]) -> dict[str, Any]:
    """Options of a run: ``options`` with nsamp / node_limit from the method id."""
    base, nsamp, node_limit = parse_method_id(method_id)
    out = dict(options)
    if method_id.endswith("-sigmatrue"):
        out["sigma_min"] = "true_min"
    if base == "tclustreg" and nsamp is not None:
        out["nsamp"] = nsamp
    if base.startswith("pclustreg"):
        if node_limit is not None:
            out["node_limit"] = node_limit
        elif nsamp is not None:
            out["node_limit"] = max(1, nsamp // (2 * k))
    return out


@dataclass
class Ch23Spec:
    """Everything that determines one run (hashed into the record's settings_hash)."""

    study: str
    dataset: str
    method: str
    seed: int
    k: int
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_method_id(self.method)
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")


def _sigma_min(options: dict[str, Any]) -> float | None:
    """pclustreg's sigma_min: the resolved true value, the configured one (default the thesis'
    1), or None (an explicit ``sigma_min: null``: no bound from it, see pclustreg)."""
    value = options.get("sigma_min_resolved", options.get("sigma_min", 1.0))
    return None if value is None else float(value)


def run_regression_method(base: str, X: np.ndarray, y: np.ndarray, k: int, seed: int,
                          options: dict[str, Any], truth: np.ndarray | None
                          ) -> tuple[np.ndarray, str, dict[str, Any], dict[str, Any]]:
    """(labels, status, extra, solver info) of one method."""
    from mixopt.methods.regression.pclustreg import fit_pclustreg
    from mixopt.methods.regression.tclustreg import fit_tclustreg
    from mixopt.problem import RegressionProblem

    if base == "oracle":
        if truth is None:
            raise ValueError("the oracle needs the true labels")
        return truth.copy(), "baseline", {}, {"name": "oracle"}
    if base == "tclustreg":
        res = fit_tclustreg(RegressionProblem(X, y, k), nsamp=int(options.get("nsamp", 300)),
                            seed=seed, intercept=bool(options.get("intercept", True)))
        extra = {"tclustreg_objective": float(res.objective), "best_start": int(res.best_start),
                 "n_abandoned": int(res.n_abandoned)}
        return res.labels, "local", extra, {"name": "mixopt.tclustreg"}
    variant = "chi2" if base == "pclustreg1" else "F"
    p = X.shape[1]
    n_min = options.get("n_min")
    res = fit_pclustreg(
        RegressionProblem(X, y, k), variant=variant, s=float(options.get("s", 0.999)),
        n_min=p + 1 if n_min is None else int(n_min),
        sigma_min=_sigma_min(options),
        node_limit=options.get("node_limit"), restarts=int(options.get("restarts", 1)),
        seed=seed, time_limit_s=options.get("time_limit_s"),
        f_dof_scaling=bool(options.get("f_dof_scaling", False)))
    extra = {"variant": variant, "n_expanded": res.n_expanded, "loglik_method": res.objective,
             "n_nodes_created": res.n_nodes_created, "n_cuts": res.n_cuts,
             "n_cem_runs": res.n_cem_runs, "n_dp_solves": res.n_dp_solves,
             "best_open_upper_bound": res.upper_bound}
    status = {"complete": "probabilistic"}.get(res.status, res.status)
    return res.labels, status, extra, {"name": f"mixopt.pclustreg ({variant})"}


def run_ch23_job(spec: Ch23Spec, data_csv: str | Path, out: str | Path,
                 config_hash: str | None = None, rule: str | None = None) -> dict[str, Any]:
    """Run ``spec`` on the regression data set ``data_csv`` and write its record to ``out``."""
    csv = Path(data_csv)
    ds = read_dataset(csv)
    X, y = regression_arrays(ds)
    truth = None if ds.labels is None or np.any(ds.labels < 0) else ds.labels
    base = parse_method_id(spec.method)[0]
    options = resolved_options(spec.method, spec.k, spec.options)
    if options.get("sigma_min") == "true_min" and base.startswith("pclustreg"):
        options["sigma_min_resolved"] = true_sigma_min(ds.meta)
    return run_ch23_arrays(spec, X, y, truth, options, [csv, csv.with_suffix(".json")], out,
                           config_hash=config_hash, rule=rule)


def run_ch23_arrays(spec: Ch23Spec, X: np.ndarray, y: np.ndarray, truth: np.ndarray | None,
                    options: dict[str, Any], inputs: list[Path], out: str | Path,
                    config_hash: str | None = None, rule: str | None = None,
                    notes: list[str] | None = None) -> dict[str, Any]:
    """Run ``spec`` on the design ``X`` (intercept column included when wanted) and response
    ``y`` read from the files ``inputs``, and write its record to ``out``."""
    from mixopt.methods.regression.tclustreg import loglik_hat

    base = parse_method_id(spec.method)[0]
    t_start = provenance.now_utc()
    w0, c0 = time.perf_counter(), time.process_time()
    labels, status, extra, solver = run_regression_method(base, X, y, spec.k, spec.seed,
                                                          options, truth)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    if base == "oracle":
        wall = cpu = 0.0
    loglik = float(loglik_hat(X, y, labels, spec.k))
    if not np.isfinite(loglik) and status in SOLUTION_STATUSES:
        status = "infeasible"   # an assignment the thesis excludes (some n_j < p + 1, SSR_j = 0)
    sizes = np.bincount(labels, minlength=spec.k)
    record = {
        "schema_version": 1,
        "record_id": record_id(spec.study, spec.dataset, spec.method, spec.seed),
        "study": spec.study, "dataset": spec.dataset, "method": spec.method, "seed": spec.seed,
        "status": status, "objective": loglik if np.isfinite(loglik) else None,
        "lower_bound": None, "upper_bound": None, "gap": None,
        "assignment": labels,
        "params": {"k": spec.k, "pi": sizes / sizes.sum(), "settings": asdict(spec)},
        "metrics": {"ari": None if truth is None else adjusted_rand_index(labels, truth),
                    "accuracy": None if truth is None or int(truth.max()) + 1 != spec.k
                    else label_accuracy(labels, truth),
                    "loglik": loglik if np.isfinite(loglik) else None},
        "wall_time_s": wall, "cpu_time_s": cpu,
        "solver": {"version": provenance.mixopt.__version__, "options": options, **solver},
        "notes": list(notes or []),
        "extra": {**extra, "cluster_sizes": sizes.tolist(), "p": X.shape[1],
                  "objective_definition": "log L-hat (thesis Sec. 2.1), higher is better"},
        "provenance": provenance.collect(inputs=list(inputs), config_hash=config_hash,
                                         start_time=t_start, end_time=provenance.now_utc(),
                                         settings=asdict(spec), rule=rule),
    }
    write_record(out, record)
    return record
