"""Node bounds of method ``exact``: all triangle cuts at once against triangles by separation.

Two measurements in the same run, old (``cuts: triangles``) against new (``cuts: separated``):

* ``--nodes N``: the first N nodes of a ``triangles`` search (one core) are captured and each
  solved with both settings (alternating, so both see the same machine load); printed per node:
  process CPU seconds and the certified bound of each, and their ratios. The separated solve
  starts without triangles here (the worst case: in a search, children start from their
  parent's triangles).
* the reduced-cost fixing table of each node (old solve) computed in full and with the
  pruning level (entries a cheap estimate shows below it skipped): CPU seconds and the number
  of fixing decisions that differ (must be 0).
* ``--fixing-nodes N``: the first N nodes of a search (one core) with the full fixing table
  and with the level's shortcut: the same nodes and bounds, and the CPU seconds of each.
* ``--search T``: both whole searches side by side (two processes, one core each) for T
  seconds of wall time; printed: nodes, certified lower bound and gap of each.

The machine's load average is printed (shared machines: read the ratios, not the seconds).

    python benchmarks/bench_sdp_node.py --dataset pam50_4d --nodes 6
    python benchmarks/bench_sdp_node.py --dataset wine --search 300
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_exact import case_problem  # noqa: E402

from mixopt.constraints import Constraints  # noqa: E402
from mixopt.methods.map.exact import bnb  # noqa: E402
from mixopt.methods.map.exact.exact import fit_exact  # noqa: E402
from mixopt.methods.map.exact.sdp import Lagrangian, cannot_pairs, sdp_bound  # noqa: E402
from mixopt.problem import MAPProblem  # noqa: E402

OLD, NEW = "triangles", "separated"


def capture_nodes(problem: MAPProblem, count: int, cons: Constraints | None = None,
                  **options: object) -> list[tuple]:
    """The arguments of the first ``count`` node solves of a one-core search of ``exact`` with
    ``options`` (every node solved in this process, where its ``_solve_node`` is watched)."""
    captured: list[tuple] = []
    original, workers = bnb._solve_node, bnb.WORKER_MIN_POINTS

    def record(*args: object) -> tuple:
        captured.append(args)
        return original(*args)

    bnb._solve_node, bnb.WORKER_MIN_POINTS = record, 10**9
    try:
        fit_exact(problem, constraints=cons, node_limit=count, log_progress=False,
                  **{**options, "threads": 1})
    finally:
        bnb._solve_node, bnb.WORKER_MIN_POINTS = original, workers
    return captured[:count]


def solve_timed(args: tuple, cuts: str) -> tuple[float, float, int, float, float, int]:
    """(CPU seconds, certified bound, solves) of one node with ``cuts``, and the CPU seconds of
    its reduced-cost fixing table computed in full and with the pruning level (skipping the
    entries a cheap estimate shows below it), and the number of fixings that differ."""
    model, k, n, sq, solver, options, _, _, _, level = args[:10]
    options = {key: v for key, v in options.items() if key != "time_limit_secs"}
    t0 = time.process_time()
    res = sdp_bound(model, k, n, sq, solver=solver, solver_options=options, cuts=cuts)
    seconds = time.process_time() - t0
    if res.lagrangian is None:
        return seconds, res.safe, res.rounds, 0.0, 0.0, 0
    cannot = set(cannot_pairs(model))
    t0 = time.process_time()
    full = res.lagrangian.merged_bounds(cannot)
    t1 = time.process_time()
    fast = res.lagrangian.merged_bounds(cannot, below=level)
    t2 = time.process_time()
    differ = int(np.sum((full >= level) != (fast >= level)))
    return seconds, res.safe, res.rounds, t1 - t0, t2 - t1, differ


def per_node(problem: MAPProblem, cons: Constraints, count: int) -> None:
    print(f"{'node':>4} {'m':>4} {'anchors':>7} {'old cpu s':>9} {'new cpu s':>9} "
          f"{'cpu ratio':>9} {'old bound':>12} {'new bound':>12} {'new - old':>9} {'rounds':>6}"
          f" {'fix full s':>10} {'fix level s':>11} {'ratio':>6} differ")
    totals = np.zeros(4)
    for i, args in enumerate(capture_nodes(problem, count, cons, cuts=OLD)):
        t_old, b_old, _, f_full, f_fast, differ = solve_timed(args, OLD)
        t_new, b_new, rounds, _, _, _ = solve_timed(args, NEW)
        totals += (t_old, t_new, f_full, f_fast)
        model = args[0]
        print(f"{i:4d} {model.weights.size:4d} {len(model.anchors):7d} {t_old:9.2f} "
              f"{t_new:9.2f} {t_old / t_new:9.2f} {b_old:12.4f} {b_new:12.4f} "
              f"{b_new - b_old:9.4f} {rounds:6d} {f_full:10.2f} {f_fast:11.2f} "
              f"{f_full / max(f_fast, 1e-9):6.2f} {differ}", flush=True)
    print(f"total CPU s: solves old {totals[0]:.1f}, new {totals[1]:.1f} (old/new "
          f"{totals[0] / max(totals[1], 1e-9):.2f}); fixing full {totals[2]:.1f}, with the "
          f"level {totals[3]:.1f} (full/level {totals[2] / max(totals[3], 1e-9):.2f})")


def fixing_search(problem: MAPProblem, cons: Constraints, count: int) -> None:
    """The first ``count`` nodes of a search (one core) with the full fixing table (old) and with
    the level's shortcut (new): the same nodes and bounds, process CPU seconds of each."""
    original = Lagrangian.merged_bounds

    def full(self: Lagrangian, cannot: set, below: float | None = None) -> np.ndarray:
        return original(self, cannot)

    print(f"{'fixing':8} {'nodes':>6} {'lower bound':>12} {'objective':>12} {'cpu s':>8}")
    for name in ("full", "level"):
        Lagrangian.merged_bounds = full if name == "full" else original
        try:
            t0 = time.process_time()
            res = fit_exact(problem, constraints=cons, node_limit=count, log_progress=False)
            seconds = time.process_time() - t0
        finally:
            Lagrangian.merged_bounds = original
        print(f"{name:8} {res.iterations:6d} {res.lower_bound:12.4f} {res.objective:12.4f} "
              f"{seconds:8.1f}", flush=True)


