"""End-to-end: the Snakemake workflow from raw files to Table 2, in a temporary directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from workflow_utils import CONFIGS, make_workdir, snakemake

from mixopt.audit import audit_cell
from mixopt.cli import main as mixopt_main
from mixopt.records import read_record

pytestmark = pytest.mark.workflow
# A small study for the end-to-end test: every stage runs, global methods stop after 3 s.
TEST_CONFIG = (CONFIGS / "workflow_table2_fig1.yaml").read_text()


@pytest.fixture(scope="module")
def built(tmp_path_factory, project_root, mirror):
    workdir = make_workdir(project_root, tmp_path_factory.mktemp("wf"))
    (workdir / "config/test.yaml").write_text(TEST_CONFIG)
    proc = snakemake(workdir, "tables/flaherty_table2.csv", "figures/flaherty_fig1a.png",
                     "figures/flaherty_fig1b.png", "figures/flaherty_em_restarts.png",
                     "--configfile", "config/config.yaml",
                     "config/test.yaml", mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_table2_built_from_raw_data(built):
    table = pd.read_csv(built / "tables/flaherty_table2.csv", keep_default_na=False,
                        na_values=[""]).set_index(["dataset", "metric"])
    assert list(table.index.get_level_values(0).unique()) == ["iris1d", "wine", "brca"]
    # EM column filled from records; the paper's EM value for iris1d is 280.60.
    assert float(table.loc[("iris1d", "neg_log_map"), "em"]) == pytest.approx(280.607, abs=0.01)
    assert float(table.loc[("iris1d", "neg_log_map"), "em_paper"]) == 280.60
    # exact1d certifies the paper's MINLP optimum 280.02 on iris1d; n/a where d > 1.
    assert float(table.loc[("iris1d", "neg_log_map"), "exact1d"]) == pytest.approx(280.0197,
                                                                                    abs=1e-3)
    assert (table.loc["wine", "exact1d"] == "n/a").all()
    assert float(table.loc[("iris1d", "neg_log_map"), "slsqp"]) >= 280.01965 - 1e-6
    minlp = table["minlp"].xs("neg_log_map", level="metric").astype(float)
    assert minlp["iris1d"] >= 280.01965 - 1e-6  # never below the certified optimum
    assert minlp.isna().any() or (minlp > 0).all()  # NaN: no incumbent within 3 s
    md = (built / "tables/flaherty_table2.md").read_text()
    assert "280.61 (280.60)" in md and "status `time_limit`" in md
    assert (built / "tables/flaherty_table2.tex").read_text().startswith("\\begin{tabular}")


def test_every_processed_dataset_and_record_is_valid(built):
    for ds in ("iris1d", "wine", "brca"):
        rec = read_record(built / f"results/quick/flaherty_table2/{ds}/em/seed0.json")
        assert rec["status"] == "local" and rec["method"] == "em"
        n = {"iris1d": 150, "wine": 178, "brca": 569}[ds]
        assert len(rec["assignment"]) == n
        inputs = {Path(i["path"]).name for i in rec["provenance"]["inputs"]}
        assert inputs == {f"{ds}.csv", f"{ds}.json"}


def test_audit_traces_a_cell_to_its_record(built, monkeypatch, capsys):
    monkeypatch.chdir(built)
    cell = audit_cell("tables/flaherty_table2.csv", "wine:neg_log_map", "em")
    assert cell["selected"] == "results/quick/flaherty_table2/wine/em/seed0.json"
    assert cell["loaded"][0]["objective"] == pytest.approx(cell["value"])
    assert mixopt_main(["audit", "tables/flaherty_table2.csv", "--row", "wine:neg_log_map",
                        "--col", "em"]) == 0
    out = capsys.readouterr().out
    assert "data/processed/wine.csv" in out and "(ok)" in out
    assert mixopt_main(["audit", "tables/flaherty_table2.csv", "--row", "wine:nope",
                        "--col", "em"]) == 2
    # every cell of every table and figure follows from its records as they are now
    capsys.readouterr()
    assert mixopt_main(["audit", "--all"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    for name in ("tables/flaherty_table2", "figures/flaherty_fig1a", "figures/flaherty_fig1b",
                 "figures/flaherty_em_restarts"):
        assert f"{name}.sources.json: " in out


def test_rebuild_is_a_no_op(built, mirror):
    proc = snakemake(built, "-n", "tables/flaherty_table2.csv", "--configfile",
                     "config/config.yaml", "config/test.yaml", mirror=mirror)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_corrupt_mirror_file_fails_clearly_and_leaves_nothing(tmp_path, project_root, mirror):
    bad_mirror = tmp_path / "mirror"
    (bad_mirror / "uci_originals").mkdir(parents=True)
    data = bytearray((mirror / "uci_originals/iris.data").read_bytes())
    data[100] ^= 0x01
    (bad_mirror / "uci_originals/iris.data").write_bytes(bytes(data))
    workdir = make_workdir(project_root, tmp_path / "wf")
    proc = snakemake(workdir, "data/raw/uci_iris/iris.data", mirror=bad_mirror)
    assert proc.returncode != 0
    log = (workdir / "logs/quick/download/uci_iris/iris.data.log").read_text()
    assert "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0" in log  # expected
    assert "iris.data" in log
    raw_dir = workdir / "data/raw/uci_iris"
    assert not raw_dir.exists() or list(raw_dir.iterdir()) == []


@pytest.mark.parametrize(("override", "key"), [
    ("profile=fast", "profile"),
    ("profiles={'quick': {'time_limit_s': -1}}", "time_limit_s"),
    ("solvers={'minlp': 'cplex', 'miqp': 'scip'}", "minlp"),
])
def test_invalid_config_fails_before_any_job_naming_the_key(tmp_path, project_root, override, key):
    workdir = make_workdir(project_root, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--config", override],
                          cwd=workdir, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "Error validating config file" in err
    assert f"['{key}']" in err
    assert not (workdir / "data").exists() and not (workdir / "results").exists()


@pytest.mark.parametrize(("extra_config", "message"), [
    ("profiles:\n  quick:\n    time_limit_s: .nan\n",
     "Error validating config file: numbers must be finite, but "
     "config['profiles']['quick']['time_limit_s'] = nan"),
    ("profiles:\n  quick:\n    method_overrides: {sa: {niter: -2}}\n",
     "sa option niter must be an integer >= 1, got -2"),
    ("studies:\n  flaherty_pam50:\n    method_options: {exact: {round_pairs: -3}}\n",
     "exact option round_pairs must be an integer >= 0, got -3"),
])
def test_config_values_the_schema_cannot_check_fail_before_any_job(tmp_path, project_root,
                                                                   extra_config, message):
    """NaN passes every JSON-schema bound; options merged from the profile are untyped there."""
    workdir = make_workdir(project_root, tmp_path)
    (workdir / "config/extra.yaml").write_text(extra_config)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile",
                           "config/config.yaml", "config/extra.yaml"], cwd=workdir,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (workdir / "data").exists() and not (workdir / "results").exists()


def test_fig1_built_with_its_numbers(built):
    fig1b = pd.read_csv(built / "figures/flaherty_fig1b.csv")
    assert set(fig1b["method"]) == {"minlp", "exact1d"}
    exact = fig1b[fig1b["method"] == "exact1d"].set_index("n")
    assert list(exact.index) == [6, 9, 150] and (exact["status"] == "optimal").all()
    assert exact.loc[150, "objective"] == pytest.approx(280.0197, abs=1e-3)
    minlp = fig1b[fig1b["method"] == "minlp"].set_index("n")
    # SCIP certifies n = 6 within 3 s; its optimum equals the DP's.
    if minlp.loc[6, "status"] == "optimal":
        assert minlp.loc[6, "objective"] == pytest.approx(exact.loc[6, "objective"], rel=1e-4)
    fig1a = pd.read_csv(built / "figures/flaherty_fig1a.csv")
    assert (fig1a["method"] == "minlp").all() and len(fig1a) >= 1
    assert fig1a["optimum"].iloc[0] == pytest.approx(exact.loc[9, "objective"])
    for name in ("flaherty_fig1a", "flaherty_fig1b"):
        png = built / f"figures/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (built / f"figures/{name}.sources.json").exists()


def test_em_restarts_figure_reproduces_the_papers_n45_values(built):
    frame = pd.read_csv(built / "figures/flaherty_em_restarts.csv")
    assert (built / "figures/flaherty_em_restarts.png").stat().st_size > 10_000
    n45 = frame[(frame["case"] == "n45") & (frame["kind"] == "best_so_far")]
    assert n45["restart"].max() == 50
    assert round(n45["value"].min(), 4) == 194.9582 == n45["published_em"].iloc[0]
    assert round(n45["optimum"].iloc[0], 4) == 194.9455
    assert (frame.groupby("case")["value"].min() >= frame.groupby("case")["optimum"].min()
            - 1e-9).all()
