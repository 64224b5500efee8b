"""Processed data sets: parse verified raw files and apply the published preprocessing.

Flaherty et al. sets (``iris1d``, ``wine``, ``brca``) are unscaled; the Fois thesis sets
(``fois_*``) z-score every feature with the sample std (docs/reference-bclust.md 7); ``girdles``
is the FSDA trade data for clusterwise regression. Label codes are 0..K-1 in the order of the
published labels (thesis label = code + 1).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixopt.data import pam50_matrix as pam50
from mixopt.data.dataset import Dataset
from mixopt.data.mssc import MSSC_FILES, mssc_dataset
from mixopt.data.sources import load_registry, verify

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_CLASSES = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
WINE_FEATURES = [
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
    "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
    "od280_od315", "proline",
]
SEEDS_FEATURES = [
    "area", "perimeter", "compactness", "kernel_length", "kernel_width", "asymmetry_coefficient",
    "kernel_groove_length",
]
ALGERIAN_COLUMNS = [
    "day", "month", "year", "Temperature", "RH", "Ws", "Rain", "FFMC", "DMC", "DC", "ISI", "BUI",
    "FWI",
]
ALGERIAN_CLASSES = ["not fire", "fire"]
STAR_FEATURES = ["temperature", "luminosity", "radius", "absolute_magnitude"]
STAR_HEADER = ["Temperature (K)", "Luminosity(L/Lo)", "Radius(R/Ro)", "Absolute magnitude(Mv)",
               "Star type"]
STAR_TYPES = ["Brown Dwarf", "Red Dwarf", "White Dwarf", "Main Sequence", "Supergiant",
              "Hypergiant"]
# WDBC layout: ID, diagnosis, 10 means, 10 standard errors, 10 "worst"; each block in the order
# radius, texture, perimeter, area, smoothness, ... -> 0-based file columns below.
BRCA_COLUMNS = {"worst_area": 22 + 3, "worst_smoothness": 22 + 4, "mean_texture": 2 + 1}
ZERO_STD_RTOL = 1e-12
_REGIONS = {"Bejaia Region Dataset": "Bejaia", "Sidi-Bel Abbes Region Dataset": "Sidi-Bel Abbes"}
# (region, dd/mm/yyyy) -> (0-based field index, corrupt field, replacement fields)
_ALGERIAN_REPAIRS = {("Sidi-Bel Abbes", "14/07/2012"): (9, "14.6 9", ["14.6", "9"])}


@dataclass(frozen=True)
class ProcessedSpec:
    """How to build one processed data set from verified raw files."""

    raw: tuple[str, ...]
    build: Callable[[dict[str, Path]], Dataset]
    description: str


@dataclass(frozen=True)
class AlgerianRegion:
    """One region block of the UCI Algerian file: 13 numeric columns, class strings, repairs."""

    values: np.ndarray
    classes: list[str]
    repairs: list[dict[str, Any]]


# ----------------------------------------------------------------------------- parsers
def _rows(path: Path, sep: str | None) -> list[tuple[int, list[str]]]:
    """Non-blank lines as (line number, stripped fields); ``sep=None`` splits on whitespace."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [(i, [f.strip() for f in line.split(sep)])
            for i, line in enumerate(lines, 1) if line.strip()]


def _floats(path: Path, line: int, fields: Sequence[str]) -> list[float]:
    try:
        return [float(f) for f in fields]
    except ValueError:
        raise ValueError(f"{path}: line {line}: non-numeric field in {list(fields)}") from None


def _table(path: Path, sep: str | None, width: int) -> list[tuple[int, list[str]]]:
    rows = _rows(path, sep)
    for line, fields in rows:
        if len(fields) != width:
            raise ValueError(f"{path}: line {line} has {len(fields)} fields, expected {width}")
    return rows


def read_iris(path: Path) -> tuple[np.ndarray, list[str]]:
    """UCI ``iris.data``: 4 measurements and the class name of every row."""
    rows = _table(path, ",", 5)
    return np.array([_floats(path, ln, f[:4]) for ln, f in rows]), [f[4] for _, f in rows]


