"""mixopt on one's own CSV: version, columns, labels out, estimated precision,
progress on stderr, plots, the methods list, clusterwise regression and one vocabulary."""

import csv
from pathlib import Path

import numpy as np
import pytest

from mixopt.cli import main
from mixopt.records import read_record


def run(argv):
    """The exit code of ``mixopt argv`` (argparse exits raise SystemExit)."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def table(tmp_path):
    """Two separated 2-d clusters with an id text column, a noise column and text labels."""
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 1, (25, 2)), rng.normal(6, 1, (25, 2))])
    path = tmp_path / "pts.csv"
    with path.open("w") as f:
        f.write("id,a,b,c,species\n")
        for i, (a, b) in enumerate(x):
            f.write(f"p{i},{float(a)!r},{float(b)!r},{rng.normal()!r},{'s1' if i < 25 else 's2'}\n")
    return path


def test_version(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mixopt ")


def test_text_column_without_columns_is_refused_with_a_hint(table, tmp_path, capsys):
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1,
                "--out", tmp_path / "r.json"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "['species']" in err and "--columns" in err


def test_columns_label_col_and_labels_out(table, tmp_path):
    out, labels = tmp_path / "r.json", tmp_path / "labels.csv"
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1, "--columns", "a,b",
                "--label-col", "species", "--labels-out", labels, "--out", out]) == 0
    rec = read_record(out)
    assert rec["metrics"]["ari"] == 1.0
    rows = list(csv.reader(labels.open()))
    assert rows[0] == ["id", "cluster"] and len(rows) == 51
    assert [r[0] for r in rows[1:3]] == ["p0", "p1"]
    assert [int(r[1]) for r in rows[1:]] == list(rec["assignment"])


def test_unknown_column_and_missing_label_column(table, tmp_path, capsys):
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1, "--columns", "a,zz",
                "--out", tmp_path / "r.json"]) == 2
    assert "zz" in capsys.readouterr().err
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1, "--columns", "a,b",
                "--label-col", "kind", "--out", tmp_path / "r.json"]) == 2
    assert "'kind'" in capsys.readouterr().err


def test_labels_out_without_id_column(tmp_path):
    data = tmp_path / "p.csv"
    data.write_text("x\n" + "\n".join(["0.0", "0.1", "0.2", "5.0", "5.1", "5.2"]) + "\n")
    labels = tmp_path / "l.csv"
    assert run(["bclust", "--data", data, "--k", 2, "--nsamp", 5, "--labels-out", labels,
                "--out", tmp_path / "b.json", "--quiet"]) == 0
    rows = list(csv.reader(labels.open()))
    assert rows[0] == ["cluster"] and len(rows) == 7


def test_labels_out_may_not_overwrite_the_data(table, tmp_path, capsys):
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1, "--columns", "a,b",
                "--labels-out", table, "--out", tmp_path / "r.json"]) == 2
    assert not (tmp_path / "r.json").exists()


def test_estimated_precision_is_recorded(table, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert run(["cluster", "--data", table, "--k", 2, "--columns", "a,b", "--label-col",
                "species", "--precision", "estimate", "--out", out]) == 0
    rec = read_record(out)
    assert rec["params"]["settings"]["precision"] == {"estimate": "tied_gmm", "random_state": 0}
    assert any("tied-covariance Gaussian mixture" in n for n in rec["notes"])
    lam = np.asarray(rec["params"]["precision"])
    assert lam.shape == (2, 2) and np.all(np.linalg.eigvalsh(lam) > 0)
    assert 0.3 < lam[0, 0] < 3.0   # the clusters' covariance is the identity
    assert rec["metrics"]["ari"] == 1.0


def test_estimate_precision_function():
    from mixopt.precision_estimate import estimate_precision

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.5, (200, 2)), rng.normal(5, 0.5, (200, 2))])
    lam, how = estimate_precision(x, 2, random_state=0)
    assert np.allclose(lam, 4 * np.eye(2), atol=0.8) and "tied" in how


def test_progress_lines_on_stderr_unless_quiet(table, tmp_path, capsys):
    argv = ["bclust", "--data", table, "--k", 2, "--columns", "a,b", "--nsamp", 5,
            "--out", tmp_path / "b.json"]
    assert run(argv) == 0
    err = capsys.readouterr().err
    assert "mixopt.methods.bclust: done (local)" in err and "incumbent" in err
    assert run([*argv, "--quiet"]) == 0
    assert "mixopt.methods" not in capsys.readouterr().err


def test_methods_lists_every_method_with_options_and_certification(capsys):
    from mixopt.methods.base import METHODS

    assert run(["methods"]) == 0
    out = capsys.readouterr().out
    for name in [*METHODS, "bclust", "tclust", "pclustreg", "tclustreg"]:
        assert f"\n{name}  [" in f"\n{out}"
    assert "max_iter=1000" in out                      # em's default, from its signature
    assert "certifies: global optimality" in out and "must_link" in out
    assert run(["methods", "nope"]) == 2
    assert "known methods" in capsys.readouterr().err


def test_method_info_reads_the_wrapped_signature():
    from mixopt.methods.catalog import method_info

    info = method_info("exact")
    assert info.empty_clusters is False and "time_limit_s" in info.options
    assert "problem" not in info.options and "seed" not in info.options
    assert method_info("pclustreg").summary.endswith("(Sec. 2.2, Theorem 2.2.4).")


@pytest.fixture
def regression_csv(tmp_path):
    """Two lines with different intercepts and slopes, an id column and true groups."""
    rng = np.random.default_rng(2)
    n = 60
    x = rng.uniform(0, 10, n)
    g = (np.arange(n) >= 30).astype(int)
    y = np.where(g == 0, 5 + 1.0 * x, 20 - 1.0 * x) + rng.normal(0, 0.5, n)
    path = tmp_path / "reg.csv"
    path.write_text("id,x,y,group\n" + "".join(
        f"r{i},{float(x[i])!r},{float(y[i])!r},g{g[i]}\n" for i in range(n)))
    return path


@pytest.mark.parametrize("method", ["tclustreg", "pclustreg"])
def test_clusterreg_adds_one_intercept_for_both_methods(regression_csv, tmp_path, method):
    out, labels = tmp_path / "r.json", tmp_path / "l.csv"
    argv = ["clusterreg", "--method", method, "--data", regression_csv, "--response", "y",
            "--columns", "x", "--label-col", "group", "--k", 2, "--nsamp", 50,
            "--node-limit", 30, "--quiet", "--out", out]
    assert run([*argv, "--labels-out", labels]) == 0
    rec = read_record(out)
    assert rec["extra"]["p"] == 2                      # ones + x, for both methods
    assert rec["metrics"]["ari"] > 0.7
    assert "intercept" in rec["notes"][0]
    assert len(list(csv.reader(labels.open()))) == 61
    assert run([*argv, "--no-intercept"]) == 0
    assert read_record(out)["extra"]["p"] == 1


def test_clusterreg_errors(regression_csv, tmp_path, capsys):
    base = ["clusterreg", "--data", regression_csv, "--columns", "x", "--label-col", "group",
            "--k", 2, "--out", tmp_path / "r.json"]
    assert run([*base, "--response", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert run([*base, "--response", "y", "--method", "pclustreg", "--variant", "chi2"]) == 2
    assert "--sigma-min" in capsys.readouterr().err


def test_regression_design_refuses_a_constant_regressor_with_the_intercept():
    from mixopt.cli import CommandError, regression_design

    x = np.column_stack([np.ones(5), np.arange(5.0)])
    with pytest.raises(CommandError, match="--no-intercept"):
        regression_design(x, ["one", "t"], True)
    assert regression_design(x, ["one", "t"], False) is x


def test_plot_record_with_and_without_trace(table, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1, "--columns", "a,b,c",
                "--label-col", "species", "--out", out, "--quiet"]) == 0
    png = tmp_path / "r.png"
    assert run(["plot", out, "--columns", "a,b,c", "--label-col", "species", "--out", png]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert run(["plot", out, "--out", tmp_path / "x.png"]) == 2    # text columns, no --columns
    assert "--columns" in capsys.readouterr().err
    assert run(["plot", out, "--columns", "a,b", "--out", tmp_path / "x.png"]) == 2


def test_plot_draws_a_trace_panel(tmp_path):
    import matplotlib.image as mpimg

    from mixopt.report.record_plot import plot_record

    x = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    rec = {"method": "exact", "dataset": "d", "status": "optimal", "gap": 0.0,
           "assignment": [0, 0, 1, 1], "params": {"mu": [[0.05, 0], [5.05, 5]]},
           "trace": [[0.0, 10.0, 1.0], [1.0, 5.0, 5.0]]}
    plot_record(rec, x, tmp_path / "t.png")
    plot_record({**rec, "trace": []}, x, tmp_path / "n.png")
    wide, narrow = mpimg.imread(tmp_path / "t.png"), mpimg.imread(tmp_path / "n.png")
    assert wide.shape[1] > 1.5 * narrow.shape[1]


def test_bclust_likelihood_mode_records_the_likelihood_as_objective(table, tmp_path, capsys):
    out = tmp_path / "b.json"
    argv = ["bclust", "--data", table, "--k", 2, "--columns", "a,b", "--label-col", "species",
            "--nsamp", 5, "--quiet", "--out", out]
    assert run(argv) == 0
    rec = read_record(out)
    assert rec["objective"] == rec["metrics"]["obj_likelihood"] != rec["metrics"]["obj_thesis"]
    assert rec["extra"]["objective_definition"].startswith("likelihood-mode Obj")
    assert "objective (likelihood-mode Obj)" in capsys.readouterr().out
    assert rec["metrics"]["ari"] == 1.0 and rec["metrics"]["accuracy"] == 1.0


def test_one_metrics_vocabulary(table, regression_csv, tmp_path):
    common = ["--label-col", "species", "--quiet", "--columns", "a,b"]
    assert run(["cluster", "--data", table, "--k", 2, "--sigma", 1, *common,
                "--out", tmp_path / "c.json"]) == 0
    assert run(["bclust", "--data", table, "--k", 2, "--nsamp", 5, *common,
                "--out", tmp_path / "b.json"]) == 0
    assert run(["clusterreg", "--data", regression_csv, "--response", "y", "--columns", "x",
                "--label-col", "group", "--k", 2, "--nsamp", 20, "--quiet",
                "--out", tmp_path / "r.json"]) == 0
    for name in ("c", "b", "r"):
        metrics = read_record(tmp_path / f"{name}.json")["metrics"]
        assert {"ari", "accuracy"} <= set(metrics), name


def test_label_accuracy_matches_clusters_to_classes():
    from mixopt.metrics import label_accuracy

    assert label_accuracy([1, 1, 0, 0, 0], [0, 0, 1, 1, 0]) == 0.8
    assert label_accuracy([0, 1], [-1, -1]) is None


def test_exact_reports_the_conic_solvers_version():
    from importlib.metadata import version

    from mixopt.methods.map.exact.exact import conic_solver_version

    text = conic_solver_version("scs")
    assert text.startswith(f"SCS {version('scs')} (cvxpy ")


def test_workflow_schema_and_runner_accept_an_estimated_precision(tmp_path):
    import jsonschema
    import yaml

    from mixopt.data.dataset import Dataset
    from mixopt.runner import precision_matrix

    def precision_nodes(node):
        if isinstance(node, dict):
            if isinstance(node.get("precision"), dict) and "oneOf" in node["precision"]:
                yield node["precision"]
            for value in node.values():
                yield from precision_nodes(value)
        elif isinstance(node, list):
            for value in node:
                yield from precision_nodes(value)

    with open(Path(__file__).parents[1] / "config" / "schema.yaml") as f:
        (node,) = precision_nodes(yaml.safe_load(f))
    jsonschema.validate({"estimate": "tied_gmm", "random_state": 1}, node)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"estimate": "pooled"}, node)
    rng = np.random.default_rng(0)
    ds = Dataset("d", rng.normal(size=(40, 2)), None, ["a", "b"], [])
    assert precision_matrix(ds, {"estimate": "tied_gmm"}, 2).shape == (2, 2)
    with pytest.raises(ValueError, match="needs the number of components"):
        precision_matrix(ds, {"estimate": "tied_gmm"})
