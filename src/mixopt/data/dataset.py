"""In-memory data set and its on-disk form (CSV of points + JSON metadata beside it).

The CSV holds the features (shortest round-trip ``repr`` of every float, so reading back is
bit-identical) and a ``label`` column with the class *name* (empty = unknown). The JSON beside it
(same stem, ``.json``) holds the shape, names, label counts, provenance and transformation record.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mixopt.data.sources import ChecksumError
from mixopt.io import atomic_write_bytes, atomic_write_json, to_jsonable

LABEL_COLUMN = "label"
_RESERVED = (
    "name", "n", "d", "K", "labelled", "feature_names", "label_names", "label_counts",
    "n_unknown_labels", "csv_file", "csv_sha256",
)


def _check_names(names: list[str], what: str) -> list[str]:
    names = list(names)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{what}[{i}] must be a non-empty string, got {name!r}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{what} must be unique; duplicated: {dupes}")
    return names


@dataclass
class Dataset:
    """Points ``X`` (n x d float64) with optional integer labels (-1 = unknown) and metadata."""

    name: str
    X: np.ndarray
    labels: np.ndarray | None
    feature_names: list[str]
    label_names: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"data set name must be a non-empty string, got {self.name!r}")
        X = np.asarray(self.X)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"{self.name}: X must be a non-empty 2-d array, got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{self.name}: X must be real numeric, got dtype {X.dtype}")
        self.X = X.astype(np.float64, copy=False)
        bad = np.argwhere(~np.isfinite(self.X))
        if bad.size:
            i, j = bad[0]
            raise ValueError(f"{self.name}: X has {len(bad)} non-finite values, first at row {i}, "
                             f"column {j} ({self.X[i, j]})")
        self.feature_names = _check_names(self.feature_names, f"{self.name}: feature_names")
        if len(self.feature_names) != self.d:
            raise ValueError(
                f"{self.name}: {len(self.feature_names)} feature names for d = {self.d}"
            )
        if LABEL_COLUMN in self.feature_names:
            raise ValueError(f"{self.name}: feature name {LABEL_COLUMN!r} is reserved")
        self.label_names = _check_names(self.label_names, f"{self.name}: label_names")
        if self.labels is None:
            if self.label_names:
                raise ValueError(f"{self.name}: label_names given but labels is None")
            return
        labels = np.asarray(self.labels)
        if labels.shape != (self.n,) or labels.dtype.kind not in "iu":
            raise ValueError(f"{self.name}: labels must be an integer vector of length "
                             f"n = {self.n}, got dtype {labels.dtype} shape {labels.shape}")
        self.labels = labels.astype(np.int64, copy=False)
        out = (self.labels < -1) | (self.labels >= self.K)
        if out.any():
            i = int(np.argmax(out))
            raise ValueError(f"{self.name}: label code {self.labels[i]} at row {i} is outside "
                             f"-1..{self.K - 1} (K = {self.K})")

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Number of features."""
        return int(self.X.shape[1])

    @property
    def K(self) -> int:  # noqa: N802 - conventional name for the number of classes
        """Number of classes (``len(label_names)``)."""
        return len(self.label_names)


def _csv_bytes(ds: Dataset) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*ds.feature_names, LABEL_COLUMN])
    for i in range(ds.n):
        label = "" if ds.labels is None or ds.labels[i] < 0 else ds.label_names[ds.labels[i]]
        writer.writerow([repr(float(v)) for v in ds.X[i]] + [label])
    return buf.getvalue().encode("utf-8")


