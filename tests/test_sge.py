"""The workflow through a real Grid Engine: a one-node cluster started on this machine.

Needs root (daemons, apt-get); deselected by default: `pytest -m sge` or `.ci/sge-test`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sge_cluster
from cluster_utils import ensure_plugin
from workflow_utils import CONFIGS

from mixopt.records import read_record

pytestmark = [pytest.mark.sge, pytest.mark.workflow]
PLUGIN = "snakemake-executor-plugin-cluster-generic>=1.0"  # the `sge` extra of pyproject.toml
DATASETS = ("iris1d", "wine", "brca")
RECORDS = [f"results/quick/flaherty_table2/{ds}/em/seed0.json" for ds in DATASETS]
TABLE = "tables/flaherty_table2.csv"
# Table 2 with the EM column only (datasets merge with config.yaml's: iris1d, wine, brca).
EM_COLUMN_CONFIG = (CONFIGS / "slurm_em_column.yaml").read_text()


@pytest.fixture(scope="session")
def cluster() -> Iterator[sge_cluster.SgeCluster]:
    try:
        running = sge_cluster.start()
    except sge_cluster.ClusterUnavailable as exc:
        pytest.skip(f"no local Grid Engine: {exc}")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def generic_plugin() -> None:
    ensure_plugin("snakemake_executor_plugin_cluster_generic", PLUGIN)


def qacct(cluster: sge_cluster.SgeCluster, job_id: str) -> dict[str, str]:
    """The fields of Grid Engine's accounting record of a finished job."""
    out = cluster.run("qacct", "-j", job_id).stdout
    pairs = (line.split(None, 1) for line in out.splitlines())
    return {p[0]: p[1].strip() for p in pairs if len(p) == 2}


def qacct_time(text: str) -> datetime:
    """A qacct time ('Sun Dec  6 03:20:16 2026', local time) as an aware datetime."""
    return datetime.strptime(text, "%a %b %d %H:%M:%S %Y").astimezone(UTC)


def test_table2_em_column_built_through_grid_engine(generic_plugin, mirror, project_root,
                                                    cluster, tmp_path):
    from workflow_utils import make_workdir

    workdir = make_workdir(project_root, tmp_path / "wf")
    (workdir / "config/sge_test.yaml").write_text(EM_COLUMN_CONFIG)
    mem_mb = 2000
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/sge", *RECORDS, TABLE,
           "--configfile", "config/config.yaml", "config/sge_test.yaml",
           # On the command line --default-resources replaces the profile's list: repeat it.
           "--default-resources", f"mem_mb={mem_mb}", "runtime=30",
           # A group job asks for at most the test queue's slots.
           "--cores", str(cluster.slots),
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
    print(f"snakemake through Grid Engine: {elapsed:.0f} s")

    rec = read_record(workdir / RECORDS[0])  # validates against the record schema
    assert rec["method"] == "em" and rec["status"] == "local" and len(rec["assignment"]) == 150
    table = pd.read_csv(workdir / TABLE).set_index(["dataset", "metric"])
    assert float(table.loc[("iris1d", "neg_log_map"), "em"]) == pytest.approx(280.607, abs=0.01)

    # Evidence of Grid Engine: snakemake's submissions, the scheduler's accounting record of each
    # job (ran on this host, exit 0), and its qsub log logs/sge/smk.<name>.o<JOB_ID>.
    submitted = re.findall(r"Submitted (?:group )?job \S+ with external jobid '(\d+)'", out)
    # One group job of the 3 preprocess jobs (group data), one of the 3 flaherty_table2_run jobs
    # (group flaherty_runs), and flaherty_table2 (download is a localrule).
    assert len(submitted) == 3, out[-4000:]
    logs, accts = {}, {}
    for job_id in submitted:
        acct = qacct(cluster, job_id)
        assert acct.get("hostname") == cluster.host and acct.get("exit_status") == "0", acct
        assert acct.get("failed") == "0", acct
        print(f"Grid Engine job {job_id} {acct['jobname']}: {acct['slots']} slot(s), queued "
              f"{acct['qsub_time']}, started {acct['start_time']}, ran {acct['ru_wallclock']}")
        (log,) = (workdir / "logs/sge").glob(f"smk.*.o{job_id}")
        logs[acct["jobname"]], accts[acct["jobname"]] = log.read_text(), acct
    # The 3 EM records came from one Grid Engine job: its log names all three outputs, and each
    # record was made on this host while that job ran.
    (group_name,) = [name for name in logs if "flaherty_runs" in name]
    assert all(record in logs[group_name] for record in RECORDS), logs[group_name][-3000:]
    assert out.count("rule flaherty_table2_run:") == 3
    began, ended = (qacct_time(accts[group_name][k]) for k in ("start_time", "end_time"))
    for record in RECORDS:
        prov = read_record(workdir / record)["provenance"]
        assert prov["host"] == socket.gethostname()
        made = [datetime.fromisoformat(prov[k]) for k in ("start_time", "end_time")]
        assert began <= made[0] <= made[1] <= ended, (record, began, made, ended)
    assert cluster.run("qstat", "-u", "*").stdout.strip() == ""