def read_wine(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UCI ``wine.data``: 13 features and the class 1/2/3 (first column)."""
    values = np.array([_floats(path, ln, f) for ln, f in _table(path, ",", 14)])
    return values[:, 1:], values[:, 0].astype(np.int64)


def read_wdbc(path: Path) -> tuple[np.ndarray, list[str]]:
    """UCI ``wdbc.data``: the 30 features (file columns 3-32) and the diagnosis M/B."""
    rows = _table(path, ",", 32)
    return np.array([_floats(path, ln, f[2:]) for ln, f in rows]), [f[1] for _, f in rows]


def read_seeds(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UCI ``seeds_dataset.txt`` split on whitespace: 7 features and the class 1/2/3."""
    values = np.array([_floats(path, ln, f) for ln, f in _table(path, None, 8)])
    return values[:, :7], values[:, 7].astype(np.int64)


def read_star(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Kaggle ``6 class csv.csv``: the 4 numeric columns and the star type 0..5."""
    rows = list(csv.reader(Path(path).read_text(encoding="utf-8").splitlines()))
    if [h.strip() for h in rows[0][:5]] != STAR_HEADER:
        raise ValueError(f"{path}: unexpected header {rows[0]}")
    values = np.array([_floats(path, i, r[:5]) for i, r in enumerate(rows[1:], 2) if r])
    return values[:, :4], values[:, 4].astype(np.int64)


def read_girdles(path: Path) -> np.ndarray:
    """FSDA ``girdles.txt`` (tab-separated, no header): quantity, value."""
    return np.array([_floats(path, ln, f) for ln, f in _table(path, "\t", 2)])


def read_algerian(path: Path) -> dict[str, AlgerianRegion]:
    """Parse the UCI Algerian CSV into its two region blocks ("Bejaia", "Sidi-Bel Abbes").

    Strips stray spaces, checks the repeated header, validates class strings and splits the one
    merged DC/ISI field (Sidi-Bel Abbes 14/07/2012) exactly as the thesis data file has it.
    """
    blocks: dict[str, tuple[list[list[float]], list[str], list[dict[str, Any]]]] = {}
    region = None
    for line, fields in _rows(path, ","):
        if len(fields) == 1 and fields[0] in _REGIONS:
            region = _REGIONS[fields[0]]
            blocks[region] = ([], [], [])
            continue
        if fields[0] == "day":
            if fields != [*ALGERIAN_COLUMNS, "Classes"]:
                raise ValueError(f"{path}: line {line}: unexpected header {fields}")
            continue
        if region is None:
            raise ValueError(f"{path}: line {line}: data before a region title")
        values, classes, repairs = blocks[region]
        date = "/".join(fields[:3])
        if len(fields) != 14:
            index, bad, fix = _ALGERIAN_REPAIRS.get((region, date), (-1, None, []))
            if len(fields) != 13 or fields[index] != bad:
                raise ValueError(f"{path}: line {line}: {len(fields)} fields, expected 14")
            fields[index:index + 1] = fix
            repairs.append({
                "region": region, "line": line, "date": date, "corrupt_field": bad,
                "repaired": {ALGERIAN_COLUMNS[index + k]: float(v) for k, v in enumerate(fix)},
                "rule": "merged DC/ISI field split in two, as in the thesis file "
                        "raw_algerian_sidi_bel_abbes.txt",
            })
        if fields[13] not in ALGERIAN_CLASSES:
            raise ValueError(f"{path}: line {line}: unknown class {fields[13]!r}")
        values.append(_floats(path, line, fields[:13]))
        classes.append(fields[13])
    if set(blocks) != set(_REGIONS.values()):
        raise ValueError(f"{path}: expected region blocks {sorted(_REGIONS.values())}")
    return {r: AlgerianRegion(np.array(v), c, rep) for r, (v, c, rep) in blocks.items()}


# ----------------------------------------------------------------------------- transformations
def encode(values: Sequence[Any], names: Sequence[Any]) -> np.ndarray:
    """Label codes: position of every value in ``names`` (error on an unexpected value)."""
    index = {nm: k for k, nm in enumerate(names)}
    unexpected = sorted({str(v) for v in values if v not in index})
    if unexpected:
        raise ValueError(f"unexpected class values {unexpected}; expected {list(names)}")
    return np.array([index[v] for v in values], dtype=np.int64)


def zscore(X: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Standardise columns with the sample std (ddof=1); a (near-)constant column becomes 0.0.

    A column counts as constant when std <= ZERO_STD_RTOL * max(1, max |x|); the thesis' MATLAB
    code divides 0 by a rounding-level std there, which also gives exactly 0. Columns are
    reduced in Fortran order so the result does not depend on the input's memory layout.
    """
    X = np.asfortranarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    std = X.std(axis=0, ddof=1)
    zero = std <= ZERO_STD_RTOL * np.maximum(1.0, np.abs(X).max(axis=0))
    Z = (X - mean) / np.where(zero, 1.0, std)
    Z[:, zero] = 0.0
    Z = np.ascontiguousarray(Z)
    info = {
        "method": "(x - mean) / std per feature, sample std (ddof = 1)",
        "mean": dict(zip(names, mean.tolist(), strict=True)),
        "std": dict(zip(names, std.tolist(), strict=True)),
        "zero_std_features": [nm for nm, z in zip(names, zero, strict=True) if z],
        "zero_std_rule": f"std <= {ZERO_STD_RTOL:g} * max(1, max|x|) -> column set to exactly 0.0",
    }
    return Z, info


def _thesis(name: str, X: np.ndarray, codes: np.ndarray, features: list[str],
            classes: list[str], steps: list[str], **meta: Any) -> Dataset:
    Z, info = zscore(X, features)
    steps = [*steps, "each feature z-scored with the sample std (ddof = 1)"]
    if info["zero_std_features"]:
        steps.append(f"zero-std feature(s) {info['zero_std_features']} set to exactly 0.0")
    return Dataset(name, Z, codes, features, classes, {
        "transformation": steps, "standardisation": info,
        "thesis_label": "thesis label = code + 1", **meta,
    })


# ----------------------------------------------------------------------------- builders
def _iris1d(p: dict[str, Path]) -> Dataset:
    X, cls = read_iris(p["uci_iris"])
    centre = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - centre, full_matrices=False)
    loading = vt[0] * np.sign(vt[0][np.argmax(np.abs(vt[0]))])
    meta = {
        "transformation": [
            "parsed UCI iris.data (UCI values in rows 35 and 38, not scikit-learn's copy)",
            "centred the 150 x 4 measurements (no scaling)",
            "projected on the first principal component (SVD of the centred matrix)",
            "sign: the loading with the largest |value| is positive",
        ],
        "pca": {
            "loading": dict(zip(IRIS_FEATURES, loading.tolist(), strict=True)),
            "centre": dict(zip(IRIS_FEATURES, centre.tolist(), strict=True)),
            "explained_variance_ratio": float(s[0] ** 2 / np.sum(s**2)),
            "singular_values": s.tolist(),
            "sign_rule": "largest-|loading| component positive",
        },
    }
    pc1 = ((X - centre) @ loading)[:, None]
    return Dataset("iris1d", pc1, encode(cls, IRIS_CLASSES), ["pc1"], IRIS_CLASSES, meta)


def _wine(p: dict[str, Path]) -> Dataset:
    X, cls = read_wine(p["uci_wine"])
    meta = {"transformation": ["parsed UCI wine.data; label = column 1, "
                               "features = columns 2-14, unscaled"]}
    return Dataset("wine", X, encode(cls, [1, 2, 3]), WINE_FEATURES, ["1", "2", "3"], meta)


def _brca(p: dict[str, Path]) -> Dataset:
    F, diagnosis = read_wdbc(p["uci_wdbc"])
    meta = {
        "transformation": [
            "parsed UCI wdbc.data (ID, diagnosis, 10 mean, 10 se, 10 worst features)",
            "kept worst_area, worst_smoothness, mean_texture (file columns 26, 27, 4, 1-based), "
            "unscaled; label = diagnosis B/M",
        ],
        "wdbc_columns_1based": {k: v + 1 for k, v in BRCA_COLUMNS.items()},
    }
    X = F[:, [c - 2 for c in BRCA_COLUMNS.values()]]
    return Dataset("brca", X, encode(diagnosis, ["B", "M"]), list(BRCA_COLUMNS), ["B", "M"], meta)


def _fois_wine(p: dict[str, Path]) -> Dataset:
    X, cls = read_wine(p["uci_wine"])
    return _thesis("fois_wine", X, encode(cls, [1, 2, 3]), WINE_FEATURES, ["1", "2", "3"],
                   ["parsed UCI wine.data; label = column 1, features = columns 2-14"],
                   thesis_script="benchmarkWine.m")


def _fois_seeds(p: dict[str, Path]) -> Dataset:
    X, cls = read_seeds(p["uci_seeds"])
    return _thesis("fois_seeds", X, encode(cls, [1, 2, 3]), SEEDS_FEATURES, ["1", "2", "3"],
                   ["parsed UCI seeds_dataset.txt on runs of whitespace (irregular tabs); "
                    "features = columns 1-7, label = column 8"],
                   thesis_script="benchmarkSeeds.m",
                   class_descriptions={"1": "Kama", "2": "Rosa", "3": "Canadian"})


def _fois_iris(p: dict[str, Path]) -> Dataset:
    X, cls = read_iris(p["uci_iris"])
    return _thesis("fois_iris", X, encode(cls, IRIS_CLASSES), IRIS_FEATURES, IRIS_CLASSES,
                   ["parsed UCI iris.data (UCI values in rows 35 and 38, as the thesis' "
                    "raw_iris.txt); features = 4 measurements"],
                   thesis_script="benchmarkIris.m")


def _algerian(name: str, region: str, features: list[str], p: dict[str, Path]) -> Dataset:
    block = read_algerian(p["uci_algerian"])[region]
    X = block.values[:, [ALGERIAN_COLUMNS.index(f) for f in features]]
    steps = [f"parsed the {region} block of the UCI CSV (titles/headers skipped, spaces and "
             "class strings stripped)"]
    steps += [f"repaired line {r['line']} ({r['date']}): {r['corrupt_field']!r} -> "
              f"{r['repaired']}" for r in block.repairs]
    steps.append(f"features = {', '.join(features)}; label not fire -> 0, fire -> 1")
    script = "Bejaia" if region == "Bejaia" else "SidiBelAbbes"
    return _thesis(name, X, encode(block.classes, ALGERIAN_CLASSES), features, ALGERIAN_CLASSES,
                   steps, region=region, repairs=block.repairs,
                   thesis_script=f"benchmarkAlgerianForestFires{script}.m")


def _fois_star(p: dict[str, Path]) -> Dataset:
    X, star_type = read_star(p["kaggle_star"])
    return _thesis("fois_star", X, encode(star_type, range(6)), STAR_FEATURES,
                   [str(k) for k in range(6)],
                   ["parsed the Kaggle CSV; features = Temperature, Luminosity, Radius, Absolute "
                    "magnitude (no log transform); label = Star type 0..5"],
                   thesis_script="benchmarkStars.m",
                   class_descriptions={str(k): t for k, t in enumerate(STAR_TYPES)})


def _girdles(p: dict[str, Path]) -> Dataset:
    return Dataset("girdles", read_girdles(p["fsda_girdles"]), None, ["quantity", "value"], [], {
        "transformation": ["parsed FSDA girdles.txt (tab-separated): quantity, value; unscaled"],
        "regression": "value ~ quantity",
    })


PROCESSED: dict[str, ProcessedSpec] = {
    "iris1d": ProcessedSpec(("uci_iris",), _iris1d,
                            "UCI iris, first principal component of the centred data (Flaherty)"),
    "wine": ProcessedSpec(("uci_wine",), _wine, "UCI wine, 13 unscaled features (Flaherty)"),
    "brca": ProcessedSpec(("uci_wdbc",), _brca,
                          "WDBC worst_area, worst_smoothness, mean_texture, unscaled (Flaherty)"),
    "fois_wine": ProcessedSpec(("uci_wine",), _fois_wine, "UCI wine, z-scored (Fois thesis)"),
    "fois_seeds": ProcessedSpec(("uci_seeds",), _fois_seeds, "UCI seeds, z-scored (Fois thesis)"),
    "fois_iris": ProcessedSpec(("uci_iris",), _fois_iris, "UCI iris, z-scored (Fois thesis)"),
    "fois_algerian_bejaia": ProcessedSpec(
        ("uci_algerian",), lambda p: _algerian(
            "fois_algerian_bejaia", "Bejaia", ALGERIAN_COLUMNS[3:], p),
        "Algerian forest fires, Bejaia, 10 weather features z-scored (Fois thesis)"),
    "fois_algerian_sidi": ProcessedSpec(
        ("uci_algerian",), lambda p: _algerian(
            "fois_algerian_sidi", "Sidi-Bel Abbes", ALGERIAN_COLUMNS, p),
        "Algerian forest fires, Sidi-Bel Abbes, date + 10 weather features z-scored (Fois thesis)"),
    "fois_star": ProcessedSpec(("kaggle_star",), _fois_star,
                               "Kaggle star types, 4 numeric features z-scored (Fois thesis)"),
    "girdles": ProcessedSpec(("fsda_girdles",), _girdles,
                             "FSDA girdles imports (quantity, value) for clusterwise regression"),
    "pam50": ProcessedSpec((pam50.TRAIN_KEY, pam50.AUTHORS_KEY), pam50.build_pam50,
                           "UNC PAM50 training matrix, 232 x 50, missing -> 0 (Flaherty Sec. 4.2)"),
    "pam50_4d": ProcessedSpec(
        (pam50.TRAIN_KEY, pam50.AUTHORS_4D_KEY), pam50.build_pam50_4d,
        "pam50 standardised, first 4 principal components, whitened (Flaherty Sec. 4.2)"),
    "pam50_4d_authors": ProcessedSpec(
        (pam50.TRAIN_KEY, pam50.AUTHORS_4D_KEY), pam50.build_pam50_4d_authors,
        "the authors' pam50-4d.csv with the UNC subtypes (Flaherty Sec. 4.2)"),
}
PROCESSED.update({  # the MSSC benchmark instances (SOS-SDP's files), unlabelled and unscaled
    f"mssc_{name}": ProcessedSpec(
        (f"mssc_{name}",), lambda p, name=name: mssc_dataset(name, p[f"mssc_{name}"]),
        f"MSSC benchmark instance {name} (SOS-SDP's file, as published)")
    for name in MSSC_FILES})


def processed_names() -> list[str]:
    """Names of all processed data sets."""
    return list(PROCESSED)


def raw_keys_for(name: str) -> tuple[str, ...]:
    """Registry keys of the raw files a processed data set needs."""
    return _spec(name).raw


def _spec(name: str) -> ProcessedSpec:
    if name not in PROCESSED:
        raise ValueError(f"unknown processed data set {name!r}; known: {processed_names()}")
    return PROCESSED[name]


def build_dataset(name: str, raw_paths: dict[str, Path]) -> Dataset:
    """Verify the raw files, build data set ``name`` and record its sources in ``meta``."""
    spec = _spec(name)
    registry = load_registry()
    missing = [k for k in spec.raw if k not in raw_paths]
    if missing:
        raise ValueError(f"{name}: raw files {missing} not given")
    for key in spec.raw:
        verify(Path(raw_paths[key]), registry[key])
    ds = spec.build({k: Path(raw_paths[k]) for k in spec.raw})
    ds.meta["description"] = spec.description
    ds.meta["sources"] = [
        {"key": k, "file": registry[k].file, "sha256": registry[k].sha256, "url": registry[k].url}
        for k in spec.raw
    ]
    return ds