def write_dataset(ds: Dataset, csv_path: Path) -> None:
    """Write ``csv_path`` and its ``.json`` metadata (both atomically)."""
    csv_path = Path(csv_path)
    clash = sorted(set(ds.meta) & set(_RESERVED))
    if clash:
        raise ValueError(f"{ds.name}: meta keys {clash} are reserved for the metadata file")
    data = _csv_bytes(ds)
    labelled = ds.labels is not None
    codes = ds.labels if labelled else np.empty(0, dtype=np.int64)
    record: dict[str, Any] = {"transformation": [], "sources": [], **to_jsonable(ds.meta)}
    record.update(
        name=ds.name, n=ds.n, d=ds.d, K=ds.K, labelled=labelled,
        feature_names=ds.feature_names, label_names=ds.label_names,
        label_counts={nm: int(np.sum(codes == k)) for k, nm in enumerate(ds.label_names)},
        n_unknown_labels=int(np.sum(codes < 0)),
        csv_file=csv_path.name, csv_sha256=hashlib.sha256(data).hexdigest(),
    )
    atomic_write_bytes(csv_path, data)
    atomic_write_json(csv_path.with_suffix(".json"), record)


def read_dataset(csv_path: Path) -> Dataset:
    """Read a data set written by :func:`write_dataset` (checks the CSV's sha256)."""
    csv_path = Path(csv_path)
    record = json.loads(csv_path.with_suffix(".json").read_text(encoding="utf-8"))
    data = csv_path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if record.get("csv_sha256") not in (None, actual):
        raise ChecksumError(f"{csv_path}: sha256 {actual} differs from the metadata's "
                            f"{record['csv_sha256']}")
    feature_names, label_names = record["feature_names"], record["label_names"]
    codes = {nm: k for k, nm in enumerate(label_names)}
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not rows or rows[0] != [*feature_names, LABEL_COLUMN]:
        raise ValueError(f"{csv_path}: header does not match the metadata's feature names")
    X = np.empty((len(rows) - 1, len(feature_names)))
    labels = np.full(len(rows) - 1, -1, dtype=np.int64)
    for i, row in enumerate(rows[1:]):
        X[i] = [float(v) for v in row[:-1]]
        if row[-1]:
            if row[-1] not in codes:
                raise ValueError(f"{csv_path}: row {i + 2} has unknown label {row[-1]!r}")
            labels[i] = codes[row[-1]]
    meta = {k: v for k, v in record.items() if k not in _RESERVED}
    return Dataset(record["name"], X, labels if record["labelled"] else None,
                   feature_names, label_names, meta)


