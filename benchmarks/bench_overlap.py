"""Cost of the exact overlap computation and of MixSim at the thesis' chapter-1 settings.

Usage: python benchmarks/bench_overlap.py [--seeds 3]
Prints the time per generalized chi-square cdf evaluation, per OmegaMap, and per MixSim call for
the corner settings of Tables 1.1-1.4 (GPCM VVV, shw = r^2, BarOmega) and for MixSimreg at the
chapter-2 settings; also the largest |achieved - target| overlap seen.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mixopt.simulate import GPCM, gchisq_cdf, mixsim, mixsimreg, omega_map, overlap_pars


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    coefs = [rng.normal(size=8) for _ in range(50)]
    t0 = time.perf_counter()
    for a in coefs:
        gchisq_cdf(0.3, a, rng.exponential(size=8))
    print(f"gchisq_cdf (8 terms): {(time.perf_counter() - t0) / len(coefs) * 1e3:.2f} ms/call")

    res = mixsim(4, 8, bar_omega=0.01, sph=GPCM(shw=10.0), seed=0)
    pars = overlap_pars(res.pi, res.mu, res.S)
    t0 = time.perf_counter()
    for _ in range(5):
        omega_map(pars)
    print(f"omega_map k=4 p=8: {(time.perf_counter() - t0) / 5 * 1e3:.1f} ms")

    settings = [
        dict(k=4, p=2, r2=10.0, bar=0.01),
        dict(k=4, p=10, r2=10.0, bar=0.01),
        dict(k=2, p=8, r2=10.0, bar=0.01),
        dict(k=6, p=8, r2=10.0, bar=0.01),
        dict(k=4, p=8, r2=1.0, bar=0.01),
        dict(k=4, p=8, r2=30.0, bar=0.01),
        dict(k=4, p=8, r2=10.0, bar=0.001),
        dict(k=4, p=8, r2=10.0, bar=0.1),
    ]
    worst = 0.0
    for s in settings:
        times = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            r = mixsim(s["k"], s["p"], bar_omega=s["bar"], sph=GPCM(shw=s["r2"]), seed=seed)
            times.append(time.perf_counter() - t0)
            worst = max(worst, abs(r.bar_omega - s["bar"]))
        print(f"mixsim {s}: mean {np.mean(times):.2f} s, max {np.max(times):.2f} s")
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        r = mixsimreg(5, 10, bar_omega=0.05, pi_low=1 / 15, seed=seed)
        worst = max(worst, abs(r.bar_omega - 0.05))
    print(f"mixsimreg k=5 p=10: {(time.perf_counter() - t0) / args.seeds:.3f} s")
    print(f"max |achieved - target| overlap: {worst:.2e}")


if __name__ == "__main__":
    main()
