"""Command-line interface: ``mixopt <command>``. Run ``mixopt <command> --help`` for details."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mixopt.io import check_output_path

GLOBAL_METHODS = ("minlp", "miqp", "exact")


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
    if args.precision is not None:
        try:
            return np.atleast_2d(np.loadtxt(args.precision, delimiter=",", ndmin=2))
        except ValueError as exc:
            raise CommandError(
                f"--precision {args.precision}: not a numeric CSV matrix ({exc})") from None
    raise CommandError("the covariance is known in Problem (4): give --sigma S or --precision FILE")


def _cmd_cluster(args: argparse.Namespace) -> int:
    from mixopt.data.dataset import Dataset, read_points_csv
    from mixopt.runner import JobSpec, run_on_dataset

    inputs = [Path(args.data)] + [Path(p) for p in (args.precision, args.constraints) if p]
    check_output_path(args.out, inputs)
    x, labels, features, label_names = read_points_csv(args.data,
                                                        has_header=not args.no_header)
    prec = _load_precision(args)
    options = json.loads(args.options) if args.options else {}
    if args.time_limit is not None:
        if args.method not in GLOBAL_METHODS:
            raise CommandError(f"--time-limit applies to the global methods {GLOBAL_METHODS}")
        options["time_limit_s"] = args.time_limit
    constraints = None
    if args.constraints:
        from mixopt.constraints import load_constraints

        constraints = load_constraints(args.constraints).to_dict()
    spec_prec = prec if isinstance(prec, dict) else {"matrix": prec.tolist()}
    ds = Dataset(name=Path(args.data).stem, X=x, labels=labels, feature_names=features,
                 label_names=label_names, meta={})
    spec = JobSpec(study="cli", dataset=ds.name, method=args.method, seed=args.seed, k=args.k,
                   precision=spec_prec, options=options, constraints=constraints)
    rec = run_on_dataset(spec, ds, inputs, args.out)
    print(f"{rec['method']} on {args.data}: status {rec['status']}, objective {rec['objective']}, "
          f"bounds [{rec['lower_bound']}, {rec['upper_bound']}] -> {args.out}")
    for note in rec.get("notes", []):
        print(f"note: {note}")
    return 0


def _cmd_bclust(args: argparse.Namespace) -> int:
    from mixopt.data.dataset import Dataset, read_points_csv
    from mixopt.fois.ch1_job import Ch1Spec, run_ch1_on_dataset
    from mixopt.methods.tclust import fit_tclust

    check_output_path(args.out, [args.data, args.start_labels])
    x, labels, features, label_names = read_points_csv(args.data,
                                                        has_header=not args.no_header)
    ds = Dataset(name=Path(args.data).stem, X=x, labels=labels, feature_names=features,
                 label_names=label_names, meta={})
    inputs = [Path(args.data)]
    if args.start_labels:
        start = np.loadtxt(args.start_labels, dtype=np.int64, ndmin=1)
        inputs.append(Path(args.start_labels))
        start_from = f"labels in {args.start_labels}"
    else:
        start = fit_tclust(x, args.k, args.r2, nsamp=args.nsamp, seed=args.seed).labels
        start_from = f"tclust (nsamp {args.nsamp}, seed {args.seed})"
    method = "bclust" if args.mode == "thesis" else "bclust_lik"
    options = {"solver": args.solver, "n_candidates": args.candidates,
               "time_limit_s": args.time_limit}
    spec = Ch1Spec(study="cli", dataset=ds.name, method=method, seed=args.seed, r2=args.r2,
                   options=options, k=args.k)
    rec = run_ch1_on_dataset(spec, ds, inputs, args.out, start,
                             extra={"start_from": start_from})
    lik = rec["metrics"]["obj_likelihood"]
    print(f"bclust ({args.mode} mode) on {args.data}: status {rec['status']}, "
          f"-log-likelihood {lik}, thesis Obj {rec['objective']}, "
          f"sizes {rec['extra']['cluster_sizes']} -> {args.out}")
    for note in rec.get("notes", []):
        print(f"note: {note}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from mixopt.audit import audit_cell, format_audit
    from mixopt.report.sources import read_sources

    if args.row is None or args.col is None:
        cells = read_sources(args.artifact)["cells"]
        print(f"{len(cells)} cells with records in {args.artifact}; "
              "audit one with --row R --col C:")
        for key in sorted(cells):
            row, col = key.split("|")
            print(f"  --row {row} --col {col}")
        return 0
    print(format_audit(audit_cell(args.artifact, args.row, args.col)))
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The ``mixopt`` argument parser."""
    from mixopt.methods.base import METHODS

    p = argparse.ArgumentParser(prog="mixopt", description=__doc__)
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
    c.add_argument("--data", required=True, help="CSV, one point per row, optional 'label' column")
    c.add_argument("--no-header", action="store_true",
                   help="the CSV has no header line: every column is a feature")
    c.add_argument("--k", type=int, required=True)
    c.add_argument("--method", choices=sorted(METHODS), default="em")
    c.add_argument("--sigma", type=float, default=None, help="common standard deviation")
    c.add_argument("--precision", default=None, help="CSV file with the d x d precision matrix")
    c.add_argument("--constraints", default=None,
                   help="side constraints (YAML; see mixopt.constraints for the format)")
    c.add_argument("--time-limit", type=float, default=None, help="seconds (global methods)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--options", default=None, help="method options as JSON")
    c.add_argument("--out", required=True, help="record JSON to write")
    c.set_defaults(func=_cmd_cluster)

    b = sub.add_parser("bclust", help="bclust (Fois thesis Ch. 1) on your own CSV data")
    b.add_argument("--data", required=True, help="CSV, one point per row, optional 'label' column")
    b.add_argument("--no-header", action="store_true",
                   help="the CSV has no header line: every column is a feature")
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
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--out", required=True, help="record JSON to write")
    b.set_defaults(func=_cmd_bclust)

    a = sub.add_parser("audit", help="records and provenance behind a table cell")
    a.add_argument("artifact", help="table CSV, e.g. tables/flaherty_table2.csv")
    a.add_argument("--row", default=None, help="row id, e.g. iris1d:neg_log_map")
    a.add_argument("--col", default=None, help="column (method), e.g. em")
    a.set_defaults(func=_cmd_audit)

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
    from mixopt.methods.bclust_objective import BclustSolverError
    from mixopt.solvers import SolverUnavailableError

    args = build_parser().parse_args(argv)
    try:
        with terminate_on_signals():
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