def _search(data_dir: str, name: str, cuts: str, seconds: float) -> str:
    """One whole search (run in its own process)."""
    problem, cons = case_problem(data_dir, name)
    t0 = time.process_time()
    res = fit_exact(problem, constraints=cons, time_limit_s=seconds, cuts=cuts,
                    log_progress=False)
    return (f"{cuts:10} {res.status:>11} {res.iterations:6d} {res.lower_bound:12.4f} "
            f"{res.objective:12.4f} {res.gap:9.2e} {time.process_time() - t0:8.1f}")


def side_by_side(data_dir: str, name: str, seconds: float) -> None:
    print(f"{'cuts':10} {'status':>11} {'nodes':>6} {'lower bound':>12} {'objective':>12} "
          f"{'gap':>9} {'cpu s':>8}")
    with futures.ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(_search, data_dir, name, cuts, seconds) for cuts in (OLD, NEW)]
        for job in jobs:
            print(job.result(), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="data/processed")
    ap.add_argument("--dataset", default="pam50_4d", choices=["pam50_4d", "wine"])
    ap.add_argument("--nodes", type=int, default=0, help="nodes solved both ways")
    ap.add_argument("--fixing-nodes", type=int, default=0,
                    help="nodes of a search run with the full fixing table and with the level")
    ap.add_argument("--search", type=float, default=0.0,
                    help="seconds of both whole searches side by side")
    args = ap.parse_args()
    if not args.nodes and not args.search and not args.fixing_nodes:
        ap.error("give --nodes, --fixing-nodes or --search")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    print(f"{args.dataset}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}; git {_commit()}")
    problem, cons = case_problem(args.data_dir, args.dataset)
    if args.nodes:
        per_node(problem, cons, args.nodes)
    if args.fixing_nodes:
        fixing_search(problem, cons, args.fixing_nodes)
    if args.search:
        side_by_side(args.data_dir, args.dataset, args.search)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    main()
