"""Cluster job grouping: how many SLURM jobs `profiles/slurm` plans for each study profile."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest
from workflow_utils import make_workdir

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
                       reason="needs the SLURM executor plugin (pip install 'mixopt[slurm]')"),
]
# The limits on cluster submissions per study profile.
MAX_CLUSTER_JOBS = {"quick": 100, "paper": 1000}


def planned_cluster_jobs(dry_run: str) -> tuple[int, dict[str, int]]:
    """(cluster jobs, group jobs per group) of a dry run's listing: every job printed at the top
    level (a rule outside any group, or one group job; grouped rules are printed indented). The
    dry run prints local rules (download) alike: counted too, so the count is an upper bound."""
    singles = len(re.findall(r"^rule \w+:", dry_run, flags=re.M))
    groups: dict[str, int] = {}
    for name in re.findall(r"^\[[^\]]+\] Group job (\w+) ", dry_run, flags=re.M):
        groups[name] = groups.get(name, 0) + 1
    return singles + sum(groups.values()), groups


def test_planned_cluster_jobs_counts_singles_and_groups():
    listing = ("[d]\nrule a:\n    x\n[d] Group job g (jobs in lexicogr. order):\n\n    [d]\n"
               "    rule b:\n[d] Group job g (jobs in lexicogr. order):\n    rule b:\n"
               "[d]\nlocalrule all:\n")
    assert planned_cluster_jobs(listing) == (3, {"g": 2})


@pytest.mark.parametrize("profile", [
    "quick",   # 515 jobs in 49 SLURM jobs (11 of them local downloads), 15 s
    pytest.param("paper", marks=pytest.mark.slow),   # 26,857 jobs in 176 SLURM jobs, 4 to 8 min
])
def test_slurm_profile_groups_the_many_small_jobs(tmp_path, project_root, profile):
    """A fresh project (nothing built) plans at most 100 (quick) or 1,000 (paper) SLURM jobs."""
    workdir = make_workdir(project_root, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--profile", "profiles/slurm",
                           "--config", f"profile={profile}"], cwd=workdir, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listing = proc.stdout + proc.stderr
    total, groups = planned_cluster_jobs(listing)
    jobs = int(re.search(r"^total\s+(\d+)$", listing, flags=re.M).group(1))
    print(f"profile {profile}: {jobs} jobs in {total} cluster jobs; group jobs {groups}")
    assert groups and total <= MAX_CLUSTER_JOBS[profile] < jobs
