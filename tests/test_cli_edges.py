"""Bad input at the command line: refused up front with one line, inputs never overwritten."""

from __future__ import annotations

import numpy as np
import pytest

from mixopt.cli import main


@pytest.fixture
def points(tmp_path):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0, 0.3, 10), rng.normal(3, 0.3, 10)])
    path = tmp_path / "points.csv"
    path.write_text("x\n" + "".join(f"{float(v)!r}\n" for v in y))
    return path


def _one_error_line(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"mixopt {command}: error: "), err
    return err


def _forbid_solving(monkeypatch) -> None:
    import mixopt.runner

    def no_solve(*args, **kwargs):
        raise AssertionError("the method ran although the command cannot succeed")

    monkeypatch.setattr(mixopt.runner, "run_method", no_solve)


# ------------------------------------------------------------------ item 3: output paths
@pytest.mark.parametrize("link", [False, True])
def test_cluster_refuses_to_overwrite_its_data(points, tmp_path, capsys, link):
    before = points.read_bytes()
    out = points
    if link:   # another name for the same file
        out = tmp_path / "alias.json"
        out.symlink_to(points)
    assert main(["cluster", "--data", str(points), "--k", "2", "--sigma", "0.3",
                 "--out", str(out)]) == 2
    assert "input" in _one_error_line(capsys, "cluster")
    assert points.read_bytes() == before


def test_cluster_refuses_to_overwrite_its_precision_file(points, tmp_path, capsys):
    prec = tmp_path / "prec.csv"
    prec.write_text("11.1\n")
    assert main(["cluster", "--data", str(points), "--k", "2", "--precision", str(prec),
                 "--out", str(prec)]) == 2
    assert "input" in _one_error_line(capsys, "cluster")
    assert prec.read_text() == "11.1\n"


def test_bclust_refuses_to_overwrite_its_start_labels(points, tmp_path, capsys):
    start = tmp_path / "start.txt"
    start.write_text("".join(f"{int(i >= 10)}\n" for i in range(20)))
    before = start.read_text()
    assert main(["bclust", "--data", str(points), "--k", "2", "--start-labels", str(start),
                 "--out", str(start)]) == 2
    assert "input" in _one_error_line(capsys, "bclust")
    assert start.read_text() == before


def test_unwritable_output_fails_before_the_solve(points, tmp_path, capsys, monkeypatch):
    _forbid_solving(monkeypatch)
    out = points / "run.json"   # below a file
    assert main(["cluster", "--data", str(points), "--k", "2", "--sigma", "0.3",
                 "--out", str(out)]) == 2
    assert "not a directory" in _one_error_line(capsys, "cluster")
    assert main(["cluster", "--data", str(points), "--k", "2", "--sigma", "0.3",
                 "--out", str(tmp_path)]) == 2
    assert "is a directory" in _one_error_line(capsys, "cluster")


def test_check_output_path_creates_nothing(tmp_path):
    from mixopt.io import check_output_path

    out = tmp_path / "new" / "deeper" / "run.json"
    check_output_path(out, [tmp_path / "points.csv"])
    assert list(tmp_path.iterdir()) == []
    hard = tmp_path / "hard.csv"
    (tmp_path / "data.csv").write_text("x\n1\n")
    hard.hardlink_to(tmp_path / "data.csv")
    with pytest.raises(ValueError, match="input"):
        check_output_path(hard, [tmp_path / "data.csv"])


# ------------------------------------------------------------------ item 7: one line, exit 2
@pytest.mark.parametrize("extra", [["--sigma", "1e-300"], ["--sigma", "1e200"],
                                   ["--sigma", "nan"], [], ["--sigma", "1", "--precision", "p"]])
def test_cluster_bad_covariance_is_one_line(points, tmp_path, capsys, monkeypatch, extra):
    _forbid_solving(monkeypatch)
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", *extra, "--out", str(out)]) == 2
    assert "sigma" in _one_error_line(capsys, "cluster")
    assert not out.exists()


def test_cluster_directory_as_data_is_one_line(tmp_path, capsys):
    assert main(["cluster", "--data", str(tmp_path), "--k", "2", "--sigma", "1",
                 "--out", str(tmp_path / "run.json")]) == 2
    assert "is a directory" in _one_error_line(capsys, "cluster")


@pytest.mark.parametrize("text", ["garbage", "[1, 2]", '{"cells": 5}',
                                  '{"artifact": "a", "profile": "p", "cells": {"x|y": 3}}',
                                  '{"artifact": "a", "profile": "p", "cells": []}'])
