import numpy as np
import pytest

from mixopt.cli import main
from mixopt.records import read_record


def exit_code(argv):
    """The exit code of ``mixopt argv`` (argparse errors raise SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


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
                 "--out", str(out)]) == 2
    assert ">= 2 points" in capsys.readouterr().err and not out.exists()
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


def test_cluster_refuses_data_that_overflow_up_front(tmp_path, capsys):
    data = tmp_path / "huge.csv"
    rng = np.random.default_rng(0)
    data.write_text("a,b\n" + "".join(f"{float(a)!r},{float(b)!r}\n"
                                      for a, b in rng.normal(size=(20, 2)) * 1e299))
    for method in ("em", "slsqp"):
        out = tmp_path / f"{method}.json"
        assert main(["cluster", "--data", str(data), "--k", "2", "--sigma", "1", "--method",
                     method, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mixopt cluster: error: ") and "too large" in err
        assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_a_run_without_a_finite_objective_is_an_error(points, tmp_path, monkeypatch, capsys):
    """A method that returns a solution whose objective is NaN (an overflow inside the method)
    gives a record with status error and the reason, and a non-zero exit."""
    import mixopt.runner
    from mixopt.methods.base import MethodResult

    def overflowing(name, problem, seed, **options):
        return MethodResult(labels=np.zeros(problem.n, dtype=np.int64),
                            mu=np.full((problem.k, problem.d), np.nan),
                            pi=np.full(problem.k, 1 / problem.k), objective=float("nan"),
                            status="local")

    monkeypatch.setattr(mixopt.runner, "run_method", overflowing)
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", "--sigma", "0.3",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mixopt cluster: error: the objective at the returned solution is not "
                          "finite") and len(err.strip().splitlines()) == 1
    rec = read_record(out)
    assert rec["status"] == "error" and rec["objective"] is None and "not finite" in rec["error"]
    assert main(["validate", str(out)]) == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--options", '{"nonsense": 1}'],
     "unknown option 'nonsense' for method em; valid options: kmeans_n_init, kmeans_space, "
     "max_iter, tol"),
    (["--options", '{"max_iter": -1}'], "em option max_iter must be an integer >= 1, got -1"),
    (["--options", "[1]"], "--options must be a JSON object"),
    (["--method", "minlp", "--time-limit", "nan"],
     "--time-limit must be a finite number > 0, got nan"),
    (["--method", "exact", "--time-limit", "-1"], "--time-limit must be a finite number > 0"),
    (["--method", "minlp", "--options", '{"time_limit_s": "inf"}'], "time_limit_s must be"),
])
def test_cluster_refuses_bad_options_in_one_line(points, tmp_path, capsys, args, message):
    out = tmp_path / "run.json"
    assert main(["cluster", "--data", str(points), "--k", "2", "--sigma", "0.3", *args,
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mixopt cluster: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--candidates", "-3"], "--candidates must be an integer >= 0, got -3"),
    (["--time-limit", "-1"], "--time-limit must be a finite number > 0, got -1.0"),
    (["--time-limit", "nan"], "--time-limit must be a finite number > 0, got nan"),
    (["--nsamp", "0"], "--nsamp must be an integer >= 1"),
    (["--r2", "0.5"], "--r2 must be a finite number >= 1"),
    (["--k", "1"], "--k must be >= 2"),
    (["--start-labels", "SHORT"], "3 labels for 50 points"),
    (["--start-labels", "RANGE"], "labels must lie in 0..1"),
    (["--seed", "-1"], "argument --seed: must be an integer >= 0"),
])
def test_bclust_refuses_bad_arguments_up_front(points2d, tmp_path, capsys, args, message):
    """Exit 2 with one line, before tclust or bclust runs, and no record."""
    (tmp_path / "SHORT").write_text("0\n1\n0\n")
    (tmp_path / "RANGE").write_text("0\n2\n" * 25)
    args = [str(tmp_path / a) if a in ("SHORT", "RANGE") else a for a in args]
    out = tmp_path / "b.json"
    assert exit_code(["bclust", "--data", str(points2d), "--k", "2", *args,
                      "--out", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert message in err and err.strip().splitlines()[-1].startswith("mixopt bclust: error: ")
    assert "Traceback" not in err


def test_bclust_run_that_fails_exits_non_zero(points2d, tmp_path, capsys, monkeypatch):
    """A run whose record has status error (here: the conic solver fails) exits 1."""
    import mixopt.studies.fois_ch1
    from mixopt.methods.robust.bclust_objective import BclustSolverError

    def failing(*args, **kwargs):
        raise BclustSolverError("CLARABEL failed on a cluster problem")

    monkeypatch.setattr(mixopt.studies.fois_ch1, "fit_bclust", failing)
    start = tmp_path / "start.txt"
    start.write_text("\n".join(["0"] * 25 + ["1"] * 25) + "\n")
    out = tmp_path / "b.json"
    assert main(["bclust", "--data", str(points2d), "--k", "2", "--start-labels", str(start),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mixopt bclust: error: bclust could not run: CLARABEL failed")
    rec = read_record(out)
    assert rec["status"] == "error" and "CLARABEL failed" in rec["error"]
