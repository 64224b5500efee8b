"""Thesis Chapter 1 pipeline: settings, simulated data, one-job records, tables and the workflow."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_utils import CONFIGS

from mixopt.data.dataset import read_dataset
from mixopt.methods.robust.bclust_objective import bclust_objective
from mixopt.records import read_record
from mixopt.report.fois_ch1 import scenario_rows, write_scenario_table, write_table1_5
from mixopt.report.fois_scenarios import plot_scenario
from mixopt.report.published import load_published
from mixopt.simulate.fois_ch1_data import write_simulated
from mixopt.studies.fois_ch1 import Ch1Spec, run_ch1_job
from mixopt.studies.fois_settings import SimSetting, all_settings, scenario_settings

SETTING = "k2_p2_r2-10_omega0.01"


def test_setting_names_round_trip() -> None:
    s = SimSetting(4, 8, 10.0, 0.01)
    assert s.name == "k4_p8_r2-10_omega0.01"
    assert SimSetting.from_name(s.name) == s
    assert SimSetting.from_name("k3_p2_r2-1.5_omega0.001") == SimSetting(3, 2, 1.5, 0.001)
    with pytest.raises(ValueError):
        SimSetting.from_name("k4_p8")
    with pytest.raises(ValueError, match="r2"):
        SimSetting(4, 8, 0.5, 0.01)


def test_scenarios_share_the_base_setting() -> None:
    base = {"k": 4, "p": 8, "r2": 10, "bar_omega": 0.01}
    scen = {"1": {"vary": "p", "values": [2, 8]}, "2": {"vary": "k", "values": [4, 6]}}
    assert [s.name for s in scenario_settings(base, "k", [4, 6])] == [
        "k4_p8_r2-10_omega0.01", "k6_p8_r2-10_omega0.01"]
    assert len(all_settings(base, scen)) == 3
    with pytest.raises(ValueError, match="varies"):
        scenario_settings(base, "n", [1])


def test_published_values_transcribed() -> None:
    pub = load_published("fois_ch1")
    assert pub["table1_1"]["rows"]["2"]["bclust"]["ari"] == [0.9512, 0.0277]
    assert pub["table1_4"]["rows"]["0.1"]["bclust"]["time_s"] == [215.312, 122.836]
    # the shared setting is the same data in every scenario table
    for t, key in (("table1_1", "8"), ("table1_2", "4"), ("table1_3", "10"), ("table1_4", "0.01")):
        assert pub[t]["rows"][key]["tclust"]["obj"] == [-3501.8552, 281.8193]
    assert pub["table1_5"]["rows"]["fois_iris"]["oracle"]["obj"] == "-653.8608"


@pytest.fixture(scope="module")
def ch1_records(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("ch1")
    records: dict[str, dict] = {}
    for seed in (1, 2):
        csv = tmp / f"seed{seed}.csv"
        write_simulated(SETTING, 40, seed, csv)
        for method in ("random", "tclust", "oracle", "bclust", "bclust_lik"):
            opts = {"nsamp": 10} if method == "tclust" else {}
            start = tmp / f"tclust{seed}.json" if method.startswith("bclust") else None
            out = tmp / f"{method}{seed}.json"
            run_ch1_job(Ch1Spec("fois_ch1", SETTING, method, seed, 10.0, opts), csv, out,
                        start_record=start)
            records[f"{method}{seed}"] = read_record(out)
    return records


def test_simulated_data_set(tmp_path: Path) -> None:
    ds = write_simulated("k3_p2_r2-4_omega0.05", 60, 7, tmp_path / "d.csv")
    back = read_dataset(tmp_path / "d.csv")
    np.testing.assert_array_equal(back.X, ds.X)
    sim = back.meta["simulation"]
    assert sim["bar_omega"] == pytest.approx(0.05, abs=1e-4)
    assert np.bincount(back.labels).min() >= 1 and back.n == 60
    again = write_simulated("k3_p2_r2-4_omega0.05", 60, 7, tmp_path / "e.csv")
    np.testing.assert_array_equal(again.X, ds.X)  # deterministic in the seed


def test_records_report_the_thesis_objective(ch1_records) -> None:
    oracle = ch1_records["oracle1"]
    assert oracle["status"] == "baseline" and oracle["metrics"]["ari"] == 1.0
    for rec in ch1_records.values():
        X = read_dataset(Path(rec["provenance"]["inputs"][0]["path"])).X
        labels = np.asarray(rec["assignment"])
        obj, _ = bclust_objective(X, labels, 2, math.sqrt(10.0))
        assert rec["objective"] == pytest.approx(obj, rel=1e-6)
        lik, _ = bclust_objective(X, labels, 2, math.sqrt(10.0), "likelihood")
        assert rec["metrics"]["obj_likelihood"] == pytest.approx(lik, rel=1e-9)


def test_bclust_records_start_from_the_tclust_record(ch1_records) -> None:
    tclust = ch1_records["tclust1"]
    for method in ("bclust", "bclust_lik"):
        rec = ch1_records[f"{method}1"]
        assert tclust["_path"] in [i["path"] for i in rec["provenance"]["inputs"]]
        assert rec["objective"] <= tclust["objective"] + 1e-6 * abs(tclust["objective"]) \
            or method == "bclust_lik"
        assert rec["extra"]["mode"] == ("thesis" if method == "bclust" else "likelihood")
    lik = ch1_records["bclust_lik1"]
    assert lik["metrics"]["obj_likelihood"] <= tclust["metrics"]["obj_likelihood"] + 1e-9


def test_bclust_with_an_unusable_start_gives_an_error_record(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    ds = write_simulated(SETTING, 30, 3, csv)
    run_ch1_job(Ch1Spec("fois_ch1", SETTING, "oracle", 3, 10.0), csv, tmp_path / "o.json")
    bad = read_record(tmp_path / "o.json")
    labels = np.zeros(ds.n, dtype=int)
    labels[0] = 1
    bad["assignment"] = labels.tolist()
    bad.pop("_path", None)
    (tmp_path / "t.json").write_text(json.dumps(bad))
    rec = run_ch1_job(Ch1Spec("fois_ch1", SETTING, "bclust", 3, 10.0), csv,
                      tmp_path / "b.json", start_record=tmp_path / "t.json")
    assert rec["status"] == "error" and rec["objective"] is None
    assert any(">= 2 points" in n for n in rec["notes"])


def test_scenario_table_and_figure(ch1_records, tmp_path: Path) -> None:
    base = {"k": 2, "p": 2, "r2": 10, "bar_omega": 0.01}
    recs = list(ch1_records.values())
    df = write_scenario_table(recs, base, "p", [2], "table1_1", tmp_path / "t.csv",
                              tmp_path / "t.md", "test")
    assert set(df["method"]) == {"random", "tclust", "bclust", "bclust_lik", "oracle"}
    row = df[df["method"] == "tclust"].iloc[0]
    objs = [ch1_records[f"tclust{s}"]["objective"] for s in (1, 2)]
    assert row["obj_mean"] == pytest.approx(np.mean(objs))
    assert row["obj_sd"] == pytest.approx(np.std(objs, ddof=1))
    assert row["thesis_obj_mean"] == -1006.0851  # Table 1.1, p = 2
    assert df[df["method"] == "oracle"]["obj_minus_oracle_mean"].iloc[0] == 0.0
    sources = json.loads((tmp_path / "t.sources.json").read_text())
    assert len(sources["cells"]["p=2|bclust"]["records"]) == 2
    md = (tmp_path / "t.md").read_text()
    assert "bclust (likelihood mode)" in md and "-1006.09" in md
    table, _ = scenario_rows(recs, base, "p", [2], "table1_1")
    data = plot_scenario(table, "p", "test", tmp_path / "f.png", tmp_path / "f.csv")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert set(pd.read_csv(tmp_path / "f.csv")["quantity"]) == {"obj", "ari", "obj_minus_oracle"}
    assert not data.empty


TEST_CONFIG = (CONFIGS / "fois_ch1_small.yaml").read_text()


@pytest.mark.workflow
def test_workflow_builds_chapter1_artifacts(tmp_path: Path, project_root: Path,
                                             mirror: Path, monkeypatch) -> None:
    from workflow_utils import make_workdir, snakemake

    from mixopt.audit import audit_all

    workdir = make_workdir(project_root, tmp_path / "wf")
    (workdir / "config/test.yaml").write_text(TEST_CONFIG)
    proc = snakemake(workdir, "fois_ch1", "--configfile", "config/config.yaml",
                     "config/test.yaml", mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]
    t11 = pd.read_csv(workdir / "tables/fois_table1_1.csv")
    assert set(t11["p"]) == {2} and (t11["n_runs"] == 2).all()
    t15 = pd.read_csv(workdir / "tables/fois_table1_5.csv")
    oracle = t15[t15["method"] == "oracle"].iloc[0]
    assert bool(oracle["obj_matches_print"])  # -653.8608
    assert bool(t15[t15["method"] == "random"].iloc[0]["obj_matches_print"])
    assert (workdir / "figures/fois_scenario1.png").exists()
    assert (workdir / "figures/fois_scenario1.csv").exists()
    rec = read_record(workdir / "results/quick/fois_ch1/fois_iris/bclust/seed42.json")
    assert rec["status"] == "local"
    monkeypatch.chdir(workdir)   # every cell of the tables and the figure follows from its records
    lines, bad = audit_all(["tables", "figures"])
    assert bad == 0 and len(lines) >= 3, "\n".join(lines)


def test_labels_with_an_infeasible_obj_are_recorded_as_infeasible(tmp_path, monkeypatch) -> None:
    """A method whose labels leave a cluster with < 2 points has no Obj: the record says
    'infeasible' instead of reporting a solution (status local) with a null objective."""
    import mixopt.studies.fois_ch1 as job

    csv = tmp_path / "d.csv"
    ds = write_simulated(SETTING, 30, 3, csv)
    labels = np.zeros(ds.n, dtype=np.int64)
    labels[0] = 1
    monkeypatch.setattr(job, "run_method", lambda spec, ds, k, start: job.MethodOutput(
        labels, 1.0, "local", 0.0, 0.0, {"name": "x", "version": "1"}))
    rec = run_ch1_job(Ch1Spec("fois_ch1", SETTING, "tclust", 3, 10.0), csv, tmp_path / "t.json")
    assert rec["status"] == "infeasible" and rec["objective"] is None
    assert read_record(tmp_path / "t.json")["status"] == "infeasible"


def test_chapter1_tables_audit_clean_and_an_edited_mean_is_caught(ch1_records, tmp_path) -> None:
    """Every cell's recipe (means over the records, the single run of Table 1.5) recomputes the
    value the table prints; an edited time mean is a MISMATCH naming the cell and column."""
    from mixopt.audit import audit_all

    base = {"k": 2, "p": 2, "r2": 10, "bar_omega": 0.01}
    write_scenario_table(list(ch1_records.values()), base, "p", [2], "table1_1",
                         tmp_path / "t.csv", tmp_path / "t.md", "test")
    write_table1_5([r for key, r in ch1_records.items() if key.endswith("1")], [SETTING],
                   {SETTING: {"n": 40, "p": 2, "k": 2}}, tmp_path / "r.csv", tmp_path / "r.md",
                   "test")
    lines, bad = audit_all([tmp_path])
    assert bad == 0 and len(lines) == 2, "\n".join(lines)
    df = pd.read_csv(tmp_path / "t.csv")
    df.loc[df["method"] == "tclust", "time_mean_s"] *= 2
    df.to_csv(tmp_path / "t.csv", index=False, float_format="%.6g")
    lines, bad = audit_all([tmp_path / "t.csv"])
    assert bad == 1 and "MISMATCH cell p=2|tclust [time_mean_s]" in "\n".join(lines)