@pytest.mark.parametrize("cell", [[], ["--row", "x", "--col", "y"]])
def test_audit_garbage_sidecar_is_one_line(tmp_path, capsys, text, cell):
    table = tmp_path / "t.csv"
    table.write_text("a,b\n")
    (tmp_path / "t.sources.json").write_text(text)
    assert main(["audit", str(table), *cell]) == 2
    assert "sidecar" in _one_error_line(capsys, "audit")


def test_fetch_failed_download_is_one_line(tmp_path, capsys, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network here")

    monkeypatch.delenv("MIXOPT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert main(["fetch", "uci_iris", "--dest", str(tmp_path / "raw")]) == 2
    assert "could not download uci_iris" in _one_error_line(capsys, "fetch")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_fetch_unknown_key_is_one_line(tmp_path, capsys):
    assert main(["fetch", "no_such_file", "--dest", str(tmp_path)]) == 2
    assert "unknown raw file" in _one_error_line(capsys, "fetch")


# ------------------------------------------------------------------ item 9: CSV without header
def test_headerless_csv_is_refused_with_a_hint(points, tmp_path, capsys):
    bare = tmp_path / "bare.csv"
    bare.write_text("".join(points.read_text().splitlines(keepends=True)[1:]))
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(bare), "--k", "2", "--sigma", "0.3",
                 "--out", str(out)]) == 2
    assert "--no-header" in _one_error_line(capsys, "cluster")
    assert not out.exists()


def test_no_header_reads_every_line(points, tmp_path):
    from mixopt.records import read_record

    bare = tmp_path / "bare.csv"
    bare.write_text("".join(points.read_text().splitlines(keepends=True)[1:]))
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(bare), "--no-header", "--k", "2", "--sigma", "0.3",
                 "--out", str(out)]) == 0
    assert len(read_record(out)["assignment"]) == 20
    assert main(["bclust", "--data", str(bare), "--no-header", "--k", "2",
                 "--start-labels", str(_start_labels(tmp_path)), "--out", str(out)]) == 0
    assert len(read_record(out)["assignment"]) == 20


def _start_labels(tmp_path):
    path = tmp_path / "start.txt"
    path.write_text("".join(f"{int(i >= 10)}\n" for i in range(20)))
    return path


def test_read_points_csv_without_header(tmp_path):
    from mixopt.data.dataset import read_points_csv

    path = tmp_path / "bare.csv"
    path.write_text("1,2\n3,4\n5,x\n")
    with pytest.raises(ValueError, match="holds numbers"):
        read_points_csv(path)
    with pytest.raises(ValueError, match="'x2' at line 3"):   # the file's line numbers
        read_points_csv(path, has_header=False)
    path.write_text("1,2\n3,4\n")
    x, labels, names, _ = read_points_csv(path, has_header=False)
    assert x.tolist() == [[1, 2], [3, 4]] and labels is None and names == ["x1", "x2"]


# ------------------------------------------------------------------ item 10: small ones
@pytest.mark.parametrize(("text", "what"), [("nan\n", "nan"), ("inf\n", "inf"),
                                             ("1,nan\nnan,1\n", "nan")])
def test_non_finite_precision_is_named_before_the_solve(points, tmp_path, capsys, monkeypatch,
                                                        text, what):
    _forbid_solving(monkeypatch)
    if "," in text:   # a 2-d data set for the 2 x 2 matrix
        points.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(10)))
    prec = tmp_path / "prec.csv"
    prec.write_text(text)
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", "--precision", str(prec),
                 "--out", str(out)]) == 2
    err = _one_error_line(capsys, "cluster")
    assert "finite" in err and what in err and "symmetric" not in err
    assert not out.exists()


def test_mirror_errors_name_the_option(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MIXOPT_DATA_MIRROR", raising=False)
    assert main(["fetch", "uci_iris", "--dest", str(tmp_path / "raw"),
                 "--mirror", str(tmp_path / "nowhere")]) == 2
    err = _one_error_line(capsys, "fetch")
    assert "--mirror" in err and "config" not in err


def test_fetch_failure_advises_the_mirror_option(tmp_path, capsys, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network here")

    monkeypatch.delenv("MIXOPT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert main(["fetch", "uci_iris", "--dest", str(tmp_path / "raw")]) == 2
    err = _one_error_line(capsys, "fetch")
    assert "--mirror" in err and "config data.mirror" not in err


def test_overwriting_a_record_keeps_the_symlink(points, tmp_path):
    target = tmp_path / "records" / "run.json"
    target.parent.mkdir()
    target.write_text("{}\n")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    assert main(["cluster", "--data", str(points), "--k", "2", "--sigma", "0.3",
                 "--out", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert '"record_id"' in target.read_text()
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.json"]
