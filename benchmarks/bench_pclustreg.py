"""pclustreg: cost of the modified CEM (numba vs plain Python pass) and of a node expansion.

Usage: python benchmarks/bench_pclustreg.py [--n 1000] [--p 10] [--k 5] [--cem-runs 5]
       [--nodes 20] [--node-limit 100] [--wall 10] [--variant chi2] [--seed 1]

Data: MixSimReg(k, p, bar_omega=0.05, pi_low=1/(3k)) + simdatasetreg(n) (thesis Sec. 3.2.2);
sigma_min = half the smallest true noise sd.

1. One sequential CEM pass (Sec. 3.4.2) on the same inputs: compiled (numba) vs the same code as
   plain Python (``cem_pass_python``); ratio.
2. Whole modified-CEM runs from the same random starts with either pass (same result checked);
   ratio (the refits are NumPy in both).
3. Time per node expansion: pclustreg with ``--nodes`` expansions, both variants.
4. pclustreg with ``--node-limit`` expansions vs pclustreg with a wall time ``--wall`` seconds:
   log L^, expansions, time (oracle log L^ for reference).
5. pclustreg (both variants, ``--node-limit``) vs tclustreg at equal wall time (log L^ reached).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mixopt.methods.regression.pclustreg import (
    HAVE_NUMBA,
    _cem_pass,
    _fit_clusters,
    cem_pass_python,
    fit_pclustreg,
    loglik_hat,
    modified_cem,
    top_up,
)
from mixopt.problem import RegressionProblem
from mixopt.simulate import mixsimreg, simdatasetreg


def make_data(n: int, p: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                             float]:
    """MixSimReg data of the thesis' synthetic experiments; returns (X, y, labels, sigma_min)."""
    ms = mixsimreg(k, p, bar_omega=0.05, pi_low=1.0 / (3 * k), seed=seed)
    y, X, labels = simdatasetreg(n, ms.pi, ms.beta, ms.S, seed=seed)
    return X, y, labels, 0.5 * float(np.sqrt(ms.S.min()))


def bench_pass(X: np.ndarray, y: np.ndarray, k: int, rng: np.random.Generator) -> None:
    n, p = X.shape
    start = top_up(np.full(n, -1, dtype=np.int64), k, p + 1, rng)
    assert start is not None
    labels = rng.integers(0, k, n)
    labels[start >= 0] = start[start >= 0]
    B, ssr, nj = _fit_clusters(X, y, labels, k)
    r2 = np.ascontiguousarray((y[:, None] - X @ B) ** 2)
    out = {}
    for name, fn, reps in (("numba", _cem_pass, 200), ("python", cem_pass_python, 3)):
        fn(r2, labels.copy(), nj.copy(), ssr, p + 1)  # warm-up (compilation / cache load)
        t0 = time.perf_counter()
        for _ in range(reps):
            lab, cnt = labels.copy(), nj.copy()
            moves = fn(r2, lab, cnt, ssr, p + 1)
        out[name] = ((time.perf_counter() - t0) / reps, lab, moves)
    same = np.array_equal(out["numba"][1], out["python"][1])
    ratio = out["python"][0] / out["numba"][0]
    print(f"1. one CEM pass (n={n}, k={k}): numba {out['numba'][0] * 1e6:9.1f} us, "
          f"python {out['python'][0] * 1e3:8.2f} ms, ratio {ratio:7.0f}x"
          f"  (moves {out['numba'][2]}, same labels {same})")


def bench_cem(X: np.ndarray, y: np.ndarray, k: int, runs: int, seed: int) -> None:
    n, p = X.shape
    starts = []
    rng = np.random.default_rng(seed)
    for _ in range(runs):
        st = top_up(np.full(n, -1, dtype=np.int64), k, p + 1, rng)
        assert st is not None
        starts.append(st)
    res = {}
    for name, fn in (("numba", None), ("python", cem_pass_python)):
        t0 = time.perf_counter()
        outs = [modified_cem(X, y, k, st, pass_fn=fn) for st in starts]
        res[name] = ((time.perf_counter() - t0) / runs, outs)
    same = all(np.array_equal(a.labels, b.labels)
               for a, b in zip(res["numba"][1], res["python"][1], strict=True))
    passes = np.mean([o.n_passes for o in res["numba"][1]])
    print(f"2. one modified-CEM run ({runs} random starts, mean {passes:.1f} passes): "
          f"numba {res['numba'][0] * 1e3:8.2f} ms, python {res['python'][0] * 1e3:8.1f} ms, "
          f"ratio {res['python'][0] / res['numba'][0]:5.1f}x  (same results {same})")


