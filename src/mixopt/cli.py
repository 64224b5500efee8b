"""Command-line interface: ``mixopt <command>``. Run ``mixopt <command> --help`` for details."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mixopt.io import check_output_path

if TYPE_CHECKING:
    from mixopt.data.dataset import Dataset, PointsTable

class CommandError(Exception):
    """An expected failure of a command: reported as one line ``mixopt <command>: error: ...``
    with exit code 2 (argparse's convention)."""


def _cmd_fetch(args: argparse.Namespace) -> int:
    from mixopt.data.sources import fetch, load_registry, raw_path, resolve_mirror

    registry = load_registry()
    keys = args.keys or sorted(registry)
    unknown = [k for k in keys if k not in registry]
    if unknown:
        raise CommandError(f"unknown raw file(s) {unknown}; known: {sorted(registry)}")
    mirror = resolve_mirror(args.mirror, option="--mirror")
    for key in keys:
        path = fetch(registry[key], raw_path(Path(args.dest), registry[key]), mirror=mirror,
                     option="--mirror DIR")
        print(f"{key}: {path}")
    return 0


def _cmd_preprocess(args: argparse.Namespace) -> int:
    from mixopt.data.dataset import write_dataset
    from mixopt.data.preprocess import build_dataset, raw_keys_for
    from mixopt.data.sources import load_registry, raw_path

    registry = load_registry()
    paths = {k: raw_path(Path(args.raw_dir), registry[k]) for k in raw_keys_for(args.name)}
    out = Path(args.out or Path(args.processed_dir) / f"{args.name}.csv")
    for dest in (out, out.with_suffix(".json")):
        check_output_path(dest, paths.values())
    write_dataset(build_dataset(args.name, paths), out)
    print(out)
    return 0


def _load_precision(args: argparse.Namespace) -> dict[str, object] | np.ndarray:
    if args.sigma is not None and args.precision is not None:
        raise CommandError("give either --sigma or --precision, not both")
    if args.sigma is not None:
        return {"sigma": args.sigma}
    if args.precision == "estimate":
        return {"estimate": "tied_gmm", "random_state": args.seed}
    if args.precision is not None:
        try:
            return np.atleast_2d(np.loadtxt(args.precision, delimiter=",", ndmin=2))
        except ValueError as exc:
            raise CommandError(
                f"--precision {args.precision}: not a numeric CSV matrix ({exc})") from None
    raise CommandError("the covariance is known in Problem (4): give --sigma S or --precision "
                       "FILE, or --precision estimate to estimate it from the data")


def _check_outputs(args: argparse.Namespace, inputs: list) -> None:
    """Refuse outputs that would overwrite an input (or each other) before any work."""
    check_output_path(args.out, inputs)
    if args.labels_out:
        check_output_path(args.labels_out, [*inputs, args.out])


def _read_table(args: argparse.Namespace, extra: list[str] | None = None) -> PointsTable:
    """The points of ``--data`` with ``--columns`` (plus the ``extra`` columns), ``--label-col``
    and ``--no-header``."""
    from mixopt.data.dataset import LABEL_COLUMN, read_points_table

    columns = None
    if args.columns is not None:
        columns = [c.strip() for c in args.columns.split(",")]
        if not all(columns):
            raise CommandError(f"--columns {args.columns!r}: empty column name")
        columns += [c for c in extra or [] if c not in columns]
    return read_points_table(args.data, label_column=args.label_col or LABEL_COLUMN,
                             has_header=not args.no_header, columns=columns,
                             required_label=args.label_col is not None)


def _dataset(args: argparse.Namespace, table: PointsTable) -> Dataset:
    from mixopt.data.dataset import Dataset

    features = [f if f != "label" else "label_" for f in table.feature_names]
    return Dataset(name=Path(args.data).stem, X=table.X, labels=table.labels,
                   feature_names=features, label_names=table.label_names, meta={})


def _write_labels(args: argparse.Namespace, rec: dict[str, object], table: PointsTable) -> None:
    """``--labels-out``: one 0-based cluster label per point, beside the id column if any."""
    if not args.labels_out:
        return
    from mixopt.io import atomic_write_bytes

    assignment = rec.get("assignment")
    labels = [] if assignment is None else [int(v) for v in assignment]
    if len(labels) != table.X.shape[0]:
        print(f"mixopt {args.command}: no labels to write to {args.labels_out} (status "
              f"{rec['status']})", file=sys.stderr)
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if table.ids is not None:
        w.writerow([table.id_column, "cluster"])
        w.writerows(zip(table.ids, labels, strict=True))
    else:
        w.writerow(["cluster"])
        w.writerows([lab] for lab in labels)
    atomic_write_bytes(Path(args.labels_out), buf.getvalue().encode("utf-8"))
    print(f"labels -> {args.labels_out}")


def _exit_status(command: str, rec: dict[str, object], out: str) -> int:
    """1 (with a one-line message) when the run ended with status error, else 0."""
    if rec["status"] != "error":
        return 0
    notes = rec.get("notes") or []
    reason = rec.get("error") or (notes[-1] if isinstance(notes, list) and notes else
                                  "the run failed")
    print(f"mixopt {command}: error: {reason} (record with status error written to {out})",
          file=sys.stderr)
    return 1


def _cmd_cluster(args: argparse.Namespace) -> int:
    from mixopt.methods.base import GLOBAL_METHODS
    from mixopt.methods.options import check_value
    from mixopt.runner import JobSpec, run_on_dataset

    inputs = [Path(args.data)] + [Path(p) for p in (args.precision, args.constraints)
                                  if p and p != "estimate"]
    _check_outputs(args, inputs)
    table = _read_table(args)
    prec = _load_precision(args)
    options = json.loads(args.options) if args.options else {}
    if not isinstance(options, dict):
        raise ValueError(f"--options must be a JSON object of method options, got {args.options}")
    if args.time_limit is not None:
        if args.method not in GLOBAL_METHODS:
            raise CommandError(f"--time-limit applies to the global methods {GLOBAL_METHODS}")
        check_value("time_limit_s", args.time_limit, label="--time-limit")
        options["time_limit_s"] = args.time_limit
    from mixopt.constraints import Constraints, load_constraints

    cons = load_constraints(args.constraints) if args.constraints else Constraints()
    if args.min_size is not None:
        cons = replace(cons, min_size=args.min_size)
    constraints = cons.to_dict()
    spec_prec = prec if isinstance(prec, dict) else {"matrix": prec.tolist()}
    ds = _dataset(args, table)
    spec = JobSpec(study="cli", dataset=ds.name, method=args.method, seed=args.seed, k=args.k,
                   precision=spec_prec, options=options, constraints=constraints,
                   proportions=args.proportions)
    rec = run_on_dataset(spec, ds, inputs, args.out)
    model = rec["params"].get("model") or {}
    print(f"model: K = {args.k}, {model.get('clusters', '?')}, proportions "
          f"{model.get('proportions', args.proportions)}"
          + (f", side constraints {model['side_constraints']}"
             if model.get("side_constraints") else ""))
    print(f"{rec['method']} on {args.data}: status {rec['status']}, objective {rec['objective']}, "
          f"bounds [{rec['lower_bound']}, {rec['upper_bound']}] -> {args.out}")
    if "mssc" in rec["metrics"]:   # equal proportions: the sum of squares and its bound
        print(f"sum of squares {rec['metrics']['mssc']}, lower bound "
              f"{rec['metrics']['mssc_lower_bound']}, gap {rec['gap']} (without n log K)")
    for note in rec.get("notes", []):
        print(f"note: {note}")
    _write_labels(args, rec, table)
    return _exit_status("cluster", rec, args.out)


def _check_bclust_args(args: argparse.Namespace) -> None:
    """Refuse out-of-range bclust arguments before any work (ValueError, one line)."""
    from mixopt.methods.options import check_value

    if args.k < 2:
        raise ValueError(f"--k must be >= 2, got {args.k}")
    if not (np.isfinite(args.r2) and args.r2 >= 1):
        raise ValueError(f"--r2 must be a finite number >= 1, got {args.r2}")
    check_value("nsamp", args.nsamp, label="--nsamp")
    check_value("n_candidates", args.candidates, allow_none=True, label="--candidates")
    check_value("time_limit_s", args.time_limit, allow_none=True, label="--time-limit")


def _read_start_labels(path: str, n: int, k: int) -> np.ndarray:
    """0-based start labels from ``path``: n integers in 0..k-1 (ValueError otherwise)."""
    try:
        start = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except ValueError as exc:
        raise ValueError(f"--start-labels {path}: not one integer label per line ({exc})") \
            from None
    if start.ndim != 1 or start.size != n:
        raise ValueError(f"--start-labels {path}: {start.size} labels for {n} points")
    if start.min() < 0 or start.max() >= k:
        raise ValueError(f"--start-labels {path}: labels must lie in 0..{k - 1} (--k {k}), "
                         f"found {start.min()}..{start.max()}")
    sizes = np.bincount(start, minlength=k)
    if sizes.min() < 2:
        raise ValueError(f"--start-labels {path}: cluster sizes {sizes.tolist()}; bclust needs "
                         ">= 2 points in each cluster")
    return start


def _cmd_bclust(args: argparse.Namespace) -> int:
    from mixopt.methods.robust.tclust import fit_tclust
    from mixopt.problem import RobustProblem
    from mixopt.studies.fois_ch1 import Ch1Spec, run_ch1_on_dataset

    _check_bclust_args(args)
    _check_outputs(args, [args.data, args.start_labels])
    table = _read_table(args)
    ds = _dataset(args, table)
    x = ds.X
    inputs = [Path(args.data)]
    if args.start_labels:
        start = _read_start_labels(args.start_labels, ds.n, args.k)
        inputs.append(Path(args.start_labels))
        start_from = f"labels in {args.start_labels}"
    else:
        start = fit_tclust(RobustProblem(x, args.k, args.r2), nsamp=args.nsamp,
                           seed=args.seed).labels
        start_from = f"tclust (nsamp {args.nsamp}, seed {args.seed})"
    method = "bclust" if args.mode == "thesis" else "bclust_lik"
    options = {"solver": args.solver, "n_candidates": args.candidates,
               "time_limit_s": args.time_limit}
    spec = Ch1Spec(study="cli", dataset=ds.name, method=method, seed=args.seed, r2=args.r2,
                   options=options, k=args.k)
    rec = run_ch1_on_dataset(spec, ds, inputs, args.out, start,
                             extra={"start_from": start_from}, objective=args.mode)
    print(f"bclust ({args.mode} mode) on {args.data}: status {rec['status']}, objective "
          f"({rec['extra']['objective_definition'].split(':')[0]}) {rec['objective']}, "
          f"sizes {rec['extra']['cluster_sizes']} -> {args.out}")
    for note in rec.get("notes", []):
        print(f"note: {note}")
    _write_labels(args, rec, table)
    return _exit_status("bclust", rec, args.out)


def regression_design(x: np.ndarray, names: list[str], intercept: bool) -> np.ndarray:
    """The design of ``mixopt clusterreg``: a leading column of ones, then the regressors
    (without the ones when ``intercept`` is False), the same for pclustreg and tclustreg."""
    if not intercept:
        return x
    const = [names[j] for j in np.flatnonzero(np.ptp(x, axis=0) == 0)]
    if const:
        raise CommandError(f"regressor column(s) {const} are constant: an intercept is added "
                           "by default; leave them out (--columns) or pass --no-intercept")
    return np.column_stack([np.ones(x.shape[0]), x])


def _cmd_clusterreg(args: argparse.Namespace) -> int:
    from mixopt.studies.fois_ch23 import Ch23Spec, run_ch23_arrays

    if args.k < 1:
        raise CommandError(f"--k must be >= 1, got {args.k}")
    _check_outputs(args, [args.data])
    table = _read_table(args, extra=[args.response])
    names = table.feature_names
    if args.response not in names:
        raise CommandError(f"no numeric column {args.response!r} for --response; columns: "
                           f"{names}")
    j = names.index(args.response)
    y = table.X[:, j].copy()
    regressors = [nm for nm in names if nm != args.response]
    x = regression_design(np.delete(table.X, j, axis=1), regressors, not args.no_intercept)
    if x.shape[1] == 0:
        raise CommandError("no regressor columns and --no-intercept: nothing to regress on")
    if args.method == "tclustreg":
        method, options = f"tclustreg-ns{args.nsamp}", {"nsamp": args.nsamp}
        options["intercept"] = False        # the design is complete: ones added above or not
    else:
        method = "pclustreg1" if args.variant == "chi2" else "pclustreg2"
        options = {"s": args.s, "sigma_min": args.sigma_min, "node_limit": args.node_limit,
                   "time_limit_s": args.time_limit}
        if args.variant == "chi2" and args.sigma_min is None:
            raise CommandError("--variant chi2 needs --sigma-min (an underestimate of the "
                               "smallest error sd)")
    truth = table.labels if table.labels is not None and np.all(table.labels >= 0) else None
    design = (["(intercept)"] if not args.no_intercept else []) + regressors
    note = (f"design: {', '.join(design)}; response {args.response}; "
            + ("a column of ones is the intercept" if not args.no_intercept
               else "no intercept (--no-intercept)"))
    spec = Ch23Spec(study="cli", dataset=Path(args.data).stem, method=method, seed=args.seed,
                    k=args.k, options={**options, "intercept": not args.no_intercept})
    rec = run_ch23_arrays(spec, x, y, truth, options, [Path(args.data)], args.out, notes=[note])
    print(f"{args.method} ({method}) on {args.data}: status {rec['status']}, log L-hat "
          f"{rec['objective']}, sizes {rec['extra']['cluster_sizes']}, ARI "
          f"{rec['metrics']['ari']} -> {args.out}")
    _write_labels(args, rec, table)
    return _exit_status("clusterreg", rec, args.out)


def _cmd_plot(args: argparse.Namespace) -> int:
    from mixopt.records import RecordError, read_record
    from mixopt.report.record_plot import plot_record

    try:
        rec = read_record(args.record)
    except RecordError as exc:
        raise CommandError(str(exc)) from None
    data = args.data
    if data is None:
        inputs = rec.get("provenance", {}).get("inputs") or []
        if not inputs:
            raise CommandError(f"{args.record} names no input data file: give --data F.csv")
        data = inputs[0]["path"]
    if not Path(data).is_file():
        raise CommandError(f"data file {data} not found: give --data F.csv")
    check_output_path(args.out, [args.record, data])
    args.data = data
    table = _read_table(args)
    plot_record(rec, table.X, args.out, table.feature_names)
    print(f"plot of {args.record} -> {args.out}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from mixopt.audit import audit_all, audit_cell, format_audit, mismatches
    from mixopt.report.sources import read_sources

    if args.all is not None:
        lines, bad = audit_all(args.all or (["tables", "figures"] if args.artifact is None
                                            else [args.artifact]))
        print("\n".join(lines))
        print(f"audit: {'FAILED, ' + mismatches(bad) if bad else 'OK'}")
        return 1 if bad else 0
    if args.artifact is None:
        raise ValueError("give a table or figure to audit, or --all")
    if args.row is None or args.col is None:
        cells = read_sources(args.artifact)["cells"]
        print(f"{len(cells)} cells with records in {args.artifact}; "
              "audit one with --row R --col C:")
        for key in sorted(cells):
            row, col = key.split("|")
            print(f"  --row {row} --col {col}")
        return 0
    cell = audit_cell(args.artifact, args.row, args.col)
    print(format_audit(cell))
    return 1 if cell["mismatches"] else 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from mixopt.records import RecordError, read_record

    bad = 0
    for path in args.records:
        try:
            read_record(path)
        except RecordError as exc:
            print(exc, file=sys.stderr)
            bad += 1
    print(f"{len(args.records) - bad} valid, {bad} invalid")
    return 1 if bad else 0


def _cmd_methods(args: argparse.Namespace) -> int:
    from mixopt.methods.catalog import all_methods, format_method, method_info

    infos = [method_info(n) for n in args.names] if args.names else all_methods()
    print("\n\n".join(format_method(i) for i in infos))
    print("\nSet MAP options with mixopt cluster --options '{\"name\": value}'.")
    return 0


def _plan_config(paths: list[str], profile: str) -> dict:
    """The configuration files merged in order (as Snakemake does), checked to have ``profile``."""
    import yaml

    from mixopt.plan import merge_config

    config: dict = {}
    for path in paths:
        try:
            with open(path) as fh:
                layer = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise CommandError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(layer, dict):
            raise CommandError(f"{path}: not a mapping of settings")
        config = merge_config(config, layer)
    profiles = sorted(config.get("profiles") or {})
    if profile not in profiles:
        raise CommandError(f"--profile {profile}: not a profile of the configuration; "
                           f"known: {profiles}")
    return config


def _check_plan_numbers(args: argparse.Namespace) -> None:
    """Refuse core counts below 1 and a negative or non-finite job overhead."""
    for name in ("cores", "nodes", "cores_per_node"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if not (np.isfinite(args.job_overhead) and args.job_overhead >= 0):
        raise CommandError(f"--job-overhead must be a number >= 0, got {args.job_overhead}")


def _cmd_plan(args: argparse.Namespace) -> int:
    from mixopt import plan

    config = _plan_config(args.configfile, args.profile)
    _check_plan_numbers(args)
    if not Path(args.records).is_dir():
        raise CommandError(f"--records {args.records}: no such directory (build the quick "
                           "profile first: snakemake; or give a directory of run records)")
    index = plan.RecordIndex.from_dir(Path(args.records))
    if not index.count:
        raise CommandError(f"--records {args.records}: no run records in it")
    try:
        jobs = plan.workflow_jobs(config, args.profile)
    except KeyError as exc:
        raise CommandError(f"the configuration has no setting {exc.args[0]!r} (config/README.md "
                           "lists them)") from None
    if args.only is not None:
        jobs = plan.select_jobs(jobs, args.only)
        if not jobs:
            raise CommandError(f"--only {args.only!r}: no job matches (rule/dataset/method)")
    rows = plan.plan(jobs, index, args.job_overhead)
    if args.format != "csv":
        print(f"mixopt plan: profile {args.profile} ({' + '.join(args.configfile)}); run "
              f"times from {index.count} records in {args.records}\n")
    print(plan.format_plan(rows, args.format,
                           plan.machines(args.cores, args.nodes, args.cores_per_node),
                           fold=not args.all_rules), end="")
    widest = max(max(r.threads) for r in rows)
    if args.format != "csv" and args.nodes is not None and widest > args.cores_per_node:
        print(f"note: some jobs use {widest} threads, more than one node's "
              f"{args.cores_per_node} cores")
    return 0


def _seed(text: str) -> int:
    """argparse type of --seed: an integer >= 0 (records and the RNGs need one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def _add_data_args(p: argparse.ArgumentParser) -> None:
    """The data options shared by the commands that fit a user CSV."""
    p.add_argument("--data", required=True,
                   help="CSV, one point per row, header line, optional label and id columns")
    p.add_argument("--no-header", action="store_true",
                   help="the CSV has no header line: every column is a feature")
    p.add_argument("--columns", default=None,
                   help="comma-separated feature columns (default: every column but the label "
                        "and id columns; other columns, text or not, are ignored)")
    p.add_argument("--label-col", default=None,
                   help="column of true labels, used only for metrics (default: 'label' if "
                        "present)")
    p.add_argument("--labels-out", default=None,
                   help="CSV to write one 0-based cluster label per point (with the id column)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (default: a line every 5 s for long runs; on a "
                        "terminal a bar where the total is known)")


@contextlib.contextmanager
def progress_to_stderr(enabled: bool) -> Iterator[None]:
    """Send the methods' progress lines (logger ``mixopt.methods``) to stderr while running:
    bars where the total is known when stderr is a terminal, plain lines otherwise."""
    from mixopt.progress import progress_to

    with progress_to(sys.stderr, enabled):
        yield


def build_parser() -> argparse.ArgumentParser:
    """The ``mixopt`` argument parser."""
    from mixopt import __version__
    from mixopt.methods.base import METHODS

    p = argparse.ArgumentParser(prog="mixopt", description=__doc__)
    p.add_argument("--version", action="version", version=f"mixopt {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fetch", help="download raw files (mirror first), verifying sha256")
    f.add_argument("keys", nargs="*", help="registry keys (default: all)")
    f.add_argument("--dest", default="data/raw")
    f.add_argument("--mirror", default=None, help="mirror directory (else $MIXOPT_DATA_MIRROR)")
    f.set_defaults(func=_cmd_fetch)

    pp = sub.add_parser("preprocess", help="build one processed data set from verified raw files")
    pp.add_argument("name")
    pp.add_argument("--raw-dir", default="data/raw")
    pp.add_argument("--processed-dir", default="data/processed")
    pp.add_argument("--out", default=None)
    pp.set_defaults(func=_cmd_preprocess)

    c = sub.add_parser("cluster", help="MAP clustering of your own CSV data, written as a record")
    _add_data_args(c)
    c.add_argument("--k", type=int, required=True)
    c.add_argument("--method", choices=sorted(METHODS), default="em")
    c.add_argument("--sigma", type=float, default=None, help="common standard deviation")
    c.add_argument("--precision", default=None,
                   help="CSV file with the d x d precision matrix, or 'estimate': the inverse "
                        "shared covariance of a tied-covariance Gaussian mixture fit (recorded)")
    c.add_argument("--constraints", default=None,
                   help="side constraints (YAML; see mixopt.constraints for the format)")
    c.add_argument("--min-size", type=int, default=None,
                   help="least points per cluster (default 1: K clusters are K non-empty "
                        "clusters; 0: at most K clusters, empty ones allowed); overrides "
                        "min_size in --constraints")
    c.add_argument("--proportions", choices=["free", "equal"], default="free",
                   help="free: pi estimated (Problem (4)); equal: pi_k = 1/K fixed")
    c.add_argument("--time-limit", type=float, default=None, help="seconds (global methods)")
    c.add_argument("--seed", type=_seed, default=0)
    c.add_argument("--options", default=None, help="method options as JSON")
    c.add_argument("--out", required=True, help="record JSON to write")
    c.set_defaults(func=_cmd_cluster)

    b = sub.add_parser("bclust", help="bclust (Fois thesis Ch. 1) on your own CSV data")
    _add_data_args(b)
    b.add_argument("--k", type=int, required=True)
    b.add_argument("--r2", type=float, default=10.0,
                   help="max eigenvalue ratio of each cluster covariance (thesis r^2)")
    b.add_argument("--mode", choices=["likelihood", "thesis"], default="likelihood",
                   help="likelihood: Gaussian classification likelihood (closed form, fast); "
                        "thesis: the objective of the thesis' code (cvxpy)")
    b.add_argument("--start-labels", default=None,
                   help="file of 0-based start labels, one per line (default: run tclust)")
    b.add_argument("--nsamp", type=int, default=300, help="tclust random starts")
    b.add_argument("--candidates", type=int, default=None, help="h (default floor(n/10))")
    b.add_argument("--solver", default="CLARABEL", help="cvxpy solver in thesis mode")
    b.add_argument("--time-limit", type=float, default=None, help="seconds")
    b.add_argument("--seed", type=_seed, default=0)
    b.add_argument("--out", required=True, help="record JSON to write")
    b.set_defaults(func=_cmd_bclust)

    r = sub.add_parser("clusterreg", help="clusterwise regression (pclustreg or tclustreg) of "
                                          "your own CSV data, written as a record")
    _add_data_args(r)
    r.add_argument("--response", required=True, help="the response column y")
    r.add_argument("--method", choices=["pclustreg", "tclustreg"], default="tclustreg")
    r.add_argument("--k", type=int, required=True, help="number of regression hyperplanes")
    r.add_argument("--no-intercept", action="store_true",
                   help="no column of ones (default: one intercept per cluster, for both "
                        "methods)")
    r.add_argument("--nsamp", type=int, default=300, help="tclustreg random starts")
    r.add_argument("--variant", choices=["F", "chi2"], default="F",
                   help="pclustreg bound: F (thesis Ch. 3, pclustreg2) or chi2 (Ch. 2, "
                        "pclustreg1, needs --sigma-min)")
    r.add_argument("--s", type=float, default=0.999, help="pclustreg success probability")
    r.add_argument("--sigma-min", type=float, default=None,
                   help="pclustreg: underestimate of the smallest error sd")
    r.add_argument("--node-limit", type=int, default=None, help="pclustreg expanded nodes")
    r.add_argument("--time-limit", type=float, default=None, help="pclustreg seconds")
    r.add_argument("--seed", type=_seed, default=0)
    r.add_argument("--out", required=True, help="record JSON to write")
    r.set_defaults(func=_cmd_clusterreg)

    pl = sub.add_parser("plot", help="draw a record's clustering (first two principal "
                                     "components when d > 2) and its bounds over time")
    pl.add_argument("record", help="record JSON written by cluster, bclust or clusterreg")
    pl.add_argument("--data", default=None,
                    help="the data CSV (default: the record's input file)")
    pl.add_argument("--no-header", action="store_true", help="the CSV has no header line")
    pl.add_argument("--columns", default=None,
                    help="the feature columns used for the fit (as given to the fit)")
    pl.add_argument("--label-col", default=None, help="label column (as given to the fit)")
    pl.add_argument("--out", required=True, help="PNG to write")
    pl.set_defaults(func=_cmd_plot)

    a = sub.add_parser("audit", help="records and provenance behind a table cell, checked "
                                     "(exit 1 on a MISMATCH)")
    a.add_argument("artifact", nargs="?", help="table CSV, e.g. tables/flaherty_table2.csv")
    a.add_argument("--all", nargs="*", metavar="DIR", default=None,
                   help="check every cell of every *.sources.json under DIR (default: the "
                        "artifact given, else tables and figures)")
    a.add_argument("--row", default=None, help="row id, e.g. iris1d:neg_log_map")
    a.add_argument("--col", default=None, help="column (method), e.g. em")
    a.set_defaults(func=_cmd_audit)

    m = sub.add_parser("methods", help="list the methods with their options, defaults, the "
                                       "constraints they honour and what they certify")
    m.add_argument("names", nargs="*", help="methods to show (default: all)")
    m.set_defaults(func=_cmd_methods)

    pn = sub.add_parser("plan", help="cost plan of the workflow: jobs, time budgets and "
                                     "core-hours per rule of a study profile")
    pn.add_argument("--profile", default="quick", help="study profile (quick, paper)")
    pn.add_argument("--records", default="results/quick",
                    help="run records to take run times from (a built profile)")
    pn.add_argument("--configfile", nargs="+", default=["config/config.yaml"],
                    help="configuration files, later ones merged over earlier ones (as "
                         "snakemake --configfile)")
    pn.add_argument("--cores", type=int, default=32, help="cores of one machine (wall time)")
    pn.add_argument("--nodes", type=int, default=None, help="also the wall time on N nodes")
    pn.add_argument("--cores-per-node", type=int, default=32)
    pn.add_argument("--job-overhead", type=float, default=3.0, metavar="S",
                    help="seconds each job takes beyond its record's wall time (process start, "
                         "imports; default 3)")
    pn.add_argument("--only", default=None, metavar="REGEX",
                    help="plan only the jobs whose rule/dataset/method matches, e.g. "
                         "'/k4_p\\d+_r2-10_omega0.01/' (thesis Table 1.1)")
    pn.add_argument("--all-rules", action="store_true",
                    help="one row per rule (default: the small rules without records, such as "
                         "tables and figures, in one row)")
    pn.add_argument("--format", choices=["text", "md", "csv"], default="text")
    pn.set_defaults(func=_cmd_plan)

    v = sub.add_parser("validate", help="check run records against the schema")
    v.add_argument("records", nargs="+")
    v.set_defaults(func=_cmd_validate)
    return p


def _message(exc: BaseException) -> str:
    """One line for an expected failure (a KeyError's text without its quotes, an OSError as
    'file: reason')."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mixopt`` command."""
    from mixopt.data.sources import DownloadError
    from mixopt.lifetime import Terminated, terminate_on_signals
    from mixopt.methods.map.solvers import SolverUnavailableError
    from mixopt.methods.robust.bclust_objective import BclustSolverError

    args = build_parser().parse_args(argv)
    try:
        with terminate_on_signals(), progress_to_stderr(not getattr(args, "quiet", True)):
            return int(args.func(args))
    except (CommandError, ValueError, KeyError, OSError, DownloadError, SolverUnavailableError,
            BclustSolverError) as exc:
        print(f"mixopt {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except Terminated as exc:   # the children are stopped, nothing was written
        print(f"mixopt {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
