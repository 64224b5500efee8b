"""The audit recomputes every cell from its records; it notices an edited record, table, sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mixopt.audit import audit_all, audit_cell
from mixopt.cli import main
from mixopt.data.dataset import Dataset
from mixopt.provenance import sha256_file
from mixopt.records import read_record
from mixopt.report.bandi import write_bandi_table
from mixopt.report.flaherty_pam50 import agreement_table, gap_table, table3, write_table
from mixopt.report.table2 import write_table2
from mixopt.runner import JobSpec, run_on_dataset

TABLE = "tables/toy_table2.csv"
CELL = ["--row", "toy:neg_log_map", "--col", "em"]


@pytest.fixture
def built(tmp_path, monkeypatch):
    """Records of EM (two seeds) and exact1d on a 1-d toy data set, and tables built from them,
    in ``tmp_path`` (the working directory: record paths are relative, as in the workflow)."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 0.4, 15), rng.normal(2, 0.4, 15)])[:, None]
    ds = Dataset(name="toy", X=x, labels=np.repeat([0, 1], 15), feature_names=["x"],
                 label_names=["a", "b"], meta={})
    paths = []
    for method, seed in (("em", 0), ("em", 1), ("exact1d", 0)):
        path = f"results/test/flaherty_table2/toy/{method}/seed{seed}.json"
        spec = JobSpec("flaherty_table2", "toy", method, seed, 2, {"sigma": 0.4})
        run_on_dataset(spec, ds, [], path)
        paths.append(path)
    records = [read_record(p) for p in paths]
    write_table2(records, ["toy"], ["em", "exact1d"], TABLE, "tables/toy_table2.md", "test")
    write_bandi_table(records, ["toy"], ["em", "exact1d"], "tables/toy_bandi.csv",
                      "tables/toy_bandi.md", "test")
    runs = {"pam": records[0], "miqp": records[2], "minlp": records[1]}
    truth = np.repeat([0, 1], 15)
    truth[::4] = -1
    for name, (table, cells) in {"toy_agreement": agreement_table(runs, truth),
                                 "toy_gap": gap_table(runs),
                                 "toy_table3": table3(runs, truth, [f"s{i}" for i in range(30)])
                                 }.items():
        write_table(table, f"tables/{name}.csv", f"tables/{name}.md", "", name, "test", cells)
    return tmp_path


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr().out
    return code, out


def test_fresh_tables_audit_clean(built, capsys):
    lines, bad = audit_all(["tables"])
    assert bad == 0, "\n".join(lines)
    assert len(lines) == 5 and all(line.endswith("cells, ok") for line in lines)
    code, out = run(["audit", TABLE, *CELL], capsys)
    assert code == 0 and out.rstrip().endswith("audit: OK")
    assert "= selected objective of the records" in out and "column em" in out
    lock = Path(__file__).resolve().parents[1] / "requirements" / "lock.txt"
    assert f"environment lock sha256 {sha256_file(lock)}" in out   # the run's environment
    cell = audit_cell(TABLE, "toy:lbd", "exact1d")
    assert cell["mismatches"] == [] and cell["value"] == cell["loaded"][0]["lower_bound"]
    assert run(["audit", "--all"], capsys)[0] == 0


def _edit_json(path: str | Path, edit) -> None:
    data = json.loads(Path(path).read_text())
    edit(data)
    Path(path).write_text(json.dumps(data, indent=2))


def test_an_edited_record_objective_is_a_mismatch(built, capsys):
    selected = audit_cell(TABLE, "toy:neg_log_map", "em")["selected"]
    _edit_json(selected, lambda r: r.update(objective=r["objective"] - 5.0))
    code, out = run(["audit", TABLE, *CELL], capsys)
    assert code == 1 and "audit: FAILED" in out
    assert (f"MISMATCH cell toy:neg_log_map|em: record {selected} differs from the one the "
            "artifact was built from") in out
    assert "MISMATCH cell toy:neg_log_map|em: the records give" in out
    code, out = run(["audit", "--all", "tables"], capsys)
    assert code == 1 and f"record {selected} differs" in out and "toy_bandi.sources.json" in out


