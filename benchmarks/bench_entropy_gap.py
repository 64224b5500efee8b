"""Where the entropy model's gap lies: root bound against MSSC bound and the optimum's parts.

At a node where every super-point has the same size range (the root, before any anchor), the
per-point chords of the entropy term ``sum_i log(n Z_ii)`` sum to a constant (``sum_i Z_ii = K``
for every feasible Z), so the node's bound is the MSSC bound of the whitened data plus the
entropy of the most unequal sizes ``(1, ..., 1, n - K + 1)``. This prints that root bound, the
MSSC root bound (the same node without the entropy term), the constant, and the best clustering
``exact`` finds in ``--time-limit`` seconds split into 1/2 SSE and the entropy
``sum_k n_k log(n / n_k)``: how much of the root's gap is the sum of squares and how much the
entropy. One BLAS thread; needs the processed data set (``snakemake data/processed/wine.csv``).

    python benchmarks/bench_entropy_gap.py --dataset wine --time-limit 60
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_exact import case_problem  # noqa: E402
from bench_search_tree import split  # noqa: E402

from mixopt.methods.base import single_threaded_blas  # noqa: E402
from mixopt.methods.map.exact.entropy import cluster_entropy  # noqa: E402
from mixopt.methods.map.exact.exact import _whitened, fit_exact  # noqa: E402
from mixopt.methods.map.exact.sdp import NodeModel, sdp_bound  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="wine", choices=["wine"],
                    help="a data set of bench_exact.py without known labels")
    ap.add_argument("--data-dir", default="data/processed")
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="seconds of exact's search for the clustering to split")
    args = ap.parse_args()
    problem, _ = case_problem(args.data_dir, args.dataset)   # (the root: no constraints)
    k = problem.k
    x = _whitened(problem)
    x = x - x.mean(0)
    n = x.shape[0]
    with single_threaded_blas():
        bounds = {}
        for entropy in (True, False):
            node = NodeModel(weights=np.ones(n, dtype=np.int64), sums=x, anchors=[], cannot=[],
                             anchor_lo=[], anchor_hi=[], lo=np.full(n, 1),
                             hi=np.full(n, n - k + 1), entropy=entropy)
            t0 = time.perf_counter()
            bounds[entropy] = sdp_bound(node, k, n, float((x ** 2).sum()),
                                        solver_options={"eps_abs": 1e-4, "eps_rel": 1e-4}).safe
            print(f"root bound, {'with the entropy' if entropy else 'MSSC (1/2 SSE)  '}: "
                  f"{bounds[entropy]:.4f} ({time.perf_counter() - t0:.1f} s)")
        unequal = np.array([1] * (k - 1) + [n - k + 1])
        constant = float(cluster_entropy(unequal, n).sum())
        print(f"entropy of sizes {unequal.tolist()}: {constant:.4f}; MSSC bound + it: "
              f"{bounds[False] + constant:.4f}")
        res = fit_exact(problem, time_limit_s=args.time_limit, log_progress=False)
    half_sse, entropy, sizes = split(x, res.labels, k)
    print(f"best clustering in {args.time_limit:g} s ({res.status}): objective "
          f"{res.objective:.4f}, sizes {sizes}, 1/2 SSE {half_sse:.4f} "
          f"({half_sse - bounds[False]:.4f} above the MSSC root bound), entropy {entropy:.4f} "
          f"({entropy - constant:.4f} above the root's constant)")


if __name__ == "__main__":
    main()
