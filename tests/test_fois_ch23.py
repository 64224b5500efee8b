"""Thesis Chapters 2-3 pipeline: regression settings, simulated data, records and figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_utils import CONFIGS

from mixopt.data.dataset import read_dataset
from mixopt.methods.regression.tclustreg import loglik_hat
from mixopt.records import read_record
from mixopt.report.fois_ch23 import write_figure
from mixopt.simulate.fois_ch23_data import regression_arrays, write_simulated_reg
from mixopt.studies.fois_ch23 import (
    Ch23Spec,
    parse_method_id,
    resolved_options,
    run_ch23_job,
    true_sigma_min,
)
from mixopt.studies.fois_settings import RegSetting

SETTING = "reg_k2_p2_n80_omega0.05"


def test_reg_setting_names() -> None:
    s = RegSetting(5, 10, 1000, 0.05)
    assert s.name == "reg_k5_p10_n1000_omega0.05"
    assert RegSetting.from_name(s.name) == s
    assert s.pi_low == pytest.approx(1 / 15)
    with pytest.raises(ValueError):
        RegSetting(5, 10, 20, 0.05)
    with pytest.raises(ValueError):
        RegSetting.from_name("k5_p10")


def test_method_ids() -> None:
    assert parse_method_id("tclustreg-ns3200") == ("tclustreg", 3200, None)
    assert parse_method_id("pclustreg2-nl100") == ("pclustreg2", None, 100)
    assert parse_method_id("oracle") == ("oracle", None, None)
    with pytest.raises(ValueError, match="unknown"):
        parse_method_id("kmeans")
    # Sec. 3.2.1: node limit = nsamp / (2k)
    assert resolved_options("pclustreg1-ns3200", 10, {})["node_limit"] == 160
    assert resolved_options("pclustreg1-nl500", 4, {"s": 0.9}) == {"s": 0.9, "node_limit": 500}
    assert resolved_options("tclustreg-ns300", 4, {})["nsamp"] == 300
    assert parse_method_id("pclustreg1-nl100-sigmatrue") == ("pclustreg1", None, 100)
    assert resolved_options("pclustreg1-nl100-sigmatrue", 5, {"sigma_min": 1.0}) == {
        "sigma_min": "true_min", "node_limit": 100}


def test_true_sigma_min(tmp_path: Path) -> None:
    ds = write_simulated_reg(SETTING, 4, tmp_path / "d.csv")
    assert true_sigma_min(ds.meta) == pytest.approx(np.sqrt(min(ds.meta["simulation"]["S"])))
    with pytest.raises(ValueError, match="simulated"):
        true_sigma_min({})
    rec = run_ch23_job(Ch23Spec("fois_ch23", SETTING, "pclustreg2-nl3-sigmatrue", 4, 2,
                                {"sigma_min": 1.0}), tmp_path / "d.csv", tmp_path / "r.json")
    assert rec["solver"]["options"]["sigma_min_resolved"] == pytest.approx(
        true_sigma_min(ds.meta))


def test_simulated_regression_data(tmp_path: Path) -> None:
    ds = write_simulated_reg(SETTING, 3, tmp_path / "d.csv")
    back = read_dataset(tmp_path / "d.csv")
    X, y = regression_arrays(back)
    assert X.shape == (80, 2) and np.all(X[:, 0] == 1.0)
    np.testing.assert_array_equal(y, ds.X[:, -1])
    assert back.meta["simulation"]["bar_omega"] == pytest.approx(0.05, abs=1e-4)


def test_girdles_regression_arrays(mirror: Path) -> None:
    from mixopt.data.preprocess import build_dataset, raw_keys_for
    from mixopt.data.sources import load_registry

    reg = load_registry()
    ds = build_dataset("girdles", {k: mirror / reg[k].mirror for k in raw_keys_for("girdles")})
    X, y = regression_arrays(ds)
    assert X.shape == (153, 2)  # intercept + quantity: p = 2 as in Sec. 3.3
    np.testing.assert_array_equal(y, ds.X[:, 1])


@pytest.fixture(scope="module")
def ch23_records(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("ch23")
    out: dict[str, dict] = {}
    for seed in (1, 2):
        csv = tmp / f"seed{seed}.csv"
        write_simulated_reg(SETTING, seed, csv)
        for method in ("oracle", "tclustreg-ns50", "pclustreg1-nl5", "pclustreg2-nl5"):
            path = tmp / f"{method}_{seed}.json"
            run_ch23_job(Ch23Spec("fois_ch23", SETTING, method, seed, 2,
                                  {"s": 0.999, "sigma_min": 0.01}), csv, path)
            out[f"{method}{seed}"] = read_record(path)
    return out


def test_records_report_log_lhat(ch23_records) -> None:
    for key, rec in ch23_records.items():
        ds = read_dataset(Path(rec["provenance"]["inputs"][0]["path"]))
        X, y = regression_arrays(ds)
        assert rec["objective"] == pytest.approx(loglik_hat(X, y, np.array(rec["assignment"]), 2))
        assert rec["metrics"]["ari"] is not None, key
    assert ch23_records["oracle1"]["metrics"]["ari"] == 1.0
    assert ch23_records["oracle1"]["status"] == "baseline"
    assert ch23_records["pclustreg1-nl51"]["status"] in ("node_limit", "probabilistic")
    assert ch23_records["pclustreg2-nl51"]["extra"]["variant"] == "F"
    assert ch23_records["tclustreg-ns501"]["solver"]["options"]["nsamp"] == 50


def test_figure_from_records(ch23_records, tmp_path: Path) -> None:
    recs = list(ch23_records.values())
    members = [{"path": r["_path"], "group": 2, "method": r["method"].split("-")[0]}
               for r in recs]
    stats = write_figure(recs, members, "loglik", ["pclustreg1", "pclustreg2", "tclustreg",
                                                   "oracle"], [2], "k", "test", "violin",
                         "fois_test", tmp_path / "f.png", tmp_path / "f.csv",
                         tmp_path / "t.csv", "test")
    assert set(stats["method"]) == {"pclustreg1", "pclustreg2", "tclustreg", "oracle"}
    assert (stats["n"] == 2).all()
    frame = pd.read_csv(tmp_path / "f.csv")
    assert len(frame) == 8 and frame.equals(pd.read_csv(tmp_path / "t.csv"))
    sources = json.loads((tmp_path / "f.sources.json").read_text())
    assert len(sources["cells"]["2|tclustreg"]["records"]) == 2
    assert (tmp_path / "f.png").stat().st_size > 5_000


TEST_CONFIG = (CONFIGS / "fois_ch23_small.yaml").read_text()


@pytest.mark.workflow
def test_workflow_builds_chapter23_figures(tmp_path: Path, project_root: Path,
                                           mirror: Path) -> None:
    from workflow_utils import make_workdir, snakemake

    workdir = make_workdir(project_root, tmp_path / "wf")
    (workdir / "config/test.yaml").write_text(TEST_CONFIG)
    proc = snakemake(workdir, "fois_ch23", "--configfile", "config/config.yaml",
                     "config/test.yaml", mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figs = ["fig2_1", "fig2_2"] + [f"fig3_{i}" for i in range(1, 14)]
    for fig in figs:
        assert (workdir / f"figures/fois_{fig}.png").stat().st_size > 5_000, fig
        assert (workdir / f"tables/fois_{fig}.csv").exists(), fig
    f21 = pd.read_csv(workdir / "tables/fois_fig2_1.csv")
    assert set(f21["method"]) == {"pclustreg1", "pclustreg1_sigmatrue", "tclustreg", "oracle"}
    assert (f21.groupby("method").size() == 2).all()
    girdles = pd.read_csv(workdir / "tables/fois_fig3_12.csv")
    assert set(girdles["method"]) == {"pclustreg1", "pclustreg2", "tclustreg"}
