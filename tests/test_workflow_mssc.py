"""End-to-end: the MSSC benchmark target from the raw instance files to its table, audited."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
from workflow_utils import CONFIGS, make_workdir, snakemake

from mixopt.cli import main as mixopt_main
from mixopt.records import read_record

pytestmark = pytest.mark.workflow
CONFIG_ARGS = ("--configfile", "config/config.yaml", "config/test.yaml")


@pytest.fixture(scope="module")
def built(tmp_path_factory, project_root, mirror):
    workdir = make_workdir(project_root, tmp_path_factory.mktemp("wf_mssc"))
    (workdir / "config/test.yaml").write_text((CONFIGS / "mssc_benchmark_small.yaml").read_text())
    proc = snakemake(workdir, "tables/mssc_benchmark.csv", *CONFIG_ARGS, mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_every_instance_has_a_record_with_its_gap(built):
    table = pd.read_csv(built / "tables/mssc_benchmark.csv").set_index("instance")
    assert list(table.index) == ["ruspini_k4", "iris_k2"]
    assert table.loc["ruspini_k4", ["n", "d", "k"]].tolist() == [75, 2, 4]
    assert table.loc["iris_k2", ["n", "d", "k"]].tolist() == [150, 4, 2]
    for name in table.index:
        rec = read_record(built / f"results/quick/mssc_benchmark/{name}/exact/seed0.json")
        assert rec["params"]["settings"]["proportions"] == "equal"
        assert rec["params"]["settings"]["options"]["time_limit_s"] == 5
        assert rec["status"] in ("optimal", "time_limit")
        assert table.loc[name, "mssc"] == pytest.approx(rec["metrics"]["mssc"])
        assert math.isfinite(table.loc[name, "mssc"])
    # K = 2 in d = 4: the direction search certifies within the 5 s
    assert table.loc["iris_k2", "status"] == "optimal"
    assert 0 <= table.loc["iris_k2", "gap"] <= 1e-4
    assert table.loc["iris_k2", "lower_bound"] <= table.loc["iris_k2", "mssc"]
    assert table["sos_sdp_mssc"].isna().all()   # no published figure for these two
    assert "not published" in (built / "tables/mssc_benchmark.md").read_text()


def test_audit_traces_the_cells(built, monkeypatch, capsys):
    monkeypatch.chdir(built)
    assert mixopt_main(["audit", "tables/mssc_benchmark.csv", "--row", "ruspini_k4",
                        "--col", "mssc"]) == 0
    out = capsys.readouterr().out
    assert "data/processed/mssc_ruspini.csv" in out and "audit: OK" in out
    assert mixopt_main(["audit", "--all"]) == 0, capsys.readouterr().out


def test_rebuild_is_a_no_op(built, mirror):
    proc = snakemake(built, "-n", "tables/mssc_benchmark.csv", *CONFIG_ARGS, mirror=mirror)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.parametrize(("extra_config", "message"), [
    ("studies:\n  mssc_benchmark:\n    selected: [nope]\n",
     "mssc_benchmark: selected instances ['nope'] are not defined"),
    ("studies:\n  mssc_benchmark:\n    method_options: {rel_gap: -1}\n",
     "exact option rel_gap must be a finite number >= 0, got -1"),
    ("studies:\n  mssc_benchmark:\n    instances: {bad_k3: {dataset: iris, k: 3}}\n",
     "Error validating config file"),
])
def test_invalid_benchmark_config_fails_before_any_job(tmp_path, project_root, extra_config,
                                                       message):
    workdir = make_workdir(project_root, tmp_path)
    (workdir / "config/extra.yaml").write_text(extra_config)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "tables/mssc_benchmark.csv",
                           "--configfile", "config/config.yaml", "config/extra.yaml"],
                          cwd=workdir, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (workdir / "data").exists() and not (workdir / "results").exists()
