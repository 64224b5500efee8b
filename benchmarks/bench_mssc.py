"""Method ``exact`` on the MSSC benchmark (SOS-SDP instances): time, gap, nodes and MSSC value.

MSSC = Problem (4) with pi_k = 1/K and identity precision (``proportions: equal``). Per instance
the script prints the wall time, status, MSSC value (sum of squared distances to the cluster
means), its certified lower bound, the MSSC relative gap and the nodes, with SOS-SDP's published
figure beside it (Piccialli, Sudoso, Wiegele, INFORMS J. Computing 2022: the glass run of its
code's README; "not published" for the others). Instances and exact's options come from
config/config.yaml (study ``mssc_benchmark``, ``methods.exact``, ``solvers.exact``); the data from
the raw files (data/raw/mssc_<name>/, else the mirror $MIXOPT_DATA_MIRROR), sha256-checked.

``--option key=value`` (repeatable, YAML values) passes options to exact, e.g. another conic
solver or search: ``--option backend=clarabel``, ``--option "solver_options={eps_abs: 1e-6}"``.
``--baseline`` also runs the configured settings without the ``--option`` ones (rows ``config``
and ``options``), so that a change of solver is compared with the current one in the same run,
on the same machine; ``--defaults`` also runs exact with its own defaults, without the study's
``method_options`` (row ``defaults``: the solver before the study's cut rounds, pair branching
and node cap).

    python benchmarks/bench_mssc.py --time-limit 60 --threads 2
    python benchmarks/bench_mssc.py --instances glass_k6 --option cuts=none --baseline
    python benchmarks/bench_mssc.py --instances all --time-limit 600 --defaults
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import yaml

from mixopt.data.mssc import read_mssc
from mixopt.data.sources import load_registry, resolve_mirror, verify
from mixopt.methods.base import run_method
from mixopt.methods.options import OptionError, check_options
from mixopt.problem import MAPProblem
from mixopt.report.published import load_published
from mixopt.runner import mssc_metrics
from mixopt.studies.mssc_benchmark import METHOD, PROPORTIONS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INSTANCES = ["ruspini_k4", "iris_k3", "glass_k6"]


def fail(message: str) -> NoReturn:
    """One-line error, exit code 2 (named after the running script: other benchmarks parse
    their ``--option`` with :func:`parse_option`)."""
    print(f"{Path(sys.argv[0]).stem}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def parse_option(text: str) -> tuple[str, Any]:
    """``key=value`` with a YAML value."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        fail(f"--option {text!r}: expected key=value")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        fail(f"--option {text!r}: the value is not valid YAML")


def points(dataset: str, raw_dir: Path) -> np.ndarray:
    """The verified points of processed data set ``mssc_<name>`` from its raw file."""
    entry = load_registry().get(dataset)
    if entry is None:
        fail(f"no raw file {dataset!r} in the registry")
    path = raw_dir / dataset / entry.file
    if not path.exists():
        mirror = resolve_mirror(None)
        if mirror is None:
            fail(f"{path} not found and $MIXOPT_DATA_MIRROR not set "
                 f"(snakemake {path} fetches it)")
        path = mirror / entry.mirror
    verify(path, entry)
    return read_mssc(path)


def instance_points(name: str, raw_dir: Path) -> tuple[np.ndarray, int]:
    """The points and K of benchmark instance ``name`` (``studies.mssc_benchmark`` in
    config/config.yaml)."""
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    spec = cfg["studies"]["mssc_benchmark"]["instances"][name]
    return points(spec["dataset"], raw_dir), int(spec["k"])


def published_text(name: str) -> str:
    """SOS-SDP's published figure of an instance, or 'not published'."""
    pub = load_published("mssc_benchmark")["instances"].get(name)
    if pub is None:
        return "not published"
    return (f"{pub['mssc']:.4f} ({pub['threads']} thr, {pub['time_s']} s, {pub['nodes']} nodes,"
            f" root gap {pub['root_gap']:.2g})")


