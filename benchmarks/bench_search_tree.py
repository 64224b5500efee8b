"""Where a search's nodes go: method ``exact``'s nodes by kind of branching, and its optimum split.

Runs ``exact`` on one of ``bench_exact.py``'s data sets and sorts its solved nodes by the branching
that created them (root and seed partitions, size bisection ``n_j in [lo, hi]``, a point joining
an anchor, a point becoming an anchor): how many, how many reached the pruning level with their
own bound (at the final incumbent), how many were re-solved at the tighter tolerance, and their
solve seconds; then how many nodes ended within 1 of the incumbent but below the level. The best
clustering is split into 1/2 SSE and the entropy ``sum_k n_k log(n / n_k)``; with ``--mssc T``
the same data and constraints are solved with equal proportions for T seconds (minimum
sum-of-squares with the known labels as anchors), whose best 1/2 SSE and bound show how much of
the problem is the sum of squares. ``methods.exact`` of the configuration (``--config``,
config/config.yaml by default), or with ``--configured`` the options of the data set's study
(``bench_exact.py --settings``);
``--option KEY=VALUE`` overrides them.
One BLAS thread per process.

    python benchmarks/bench_search_tree.py --dataset pam50_4d --time-limit 900 --mssc 600
    python benchmarks/bench_search_tree.py --dataset pam50_4d --configured
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_exact import CASES, case_problem, checked, settings  # noqa: E402
from bench_mssc import fail, parse_option  # noqa: E402

from mixopt.methods.base import single_threaded_blas  # noqa: E402
from mixopt.methods.map.exact.entropy import cluster_entropy  # noqa: E402
from mixopt.methods.map.exact.exact import _whitened, fit_exact  # noqa: E402
from mixopt.studies.mssc_benchmark import sse  # noqa: E402

REL_GAP = 1e-4   # exact's default relative gap, also the pruning level's
ROOT = Path(__file__).resolve().parents[1]


class NodeRecords(logging.Handler):
    """Keeps the arguments of the search's per-node debug records (``BranchAndBound._settle``):
    branch, anchors, super-points, size ranges, bound, status, refined, warm, seconds."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.nodes: list[tuple] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("node (") and record.args:
            self.nodes.append(tuple(record.args))


def kind(branch: str) -> str:
    if branch.startswith("n_"):
        return "size bisection"
    if "joins anchor" in branch:
        return "point joins an anchor"
    if "is anchor" in branch:
        return "point becomes an anchor"
    return "root / seed partition"


def split(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[float, float, list[int]]:
    """1/2 SSE of the whitened data, the entropy term and the cluster sizes."""
    counts = np.bincount(labels, minlength=k)
    return 0.5 * sse(x, labels), float(cluster_entropy(counts, x.shape[0]).sum()), \
        counts.tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="pam50_4d", choices=list(CASES))
    ap.add_argument("--data-dir", default="data/processed")
    ap.add_argument("--config", default=str(ROOT / "config/config.yaml"),
                    help="the workflow configuration whose options of exact are read")
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mssc", type=float, default=0.0,
                    help="seconds of the equal-proportions search (0: skip it)")
    ap.add_argument("--configured", action="store_true",
                    help="the study's options of exact in --config, not its defaults")
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                    help="an option of exact (repeatable; YAML value)")
    args = ap.parse_args()
    overrides = dict(parse_option(text) for text in args.option)
    if "rel_gap" in overrides:
        fail(f"--option rel_gap: this benchmark's pruning level assumes {REL_GAP:g}")
    cfg = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    options = checked({**settings(args.dataset, cfg, args.configured),
                       **overrides, "rel_gap": REL_GAP})
    problem, constraints = case_problem(args.data_dir, args.dataset)
    x = _whitened(problem)
    records = NodeRecords()
    logger = logging.getLogger("mixopt.methods.exact")
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    with single_threaded_blas():
        t0 = time.perf_counter()
        res = fit_exact(problem, constraints=constraints,
                        time_limit_s=args.time_limit, threads=args.threads, **options)
        wall = time.perf_counter() - t0
        logger.removeHandler(records)
        logger.setLevel(logging.WARNING)
        print(f"{args.dataset}: {res.status} in {wall:.1f} s, {res.iterations} nodes, objective "
              f"{res.objective:.4f}, lower bound {res.lower_bound:.4f}, gap {res.gap:.2e}")
        level = res.objective - REL_GAP * abs(res.objective)   # (BranchAndBound.level)
        table: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0, 0, 0.0])
        near = 0
        for branch, *_, bound, _status, refined, _warm, seconds in records.nodes:
            row = table[kind(branch)]
            row[0] += 1
            row[1] += bound >= level
            row[2] += bool(refined)
            row[3] += seconds
            near += res.objective - 1.0 <= bound < level
        print(f"{'node kind':24} {'nodes':>6} {'pruned by own bound':>20} {'re-solved 1e-5':>15} "
              f"{'solve s':>8}")
        for name, (count, pruned, refined, seconds) in sorted(table.items()):
            print(f"{name:24} {count:6d} {pruned:20d} {refined:15d} {seconds:8.1f}")
        print(f"nodes ending within 1 of the incumbent, below the pruning level: {near}")
        half_sse, entropy, sizes = split(x, res.labels, problem.k)
        print(f"best clustering: sizes {sizes}, 1/2 SSE {half_sse:.4f}, entropy {entropy:.4f}")
        if args.mssc > 0:
            equal = replace(problem, proportions="equal")
            t0 = time.perf_counter()
            eq = fit_exact(equal, constraints=constraints,
                           time_limit_s=args.mssc, threads=args.threads, log_progress=False)
            constant = problem.n * np.log(problem.k)
            half_sse_eq, _, sizes_eq = split(x, eq.labels, problem.k)
            print(f"equal proportions: {eq.status} in {time.perf_counter() - t0:.1f} s, "
                  f"{eq.iterations} nodes, best 1/2 SSE {half_sse_eq:.4f} (sizes {sizes_eq}), "
                  f"lower bound {eq.lower_bound - constant:.4f}, gap {eq.gap:.2e}")


if __name__ == "__main__":
    main()
