"""The workflow through a real SLURM scheduler: a one-node cluster started on this machine.

Needs root (daemons, apt-get); deselected by default: `pytest -m slurm` or `.ci/slurm-test`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import slurm_cluster
from cluster_utils import ensure_plugin
from workflow_utils import CONFIGS

from mixopt.records import read_record

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]
PLUGIN = "snakemake-executor-plugin-slurm>=1.0"  # the `slurm` extra of pyproject.toml
RECORD = "results/quick/flaherty_table2/iris1d/em/seed0.json"
TABLE = "tables/flaherty_table2.csv"
# Table 2 with the EM column only (datasets merge with config.yaml's: iris1d, wine, brca).
SLURM_TEST_CONFIG = (CONFIGS / "slurm_em_column.yaml").read_text()


@pytest.fixture(scope="session")
def cluster() -> Iterator[slurm_cluster.SlurmCluster]:
    try:
        running = slurm_cluster.start()
    except slurm_cluster.ClusterUnavailable as exc:
        pytest.skip(f"no local SLURM cluster: {exc}")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def slurm_plugin() -> None:
    ensure_plugin("snakemake_executor_plugin_slurm", PLUGIN)


def test_table2_em_column_built_through_slurm(slurm_plugin, mirror, project_root, cluster,
                                               tmp_path):
    from workflow_utils import make_workdir

    workdir = make_workdir(project_root, tmp_path / "wf")
    (workdir / "config/slurm_test.yaml").write_text(SLURM_TEST_CONFIG)
    mem_mb = min(4000, cluster.memory_mb // max(cluster.cpus, 1))
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", RECORD, TABLE,
           "--configfile", "config/config.yaml", "config/slurm_test.yaml",
           # On the command line --default-resources replaces the profile's list: repeat it.
           "--default-resources", f"mem_mb={mem_mb}", "runtime=30",
           f"slurm_partition={slurm_cluster.PARTITION}",
           # No accounting on the test cluster: sacct cannot report states, squeue can
           # (finished jobs stay visible for MinJobAge = 300 s). No account: the plugin's guess
           # fails with a warning and it submits without -A.
           "--slurm-status-command", "squeue",
           "--slurm-init-seconds-before-status-checks", "5", "--slurm-keep-successful-logs",
           "--config", f"data={{'mirror': '{mirror}'}}"]
    env = {k: v for k, v in cluster.env.items() if k != "MIXOPT_DATA_MIRROR"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    elapsed = time.monotonic() - start
    out = proc.stdout + proc.stderr
    (tmp_path / "snakemake.log").write_text(out)
    assert proc.returncode == 0, out[-4000:]
    print(f"snakemake through SLURM: {elapsed:.0f} s")

    rec = read_record(workdir / RECORD)  # validates against the record schema
    assert rec["method"] == "em" and rec["status"] == "local" and len(rec["assignment"]) == 150
    table = pd.read_csv(workdir / TABLE).set_index(["dataset", "metric"])
    assert float(table.loc[("iris1d", "neg_log_map"), "em"]) == pytest.approx(280.607, abs=0.01)

    # Evidence of SLURM: snakemake's submissions, the scheduler's own record of each job, and
    # one sbatch log per job under .snakemake/slurm_logs.
    submitted = dict(re.findall(r"Job ([\w-]+) has been submitted with SLURM jobid (\d+)", out))
    # One group job of the 3 preprocess jobs (group data), one of the 3 flaherty_table2_run jobs
    # (group flaherty_runs), and flaherty_table2 (download is a localrule).
    assert len(submitted) == 3, out[-4000:]
    for slurm_id in submitted.values():
        show = cluster.run("scontrol", "show", "job", slurm_id).stdout
        assert "JobState=COMPLETED" in show and f"WorkDir={workdir}" in show, show
    logs = {p.stem: p for p in (workdir / ".snakemake/slurm_logs").rglob("*.log")}
    assert set(submitted.values()) <= set(logs)
    # the 3 EM records came from one SLURM job
    em_logs = list((workdir / ".snakemake/slurm_logs").glob("group_flaherty_runs*/**/*.log"))
    assert len(em_logs) == 1 and out.count("rule flaherty_table2_run:") == 3
    assert cluster.run("squeue", "-h").stdout.strip() == ""
