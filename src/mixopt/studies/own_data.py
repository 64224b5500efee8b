"""The workflow on your own data sets: the data-set sheet (``config/datasets.tsv``).

One row per data set, tab-separated, a header line, ``#`` comment lines::

    name    path               columns  label_column  k  covariance  methods
    blobs   data/own/blobs.csv a,b      species       3  0.5         em,miqp

``name`` (letters, digits, ``_ . -``), ``path`` (a CSV file with a header line), ``k`` (>= 1) and
``covariance`` (a known standard deviation sigma, Lambda = I / sigma^2, or ``estimate``: the
inverse shared covariance of a tied-covariance Gaussian mixture, see
:mod:`mixopt.precision_estimate`) are required; ``columns`` (comma-separated feature columns;
empty: every column but the label and id columns), ``label_column`` (true labels, used for the
metrics only) and ``methods`` (comma-separated MAP methods; empty: the study's default) may be
left empty or out. :func:`read_sheet` checks every row and refuses a bad one with one line naming
the row and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixopt.data.dataset import LABEL_COLUMN, Dataset, read_points_table

STUDY = "own_data"
RESULTS_DIR = "own"          #: records: results/<profile>/own/<name>/<method>/seed<s>.json
REQUIRED = ("name", "path", "k", "covariance")
OPTIONAL = ("columns", "label_column", "methods")
COLUMNS = REQUIRED[:2] + OPTIONAL[:2] + REQUIRED[2:] + OPTIONAL[2:]
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
ESTIMATE = "estimate"


class SheetError(ValueError):
    """A bad data-set sheet (one line naming the file, the row and the column)."""


@dataclass(frozen=True)
class OwnDataset:
    """One checked row of the sheet."""

    name: str
    path: str
    columns: tuple[str, ...] | None
    label_column: str | None
    k: int
    covariance: float | str        #: sigma, or ``"estimate"``
    methods: tuple[str, ...]

    def precision(self, seed: int) -> dict[str, Any]:
        """The runner's precision spec (:class:`mixopt.runner.JobSpec`)."""
        if self.covariance == ESTIMATE:
            return {"estimate": "tied_gmm", "random_state": int(seed)}
        return {"sigma": float(self.covariance)}

    def points(self) -> dict[str, Any]:
        """How to read the points (``points`` of :func:`mixopt.runner.run_job`)."""
        return {"name": self.name, "columns": list(self.columns) if self.columns else None,
                "label_column": self.label_column}

    def as_row(self) -> dict[str, Any]:
        """The row as validated against ``config/schemas/datasets.schema.yaml``."""
        return {"name": self.name, "path": self.path,
                "columns": ",".join(self.columns or ()), "label_column": self.label_column or "",
                "k": self.k, "covariance": str(self.covariance),
                "methods": ",".join(self.methods)}


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [h.strip() for h in next(csv.reader(fh), [])]


def _sheet_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every line that is neither blank nor a ``#`` comment."""
    text = path.read_text(encoding="utf-8-sig")
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((number, next(csv.reader(io.StringIO(line), delimiter="\t"))))
    return out


def read_sheet(path: str | Path, default_methods: list[str], known_methods: list[str],
               base: str | Path = ".") -> list[OwnDataset]:
    """The checked rows of the sheet ``path`` (none when it has only comments or a header).

    Data paths are relative to ``base`` (the workflow's directory). Raises :class:`SheetError`
    with one line ``<sheet> line N (data set NAME), column C: what is wrong``."""
    path = Path(path)
    if not path.is_file():
        raise SheetError(f"data-set sheet {path} not found")
    lines = _sheet_lines(path)
    if not lines:
        return []
    head_line, header = lines[0]
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise SheetError(f"{path} line {head_line}: unknown column(s) {unknown} in the header; "
                         f"columns: {list(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SheetError(f"{path} line {head_line}: the header has no column(s) {missing} "
                         f"(required: {list(REQUIRED)}; tab-separated)")
    rows, seen = [], set()
    for number, fields in lines[1:]:
        if len(fields) > len(header):
            raise SheetError(f"{path} line {number}: {len(fields)} tab-separated fields for "
                             f"{len(header)} columns")
        raw = {h: (fields[j].strip() if j < len(fields) else "") for j, h in enumerate(header)}
        row = _check_row(raw, f"{path} line {number}", default_methods, known_methods,
                         Path(base))
        if row.name in seen:
            raise SheetError(f"{path} line {number} (data set {row.name!r}), column name: "
                             "the name is used by an earlier row")
        seen.add(row.name)
        rows.append(row)
    return rows


