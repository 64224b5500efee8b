#!/usr/bin/env python3
"""Grid Engine commands for Snakemake's cluster-generic executor (profiles/sge/config.yaml).

    sge.py submit --name N --threads T --mem-mb M --runtime MIN [options] JOBSCRIPT
        qsub the job script; print the Grid Engine job id (and nothing else).
    sge.py status JOBID
        print `running`, `success` or `failed`: qstat while the job is known to the scheduler
        (an error state counts as failed), then qacct's record of the finished job.

Resources become qsub requests: threads > 1 -> `-pe smp T`; mem_mb -> `-l h_vmem=<mem_mb/T>M`
(Grid Engine counts memory per slot); runtime (minutes) -> `-l h_rt=<seconds>`. Standard library
only: it runs with any Python 3 on the submit host.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

PROG = "sge.py"


def job_name(name: str) -> str:
    """A qsub -N name: `smk.` + the rule or group name, characters Grid Engine rejects as `_`."""
    return "smk." + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def qsub_command(args: argparse.Namespace) -> list[str]:
    """The qsub call for one job (a rule or a group job) from its Snakemake resources."""
    threads = max(int(args.threads), 1)
    cmd = ["qsub", "-terse", "-cwd", "-V", "-N", job_name(args.name), "-j", "y",
           "-o", f"{args.log_dir}/", "-l", f"h_rt={max(int(args.runtime), 1) * 60}"]
    if threads > 1:
        cmd += ["-pe", args.pe, str(threads)]
    if args.memory_resource:
        per_slot = math.ceil(int(args.mem_mb) / threads)
        cmd += ["-l", f"{args.memory_resource}={per_slot}M"]
    return [*cmd, *shlex.split(args.qsub_args), args.jobscript]


def submit(args: argparse.Namespace) -> int:
    Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(qsub_command(args), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"{PROG} submit: error: qsub failed: {proc.stderr.strip()}", file=sys.stderr)
        return 1
    # -terse prints the id alone ("123"; an array job would add ".1-N:1").
    print(proc.stdout.strip().split(".")[0])
    return 0


def qstat_state(job_id: str, listing: str) -> str | None:
    """The state column of `job_id` in a `qstat -u '*'` listing, None if it is not there."""
    for line in listing.splitlines():
        fields = line.split()
        if fields[:1] == [job_id] and len(fields) > 4:
            return fields[4]
    return None


def qacct_outcome(record: str) -> str | None:
    """`success` or `failed` from `qacct -j` output (its last record), None without a record."""
    failed = re.findall(r"^failed\s+(\d+)", record, flags=re.M)
    status = re.findall(r"^exit_status\s+(\d+)", record, flags=re.M)
    if not failed or not status:
        return None
    return "success" if failed[-1] == "0" and status[-1] == "0" else "failed"


def status(job_id: str) -> str:
    """`running`, `success` or `failed` for one Grid Engine job."""
    state = qstat_state(job_id, _output("qstat", "-u", "*"))
    if state is not None:
        return "failed" if "E" in state else "running"
    # Gone from qstat: qacct has its record once the scheduler has written it; until then the
    # job is reported running and asked about again at the next status check.
    return qacct_outcome(_output("qacct", "-j", job_id)) or "running"


def _output(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("submit", help="qsub a Snakemake job script, print its job id")
    sp.add_argument("--name", required=True, help="rule or group name (qsub -N smk.NAME)")
    sp.add_argument("--threads", type=int, required=True)
    sp.add_argument("--mem-mb", type=int, required=True, help="memory of the whole job (MB)")
    sp.add_argument("--runtime", type=int, required=True, help="wall time (minutes)")
    sp.add_argument("--pe", default="smp", help="parallel environment for threads > 1")
    sp.add_argument("--memory-resource", default="h_vmem",
                    help="per-slot memory complex (h_vmem, mem_free, ...; '' for none)")
    sp.add_argument("--log-dir", default="logs/sge", help="qsub -o directory")
    sp.add_argument("--qsub-args", default="", help="further qsub options, e.g. '-q all.q'")
    sp.add_argument("jobscript")
    st = sub.add_parser("status", help="print running, success or failed for a job id")
    st.add_argument("job_id")
    args = parser.parse_args(argv)
    if args.command == "submit":
        return submit(args)
    print(status(args.job_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
