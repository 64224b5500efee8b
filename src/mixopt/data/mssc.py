"""The MSSC benchmark files (the SOS-SDP instances): first line ``n d``, then n rows of d numbers.

The files are registered as raw files ``mssc_<name>`` (``raw_files.yaml``) and become the
unlabelled processed data sets ``mssc_<name>`` (:mod:`mixopt.data.preprocess`), unscaled: the
benchmark's own preparation (e.g. glass scaled to [-1, 1]) is already in the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mixopt.data.dataset import Dataset

# Instance files of the benchmark: processed data set mssc_<name> <- raw file mssc_<name>.
MSSC_FILES = ("ruspini", "iris", "wine", "gr202", "seeds", "glass", "accent", "ecoli",
              "real_estate", "wholesale_std", "hungarian", "wdbc", "voice", "energy_std")


def _header(path: Path, line: str) -> tuple[int, int]:
    fields = line.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise ValueError(f"{path}: line 1: expected 'n d' (two positive integers), got {line!r}")
    n, d = int(fields[0]), int(fields[1])
    if n < 1 or d < 1:
        raise ValueError(f"{path}: line 1: n and d must be positive, got n = {n}, d = {d}")
    return n, d


def _row(path: Path, number: int, line: str, d: int) -> list[float]:
    fields = line.split()
    if len(fields) != d:
        raise ValueError(f"{path}: line {number} has {len(fields)} values, expected d = {d}")
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise ValueError(f"{path}: line {number}: non-numeric value in {fields}") from None
    if not all(np.isfinite(values)):
        raise ValueError(f"{path}: line {number}: non-finite value in {fields}")
    return values


def read_mssc(path: str | Path) -> np.ndarray:
    """The n x d points of a benchmark file; ValueError (one line, naming the file and the line)
    for a malformed one: bad header, wrong row width, non-numeric value, wrong row count."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    if not lines:
        raise ValueError(f"{path}: empty file, expected a first line 'n d'")
    n, d = _header(path, lines[0][1])
    rows = [_row(path, i, ln, d) for i, ln in lines[1:]]
    if len(rows) != n:
        raise ValueError(f"{path}: {len(rows)} data rows, the first line says n = {n}")
    return np.array(rows, dtype=np.float64).reshape(n, d)


def mssc_dataset(name: str, path: str | Path) -> Dataset:
    """The processed data set ``mssc_<name>`` of a benchmark file (no labels, no scaling)."""
    X = read_mssc(path)
    return Dataset(f"mssc_{name}", X, None, [f"x{j + 1}" for j in range(X.shape[1])], [], {
        "transformation": [f"parsed the MSSC benchmark file {Path(path).name} (first line n d, "
                           "then n rows); values as in the file, no scaling"],
    })
