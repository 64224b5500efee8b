"""One node's certified bound and time: SCS against the first-order solver (backend ``admm``).

The first ``--nodes`` node solves of an SCS search on an MSSC instance (default glass, K = 6:
the first anchored node, m = 214, and its children: one point merged into the anchor, or a
second anchor) are captured, then each node is solved in this process, one BLAS thread, with

* SCS at the search's settings (tolerance 1e-4, no refinement),
* ADMM at its defaults (stops when the bound rose by less than 1e-4 over 200 iterations),
* ADMM run longer (``--long-iters`` iterations at most, ``stall_rel`` 1e-6),

printing wall and CPU seconds and the certified bound of each, the pruning level of the search
at that node and the machine's load average (shared machines: compare within a run).

    python benchmarks/bench_admm_node.py --instance glass_k6 --nodes 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mssc import instance_points  # noqa: E402
from bench_sdp_node import capture_nodes  # noqa: E402

from mixopt.methods.map.exact.sdp import sdp_bound  # noqa: E402
from mixopt.problem import MAPProblem  # noqa: E402


def timed(args: tuple, solver: str, options: dict) -> tuple[float, float, float, str]:
    """(wall s, CPU s, certified bound, notes) of one node."""
    model, k, n, sq, _, _, cuts = args[:7]
    w0, c0 = time.perf_counter(), time.process_time()
    res = sdp_bound(model, k, n, sq, solver=solver, solver_options=options, cuts=cuts)
    return time.perf_counter() - w0, time.process_time() - c0, res.safe, "; ".join(res.notes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default="glass_k6")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--long-iters", type=int, default=3000)
    ap.add_argument("--raw-dir", default="data/raw")
    args = ap.parse_args()
    x, k = instance_points(args.instance, Path(args.raw_dir))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        nodes = capture_nodes(MAPProblem(x, k, np.eye(x.shape[1]), proportions="equal"),
                              args.nodes, time_limit_s=600)
        print(f"# {args.instance}: n {x.shape[0]}, K {k}; load average {os.getloadavg()}")
        print("# bounds in the search's units (1/2 SSE; MSSC bound = 2 x bound)")
        for i, node_args in enumerate(nodes):
            model, level = node_args[0], node_args[9]
            scs_opts = {key: v for key, v in node_args[5].items() if key != "time_limit_secs"}
            rows = [("SCS", *timed(node_args, "SCS", scs_opts)),
                    ("ADMM", *timed(node_args, "ADMM", {})),
                    ("ADMM long", *timed(node_args, "ADMM", {"max_iters": args.long_iters,
                                                               "stall_rel": 1e-6}))]
            print(f"node {i}: m {model.weights.size}, anchors {len(model.anchors)}, "
                  f"cannot {len(model.cannot)}, pruning level {level:.4f}")
            for name, wall, cpu, bound, notes in rows:
                print(f"  {name:10} wall {wall:7.2f} s  CPU {cpu:7.2f} s  bound {bound:.6f}  "
                      f"{notes}", flush=True)
        print(f"# load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
