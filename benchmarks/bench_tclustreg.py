"""tclustreg (docs/reference-tclustreg.md): wall time of fit_tclustreg and speed-up over a naive
loop.

Usage: python benchmarks/bench_tclustreg.py [--n 1000] [--p 10] [--k 5] [--nsamp 300 3000]
                                            [--naive-nsamp 100] [--bar-omega 0.05] [--seed 1]
                                            [--threads 1]

Data: thesis Chapter 3 design, MixSimreg(k, p, BarOmega (0.05), PiLow 1/(3k)) + simdatasetreg(n).

1. fit_tclustreg time per run for each --nsamp (random starts; in these settings most starts are
   abandoned after 1-3 C-steps, so the number of executed start-steps is printed too).
2. Vectorized ``_run_starts`` vs a naive one-start-at-a-time numpy loop on the same starts
   (--naive-nsamp of them): (a) fresh random starts, (b) a worst case in which every start runs all
   10 C-steps (surviving starts of a 3000-start pilot run, repeated; if none survives, starts
   whose group j interpolates p points of true cluster j). Both must give the same fullsol.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from mixopt.methods.regression.tclustreg import _run_starts, draw_starts, fit_tclustreg
from mixopt.problem import RegressionProblem
from mixopt.simulate.mixsim import mixsimreg
from mixopt.simulate.sample import simdatasetreg

_LOG2PI = math.log(2.0 * math.pi)


def naive_run(X: np.ndarray, y: np.ndarray, k: int, subsets: np.ndarray, props: np.ndarray,
              refsteps: int = 10) -> np.ndarray:
    """Reference: one start at a time, per-cluster lstsq (docs/reference-tclustreg.md 2-3); returns
    fullsol."""
    n, p = X.shape
    fullsol = np.full(subsets.shape[0], np.nan)
    for i in range(subsets.shape[0]):
        sel = subsets[i].reshape(k, p)
        beta = np.stack([np.linalg.solve(X[s], y[s]) for s in sel])
        s2 = np.var(y[sel], axis=1, ddof=1)
        nj = props[i].astype(float)
        for step in range(1, refsteps + 1):
            r = y[:, None] - X @ beta.T
            ll = np.log(nj / nj.sum()) - 0.5 * (_LOG2PI + np.log(s2)) - 0.5 * r * r / s2
            lab = np.argmax(ll, axis=1)
            nj = np.bincount(lab, minlength=k).astype(float)
            if np.any(nj <= p + 1):
                break
            ssr = np.empty(k)
            for j in range(k):
                m = lab == j
                beta[j] = np.linalg.lstsq(X[m], y[m], rcond=None)[0]
                ssr[j] = np.sum((y[m] - X[m] @ beta[j]) ** 2)
            s2 = ssr / nj
            if step == refsteps:
                fullsol[i] = np.sum(nj * np.log(nj / n) - 0.5 * nj * (_LOG2PI + np.log(s2))
                                    - 0.5 * ssr / s2)
    return fullsol


def compare(label: str, X: np.ndarray, y: np.ndarray, k: int, sub: np.ndarray,
            props: np.ndarray) -> None:
    t0 = time.perf_counter()
    out = _run_starts(X, y, k, sub, props, 10)
    tv = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = naive_run(X, y, k, sub, props)
    tn = time.perf_counter() - t0
    same = np.allclose(out.fullsol, ref, rtol=1e-9, equal_nan=True)
    done = int(np.isfinite(ref).sum())
    print(f"  {label:<32}{sub.shape[0]:>7}{done:>10}{tv:>10.3f}{tn:>10.3f}{tn / tv:>8.1f}"
          f"{str(same):>7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--nsamp", type=int, nargs="+", default=[300, 3000])
    ap.add_argument("--naive-nsamp", type=int, default=100)
    ap.add_argument("--bar-omega", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = ap.parse_args()
    n, p, k = args.n, args.p, args.k
    ms = mixsimreg(k, p, bar_omega=args.bar_omega, pi_low=1 / (3 * k), seed=args.seed)
    y, X, labels = simdatasetreg(n, ms.pi, ms.beta, ms.S, seed=args.seed)
    with threadpool_limits(limits=args.threads):
        print(f"fit_tclustreg, n={n} p={p} k={k} BarOmega={args.bar_omega:g} "
              f"(BLAS threads: {args.threads})")
        print(f"  {'nsamp':>7}{'time s':>9}{'abandoned':>11}{'start-steps':>13}{'obj':>14}")
        for nsamp in args.nsamp:
            r = fit_tclustreg(RegressionProblem(X, y, k), nsamp=nsamp, seed=args.seed)
            ab = r.extra["abandoned_at"]
            steps = int(np.where(ab >= 0, ab, r.extra["refsteps"]).sum())
            print(f"  {nsamp:>7}{r.time_s:>9.3f}{r.n_abandoned:>11}{steps:>13}{r.objective:>14.2f}")

        print("\nvectorized _run_starts vs naive one-start-at-a-time loop (same starts)")
        print(f"  {'workload':<32}{'starts':>7}{'complete':>10}{'vec s':>10}{'naive s':>10}"
              f"{'ratio':>8}{'same':>7}")
        sub, props = draw_starts(n, k, p, args.naive_nsamp, seed=args.seed)
        compare("fresh random starts", X, y, k, sub, props)
        psub, pprops = draw_starts(n, k, p, 3000, seed=args.seed + 1)
        surv = np.flatnonzero(np.isfinite(_run_starts(X, y, k, psub, pprops, 10).fullsol))
        if surv.size:
            rep = np.resize(surv, args.naive_nsamp)
            compare(f"worst case ({surv.size} survivors rep.)", X, y, k, psub[rep], pprops[rep])
        else:  # no survivor: starts with group j's p points drawn from true cluster j
            rng = np.random.default_rng(args.seed)
            members = [np.flatnonzero(labels == j) for j in range(k)]
            osub = np.stack([np.concatenate([rng.choice(m, p, replace=False) for m in members])
                             for _ in range(args.naive_nsamp)])
            oprops = np.tile(np.bincount(labels, minlength=k), (args.naive_nsamp, 1))
            compare("true-cluster starts", X, y, k, osub, oprops)


if __name__ == "__main__":
    main()
