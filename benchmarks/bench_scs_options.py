"""SCS's settings on method ``exact``'s node bounds: the same nodes solved with each setting.

SCS's settings (``scale``, the initial weight of its dual residual against its primal one,
which it adapts while it runs; ``alpha``, its relaxation; ...) change its path, hence the
iterations a node takes, never the certified bound's validity (the bound is recomputed from the
multipliers, whatever they are). The first ``--nodes`` node solves of a one-core search (with
the data set's study options with ``--settings configured``, else ``exact``'s defaults) are
captured, then each is solved again with every ``--variants`` entry (SCS options as YAML, over
the node's own; ``{}``: exact's defaults, e.g. ``sdp.SCS_SCALE``), the variants alternating per
node so that all see the same machine load; printed per node: process CPU seconds and the
certified bound of each, and the totals with their ratios to the first variant. One BLAS
thread; the machine's load average is printed (read the ratios, not the seconds).

    python benchmarks/bench_scs_options.py --dataset pam50_4d --settings configured --nodes 12
    python benchmarks/bench_scs_options.py --dataset wine --nodes 6 \
        --variants "{scale: 0.1}" "{}" "{scale: 3.0}"
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import yaml

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_exact import ROOT, case_problem, checked, settings  # noqa: E402
from bench_mssc import fail  # noqa: E402
from bench_sdp_node import capture_nodes  # noqa: E402

from mixopt.methods.map.exact.sdp import sdp_bound  # noqa: E402


def solve_with(args: tuple, variant: dict) -> tuple[float, float]:
    """Process CPU seconds and certified bound of one captured node with the SCS
    options ``variant`` over the node's own (its time cap dropped; its warm start and
    refinement kept, as in the search)."""
    (model, k, n, sq, solver, options, cuts, refine, warm, level, _left, cut_rounds,
     round_budget, round_cuts) = args
    options = {**{key: v for key, v in options.items() if key != "time_limit_secs"},
               **variant}
    t0 = time.process_time()
    res = sdp_bound(model, k, n, sq, solver=solver, solver_options=options, cuts=cuts,
                    refine=refine, warm=warm, stop_at=level, cut_rounds=cut_rounds,
                    round_budget=round_budget, round_cuts=round_cuts)
    return time.process_time() - t0, res.safe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="pam50_4d", choices=["pam50_4d", "wine"],
                    help="(brca, K = 2, is searched over directions: no SDP nodes)")
    ap.add_argument("--data-dir", default="data/processed")
    ap.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    ap.add_argument("--settings", choices=["defaults", "configured"], default="defaults")
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--variants", nargs="+", default=["{scale: 0.1}", "{}"],
                    help="SCS options as YAML mappings; ratios are to the first "
                         "(default: SCS's own scale, then exact's defaults)")
    args = ap.parse_args()
    try:
        variants = [yaml.safe_load(text) or {} for text in args.variants]
    except yaml.YAMLError as err:
        fail(f"--variants: not YAML ({str(err).splitlines()[0]})")
    if not all(isinstance(v, dict) for v in variants):
        fail("--variants: each must be a YAML mapping, e.g. '{scale: 1.0}'")
    config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    options = checked(settings(args.dataset, config, args.settings == "configured"))
    problem, constraints = case_problem(args.data_dir, args.dataset)
    nodes = capture_nodes(problem, args.nodes, constraints, **options)
    print(f"{args.dataset}, {len(nodes)} nodes, settings {args.settings}; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    for j, text in enumerate(args.variants):
        print(f"variant {j}: {text}")
    print(f"{'node':>4} {'m':>4} {'anchors':>7} " + " ".join(
        f"{f'cpu s {j}':>9} {f'bound {j}':>12}" for j in range(len(variants))), flush=True)
    totals = [0.0] * len(variants)
    for i, node_args in enumerate(nodes):
        order = list(range(len(variants)))
        if i % 2:
            order.reverse()
        out = {j: solve_with(node_args, variants[j]) for j in order}
        for j in order:
            totals[j] += out[j][0]
        model = node_args[0]
        print(f"{i:4d} {model.weights.size:4d} {len(model.anchors):7d} " + " ".join(
            f"{out[j][0]:9.2f} {out[j][1]:12.4f}" for j in range(len(variants))), flush=True)
    print("total CPU s: " + ", ".join(
        f"variant {j} {t:.1f} ({t / max(totals[0], 1e-9):.2f} of the first)"
        for j, t in enumerate(totals)))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