def bench_nodes(X: np.ndarray, y: np.ndarray, k: int, sigma_min: float, nodes: int,
                seed: int) -> None:
    for variant in ("chi2", "F"):
        r = fit_pclustreg(RegressionProblem(X, y, k), sigma_min=sigma_min, variant=variant,
                          node_limit=nodes, seed=seed)
        print(f"3. {variant:>4}: {r.n_expanded} expansions in {r.time_s:6.2f} s -> "
              f"{r.time_s / max(r.n_expanded, 1) * 1e3:7.1f} ms per expansion "
              f"({r.n_cem_runs} CEM runs, {r.extra['n_cem_passes']} passes, "
              f"{r.n_dp_solves} DP solves, max depth {r.extra['max_depth']})")


def bench_limits(X: np.ndarray, y: np.ndarray, labels: np.ndarray, k: int, sigma_min: float,
                 node_limit: int, wall: float, variant: str, seed: int) -> None:
    oracle = loglik_hat(X, y, labels, k)
    problem = RegressionProblem(X, y, k)
    a = fit_pclustreg(problem, sigma_min=sigma_min, variant=variant, node_limit=node_limit,
                      seed=seed)
    b = fit_pclustreg(problem, sigma_min=sigma_min, variant=variant, time_limit_s=wall, seed=seed)
    print(f"4. oracle log L^ {oracle:10.2f}")
    for name, r in ((f"node_limit={node_limit}", a), (f"wall={wall:g}s", b)):
        print(f"   {name:<16} log L^ {r.objective:10.2f}  status {r.status:<10} expanded "
              f"{r.n_expanded:6d}  time {r.time_s:7.2f} s  best open UB {r.upper_bound:10.2f}")


def bench_equal_time(X: np.ndarray, y: np.ndarray, labels: np.ndarray, k: int,
                     sigma_min: float, node_limit: int, seed: int) -> None:
    """pclustreg (both variants) with ``node_limit`` against tclustreg given the same wall time:
    tclustreg's nsamp is doubled until one run takes at least pclustreg's time."""
    from mixopt.methods.regression.tclustreg import fit_tclustreg

    print(f"5. equal wall time (oracle log L^ {loglik_hat(X, y, labels, k):.2f})")
    for variant in ("chi2", "F"):
        r = fit_pclustreg(RegressionProblem(X, y, k), sigma_min=sigma_min, variant=variant,
                          node_limit=node_limit, seed=seed)
        nsamp, t = 50, 0.0
        while True:
            t0 = time.perf_counter()
            tc = fit_tclustreg(RegressionProblem(X, y, k), nsamp=nsamp, seed=seed)
            t = time.perf_counter() - t0
            if t >= r.time_s or nsamp >= 200_000:
                break
            nsamp *= 2
        print(f"   pclustreg ({variant}, node limit {node_limit}): log L^ {r.objective:10.2f} in "
              f"{r.time_s:6.2f} s | tclustreg nsamp {nsamp:6d}: log L^ {tc.loglik:10.2f} in "
              f"{t:6.2f} s | difference {r.objective - tc.loglik:+.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--cem-runs", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--node-limit", type=int, default=100)
    ap.add_argument("--wall", type=float, default=10.0)
    ap.add_argument("--variant", choices=("chi2", "F"), default="chi2")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    X, y, labels, sigma_min = make_data(args.n, args.p, args.k, args.seed)
    print(f"data: n={args.n} p={args.p} k={args.k} (MixSimReg bar_omega=0.05), "
          f"sigma_min={sigma_min:.4g}, numba={HAVE_NUMBA}")
    rng = np.random.default_rng(args.seed)
    bench_pass(X, y, args.k, rng)
    bench_cem(X, y, args.k, args.cem_runs, args.seed)
    bench_nodes(X, y, args.k, sigma_min, args.nodes, args.seed)
    bench_limits(X, y, labels, args.k, sigma_min, args.node_limit, args.wall, args.variant,
                 args.seed)
    bench_equal_time(X, y, labels, args.k, sigma_min, args.node_limit, args.seed)


if __name__ == "__main__":
    main()