def _label_sort_key(value: str) -> tuple[int, int, str]:
    try:
        return (0, int(value), value)
    except ValueError:
        return (1, 0, value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class PointsTable:
    """Points read from a user CSV: features, optional labels and optional row ids."""

    X: np.ndarray
    labels: np.ndarray | None
    feature_names: list[str]
    label_names: list[str]
    ids: list[str] | None = None
    id_column: str | None = None


def read_points_csv(
    path: Path, label_column: str | None = LABEL_COLUMN, has_header: bool = True
) -> tuple[np.ndarray, np.ndarray | None, list[str], list[str]]:
    """Read user points: a header, numeric feature columns and an optional label column.

    Returns ``(X, labels, feature_names, label_names)``; see :func:`read_points_table`.
    """
    t = read_points_table(path, label_column=label_column, has_header=has_header)
    return t.X, t.labels, t.feature_names, t.label_names


def _non_numeric_columns(header: list[str], rows: list[tuple[int, list[str]]],
                         cols: list[int]) -> tuple[list[str], str]:
    """Names of the columns among ``cols`` holding a non-empty value that is not a number, and
    where the first such value is."""
    bad: list[str] = []
    first = ""
    for line, r in rows:
        for j in cols:
            if len(r) == len(header) and r[j].strip() and not _is_number(r[j].strip()):
                if header[j] not in bad:
                    bad.append(header[j])
                first = first or (f"non-numeric value {r[j].strip()!r} in column "
                                  f"{header[j]!r} at line {line}")
    return [header[j] for j in cols if header[j] in bad], first


def read_points_table(
    path: Path,
    label_column: str | None = LABEL_COLUMN,
    has_header: bool = True,
    columns: list[str] | None = None,
    id_column: str | None = "id",
    required_label: bool = False,
) -> PointsTable:
    """Read user points: a header, numeric feature columns, an optional label and id column.

    Labels may be any strings; codes follow the sorted unique values (integers numerically, then
    other strings), empty = unknown (-1). ``labels`` is None when there is no label column or it
    is entirely empty (``required_label``: a missing ``label_column`` is an error).

    ``columns`` picks the features by name (other columns are ignored, text or not); without it
    every column but the label and the id column is a feature, and non-numeric ones are refused
    with a hint naming them. ``id_column``, when present, is returned as ``ids`` (strings).

    A first line of numbers only is refused (it would be taken as column names and the point
    lost); ``has_header=False`` reads a file without one: every column is a feature ``x1, x2, ...``.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory, expected a CSV file of points")
    text = path.read_text(encoding="utf-8-sig")
    first = next(csv.reader(io.StringIO(text)), None)
    if not has_header and first is not None:   # generated names; line numbers stay the file's
        text = ",".join(f"x{j + 1}" for j in range(len(first))) + "\n" + text
        label_column = id_column = None
    reader = csv.reader(io.StringIO(text))
    shift = 0 if has_header else 1
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise ValueError(f"{path}: empty file (expected a header line)")
    header = [h.strip() for h in header]
    if has_header and all(_is_number(h) for h in header):
        raise ValueError(f"{path}: the first line {','.join(header)!r} holds numbers, not "
                         "column names; add a header line (e.g. x1,x2,label) or pass --no-header")
    for j, name in enumerate(header):
        if not name:
            raise ValueError(f"{path}: column {j + 1} has an empty name in the header")
    _check_names(header, f"{path}: header")
    if required_label and label_column not in header:
        raise ValueError(f"{path}: no label column {label_column!r}; columns: {header}")
    lab = header.index(label_column) if label_column in header else None
    idc = header.index(id_column) if id_column in header and id_column != label_column else None
    rows = [(reader.line_num - shift, row) for row in reader if any(f.strip() for f in row)]
    if columns is not None:
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; columns: {header}")
        if len(set(columns)) != len(columns):
            raise ValueError(f"columns {columns} name a column twice")
        clash = [c for c in columns if c in (label_column, id_column)]
        if clash:
            raise ValueError(f"column(s) {clash} are the label or id column, not features")
        numeric = [header.index(c) for c in columns]
    else:
        numeric = [j for j in range(len(header)) if j not in (lab, idc)]
        text_cols, first = _non_numeric_columns(header, rows, numeric)
        if text_cols:
            keep = ",".join(header[j] for j in numeric if header[j] not in text_cols)
            raise ValueError(f"{path}: {first}; non-numeric column(s) {text_cols}: pick the "
                             f"feature columns with --columns (e.g. --columns {keep or 'x1,x2'})")
    if not numeric:
        raise ValueError(f"{path}: no numeric feature columns")
    values: list[list[float]] = []
    raw_labels: list[str] = []
    ids: list[str] = []
    for line, row in rows:
        if len(row) != len(header):
            raise ValueError(f"{path}: line {line} has {len(row)} fields, header has {len(header)}")
        point = []
        for j in numeric:
            text = row[j].strip()
            if not text:
                raise ValueError(f"{path}: missing value in column {header[j]!r} at line {line}")
            try:
                x = float(text)
            except ValueError:
                raise ValueError(f"{path}: non-numeric value {text!r} in column {header[j]!r} "
                                 f"at line {line}") from None
            if not math.isfinite(x):
                raise ValueError(f"{path}: non-finite value {text!r} in column {header[j]!r} "
                                 f"at line {line}")
            point.append(x)
        values.append(point)
        if lab is not None:
            raw_labels.append(row[lab].strip())
        if idc is not None:
            ids.append(row[idc].strip())
    if not values:
        raise ValueError(f"{path}: no data rows after the header")
    X = np.asarray(values, dtype=np.float64)
    feature_names = [header[j] for j in numeric]
    id_info = (ids, header[idc]) if idc is not None else (None, None)
    label_names = sorted({v for v in raw_labels if v}, key=_label_sort_key)
    if not label_names:
        return PointsTable(X, None, feature_names, [], *id_info)
    codes = {nm: k for k, nm in enumerate(label_names)}
    labels = np.array([codes.get(v, -1) for v in raw_labels], dtype=np.int64)
    return PointsTable(X, labels, feature_names, label_names, *id_info)
