"""Method ``exact`` on the paper's multi-dimensional data sets: time to certify and final gap.

Prints, per data set, the wall time, status, objective, certified lower bound and relative gap of
method ``exact`` (the SDP branch-and-bound; for brca, K = 2 in d = 3, its search over
mean-difference directions; last column: nodes or boxes) next to the gap the paper's MIQP left
after 12 hours (Table 2: wine, brca; Sec. 4.2: pam50-4d with its 139 known subtypes). Needs the
processed data sets (``snakemake data/processed/wine.csv`` ...).

    python benchmarks/bench_exact.py --time-limit 3600 --threads 2   # the issue's hour, 2 cores
    python benchmarks/bench_exact.py --time-limit 120 --datasets wine
    python benchmarks/bench_exact.py --time-limit 300 --datasets pam50_4d --cut-rounds 4
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from mixopt.constraints import Constraints
from mixopt.data.dataset import read_dataset
from mixopt.methods.map.exact.exact import fit_exact
from mixopt.problem import MAPProblem, class_precision
from mixopt.studies.flaherty_pam50 import with_known_labels

# data set: (K, precision rule, constraints, the paper's 12-hour relative gap)
CASES = {
    "wine": (3, "inverse_mean_class_covariance", {"min_size": 1, "pi_order": True},
             (1390.13 - 183.42) / 1390.13),
    "brca": (2, "mean_class_precision", {"min_size": 1, "pi_order": True},
             (1578.49 - 332.30) / 1578.49),
    "pam50_4d": (5, "mean_class_precision", {"min_size": 1}, 0.3235),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="data/processed")
    ap.add_argument("--time-limit", type=float, default=3600.0)
    ap.add_argument("--datasets", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--backend", default="scs")
    ap.add_argument("--threads", type=int, default=1,
                    help="node bounds solved at once (worker processes)")
    ap.add_argument("--cuts", default="triangles",
                    choices=["triangles", "separated", "all", "none"])
    ap.add_argument("--cut-rounds", type=int, default=0,
                    help="rounds of separated triangles and pairs per node (option cut_rounds)")
    ap.add_argument("--verbose", action="store_true", help="log the search's progress")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    print(f"{'data set':10} {'n':>4} {'d':>3} {'K':>2} {'time s':>8} {'status':>11} "
          f"{'objective':>12} {'lower bound':>12} {'gap':>9} {'paper gap (12 h)':>17} nodes")
    for name in args.datasets:
        k, rule, spec, paper_gap = CASES[name]
        ds = read_dataset(Path(args.data_dir) / f"{name}.csv")
        problem = MAPProblem(ds.X, k, class_precision(ds.X, ds.labels, rule, 1))
        if name.startswith("pam50"):
            spec = with_known_labels(ds.labels, spec)
        t0 = time.perf_counter()
        res = fit_exact(problem, constraints=Constraints.from_dict(spec),
                        time_limit_s=args.time_limit, backend=args.backend,
                        threads=args.threads, cuts=args.cuts, cut_rounds=args.cut_rounds)
        wall = time.perf_counter() - t0
        print(f"{name:10} {problem.n:4d} {problem.d:3d} {k:2d} {wall:8.1f} {res.status:>11} "
              f"{res.objective:12.4f} {res.lower_bound:12.4f} {res.gap:9.2e} "
              f"{paper_gap:17.1%} {res.iterations}")


if __name__ == "__main__":
    main()