def run(X: np.ndarray, k: int, options: dict[str, Any]) -> dict[str, Any]:
    """exact on the MSSC model of ``X``: wall time, status, MSSC, bound, gap, nodes."""
    problem = MAPProblem(X, k, np.eye(X.shape[1]), proportions=PROPORTIONS)
    t0 = time.perf_counter()
    res = run_method(METHOD, problem, seed=0, **options)
    wall = time.perf_counter() - t0
    m = (mssc_metrics(problem, res) if len(res.labels) == X.shape[0]   # (as in the records)
         else {"mssc": None, "mssc_lower_bound": None, "mssc_gap": None})
    return {"time": wall, "status": res.status, "mssc": m["mssc"], "lb": m["mssc_lower_bound"],
            "gap": m["mssc_gap"], "nodes": res.extra.get("nodes", res.iterations)}


def fmt(value: float | None, spec: str, width: int) -> str:
    """``value`` with ``spec``, or a dash, right-aligned in ``width`` characters."""
    text = "—" if value is None or not math.isfinite(value) else format(value, spec)
    return text.rjust(width)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    ap.add_argument("--raw-dir", default="data/raw")
    ap.add_argument("--instances", nargs="+", default=DEFAULT_INSTANCES,
                    help="instance names of the study (default: %(default)s); 'all': every one")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1,
                    help="node bounds solved at once (worker processes)")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="an option of exact (repeatable; YAML value)")
    ap.add_argument("--baseline", action="store_true",
                    help="also run the configured settings without the --option ones")
    ap.add_argument("--defaults", action="store_true",
                    help="also run exact's own defaults (without the study's method_options)")
    ap.add_argument("--verbose", action="store_true", help="log the search's progress")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    cfg = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    study = cfg["studies"]["mssc_benchmark"]["instances"]
    names = list(study) if args.instances == ["all"] else args.instances
    unknown = [n for n in names if n not in study]
    if unknown:
        fail(f"unknown instances {unknown}; known: {list(study)}")
    defaults = {**cfg["methods"].get(METHOD, {}), "backend": cfg["solvers"].get(METHOD, "scs"),
                "time_limit_s": args.time_limit, "threads": args.threads, "log_progress": False}
    base = {**defaults, **cfg["studies"]["mssc_benchmark"].get("method_options", {})}
    extra = dict(parse_option(o) for o in args.option)
    settings = {"options": {**base, **extra}} if extra else {"config": base}
    if args.baseline and extra:
        settings = {"config": base, **settings}
    if args.defaults:
        settings = {"defaults": defaults, **settings}
    for label, options in settings.items():
        try:
            check_options(METHOD, options)
        except OptionError as exc:
            fail(f"{label} settings: {exc}")
    print(f"# exact on the MSSC model, {args.threads} thread(s), time limit {args.time_limit:g} "
          f"s, {os.cpu_count()} cores; options: {extra or 'as configured'}")
    print(f"{'instance':17} {'settings':9} {'n':>4} {'d':>3} {'K':>2} {'time s':>8} "
          f"{'status':>11} {'MSSC':>14} {'lower bound':>14} {'gap':>9} {'nodes':>6}  SOS-SDP")
    for name in names:
        X = points(study[name]["dataset"], Path(args.raw_dir))
        k = int(study[name]["k"])
        for label, options in settings.items():
            r = run(X, k, options)
            print(f"{name:17} {label:9} {X.shape[0]:4d} {X.shape[1]:3d} {k:2d} {r['time']:8.1f} "
                  f"{r['status']:>11} {fmt(r['mssc'], '.4f', 14)} {fmt(r['lb'], '.4f', 14)} "
                  f"{fmt(r['gap'], '.2e', 9)} {r['nodes']!s:>6}  {published_text(name)}",
                  flush=True)


if __name__ == "__main__":
    main()