def test_an_edited_unselected_record_is_caught_by_its_hash(built, capsys):
    cell = audit_cell(TABLE, "toy:neg_log_map", "em")
    other = next(p for p in cell["records"] if p != cell["selected"])
    _edit_json(other, lambda r: r.update(objective=r["objective"] + 1.0))
    code, out = run(["audit", TABLE, *CELL], capsys)
    assert code == 1 and f"record {other} differs" in out
    assert "the records give" not in out   # the selection (and so the value) is unchanged


def test_a_record_made_invalid_is_a_mismatch(built, capsys):
    path = audit_cell(TABLE, "toy:neg_log_map", "exact1d")["selected"]
    _edit_json(path, lambda r: r.update(objective=None))
    code, out = run(["audit", TABLE, "--row", "toy:neg_log_map", "--col", "exact1d"], capsys)
    assert code == 1 and f"record {path} cannot be read" in out


def test_an_edited_table_cell_is_a_mismatch(built, capsys):
    lines = Path(TABLE).read_text().splitlines()
    header = lines[0].split(",")
    i = next(k for k, line in enumerate(lines) if line.startswith("toy,neg_log_map,"))
    row = lines[i].split(",")
    printed = row[header.index("em")]
    row[header.index("em")] = f"{float(printed) - 1:.10g}"
    lines[i] = ",".join(row)
    Path(TABLE).write_text("\n".join(lines) + "\n")
    code, out = run(["audit", TABLE, *CELL], capsys)
    assert code == 1
    assert (f"MISMATCH cell toy:neg_log_map|em: {TABLE} column 'em' shows "
            f"'{row[header.index('em')]}'") in out
    assert "record" not in out.split("checks")[1].split("MISMATCH")[1]   # the records agree
    assert run(["audit", TABLE, "--row", "toy:lbd", "--col", "em"], capsys)[0] == 0


def test_an_edited_sidecar_value_is_a_mismatch(built, capsys):
    sidecar = "tables/toy_table2.sources.json"
    _edit_json(sidecar, lambda s: s["cells"]["toy:neg_log_map|em"].update(value=1.0))
    code, out = run(["audit", TABLE, *CELL], capsys)
    assert code == 1
    assert "the records give" in out and "but the sidecar says 1.0" in out
    assert "column 'em' shows" in out


def test_an_edited_bandi_cell_and_pam50_table3_cell(built, capsys):
    text = Path("tables/toy_bandi.csv").read_text()
    rows = text.splitlines()
    cells = rows[1].split(",")
    cells[2] = "99.0000"   # accuracy_pct of the first row
    Path("tables/toy_bandi.csv").write_text("\n".join([rows[0], ",".join(cells), *rows[2:]])
                                            + "\n")
    t3 = Path("tables/toy_table3.csv").read_text().splitlines()
    assert len(t3) > 1, "the toy runs should disagree on some samples"
    header = t3[0].split(",")
    first = t3[1].split(",")
    col = header.index("pam")
    first[col] = "Basal" if first[col] != "Basal" else "Her2"
    Path("tables/toy_table3.csv").write_text("\n".join([t3[0], ",".join(first), *t3[2:]]) + "\n")
    lines, bad = audit_all(["tables"])
    report = "\n".join(lines)
    assert bad == 2, report
    assert "toy_bandi.csv column 'accuracy_pct' shows '99.0000'" in report
    assert f"toy_table3.csv column 'pam' shows '{first[col]}'" in report


def test_a_sidecar_without_hashes_or_unreadable_fails(built, capsys):
    _edit_json("tables/toy_gap.sources.json", lambda s: s.pop("record_stable_sha256"))
    Path("tables/broken.sources.json").write_text("{not json")
    code, out = run(["audit", "--all"], capsys)
    assert code == 1
    assert "MISMATCH tables/toy_gap.sources.json: holds no record hashes" in out
    assert "MISMATCH tables/broken.sources.json: not a readable sidecar" in out


def test_audit_all_without_sidecars_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["audit", "--all"]) == 2
    assert "no *.sources.json sidecar under tables, figures" in capsys.readouterr().err
