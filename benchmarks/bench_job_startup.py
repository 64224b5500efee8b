"""Start-up cost of one workflow job: a fresh interpreter importing what a rule's script imports.

Every record-writing job of the workflow is a new Python process (Snakemake's ``script:``), so
its imports are paid once per job: thousands of times in the paper profile (thesis Table 1.1
alone: about 3,000 jobs). Prints, per script, the median wall time of a fresh interpreter
importing the script's modules (with Snakemake's script preamble), beside the same for numpy
alone and for Snakemake's preamble alone, measured in the same run (interleaved, so the
machine's load falls on all alike).

    python benchmarks/bench_job_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PREAMBLE = "from snakemake import script"
CASES = {
    "numpy alone (baseline)": "import numpy",
    "snakemake preamble": PREAMBLE,
    "fois_ch1_run": f"{PREAMBLE}; from mixopt.smk import config_hash, job_log; "
                    "from mixopt.studies.fois_ch1 import Ch1Spec, run_ch1_job",
    "fois_ch23_run": f"{PREAMBLE}; from mixopt.smk import config_hash, job_log; "
                     "import mixopt.studies.fois_ch23",
    "run_method (Flaherty et al.)": f"{PREAMBLE}; from mixopt.smk import config_hash, job_log; "
                                    "import mixopt.runner",
    "mssc_run": f"{PREAMBLE}; from mixopt.smk import config_hash, job_log; "
                "import mixopt.studies.mssc_benchmark",
}


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for code in CASES.values():   # warm the file cache
        wall(code)
    for _ in range(args.repeat):
        for name, code in CASES.items():
            times[name].append(wall(code))
    base = statistics.median(times["numpy alone (baseline)"])
    print(f"# fresh-interpreter imports, median of {args.repeat} (interleaved)")
    print(f"{'script':32s} {'median s':>9s} {'x numpy':>8s}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:32s} {med:9.3f} {med / base:8.2f}")


if __name__ == "__main__":
    main()