def _check_row(raw: dict[str, str], where: str, default_methods: list[str],
               known_methods: list[str], base: Path) -> OwnDataset:
    name = raw["name"]
    if not NAME_PATTERN.fullmatch(name):
        raise SheetError(f"{where}, column name: {name!r} is not a name (letters, digits, "
                         "'_', '.', '-')")

    def fail(column: str, what: str) -> SheetError:
        return SheetError(f"{where} (data set {name!r}), column {column}: {what}")

    data = base / raw["path"]
    if not raw["path"]:
        raise fail("path", "empty (a CSV file of points)")
    if not data.is_file():
        raise fail("path", f"no file {raw['path']}")
    header = _csv_header(data)
    columns = _split(raw.get("columns", "")) or None
    absent = [c for c in columns or () if c not in header]
    if absent:
        raise fail("columns", f"unknown column(s) {absent} in {raw['path']}; columns: {header}")
    label = raw.get("label_column", "") or None
    if label is not None and label not in header:
        raise fail("label_column", f"unknown column {label!r} in {raw['path']}; columns: "
                                   f"{header}")
    try:
        k = int(raw["k"])
    except ValueError:
        raise fail("k", f"K must be an integer >= 1, got {raw['k']!r}") from None
    if k < 1:
        raise fail("k", f"K must be an integer >= 1, got {k}")
    try:   # the whole file: non-numeric features or labels fail here, not in a job
        n = points_dataset(data, name, list(columns) if columns else None, label).n
    except ValueError as exc:
        hint = " ".join(str(exc).split()).replace("with --columns (e.g. --columns ",
                                                  "in the sheet's columns column (e.g. ")
        raise fail("columns", hint) from None
    if k > n:
        raise fail("k", f"K = {k} exceeds the {n} points of {raw['path']}")
    return OwnDataset(name=name, path=raw["path"], columns=columns, label_column=label, k=k,
                      covariance=_covariance(raw["covariance"], fail),
                      methods=_methods(raw.get("methods", ""), default_methods, known_methods,
                                       fail))


def _covariance(text: str, fail: Any) -> float | str:
    if text.lower() == ESTIMATE:
        return ESTIMATE
    try:
        sigma = float(text)
    except ValueError:
        sigma = math.nan
    if not (math.isfinite(sigma) and sigma > 0):
        raise fail("covariance", f"give a known standard deviation sigma > 0 or '{ESTIMATE}', "
                                 f"got {text!r}")
    return sigma


def _methods(text: str, default: list[str], known: list[str], fail: Any) -> tuple[str, ...]:
    methods = _split(text) or tuple(default)
    bad = [m for m in methods if m not in known]
    if bad:
        raise fail("methods", f"unknown method(s) {bad}; known: {sorted(known)}")
    if len(set(methods)) != len(methods):
        raise fail("methods", f"{list(methods)} names a method twice")
    return methods


def points_dataset(path: str | Path, name: str, columns: list[str] | None = None,
                   label_column: str | None = None) -> Dataset:
    """The points of a user CSV as a :class:`Dataset` (labels, when given, for the metrics)."""
    table = read_points_table(Path(path), label_column=label_column or LABEL_COLUMN,
                              columns=columns, required_label=label_column is not None)
    features = [f if f != LABEL_COLUMN else "label_" for f in table.feature_names]
    return Dataset(name=name, X=table.X, labels=table.labels, feature_names=features,
                   label_names=table.label_names, meta={"source": str(path)})


def record_paths(results: str, rows: list[OwnDataset], seeds: list[int]) -> list[str]:
    """Every record of the sheet: (data set, method, seed)."""
    return [f"{results}/{RESULTS_DIR}/{r.name}/{m}/seed{s}.json"
            for r in rows for m in r.methods for s in seeds]
