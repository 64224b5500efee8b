"""MSSC benchmark: the instance files and their loader, the MSSC numbers of a record, the table
built from records and traced by the audit."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixopt.audit import audit_all, audit_cell
from mixopt.cli import main as mixopt_main
from mixopt.data import Dataset, build_dataset, load_registry, verify, write_dataset
from mixopt.data.mssc import MSSC_FILES, read_mssc
from mixopt.objectives import map_objective, mssc_value, profile_parameters
from mixopt.records import read_record
from mixopt.report.mssc_benchmark import write_mssc_table
from mixopt.runner import JobSpec
from mixopt.studies import mssc_benchmark as mssc

# --------------------------------------------------------------------------------- files


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inst.txt"
    path.write_text(text)
    return path


def test_loader_reads_a_good_file(tmp_path):
    X = read_mssc(write(tmp_path, "3 2\n1 2\n3.5 -4e1\n\n0 0\n"))
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -40], [0, 0]])
    assert X.dtype == np.float64


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file"),
    ("3\n1 2\n", "line 1: expected 'n d'"),
    ("3 x\n1 2\n", "line 1: expected 'n d'"),
    ("0 2\n", "n and d must be positive"),
    ("2 2\n1 2\n3\n", "line 3 has 1 values, expected d = 2"),
    ("2 2\n1 2\n3 abc\n", "line 3: non-numeric value"),
    ("2 2\n1 2\n3 nan\n", "line 3: non-finite value"),
    ("3 2\n1 2\n3 4\n", "2 data rows, the first line says n = 3"),
    ("1 2\n1 2\n3 4\n", "2 data rows, the first line says n = 1"),
])
def test_loader_rejects_a_malformed_file_in_one_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        read_mssc(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_loader_rejects_binary_bytes(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not a text file"):
        read_mssc(path)


def test_every_benchmark_file_is_registered_pinned_and_verified(mirror):
    registry = load_registry()
    for name in MSSC_FILES:
        entry = registry[f"mssc_{name}"]
        assert entry.url.startswith("https://raw.githubusercontent.com/antoniosudoso/sos-sdp/")
        assert re.search(r"/[0-9a-f]{40}/", entry.url), entry.url   # pinned to a commit
        assert entry.mirror == f"mssc_benchmark/{name}.txt" and entry.file == f"{name}.txt"
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        verify(mirror / entry.mirror, entry)


@pytest.mark.parametrize("name", MSSC_FILES)
def test_processed_instance_has_the_header_shape(mirror, name):
    path = mirror / f"mssc_benchmark/{name}.txt"
    n, d = map(int, path.read_text().split("\n", 1)[0].split())
    ds = build_dataset(f"mssc_{name}", {f"mssc_{name}": path})
    assert (ds.n, ds.d) == (n, d) and ds.labels is None
    assert ds.meta["sources"][0]["key"] == f"mssc_{name}"


def test_configured_instances_name_processed_sets(project_root):
    import yaml

    cfg = yaml.safe_load((project_root / "config/config.yaml").read_text())
    insts = mssc.instances(cfg["studies"]["mssc_benchmark"])
    assert {i.dataset for i in insts.values()} <= {f"mssc_{n}" for n in MSSC_FILES}
    assert insts["glass_k6"].k == 6 and len(insts) == 12
    only = mssc.instances({**cfg["studies"]["mssc_benchmark"], "selected": ["iris_k3"]})
    assert list(only) == ["iris_k3"]
    with pytest.raises(ValueError, match=r"selected instances \['nope'\] are not defined"):
        mssc.instances({**cfg["studies"]["mssc_benchmark"], "selected": ["nope"]})


# --------------------------------------------------------------------------------- MSSC numbers


def test_sse_is_twice_the_equal_proportions_objective_less_n_log_k():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    labels = np.arange(30) % 4
    value = mssc.sse(X, labels)
    mu, _ = profile_parameters(X, labels, 4)
    hand = sum(float(((X[i] - mu[labels[i]]) ** 2).sum()) for i in range(30))
    assert value == pytest.approx(hand, rel=1e-12)
    objective = map_objective(X, labels, mu, np.full(4, 0.25), np.eye(3))
    assert 2 * (objective - 30 * math.log(4)) == pytest.approx(value, rel=1e-12)
    assert mssc_value(objective, 30, 4) == pytest.approx(value, rel=1e-12)


def test_instance_spec_is_the_mssc_model():
    base = {"study": "x", "options": {"rel_gap": 1e-4, "time_limit_s": 1.0, "threads": 9}}
    spec = mssc.instance_spec(base, mssc.Instance("iris_k3", "mssc_iris", 3), 20, 2,
                              {"cuts": "none"})
    assert spec["proportions"] == "equal" and spec["precision"] == {"sigma": 1.0}
    assert spec["options"] == {"rel_gap": 1e-4, "cuts": "none", "time_limit_s": 20,
                               "threads": 2}
    assert (spec["study"], spec["dataset"], spec["method"], spec["k"]) == (
        "mssc_benchmark", "iris_k3", "exact", 3)


def test_run_instance_refuses_another_model(tmp_path):
    spec = JobSpec("mssc_benchmark", "t_k2", "exact", 0, 2, {"sigma": 1.0})   # free proportions
    with pytest.raises(ValueError, match="needs proportions 'equal'"):
        mssc.run_instance(spec, tmp_path / "none.csv", tmp_path / "out.json")


# --------------------------------------------------------------------------------- table


def three_groups() -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return np.concatenate([c + rng.normal(0, 0.5, (5, 2)) for c in centres])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two records of the MSSC model on a toy data set (K = 3 and K = 2) and the table built
    from them, in a temporary working directory (record paths are relative to it)."""

    tmp_path = tmp_path_factory.mktemp("mssc")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        return tmp_path, *_build()


