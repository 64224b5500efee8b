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


def test_cluster_requires_a_known_covariance(points, tmp_path):
    with pytest.raises(SystemExit, match="--sigma"):
        main(["cluster", "--data", str(points), "--k", "2", "--out", str(tmp_path / "r.json")])


def test_cluster_rejects_too_many_components(points, tmp_path, capsys):
    assert main(["cluster", "--data", str(points), "--k", "41", "--sigma", "1",
                 "--out", str(tmp_path / "r.json")]) == 2
    assert "exceeds the number of points" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
