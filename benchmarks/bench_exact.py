"""Method ``exact`` on the paper's multi-dimensional data sets: time to certify and final gap.

Prints, per data set, the wall time, status, objective, certified lower bound and relative gap of
method ``exact`` (the SDP branch-and-bound; for brca, K = 2 in d = 3, its search over
mean-difference directions; last column: nodes or boxes) next to the gap the paper's MIQP left
after 12 hours (Table 2: wine, brca; Sec. 4.2: pam50-4d with its 139 known subtypes). Needs the
processed data sets (``snakemake data/processed/wine.csv`` ...).

Settings: ``defaults`` (the default) runs ``exact`` with the workflow's defaults, ``methods.exact``
in config/config.yaml; ``configured`` with the options the workflow passes in each data set's study
(``methods.exact``, then the profile's ``method_overrides``, then the study's
``method_options``, the order of the workflow's job specs; Table 2's study has
no method options, the PAM50 study runs one round of separated cuts per node and splits sizes
at the SDP's size). ``--option
KEY=VALUE`` overrides either, and ``--defaults`` also runs the defaults after each data set, so
that both rows come from the same run. Time limit, threads and back end are this script's own
flags.

    python benchmarks/bench_exact.py --time-limit 3600 --threads 2   # the issue's hour, 2 cores
    python benchmarks/bench_exact.py --time-limit 120 --datasets wine
    python benchmarks/bench_exact.py --datasets pam50_4d --settings configured --defaults
    python benchmarks/bench_exact.py --datasets pam50_4d --cut-rounds 4
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from mixopt.constraints import Constraints
from mixopt.data.dataset import read_dataset
from mixopt.methods.map.exact.exact import fit_exact
from mixopt.methods.options import OptionError, check_options, configured_options
from mixopt.problem import MAPProblem, class_precision
from mixopt.studies.flaherty_pam50 import with_known_labels

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mssc import fail, parse_option  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# data set: (K, precision rule, constraints, the paper's 12-hour relative gap)
CASES = {
    "wine": (3, "inverse_mean_class_covariance", {"min_size": 1, "pi_order": True},
             (1390.13 - 183.42) / 1390.13),
    "brca": (2, "mean_class_precision", {"min_size": 1, "pi_order": True},
             (1578.49 - 332.30) / 1578.49),
    "pam50_4d": (5, "mean_class_precision", {"min_size": 1}, 0.3235),
}
STUDY = {"wine": "flaherty_table2", "brca": "flaherty_table2", "pam50_4d": "flaherty_pam50"}
# options of the workflow's records that are not the search's settings
RUN_ONLY = ("time_limit_s", "threads", "backend", "log_progress", "seed")


def settings(name: str, cfg: dict[str, Any], study: bool) -> dict[str, Any]:
    """``exact``'s options for data set ``name``: ``methods.exact`` of the configuration
    ``cfg``, and with ``study`` the profile's ``method_overrides`` and the study's
    ``method_options`` over them (``configured_options``, as the workflow's ``job_spec``),
    without the run-only keys."""
    if study:
        options = configured_options(cfg, "exact",
                                     study_options=cfg["studies"][STUDY[name]].get("method_options"))
    else:
        options = dict(cfg["methods"].get("exact") or {})
    return {key: value for key, value in options.items() if key not in RUN_ONLY}


def case_problem(data_dir: str | Path, name: str) -> tuple[MAPProblem, Constraints]:
    """Data set ``name``'s problem (its precision rule of :data:`CASES`) and constraints, with
    pam50's known subtypes as labels, from ``data_dir/<name>.csv``."""
    k, rule, spec, _ = CASES[name]
    ds = read_dataset(Path(data_dir) / f"{name}.csv")
    if name.startswith("pam50"):
        spec = with_known_labels(ds.labels, spec)
    return MAPProblem(ds.X, k, class_precision(ds.X, ds.labels, rule, 1)), \
        Constraints.from_dict(spec)


def checked(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` if ``exact`` takes them and none is a run-only key; else a one-line error."""
    run_only = sorted(set(options) & set(RUN_ONLY))
    if run_only:
        fail(f"--option {run_only[0]}: set it with this script's own flag")
    try:
        check_options("exact", options)
    except OptionError as err:
        fail(str(err))
    return options


def label(options: dict[str, Any], defaults: dict[str, Any]) -> str:
    """The options that differ from ``defaults``, or 'defaults'."""
    shown = [f"{key}={value}" for key, value in sorted(options.items())
             if defaults.get(key, object()) != value]
    return ", ".join(shown) if shown else "defaults"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="data/processed")
    ap.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    ap.add_argument("--time-limit", type=float, default=3600.0)
    ap.add_argument("--datasets", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--backend", default="scs")
    ap.add_argument("--threads", type=int, default=1,
                    help="node bounds solved at once (worker processes)")
    ap.add_argument("--settings", choices=["defaults", "configured"], default="defaults",
                    help="methods.exact of the config, or the options of each data set's study")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="an option of exact over the settings (repeatable; YAML value)")
    ap.add_argument("--cuts", choices=["triangles", "separated", "all", "none"],
                    help="option cuts (same as --option cuts=...)")
    ap.add_argument("--cut-rounds", type=int,
                    help="solves per node with separated cuts between them (option cut_rounds)")
    ap.add_argument("--defaults", action="store_true",
                    help="also run the defaults (methods.exact) after each data set")
    ap.add_argument("--verbose", action="store_true", help="log the search's progress")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    overrides = dict(parse_option(text) for text in args.option)
    if args.cuts is not None:
        overrides["cuts"] = args.cuts
    if args.cut_rounds is not None:
        overrides["cut_rounds"] = args.cut_rounds
    config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    print(f"{'data set':10} {'n':>4} {'d':>3} {'K':>2} {'time s':>8} {'status':>11} "
          f"{'objective':>12} {'lower bound':>12} {'gap':>9} {'paper gap (12 h)':>17} "
          f"{'nodes':>6}  settings", flush=True)
    for name in args.datasets:
        problem, constraints = case_problem(args.data_dir, name)
        paper_gap = CASES[name][3]
        defaults = settings(name, config, study=False)
        chosen = checked({**settings(name, config, study=args.settings == "configured"),
                          **overrides})
        runs = [chosen] + ([defaults] if args.defaults and chosen != defaults else [])
        for options in runs:
            t0 = time.perf_counter()
            res = fit_exact(problem, constraints=constraints,
                            time_limit_s=args.time_limit, backend=args.backend,
                            threads=args.threads, **options)
            wall = time.perf_counter() - t0
            print(f"{name:10} {problem.n:4d} {problem.d:3d} {problem.k:2d} {wall:8.1f} "
                  f"{res.status:>11} {res.objective:12.4f} {res.lower_bound:12.4f} "
                  f"{res.gap:9.2e} {paper_gap:17.1%} {res.iterations:6d}  "
                  f"{label(options, defaults)}", flush=True)


if __name__ == "__main__":
    main()