def _build() -> tuple[np.ndarray, list[dict]]:
    X = three_groups()
    csv = Path("data/processed/mssc_toy.csv")
    csv.parent.mkdir(parents=True)
    write_dataset(Dataset("mssc_toy", X, None, ["x1", "x2"], [], {}), csv)
    paths = []
    for name, k in (("toy_k3", 3), ("toy_k2", 2)):
        spec = mssc.instance_spec({"options": {"em_starts": 2}},
                                  mssc.Instance(name, "mssc_toy", k), 30.0, 1)
        path = f"results/test/mssc_benchmark/{name}/exact/seed0.json"
        mssc.run_instance(JobSpec(**spec), csv, path)
        paths.append(path)
    records = [read_record(p) for p in paths]
    write_mssc_table(records, ["toy_k3", "toy_k2", "glass_k6"], "tables/mssc_benchmark.csv",
                     "tables/mssc_benchmark.md", "test")
    return X, records


def test_record_holds_the_mssc_numbers(built):
    _, X, records = built
    rec = records[0]
    m = rec["metrics"]
    assert rec["status"] == "optimal" and rec["params"]["model"]["proportions"] == "equal"
    labels = np.asarray(rec["assignment"])
    assert m["mssc"] == pytest.approx(mssc.sse(X, labels), rel=1e-9)
    assert m["mssc"] == pytest.approx(2 * (rec["objective"] - 15 * math.log(3)), rel=1e-9)
    assert m["mssc_lower_bound"] <= m["mssc"] * (1 + 1e-9)
    assert m["mssc_gap"] == pytest.approx((m["mssc"] - m["mssc_lower_bound"]) / m["mssc"])
    assert rec["extra"]["instance"] == {"dataset": "mssc_toy", "n": 15, "d": 2, "k": 3}
    assert len(np.unique(labels)) == 3


def test_table_is_built_from_the_records(built):
    tmp, _, records = built
    table = pd.read_csv(tmp / "tables/mssc_benchmark.csv", keep_default_na=False,
                        na_values=[""]).set_index("instance")
    assert list(table.index) == ["toy_k3", "toy_k2", "glass_k6"]
    assert table.loc["toy_k3", "mssc"] == pytest.approx(records[0]["metrics"]["mssc"])
    assert table.loc["toy_k2", "k"] == 2 and table.loc["toy_k3", "n"] == 15
    assert table.loc["glass_k6", "status"] == "not yet run"
    # SOS-SDP's published glass run sits beside ours; other instances: none
    assert table.loc["glass_k6", "sos_sdp_mssc"] == 72.9647
    assert table.loc["glass_k6", "sos_sdp_threads"] == 16
    assert np.isnan(table.loc["toy_k3", "sos_sdp_mssc"])
    md = (tmp / "tables/mssc_benchmark.md").read_text()
    assert "72.9647 (16 threads, 199 s, 5 nodes, root gap 0.00044)" in md
    assert md.count("not published") == 2 and "INFORMS Journal on Computing" in md


def test_audit_traces_every_cell(built, capsys, monkeypatch):
    tmp, _, records = built
    monkeypatch.chdir(tmp)
    cell = audit_cell("tables/mssc_benchmark.csv", "toy_k3", "mssc")
    assert cell["records"] == ["results/test/mssc_benchmark/toy_k3/exact/seed0.json"]
    assert cell["value"] == pytest.approx(records[0]["metrics"]["mssc"])
    assert not cell["mismatches"]
    lines, bad = audit_all(["tables"])
    assert bad == 0, lines
    assert mixopt_main(["audit", "tables/mssc_benchmark.csv", "--row", "toy_k2", "--col",
                        "gap"]) == 0
    assert "audit: OK" in capsys.readouterr().out


def test_audit_notices_an_edited_record(built, tmp_path, monkeypatch):
    shutil.copytree(built[0], tmp_path / "copy")
    monkeypatch.chdir(tmp_path / "copy")
    path = Path("results/test/mssc_benchmark/toy_k2/exact/seed0.json")
    rec = json.loads(path.read_text())
    rec["metrics"]["mssc"] *= 0.5
    path.write_text(json.dumps(rec))
    lines, bad = audit_all(["tables"])
    assert bad >= 1 and any("toy_k2" in line and "MISMATCH" in line for line in lines)


def test_runner_mssc_metrics_leave_out_a_bound_that_is_not_finite():
    from mixopt.methods.base import MethodResult
    from mixopt.problem import MAPProblem
    from mixopt.runner import mssc_metrics

    problem = MAPProblem(np.zeros((10, 2)), 2, np.eye(2), proportions="equal")
    constant = 10 * math.log(2)

    def result(lower: float) -> MethodResult:
        return MethodResult(labels=np.zeros(10, dtype=np.int64), objective=constant + 5.0,
                            status="time_limit", lower_bound=lower, mu=np.zeros((2, 2)),
                            pi=np.full(2, 0.5))

    assert mssc_metrics(problem, result(float("-inf"))) == {
        "mssc": pytest.approx(10.0), "mssc_lower_bound": None, "mssc_gap": None}
    m = mssc_metrics(problem, result(constant + 4.0))
    assert m["mssc_lower_bound"] == pytest.approx(8.0) and m["mssc_gap"] == pytest.approx(0.2)
