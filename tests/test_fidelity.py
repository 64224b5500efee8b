"""reports/fidelity: one row per published number, ours beside it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mixopt.report.fidelity import fidelity_rows, write_fidelity


def test_rows_from_table_csvs(tmp_path: Path) -> None:
    t2 = tmp_path / "t2.csv"
    pd.DataFrame({"dataset": ["iris1d", "iris1d"], "metric": ["neg_log_map", "lbd"],
                  "em": [280.61, None], "em_paper": [280.60, None],
                  "minlp": [280.02, 9.0], "minlp_paper": [280.02, 9.27]}).to_csv(t2, index=False)
    t15 = tmp_path / "t15.csv"
    pd.DataFrame({"dataset": ["fois_iris"], "method": ["oracle"], "obj": [-653.86084],
                  "thesis_obj": ["-653.8608"], "ari": [1.0], "thesis_ari": [1.0],
                  "time_s": [None], "thesis_time_s": [None]}).to_csv(t15, index=False)
    df = fidelity_rows({"flaherty_table2": t2, "fois_table1_5": t15})
    assert len(df) == 5  # em neg_log_map, minlp x2, oracle Obj and ARI (no published em lbd/time)
    row = df[(df["item"] == "iris1d em") & (df["quantity"] == "neg_log_map")].iloc[0]
    assert row["difference"] == pytest.approx(0.01)
    assert row["relative_difference"] == pytest.approx(0.01 / 280.60)
    obj = df[df["quantity"] == "Obj"].iloc[0]
    assert obj["published"] == -653.8608
    md = tmp_path / "f.md"
    write_fidelity({"flaherty_table2": t2}, md, tmp_path / "f.csv", "quick")
    text = md.read_text()
    assert "## flaherty_table2" in text and "3 numbers, 2 within 1 %" in text
    with pytest.raises(KeyError, match="no fidelity extractor"):
        fidelity_rows({"nonsense": t2})


def test_simulation_tables_carry_z_scores_and_runs(tmp_path: Path) -> None:
    """Thesis Tables 1.1-1.4: the Obj and ARI rows carry the table's z-scores and our number of
    data sets; the time row has none; the Markdown gains z and runs columns and counts |z| <= 3
    only there (Table 2 keeps its six columns)."""
    t11 = tmp_path / "t11.csv"
    pd.DataFrame({"p": [2, 2], "method": ["tclust", "bclust"], "n_runs": [100, 100],
                  "obj_mean": [-1000.0, -1010.0], "thesis_obj_mean": [-1006.0, -1006.0],
                  "ari_mean": [0.95, 0.90], "thesis_ari_mean": [0.952, 0.951],
                  "time_mean_s": [2.0, 1.0], "thesis_time_mean_s": [1.1, 36.5],
                  "z_obj": [0.16, -0.11], "z_ari": [-0.55, -13.0]}).to_csv(t11, index=False)
    t2 = tmp_path / "t2.csv"
    pd.DataFrame({"dataset": ["iris1d"], "metric": ["neg_log_map"], "em": [280.61],
                  "em_paper": [280.60]}).to_csv(t2, index=False)
    df = fidelity_rows({"fois_table1_1": t11, "flaherty_table2": t2})
    ari = df[(df["item"] == "p = 2 bclust") & (df["quantity"] == "ARI mean")].iloc[0]
    assert ari["z"] == pytest.approx(-13.0) and ari["runs"] == 100
    time_row = df[(df["item"] == "p = 2 tclust") & (df["quantity"] == "t(s) mean")].iloc[0]
    assert pd.isna(time_row["z"]) and time_row["runs"] == 100
    assert df[df["artifact"] == "flaherty_table2"]["z"].isna().all()
    md = tmp_path / "f.md"
    write_fidelity({"fois_table1_1": t11, "flaherty_table2": t2}, md, tmp_path / "f.csv", "paper")
    text = md.read_text()
    t11_part, t2_part = text.split("## flaherty_table2")
    assert "4 means have a z-score" in t11_part and "over 100 data sets" in t11_part
    assert "3 with |z| <= 3" in t11_part
    assert "| p = 2 bclust | ARI mean | 0.9 | 0.951 |" in t11_part
    assert "| -13.00 | 100 |" in t11_part
    assert "| relative | z | runs |" in t11_part and "| z |" not in t2_part
