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
