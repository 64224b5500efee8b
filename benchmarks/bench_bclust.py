"""bclust: the closed-form likelihood fit vs the cvxpy program, and the wall time of Table 1.5.

Usage: python benchmarks/bench_bclust.py [--mirror DIR] [--settings 2] [--skip-table]

1. Likelihood mode, same search on the same inputs, cluster fits by the closed form
   (eigenvalue clipping) vs by cvxpy + Clarabel: both must reach the same labels and objective
   (printed), and the ratio of wall times is the speed-up of the closed form.
2. Thesis mode on the thesis' six real data sets (Table 1.5): wall time of random, tclust
   (nsamp 300) and bclust (cvxpy + Clarabel), and their sum, against the thesis' t(s).
Data sets for (1): MixSim settings of Table 1.1-1.4 (n = 200), seeds 1..--settings.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from mixopt.data.preprocess import build_dataset, raw_keys_for
from mixopt.data.sources import load_registry
from mixopt.methods.baselines import random_labels
from mixopt.methods.robust.bclust import fit_bclust
from mixopt.methods.robust.tclust import fit_tclust
from mixopt.metrics import adjusted_rand_index
from mixopt.problem import RobustProblem
from mixopt.report.published import load_published
from mixopt.simulate.fois_ch1_data import simulate_setting
from mixopt.studies.fois_settings import SimSetting

REAL = ["fois_wine", "fois_seeds", "fois_iris", "fois_algerian_bejaia", "fois_algerian_sidi",
        "fois_star"]


def closed_form_vs_cvxpy(n_seeds: int) -> None:
    print("likelihood mode: closed form vs cvxpy + Clarabel (same search, same start)")
    print(f"{'setting':<26}{'seed':>5}{'solves':>8}{'closed s':>10}{'cvxpy s':>10}{'ratio':>8}"
          f"{'same labels':>13}{'rel. diff Obj':>15}")
    ratios = []
    for name in ("k4_p8_r2-10_omega0.01", "k4_p10_r2-10_omega0.01"):
        setting = SimSetting.from_name(name)
        for seed in range(1, n_seeds + 1):
            ds = simulate_setting(setting, 200, seed)
            problem = RobustProblem(ds.X, setting.k, setting.r2)
            start = fit_tclust(problem, nsamp=50, seed=seed).labels
            runs = {}
            for closed in (True, False):
                t0 = time.perf_counter()
                res = fit_bclust(problem, init_labels=start, mode="likelihood",
                                 closed_form=closed)
                runs[closed] = (res, time.perf_counter() - t0)
            (a, ta), (b, tb) = runs[True], runs[False]
            ratios.append(tb / ta)
            print(f"{name:<26}{seed:>5}{b.n_cluster_solves:>8}{ta:>10.3f}{tb:>10.2f}"
                  f"{tb / ta:>8.0f}{str(np.array_equal(a.labels, b.labels)):>13}"
                  f"{abs(a.objective - b.objective) / abs(b.objective):>15.2e}")
    print(f"speed-up of the closed form: median {np.median(ratios):.0f}x\n")


def table1_5_times(mirror: Path) -> None:
    print("Table 1.5, thesis mode (wall time in s; thesis: MATLAB + YALMIP + MOSEK, Intel 7700HQ)")
    pub = load_published("fois_ch1")["table1_5"]["rows"]
    registry = load_registry()
    total = 0.0
    print(f"{'data set':<22}{'tclust':>8}{'(thesis)':>10}{'bclust':>8}{'(thesis)':>10}"
          f"{'solves':>8}{'ARI':>8}")
    for name in REAL:
        ds = build_dataset(name, {k: mirror / registry[k].mirror for k in raw_keys_for(name)})
        random_labels(ds.n, ds.K, 42, matlab_compatible=True)
        t0 = time.perf_counter()
        tc = fit_tclust(RobustProblem(ds.X, ds.K, 10.0), seed=42)
        t_tc = time.perf_counter() - t0
        t0 = time.perf_counter()
        b = fit_bclust(RobustProblem(ds.X, ds.K, 10.0), init_labels=tc.labels)
        t_b = time.perf_counter() - t0
        total += t_tc + t_b
        print(f"{name:<22}{t_tc:>8.2f}{pub[name]['tclust']['time_s']:>10.3f}{t_b:>8.2f}"
              f"{pub[name]['bclust']['time_s']:>10.3f}{b.n_cluster_solves:>8}"
              f"{adjusted_rand_index(b.labels, ds.labels):>8.4f}")
    thesis = sum(pub[n][m]["time_s"] for n in REAL for m in ("tclust", "bclust"))
    print(f"total tclust + bclust: {total:.1f} s (thesis {thesis:.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mirror", default=os.environ.get("MIXOPT_DATA_MIRROR", "../shared/data"))
    ap.add_argument("--settings", type=int, default=2, help="seeds per MixSim setting")
    ap.add_argument("--skip-table", action="store_true")
    args = ap.parse_args()
    closed_form_vs_cvxpy(args.settings)
    if not args.skip_table:
        table1_5_times(Path(args.mirror))


if __name__ == "__main__":
    main()
