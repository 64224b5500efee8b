"""profiles/sge without a cluster: qsub requests from resources, job states from qstat/qacct,
and the same job grouping as profiles/slurm."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest
import yaml

PROFILES = Path(__file__).resolve().parents[1] / "profiles"


def _load_sge():
    spec = importlib.util.spec_from_file_location("sge_profile_script", PROFILES / "sge/sge.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sge = _load_sge()


def submit_args(**kw) -> argparse.Namespace:
    base = dict(name="flaherty_runs", threads=1, mem_mb=4000, runtime=30, pe="smp",
                memory_resource="h_vmem", log_dir="logs/sge", qsub_args="", jobscript="job.sh")
    return argparse.Namespace(**{**base, **kw})


def test_qsub_command_single_slot_job():
    cmd = sge.qsub_command(submit_args())
    assert cmd == ["qsub", "-terse", "-cwd", "-V", "-N", "smk.flaherty_runs", "-j", "y",
                   "-o", "logs/sge/", "-l", "h_rt=1800", "-l", "h_vmem=4000M", "job.sh"]


def test_qsub_command_threads_take_pe_slots_and_memory_per_slot():
    cmd = sge.qsub_command(submit_args(threads=3, mem_mb=4000, runtime=125,
                                       qsub_args="-q all.q -P proj"))
    assert cmd[cmd.index("-pe") + 1:cmd.index("-pe") + 3] == ["smp", "3"]
    assert "h_vmem=1334M" in cmd and "h_rt=7500" in cmd  # ceil(4000 / 3); 125 min
    assert cmd[-5:] == ["-q", "all.q", "-P", "proj", "job.sh"]


def test_qsub_command_other_or_no_memory_resource():
    assert "mem_free=2000M" in sge.qsub_command(submit_args(memory_resource="mem_free",
                                                            threads=2))
    cmd = sge.qsub_command(submit_args(memory_resource=""))
    assert not any(part.endswith("M") for part in cmd) and cmd.count("-l") == 1  # h_rt only


def test_job_name_is_a_valid_qsub_name():
    assert sge.job_name("fois_ch1") == "smk.fois_ch1"
    assert sge.job_name("a/b:c d") == "smk.a_b_c_d"


QSTAT = """job-ID  prior   name       user         state submit/start at     queue   slots
-------------------------------------------------------------------------------------
     12 0.55500 smk.data   root         r     12/06/2026 03:05:00 all.q@vm   2
     13 0.00000 smk.views  root         Eqw   12/06/2026 03:05:01            1
    113 0.00000 smk.other  root         qw    12/06/2026 03:05:02            1
"""


@pytest.mark.parametrize(("job", "state"), [("12", "r"), ("13", "Eqw"), ("113", "qw"),
                                             ("1", None)])
def test_qstat_state(job, state):
    assert sge.qstat_state(job, QSTAT) == state


QACCT = """==============================================================
qname        all.q
jobnumber    12
failed       {failed}
exit_status  {status}
ru_wallclock 1s
"""


@pytest.mark.parametrize(("failed", "status", "outcome"), [
    ("0", "0", "success"), ("0", "1", "failed"), ("100 : assumedly after job", "137", "failed")])
def test_qacct_outcome(failed, status, outcome):
    assert sge.qacct_outcome(QACCT.format(failed=failed, status=status)) == outcome


def test_qacct_outcome_takes_the_last_record_and_none_without_one():
    rerun = QACCT.format(failed="0", status="1") + QACCT.format(failed="0", status="0")
    assert sge.qacct_outcome(rerun) == "success"
    assert sge.qacct_outcome("error: job id 12 not found\n") is None


@pytest.mark.parametrize(("qstat", "qacct", "expected"), [
    (QSTAT, "", "running"),                                   # 12 is running
    (QSTAT.replace(" 12 ", " 99 "), QACCT.format(failed="0", status="0"), "success"),
    (QSTAT.replace(" 12 ", " 99 "), QACCT.format(failed="0", status="2"), "failed"),
    ("", "error: job id 12 not found\n", "running"),          # accounting not yet written
])
def test_status(monkeypatch, qstat, qacct, expected):
    monkeypatch.setattr(sge, "_output", lambda *cmd: qstat if cmd[0] == "qstat" else qacct)
    assert sge.status("12") == expected


def test_status_error_state_is_failed(monkeypatch):
    monkeypatch.setattr(sge, "_output", lambda *cmd: QSTAT if cmd[0] == "qstat" else "")
    assert sge.status("13") == "failed"


def test_sge_profile_groups_like_the_slurm_profile():
    """Grouping, group sizes and the small rules' budgets are the same in both profiles."""
    slurm = yaml.safe_load((PROFILES / "slurm/config.yaml").read_text())
    sge_conf = yaml.safe_load((PROFILES / "sge/config.yaml").read_text())
    for key in ("groups", "group-components", "cores", "set-resources"):
        assert sge_conf[key] == slurm[key], key
    assert sge_conf["executor"] == "cluster-generic"
    assert sge_conf["cluster-generic-submit-cmd"].startswith("profiles/sge/sge.py submit")
    assert (PROFILES / "sge/sge.py").stat().st_mode & 0o111  # run directly by the executor
