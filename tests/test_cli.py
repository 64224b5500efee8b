import numpy as np
import pytest

from mixopt.cli import main
from mixopt.records import read_record


@pytest.fixture
def points(tmp_path):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0, 0.3, 20), rng.normal(3, 0.3, 20)])
    lines = ["x,label"] + [f"{float(v)!r},{'a' if i < 20 else 'b'}" for i, v in enumerate(y)]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cluster_writes_a_valid_record(points, tmp_path):
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", "--method", "em",
                 "--sigma", "0.3", "--out", str(out)]) == 0
    rec = read_record(out)
    assert rec["study"] == "cli" and rec["metrics"]["accuracy"] == 1.0
    assert rec["provenance"]["inputs"][0]["path"] == str(points)


def test_cluster_with_precision_file(points, tmp_path):
    prec = tmp_path / "prec.csv"
    prec.write_text("11.1\n")
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", "--precision", str(prec),
                 "--out", str(out)]) == 0
    assert read_record(out)["params"]["precision"] == [[11.1]]


def test_cluster_requires_a_known_covariance(points, tmp_path, capsys):
    assert main(["cluster", "--data", str(points), "--k", "2",
                 "--out", str(tmp_path / "r.json")]) == 2
    assert "--sigma" in capsys.readouterr().err


def test_cluster_rejects_too_many_components(points, tmp_path, capsys):
    assert main(["cluster", "--data", str(points), "--k", "41", "--sigma", "1",
                 "--out", str(tmp_path / "r.json")]) == 2
    assert "exceeds the number of points" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_cluster_minlp_with_constraints_file(points, tmp_path):
    cons = tmp_path / "cons.yaml"
    cons.write_text("known_labels: {0: 1}\nmust_link: [[0, 8]]\n")
    out = tmp_path / "run.json"
    subset = tmp_path / "small.csv"
    subset.write_text("\n".join(points.read_text().splitlines()[:6] + points.read_text()
                                .splitlines()[-4:]) + "\n")
    assert main(["cluster", "--data", str(subset), "--k", "2", "--method", "minlp",
                 "--sigma", "0.5", "--constraints", str(cons), "--time-limit", "60",
                 "--options", '{"backend": "scip"}', "--out", str(out)]) == 0
    rec = read_record(out)
    assert rec["status"] == "optimal"
    assert rec["assignment"][0] == 1 and rec["assignment"][-1] == 1
    assert rec["params"]["settings"]["constraints"]["known_labels"] == [[0, 1]]


def test_cluster_contradictory_constraints_fail_before_solving(points, tmp_path, capsys):
    cons = tmp_path / "cons.yaml"
    cons.write_text("must_link: [[0, 1]]\ncannot_link: [[1, 0]]\n")
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", "--method", "minlp",
                 "--sigma", "0.5", "--constraints", str(cons), "--out", str(out)]) == 2
    assert "cannot_link" in capsys.readouterr().err
    assert not out.exists()


@pytest.fixture
def points2d(tmp_path):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (25, 2)), rng.normal(6, 1, (25, 2)) * [1, 2]])
    lines = ["x1,x2,label"] + [f"{float(a)!r},{float(b)!r},{'a' if i < 25 else 'b'}"
                               for i, (a, b) in enumerate(X)]
    path = tmp_path / "points2d.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("mode", ["likelihood", "thesis"])
def test_bclust_on_own_data(points2d, tmp_path, mode):
    out = tmp_path / "b.json"
    assert main(["bclust", "--data", str(points2d), "--k", "2", "--mode", mode, "--nsamp", "20",
                 "--out", str(out)]) == 0
    rec = read_record(out)
    assert rec["method"] == ("bclust_lik" if mode == "likelihood" else "bclust")
    assert rec["metrics"]["ari"] == 1.0 and rec["extra"]["start_from"].startswith("tclust")


def test_bclust_from_start_labels_and_bad_start(points2d, tmp_path, capsys):
    start = tmp_path / "start.txt"
    start.write_text("\n".join(["0"] * 49 + ["1"]) + "\n")
    out = tmp_path / "b.json"
    assert main(["bclust", "--data", str(points2d), "--k", "2", "--start-labels", str(start),
                 "--out", str(out)]) == 0
    rec = read_record(out)
    assert rec["status"] == "error" and ">= 2 points" in rec["notes"][0]
    start.write_text("\n".join(["0"] * 25 + ["1"] * 25) + "\n")
    assert main(["bclust", "--data", str(points2d), "--k", "2", "--start-labels", str(start),
                 "--out", str(out)]) == 0
    assert read_record(out)["provenance"]["inputs"][1]["path"] == str(start)


def test_cluster_exact_certifies_with_constraints(points, tmp_path):
    cons = tmp_path / "cons.yaml"
    cons.write_text("known_labels: {0: 1}\nmust_link: [[0, 8]]\n")
    subset = tmp_path / "small.csv"
    subset.write_text("\n".join(points.read_text().splitlines()[:6] + points.read_text()
                                .splitlines()[-4:]) + "\n")
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(subset), "--k", "2", "--method", "exact",
                 "--sigma", "0.5", "--constraints", str(cons), "--time-limit", "60",
                 "--out", str(out)]) == 0
    rec = read_record(out)
    assert rec["status"] == "optimal" and rec["gap"] <= 1e-4
    assert rec["assignment"][0] == 1 and rec["assignment"][8] == 1
    assert rec["solver"]["name"].startswith("mixopt-exact")
