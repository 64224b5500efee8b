"""Your own data sets: the sheet's checks, the runner on a user CSV, and the workflow end to end
on the tiny sheet tests/configs/own_data_small.tsv (the CSVs of tests/data)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from workflow_utils import CONFIGS, make_workdir, snakemake

from mixopt.audit import audit_all, audit_cell
from mixopt.records import read_record
from mixopt.runner import JobSpec, run_job
from mixopt.studies.own_data import SheetError, read_sheet

DATA = Path(__file__).resolve().parent / "data"
HEADER = "name\tpath\tcolumns\tlabel_column\tk\tcovariance\tmethods\n"
KNOWN = ["em", "miqp", "exact"]


def sheet(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    shutil.copy(DATA / "own_blobs.csv", tmp_path / "blobs.csv")
    shutil.copy(DATA / "own_three.csv", tmp_path / "three.csv")
    path = tmp_path / "datasets.tsv"
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


def test_sheet_rows_are_read_with_defaults(tmp_path) -> None:
    path = sheet(tmp_path, "# a comment", "blobs\tblobs.csv\tx1,x2\tspecies\t2\t0.6\tem,miqp",
                 "", "all\tthree.csv\t\t\t3\testimate\t")
    a, b = read_sheet(path, ["em", "exact"], KNOWN, base=tmp_path)
    assert (a.columns, a.label_column, a.k, a.methods) == (("x1", "x2"), "species", 2,
                                                           ("em", "miqp"))
    assert a.precision(3) == {"sigma": 0.6}
    assert b.columns is None and b.label_column is None and b.methods == ("em", "exact")
    assert b.precision(3) == {"estimate": "tied_gmm", "random_state": 3}


def test_sheet_example_of_the_docs_is_valid(tmp_path, project_root) -> None:
    docs = (project_root / "config/README.md").read_text()
    example = docs.split("## Your own data sets")[1].split("```text\n")[1].split("```")[0]
    (tmp_path / "data/own").mkdir(parents=True)
    shutil.copy(DATA / "own_blobs.csv", tmp_path / "data/own/blobs.csv")
    (tmp_path / "datasets.tsv").write_text(example)
    rows = read_sheet(tmp_path / "datasets.tsv", ["em", "miqp", "exact"], KNOWN, base=tmp_path)
    assert [(r.name, r.covariance, r.methods) for r in rows] == [
        ("blobs", "estimate", ("em", "miqp", "exact")), ("blobs_s05", 0.5, ("em", "miqp", "exact"))]


def test_shipped_sheet_is_empty(project_root) -> None:
    assert read_sheet(project_root / "config/datasets.tsv", ["em"], KNOWN,
                      base=project_root) == []


@pytest.mark.parametrize(("row", "column", "what"), [
    ("blobs\tmissing.csv\t\t\t2\t0.6\tem", "path", "no file missing.csv"),
    ("blobs\tblobs.csv\tx1,z9\t\t2\t0.6\tem", "columns", "unknown column(s) ['z9']"),
    ("blobs\tblobs.csv\t\tkind\t2\t0.6\tem", "label_column", "unknown column 'kind'"),
    ("blobs\tblobs.csv\t\t\t0\t0.6\tem", "k", "K must be an integer >= 1, got 0"),
    ("blobs\tblobs.csv\t\t\t2.5\t0.6\tem", "k", "K must be an integer >= 1, got '2.5'"),
    ("blobs\tblobs.csv\tx1,x2\t\t13\t0.6\tem", "k", "K = 13 exceeds the 12 points of blobs.csv"),
    ("blobs\tblobs.csv\t\tspecies\t2\t0.6\tem", "columns",
     "non-numeric column(s) ['note']: pick the feature columns in the sheet's columns column"),
    ("blobs\tblobs.csv\tx1,x2\t\t2\t-1\tem", "covariance", "sigma > 0 or 'estimate', got '-1'"),
    ("blobs\tblobs.csv\tx1,x2\t\t2\tfull\tem", "covariance", "got 'full'"),
    ("blobs\tblobs.csv\tx1,x2\t\t2\t0.6\tem,kmeans", "methods", "unknown method(s) ['kmeans']"),
])
def test_bad_row_is_one_line_naming_row_and_column(tmp_path, row, column, what) -> None:
    path = sheet(tmp_path, "ok\tblobs.csv\tx1,x2\t\t2\t0.6\t", row)
    with pytest.raises(SheetError) as err:
        read_sheet(path, ["em"], KNOWN, base=tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{path} line 3 (data set 'blobs'), column {column}: ")
    assert what in msg and "\n" not in msg


@pytest.mark.parametrize(("header", "row", "what"), [
    ("name\tpath\tk\tcovar\n", "a\tblobs.csv\t2\t1", "line 1: unknown column(s) ['covar']"),
    ("name\tpath\tk\n", "a\tblobs.csv\t2", "line 1: the header has no column(s) ['covariance']"),
    (HEADER, "a b\tthree.csv\t\t\t2\t1\t", "line 2, column name: 'a b' is not a name"),
    (HEADER, "a\tthree.csv\t\t\t2\t1\t\textra", "line 2: 8 tab-separated fields for 7"),
])
def test_bad_header_or_name_is_one_line(tmp_path, header, row, what) -> None:
    path = sheet(tmp_path, row, header=header)
    with pytest.raises(SheetError, match=None) as err:
        read_sheet(path, ["em"], KNOWN, base=tmp_path)
    assert what in str(err.value)


def test_duplicate_name_is_refused(tmp_path) -> None:
    path = sheet(tmp_path, "a\tthree.csv\t\t\t2\t1\t", "a\tthree.csv\t\t\t3\t1\t")
    with pytest.raises(SheetError, match=r"line 3 \(data set 'a'\), column name: the name is "
                                         "used by an earlier row"):
        read_sheet(path, ["em"], KNOWN, base=tmp_path)


def test_runner_reads_the_user_csv_with_columns_and_labels(tmp_path) -> None:
    spec = JobSpec(study="own_data", dataset="blobs", method="em", seed=0, k=2,
                   precision={"sigma": 0.6})
    rec = run_job(spec, DATA / "own_blobs.csv", tmp_path / "r.json",
                  points={"name": "blobs", "columns": ["x1", "x2"], "label_column": "species"})
    assert len(rec["assignment"]) == 12 and len(rec["params"]["mu"][0]) == 2
    assert rec["metrics"]["ari"] == pytest.approx(1.0)
    assert [i["path"] for i in rec["provenance"]["inputs"]] == [str(DATA / "own_blobs.csv")]


# ------------------------------------------------------------------------------- workflow
def own_workdir(project_root: Path, dest: Path) -> Path:
    workdir = make_workdir(project_root, dest)
    (workdir / "data/own").mkdir(parents=True)
    for name in ("own_blobs.csv", "own_three.csv"):
        shutil.copy(DATA / name, workdir / "data/own" / name)
    for name in ("own_data_small.tsv", "own_data_small.yaml"):
        shutil.copy(CONFIGS / name, workdir / "config" / name)
    return workdir


@pytest.fixture(scope="module")
def own_built(tmp_path_factory, project_root):
    workdir = own_workdir(project_root, tmp_path_factory.mktemp("own"))
    proc = snakemake(workdir, "own_data", "--configfile", "config/config.yaml",
                     "config/own_data_small.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


@pytest.mark.workflow
def test_workflow_runs_the_sheet(own_built, monkeypatch, capsys) -> None:
    results = own_built / "results/quick/own"
    expected = {("blobs", "em"), ("blobs", "miqp"), ("three", "em"), ("three", "exact")}
    found = {(p.parts[-3], p.parts[-2]) for p in results.glob("*/*/seed0.json")}
    assert found == expected
    rec = read_record(results / "three/exact/seed0.json")
    assert rec["params"]["settings"]["precision"] == {"estimate": "tied_gmm", "random_state": 0}
    assert rec["params"]["settings"]["options"]["time_limit_s"] == 5
    assert rec["notes"][0].startswith("precision estimated from the data")
    table = pd.read_csv(own_built / "tables/own_data.csv")
    assert len(table) == 4 and set(table["covariance"]) == {"sigma 0.6", "estimate"}
    blobs_em = table[(table["dataset"] == "blobs") & (table["method"] == "em")].iloc[0]
    assert (blobs_em["n"], blobs_em["d"], blobs_em["ari"]) == (12, 2, 1.0)
    assert "| three | exact |" in (own_built / "tables/own_data.md").read_text()
    for ds, m in expected:
        assert (own_built / f"figures/own_data/{ds}/{m}.png").stat().st_size > 0
    monkeypatch.chdir(own_built)
    assert not audit_cell("tables/own_data.csv", "blobs:seed0", "miqp")["mismatches"]
    lines, bad = audit_all(["tables", "figures"])
    assert bad == 0, lines
    log = (own_built / "logs/quick/own/three/exact/seed0.log").read_text()
    assert "INFO mixopt.methods.exact: " in log and "\r" not in log


@pytest.mark.workflow
def test_report_captions_the_table_and_figures(own_built) -> None:
    from test_report import report_data, text

    proc = snakemake(own_built, "--report", "own.html", "own_data", "--configfile",
                     "config/config.yaml", "config/own_data_small.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = report_data((own_built / "own.html").read_text(), "results")
    own = {p: r for p, r in results.items() if "own_data" in p}
    assert {"tables/own_data.csv", "tables/own_data.md", "figures/own_data/three/exact.png",
            "reports/tables/own_data.html"} <= set(own)
    for path, res in own.items():
        assert "system-message" not in res["caption"] and "quick" in text(res["caption"]), path
    assert text(own["figures/own_data/three/exact.png"]["caption"]).startswith(
        "Your data set three, method exact")


def test_bad_sheet_row_stops_the_workflow_before_any_job(tmp_path, project_root) -> None:
    workdir = own_workdir(project_root, tmp_path)
    bad = workdir / "config/own_data_small.tsv"
    bad.write_text(bad.read_text().replace("\t2\t0.6\t", "\t0\t0.6\t"))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile",
                           "config/config.yaml", "config/own_data_small.yaml"], cwd=workdir,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert ("config/own_data_small.tsv line 3 (data set 'blobs'), column k: K must be an "
            "integer >= 1, got 0") in proc.stdout + proc.stderr
    assert not (workdir / "results").exists()


def test_empty_sheet_adds_nothing(tmp_path, project_root) -> None:
    workdir = make_workdir(project_root, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "own_data"], cwd=workdir,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert "rule own_data:" in out   # the target alone: no run, table or figure job
    assert not any(f"rule {r}:" in out for r in ("own_data_run", "own_data_table",
                                                 "own_data_figure"))
