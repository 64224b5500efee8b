"""Separated cuts round by round on one node: the certified bound and seconds per solve.

The first node of an SCS search on an MSSC instance (default glass, K = 6: m = 214, one anchor)
is captured, then solved ``--rounds`` times with SCS (or ``--solver ADMM``), one BLAS thread:
after each solve the cuts still nearly tight are kept and the ``--per-round`` most violated
general triangles ``Z_ij + Z_il <= Z_ii + Z_jl`` and ``--pairs-per-round`` most violated pairs
``Z_ij <= Z_ii`` are added (as option ``cut_rounds`` does at every node, here without its early
stop). Prints per round the cuts in the solve, the certified MSSC bound (2 x the search's
bound), the solver's own SDP value and the seconds; with ``--start both`` (default) the rounds
run twice, SCS started cold and from the last round's solution, and the ratio of their seconds.

    python benchmarks/bench_cut_rounds.py --instance glass_k6 --rounds 6 --per-round 30000 \
        --pairs-per-round 5000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_admm_node import capture  # noqa: E402
from bench_mssc import instance_points  # noqa: E402

from mixopt.methods.base import single_threaded_blas  # noqa: E402
from mixopt.methods.map.exact.sdp import (  # noqa: E402
    WarmStart,
    kept_mask,
    sdp_bound,
    separate_pairs,
    separate_triangles,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default="glass_k6")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--per-round", type=int, default=3000, help="triangles added per round")
    ap.add_argument("--pairs-per-round", type=int, default=3000,
                    help="pair cuts Z_ij <= Z_ii added per round (0: triangles only)")
    ap.add_argument("--solver", choices=["SCS", "ADMM"], default="SCS")
    ap.add_argument("--start", choices=["both", "cold", "warm"], default="both",
                    help="SCS rounds cold, from the last round's solution, or both (ratio)")
    ap.add_argument("--raw-dir", default="data/raw")
    args = ap.parse_args()
    x, k = instance_points(args.instance, Path(args.raw_dir))
    with single_threaded_blas():
        model, k, n, sq, _, _, cuts = capture(x, k, 1)[0][:7]
        print(f"# {args.instance}: n {x.shape[0]}, K {k}, first node m {model.weights.size}, "
              f"{len(model.anchors)} anchor(s); {args.solver}; load average {os.getloadavg()}")
        options = {"eps_abs": 1e-4, "eps_rel": 1e-4} if args.solver == "SCS" else {}
        starts = ["cold", "warm"] if args.start == "both" else [args.start]
        total = {}
        for start in starts:
            print(f"# {start} starts (SCS: each round from the last one's solution)"
                  if start == "warm" else f"# {start} starts")
            print("round  cuts  MSSC bound  SDP value  solve s")
            total[start] = rounds(model, k, n, sq, cuts, args, options, start == "warm")
        if len(total) == 2:
            print(f"# seconds of solves: cold {total['cold']:.1f}, warm {total['warm']:.1f}, "
                  f"ratio {total['cold'] / total['warm']:.2f}")


def rounds(model, k, n, sq, cuts, args, options, warm_rounds: bool) -> float:
    """Solve the node ``args.rounds`` times, cuts kept and added as ``cut_rounds`` does; print
    each round; return the seconds of solves."""
    gtri = np.zeros((0, 3), dtype=np.int64)
    warm = None
    seconds = 0.0
    for r in range(args.rounds):
        node = replace(model, gtri=gtri if len(gtri) else None)
        t0 = time.perf_counter()
        res = sdp_bound(node, k, n, sq, solver=args.solver, solver_options=options, cuts=cuts,
                        warm=warm)
        took = time.perf_counter() - t0
        seconds += took
        print(f"{r:5d} {len(gtri):5d} {2 * res.safe:11.4f} {2 * res.primal:11.4f} {took:8.1f}"
              + (" (started)" if res.warm_started else ""), flush=True)
        if res.z is None:
            break
        kept = kept_mask(res.z, gtri)
        new = [separate_triangles(res.z, args.per_round, skip=gtri[kept])]
        if args.pairs_per_round:
            new.append(separate_pairs(res.z, args.pairs_per_round, skip=gtri[kept]))
        new = np.vstack(new)
        if warm_rounds and isinstance(res.warm, WarmStart):
            warm = res.warm.with_cuts(kept, len(new))
        gtri = np.vstack([gtri[kept], new])
    return seconds


if __name__ == "__main__":
    main()
