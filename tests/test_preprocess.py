"""Processed data sets: shapes, published cross-checks, z-scoring and the on-disk format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mixopt.data import (
    ChecksumError,
    Dataset,
    build_dataset,
    load_registry,
    processed_names,
    raw_keys_for,
    read_dataset,
    read_points_csv,
    sha256_file,
    write_dataset,
)
from mixopt.data.preprocess import read_algerian, read_iris, read_star, zscore

# name -> (n, d, label counts in code order; None = unlabelled)
SHAPES = {
    "iris1d": (150, 1, [50, 50, 50]),
    "wine": (178, 13, [59, 71, 48]),
    "brca": (569, 3, [357, 212]),
    "fois_wine": (178, 13, [59, 71, 48]),
    "fois_seeds": (210, 7, [70, 70, 70]),
    "fois_iris": (150, 4, [50, 50, 50]),
    "fois_algerian_bejaia": (122, 10, [63, 59]),
    "fois_algerian_sidi": (122, 13, [43, 79]),
    "fois_star": (240, 4, [40] * 6),
    "girdles": (153, 2, None),
    "pam50": (232, 50, [57, 35, 23, 12, 12]),          # + 93 unknown (-1)
    "pam50_4d": (232, 4, [57, 35, 23, 12, 12]),
    "pam50_4d_authors": (232, 4, [57, 35, 23, 12, 12]),
    # the MSSC benchmark files (SOS-SDP's instances), unlabelled
    "mssc_ruspini": (75, 2, None), "mssc_iris": (150, 4, None), "mssc_wine": (178, 13, None),
    "mssc_gr202": (202, 2, None), "mssc_seeds": (210, 7, None), "mssc_glass": (214, 9, None),
    "mssc_accent": (329, 12, None), "mssc_ecoli": (336, 7, None),
    "mssc_real_estate": (414, 5, None), "mssc_wholesale_std": (440, 11, None),
    "mssc_hungarian": (522, 20, None), "mssc_wdbc": (569, 30, None),
    "mssc_voice": (126, 310, None), "mssc_energy_std": (768, 16, None),
}


@pytest.fixture(scope="module")
def raw(mirror: Path) -> dict[str, Path]:
    """Registry key -> file in the mirror (``mirror`` comes from conftest.py)."""
    return {key: mirror / entry.mirror for key, entry in load_registry().items()}


@pytest.fixture(scope="module")
def built(raw: dict[str, Path]) -> dict[str, Dataset]:
    return {name: build_dataset(name, {k: raw[k] for k in raw_keys_for(name)})
            for name in processed_names()}


def _numeric_rows(path: Path, sep: str | None, skip_header: bool = False) -> np.ndarray:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    return np.array([[float(v) for v in ln.split(sep)] for ln in lines[int(skip_header):]])


def _flaherty(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(path.read_text().splitlines()))
    return rows[0][1:], [r[1:] for r in rows[1:]]


def test_registry_of_processed_sets() -> None:
    assert processed_names() == list(SHAPES)
    assert raw_keys_for("fois_algerian_sidi") == ("uci_algerian",)
    with pytest.raises(ValueError, match="unknown processed data set"):
        raw_keys_for("nope")


@pytest.mark.parametrize("name", list(SHAPES))
def test_shapes_and_label_counts(built: dict[str, Dataset], name: str) -> None:
    ds = built[name]
    n, d, counts = SHAPES[name]
    assert (ds.n, ds.d) == (n, d) and ds.X.dtype == np.float64
    if counts is None:
        assert ds.labels is None and ds.K == 0
    else:
        assert len(counts) == ds.K and np.bincount(ds.labels[ds.labels >= 0]).tolist() == counts
    assert ds.meta["transformation"] and ds.meta["description"]
    keys = [s["key"] for s in ds.meta["sources"]]
    assert keys == list(raw_keys_for(name))


def test_build_rejects_wrong_raw_file(raw: dict[str, Path]) -> None:
    with pytest.raises(ChecksumError, match="uci_wine"):
        build_dataset("wine", {"uci_wine": raw["uci_iris"]})
    with pytest.raises(ValueError, match="not given"):
        build_dataset("wine", {})


def test_iris1d_matches_flaherty(built: dict[str, Dataset], raw: dict[str, Path]) -> None:
    ds = built["iris1d"]
    header, rows = _flaherty(raw["flaherty_iris1d"])
    assert header == ["x", "class"]
    x = np.array([float(r[0]) for r in rows])
    sign = np.sign(x @ ds.X[:, 0])
    assert np.max(np.abs(ds.X[:, 0] - sign * x)) < 1e-12
    assert [ds.label_names[c] for c in ds.labels] == ["Iris-" + r[1] for r in rows]
    pca = ds.meta["pca"]
    assert max(pca["loading"].values(), key=abs) > 0
    assert ds.X[ds.labels == 0, 0].mean() < 0  # setosa on the negative side
    assert 0.92 < pca["explained_variance_ratio"] < 0.93


def test_iris_is_the_uci_version(raw: dict[str, Path]) -> None:
    X, _ = read_iris(raw["uci_iris"])
    np.testing.assert_array_equal(X[[34, 37]], [[4.9, 3.1, 1.5, 0.1]] * 2)


@pytest.mark.parametrize(("name", "key"), [("wine", "flaherty_wine"), ("brca", "flaherty_brca")])
def test_flaherty_unscaled_sets(
    built: dict[str, Dataset], raw: dict[str, Path], name: str, key: str
) -> None:
    ds = built[name]
    header, rows = _flaherty(raw[key])
    values = np.array(rows, dtype=float)
    assert np.max(np.abs(ds.X - values[:, :-1])) <= 1e-12
    np.testing.assert_array_equal(ds.labels + 1, values[:, -1])
    if name == "brca":
        assert header[:-1] == ds.feature_names


def test_parsed_rows_equal_thesis_copies(raw: dict[str, Path]) -> None:
    regions = read_algerian(raw["uci_algerian"])
    pairs = [("Bejaia", "fois_algerian_bejaia"), ("Sidi-Bel Abbes", "fois_algerian_sidi")]
    for region, key in pairs:
        block = regions[region]
        codes = np.array([["not fire", "fire"].index(c) + 1 for c in block.classes])
        thesis = _numeric_rows(raw[key], ",")
        np.testing.assert_array_equal(np.column_stack([block.values, codes]), thesis)
    sidi = regions["Sidi-Bel Abbes"]
    assert [r["date"] for r in sidi.repairs] == ["14/07/2012"] and regions["Bejaia"].repairs == []
    row = sidi.values[(sidi.values[:, 0] == 14) & (sidi.values[:, 1] == 7)]
    np.testing.assert_array_equal(row[0, 9:], [14.6, 9, 12.5, 10.4])

    X, star_type = read_star(raw["kaggle_star"])
    np.testing.assert_array_equal(np.column_stack([X, star_type]),
                                  _numeric_rows(raw["fois_star"], "\t"))
    X, names = read_iris(raw["uci_iris"])
    codes = np.array([["Iris-setosa", "Iris-versicolor", "Iris-virginica"].index(c) + 1
                      for c in names])
    np.testing.assert_array_equal(np.column_stack([X, codes]),
                                  _numeric_rows(raw["fois_raw_iris"], ","))


@pytest.mark.parametrize(
    ("name", "key", "cols"),
    [("fois_algerian_bejaia", "fois_algerian_bejaia", slice(3, 13)),
     ("fois_algerian_sidi", "fois_algerian_sidi", slice(0, 13)),
     ("fois_star", "fois_star", slice(0, 4)),
     ("fois_iris", "fois_raw_iris", slice(0, 4))],
)
def test_thesis_sets_equal_standardised_thesis_files(
    built: dict[str, Dataset], raw: dict[str, Path], name: str, key: str, cols: slice
) -> None:
    ds = built[name]
    thesis = _numeric_rows(raw[key], "\t" if key == "fois_star" else ",")
    expected, _ = zscore(thesis[:, cols], ds.feature_names)
    np.testing.assert_array_equal(ds.X, expected)
    np.testing.assert_array_equal(ds.labels + 1, thesis[:, -1] + (key == "fois_star"))


@pytest.mark.parametrize("name", [n for n in SHAPES if n.startswith("fois_")])
def test_zscoring(built: dict[str, Dataset], name: str) -> None:
    ds = built[name]
    info = ds.meta["standardisation"]
    zero = [ds.feature_names.index(f) for f in info["zero_std_features"]]
    live = [j for j in range(ds.d) if j not in zero]
    assert np.all(np.isfinite(ds.X))
    np.testing.assert_allclose(ds.X[:, live].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X[:, live].std(axis=0, ddof=1), 1, rtol=1e-12)
    assert np.all(ds.X[:, zero] == 0.0)
    assert list(info["mean"]) == list(info["std"]) == ds.feature_names
    if name == "fois_algerian_sidi":
        assert info["zero_std_features"] == ["year"] and info["mean"]["year"] == 2012.0
    else:
        assert zero == []


def test_zscore_rounding_level_std() -> None:
    col = np.full(122, 2012.0) + 1e-5  # MATLAB's std(x + eps) case: std is 0 or ~1e-13
    X = np.column_stack([col, np.arange(122.0) * 1e-9])
    Z, info = zscore(X, ["year", "tiny"])
    assert info["zero_std_features"] == ["year"]
    assert np.all(Z[:, 0] == 0.0) and np.isclose(Z[:, 1].std(ddof=1), 1.0)


def test_girdles_matches_girdles_t(built: dict[str, Dataset], raw: dict[str, Path]) -> None:
    ds = built["girdles"]
    assert raw["fsda_girdlesT"].read_text().splitlines()[0] == "Quantity,Value"
    np.testing.assert_array_equal(ds.X, _numeric_rows(raw["fsda_girdlesT"], ",", True))
    assert ds.feature_names == ["quantity", "value"]


def test_write_read_round_trip(built: dict[str, Dataset], tmp_path: Path) -> None:
    for name, ds in built.items():
        path = tmp_path / f"{name}.csv"
        write_dataset(ds, path)
        back = read_dataset(path)
        assert back.X.tobytes() == ds.X.tobytes(), name
        if ds.labels is None:
            assert back.labels is None
        else:
            np.testing.assert_array_equal(back.labels, ds.labels)
        assert (back.name, back.feature_names, back.label_names) == (
            ds.name, ds.feature_names, ds.label_names)
        assert back.meta == json.loads(json.dumps(back.meta)) and back.meta["sources"]
        record = json.loads(path.with_suffix(".json").read_text())
        assert record["csv_sha256"] == sha256_file(path)
        assert (record["n"], record["d"], record["K"]) == (ds.n, ds.d, ds.K)
        assert sum(record["label_counts"].values()) == (
            0 if ds.labels is None else int(np.sum(ds.labels >= 0)))
        assert all(set(s) == {"key", "file", "sha256", "url"} for s in record["sources"])
    assert len(list(tmp_path.iterdir())) == 2 * len(built)  # no temporary files left


def test_read_dataset_detects_edits(built: dict[str, Dataset], tmp_path: Path) -> None:
    path = tmp_path / "wine.csv"
    write_dataset(built["wine"], path)
    path.write_text(path.read_text().replace("14.23", "14.24", 1))
    with pytest.raises(ChecksumError):
        read_dataset(path)


def test_dataset_validation() -> None:
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="non-finite"):
        Dataset("t", np.array([[0.0, np.nan]]), None, ["a", "b"], [])
    with pytest.raises(ValueError, match="feature names"):
        Dataset("t", X, None, ["a"], [])
    with pytest.raises(ValueError, match="outside"):
        Dataset("t", X, np.array([0, 1, 2]), ["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="integer"):
        Dataset("t", X, np.array([0.0, 1.0, 1.0]), ["a", "b"], ["x", "y"])
    ds = Dataset("t", X, np.array([0, -1, 1]), ["a", "b"], ["x", "y"])
    assert (ds.n, ds.d, ds.K) == (3, 2, 2)


def test_read_points_csv(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x, y,label\n1,2,b\n3.5,-4e-3,a\n5,6,\n\n")
    X, labels, features, names = read_points_csv(path)
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -4e-3], [5, 6]])
    assert features == ["x", "y"] and names == ["a", "b"] and labels.tolist() == [1, 0, -1]
    path.write_text("x,cls\n1,10\n2,2\n3,10\n")
    _, labels, _, names = read_points_csv(path, label_column="cls")
    assert names == ["2", "10"] and labels.tolist() == [1, 0, 1]
    path.write_text("x,y\n1,2\n")
    X, labels, features, names = read_points_csv(path)
    assert labels is None and names == [] and features == ["x", "y"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty file"), ("x,y\n", "no data rows"), ("x,y\n1,2\n3,abc\n", "'y' at line 3"),
     ("x,y\n1,\n", "missing value in column 'y' at line 2"), ("x,y\n1,2,3\n", "line 2 has 3"),
     ("x,y\n1,inf\n", "non-finite"), ("label\na\n", "no numeric"), ("x,x\n1,2\n", "unique")],
)
def test_read_points_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_points_csv(path)
