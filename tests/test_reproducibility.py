"""Reproducibility and crash safety of the workflow, end to end in temporary copies.

1. Two builds from scratch in two fresh directories give the same records, up to the fields that
   measure time, host or clock (:func:`mixopt.records.stable_view`), the same processed data and
   the same table apart from its timing column.
2. A build killed while jobs run (SIGTERM, then SIGKILL) leaves no partial record, and resuming it
   finishes without recomputing the records completed before the kill.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from workflow_utils import CONFIGS, make_workdir, snakemake

from mixopt.provenance import sha256_file
from mixopt.records import RecordError, read_record, stable_view

pytestmark = pytest.mark.workflow

# ---------------------------------------------------------------------------------------------
# 1. Reproducibility: Thesis Table 1.5 (quick profile) on two of its six data sets, tclust with
# 100 random starts instead of 300 (keeps each build under a minute on 2 cores). Every Chapter 1
# method runs: random (seeded), tclust (seeded random starts), bclust (conic programs, Clarabel),
# bclust in likelihood mode and the oracle; bclust also reads the tclust record (a record input).
REPRO_CONFIG = (CONFIGS / "reproducibility_table1_5.yaml").read_text()
REPRO_DATASETS = ("fois_iris", "fois_algerian_bejaia")
CH1_METHODS = ("random", "tclust", "bclust", "bclust_lik", "oracle")
# Columns of tables/fois_table1_5.csv that are clock readings (our t(s); the thesis' is printed).
TIMING_COLUMNS = ("time_s",)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths at which two JSON values differ (for readable assertion messages)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only in one" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {str(a)[:60]} != {str(b)[:60]}"]


def record_files(workdir: Path) -> dict[str, Path]:
    """Every record of a build, by its path relative to the build directory."""
    return {p.relative_to(workdir).as_posix(): p
            for p in sorted((workdir / "results").rglob("*.json"))}


def comparable(rec: dict[str, Any], workdir: Path, records: dict[str, Path]) -> dict[str, Any]:
    """``stable_view`` of a record, after checking that every input's sha256 is that of the file
    in the same build. bclust reads the tclust record, whose bytes hold tclust's timings: its
    sha256 differs between builds, so the stable view keeps only its ``stable_sha256`` (the hash
    of the tclust record's own stable view), which must be equal across builds."""
    for item in rec["provenance"]["inputs"]:
        assert not Path(item["path"]).is_absolute(), f"absolute input path {item['path']}"
        assert item["sha256"] == sha256_file(workdir / item["path"]), item["path"]
        assert (item["path"] in records) == ("stable_sha256" in item), item["path"]
    return stable_view(rec)


def test_stable_view_ignores_clock_readings_in_extra():
    rec = {"objective": 1.0, "wall_time_s": 2.0, "provenance": {"host": "a", "inputs": []},
           "extra": {"evaluation_time_s": 0.3, "n_outer": 4}}
    other = {**rec, "wall_time_s": 5.0, "provenance": {"host": "b", "inputs": []},
             "extra": {"evaluation_time_s": 0.9, "n_outer": 4}}
    assert stable_view(rec) == stable_view(other)
    assert stable_view(rec)["extra"] == {"n_outer": 4}
    assert stable_view(rec) != stable_view({**other, "extra": {"n_outer": 5}})
    # Bandi records time every MIO solve, nested in extra
    nested = {**rec, "extra": {"seconds": 3.0, "directions": [{"ks": 0.1, "seconds": 1.0}]}}
    assert stable_view(nested)["extra"] == {"directions": [{"ks": 0.1}]}


def build_table1_5(workdir: Path, mirror: Path) -> None:
    (workdir / "config/test.yaml").write_text(REPRO_CONFIG)
    proc = snakemake(workdir, "tables/fois_table1_5.csv", "--configfile", "config/config.yaml",
                     "config/test.yaml", mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_rebuild_from_scratch_gives_identical_records(tmp_path, project_root, mirror):
    first = make_workdir(project_root, tmp_path / "first")
    second = make_workdir(project_root, tmp_path / "second")
    build_table1_5(first, mirror)
    build_table1_5(second, mirror)

    recs1, recs2 = record_files(first), record_files(second)
    assert set(recs1) == set(recs2)
    assert set(recs1) == {f"results/quick/fois_ch1/{ds}/{m}/seed42.json"
                          for ds in REPRO_DATASETS for m in CH1_METHODS}
    for rel in recs1:
        for workdir, path in ((first, recs1[rel]), (second, recs2[rel])):
            # inputs are stored relative to the build directory; only the volatile `command`
            # names the build directory (Snakemake's copy of the job script)
            assert str(workdir) not in json.dumps(stable_view(read_record(path))), rel
        a = comparable(read_record(recs1[rel]), first, recs1)
        b = comparable(read_record(recs2[rel]), second, recs2)
        assert a == b, f"{rel} differs between two builds: {differences(a, b)}"
        assert read_record(recs1[rel])["provenance"]["config_hash"] is not None

    # processed data sets: byte for byte
    for path in sorted((first / "data/processed").iterdir()):
        assert path.read_bytes() == (second / "data/processed" / path.name).read_bytes(), path.name

    # the table: identical except our timings; the sources sidecar: identical
    t1, t2 = (pd.read_csv(w / "tables/fois_table1_5.csv") for w in (first, second))
    assert set(TIMING_COLUMNS) <= set(t1.columns) and len(t1) == 2 * len(CH1_METHODS)
    pd.testing.assert_frame_equal(t1.drop(columns=list(TIMING_COLUMNS)),
                                  t2.drop(columns=list(TIMING_COLUMNS)), check_exact=True)
    s1, s2 = (json.loads((w / "tables/fois_table1_5.sources.json").read_text())
              for w in (first, second))
    assert s1 == s2, differences(s1, s2)


# ---------------------------------------------------------------------------------------------
# 2. Kill and resume: Table 2 with the local methods and the 1-d DP (no time-limited solver), so
# the build has 6 record jobs of 1-10 s each (EM on the three data sets; SLSQP, SA and exact1d on
# iris1d) after 3 downloads and 3 preprocessing jobs, run one at a time (--cores 1).
KILL_CONFIG = (CONFIGS / "reproducibility_kill.yaml").read_text()
KILL_TARGET = "tables/flaherty_table2.csv"
KILL_RECORDS = {f"results/quick/flaherty_table2/{ds}/em/seed0.json"
                for ds in ("iris1d", "wine", "brca")} | {
    f"results/quick/flaherty_table2/iris1d/{m}/seed0.json" for m in ("slsqp", "sa", "exact1d")}
# Outputs are written by mixopt.io.atomic_path: a hidden ".<name>.<random><suffix>" beside the
# output, renamed onto it. Only a kill inside that sub-millisecond window could leave such a file
# (and no rule would read it: rules name explicit paths); the check below allows none.
ARTIFACT_DIRS = ("results", "tables", "data")


def kill_cmd(*args: str, mirror: Path) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "1", KILL_TARGET, *args,
            "--configfile", "config/config.yaml", "config/test.yaml",
            "--config", f"data={{'mirror': '{mirror}'}}"]


def kill_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MIXOPT_DATA_MIRROR"}


def incomplete_marks(workdir: Path) -> set[str]:
    """Outputs Snakemake has marked incomplete (job started, not finished): file names in
    .snakemake/incomplete are the url-safe base64 of the output path (long ones split in
    '@'-prefixed directories)."""
    root = workdir / ".snakemake/incomplete"
    marks = set()
    for path in root.rglob("*") if root.is_dir() else ():
        if path.is_file() and path.name != "migration_underway":
            parts = [p.lstrip("@") for p in path.relative_to(root).parts]
            marks.add(base64.urlsafe_b64decode("".join(parts)).decode())
    return marks


def finished_records(workdir: Path) -> set[str]:
    """Records on disk whose job Snakemake has seen finish."""
    return {r for r in KILL_RECORDS if (workdir / r).exists()} - incomplete_marks(workdir)


def running_records(workdir: Path) -> set[str]:
    """Records whose job has started and not written them yet."""
    return {r for r in incomplete_marks(workdir) & KILL_RECORDS if not (workdir / r).exists()}


def processes_in(workdir: Path) -> list[int]:
    """Pids of live processes whose working directory is ``workdir`` (ours: the build)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(os.readlink(proc / "cwd")) == workdir:
                    pids.append(int(proc.name))
            except OSError:  # gone, or another user's process
                continue
    return pids


def start_and_kill(workdir: Path, mirror: Path, sig: signal.Signals, already: set[str],
                   log: Path) -> set[str]:
    """Start the build in its own process group; once a record beyond ``already`` is finished
    and another record's job is running, send ``sig`` to the whole group (Snakemake runs its
    local jobs in its own group). Returns the records whose job was running."""
    with open(log, "w") as out:
        proc = subprocess.Popen(kill_cmd(mirror=mirror), cwd=workdir, stdout=out,
                                stderr=subprocess.STDOUT, env=kill_env(),
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (finished_records(workdir) - already and running_records(workdir)):
            assert proc.poll() is None, (f"snakemake exited ({proc.returncode}) before a job "
                                         f"could be interrupted:\n{log.read_text()[-3000:]}")
            assert time.monotonic() < deadline, "no record after 300 s"
            time.sleep(0.1)
        running = running_records(workdir)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:  # only if something above failed
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 30
    while processes_in(workdir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(workdir) == [], f"processes survived {sig.name} of the process group"
    return running


def check_no_partial_outputs(workdir: Path) -> None:
    """Every file under results/ is an expected, valid record; no hidden (temporary) file
    anywhere under the artifact folders."""
    for top in ARTIFACT_DIRS:
        for path in (workdir / top).rglob("*") if (workdir / top).is_dir() else ():
            rel = path.relative_to(workdir).as_posix()
            if path.is_dir():
                continue
            assert not path.name.startswith("."), f"leftover temporary file {rel}"
            if top == "results":
                assert rel in KILL_RECORDS, f"unexpected file {rel}"
                try:
                    read_record(path)
                except RecordError as exc:
                    pytest.fail(f"partial or invalid record after the kill: {exc}")


def lock_files(workdir: Path) -> list[Path]:
    locks = workdir / ".snakemake/locks"
    return sorted(locks.iterdir()) if locks.is_dir() else []


def snapshot(workdir: Path, records: set[str]) -> dict[str, tuple[int, bytes]]:
    return {r: ((workdir / r).stat().st_mtime_ns, (workdir / r).read_bytes()) for r in records}


def test_killed_build_resumes_without_recomputing(tmp_path, project_root, mirror):
    workdir = make_workdir(project_root, tmp_path / "wf")
    (workdir / "config/test.yaml").write_text(KILL_CONFIG)
    # the copied project's profiles/default (picked up automatically) sets rerun-incomplete
    assert "rerun-incomplete: true" in (workdir / "profiles/default/config.yaml").read_text()

    # SIGTERM: Snakemake stops its jobs, removes their incomplete outputs and its lock.
    stopped = start_and_kill(workdir, mirror, signal.SIGTERM, set(), tmp_path / "run1.log")
    check_no_partial_outputs(workdir)
    done1 = finished_records(workdir)
    assert done1 and stopped and not stopped & done1
    assert incomplete_marks(workdir) == set()
    before1 = snapshot(workdir, done1)
    assert lock_files(workdir) == [], "SIGTERM left a lock"

    # SIGKILL: nothing runs any clean-up.
    killed = start_and_kill(workdir, mirror, signal.SIGKILL, done1, tmp_path / "run2.log")
    check_no_partial_outputs(workdir)
    done2 = finished_records(workdir)
    assert done2 > done1 and len(done2) < len(KILL_RECORDS)
    # the killed job's output stays marked incomplete (and was never written: atomic writes)
    assert killed and killed <= incomplete_marks(workdir) and not killed & done2
    before = snapshot(workdir, done2)
    # The killed run's lock stays in .snakemake/locks, and a restart refuses to start until
    # `snakemake --unlock` (which runs no job) removes it.
    assert lock_files(workdir)
    env = kill_env()
    proc = subprocess.run(kill_cmd(mirror=mirror), cwd=workdir, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode != 0 and "cannot be locked" in proc.stdout + proc.stderr
    proc = subprocess.run(kill_cmd("--unlock", mirror=mirror), cwd=workdir,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert finished_records(workdir) == done2  # --unlock touched no output

    # Resume: the job killed mid-run (marked incomplete) is rerun, finished records are kept.
    proc = subprocess.run(kill_cmd(mirror=mirror), cwd=workdir, capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_no_partial_outputs(workdir)
    assert {r for r in KILL_RECORDS if (workdir / r).exists()} == KILL_RECORDS
    assert incomplete_marks(workdir) == set()
    assert snapshot(workdir, done1) == before1, "records finished before SIGTERM were recomputed"
    assert snapshot(workdir, done2) == before, "records finished before the kill were recomputed"
    log = proc.stdout + proc.stderr
    for r in done2:
        assert f"output: {r}\n" not in log, f"{r} was scheduled again"
    for r in killed:
        assert f"output: {r}\n" in log, f"{r} (killed) was not rerun"

    table = pd.read_csv(workdir / KILL_TARGET, keep_default_na=False, na_values=[""])
    table = table.set_index(["dataset", "metric"])
    assert float(table.loc[("iris1d", "neg_log_map"), "exact1d"]) == pytest.approx(280.0197,
                                                                                    abs=1e-3)
    assert table.loc[("wine", "neg_log_map"), "em"] != ""
    sources = json.loads((workdir / "tables/flaherty_table2.sources.json").read_text())
    cited = {r for cell in sources["cells"].values() for r in cell.get("records", [])}
    assert cited <= KILL_RECORDS and cited
    dry = subprocess.run(kill_cmd("-n", mirror=mirror), cwd=workdir, capture_output=True,
                         text=True, timeout=300, env=env)
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
