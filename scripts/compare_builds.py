"""Compare the artifacts of two builds of the workflow (e.g. before and after a refactoring).

Usage: ``python scripts/compare_builds.py BUILD_A BUILD_B [--profile quick]``

Run records are matched by path under ``results/<profile>/`` and compared on what they computed
(status, objective, bounds, gap, assignment, parameters, metrics); code identity, timings and
hosts are expected to differ. A record stopped by a wall-clock limit (status ``time_limit``) is
reported apart: where a solver stops depends on the machine's load, not on the code. Tables and
figure CSVs are compared cell by cell, skipping time columns. Exit status 1 when a record that
does not depend on the clock differs, or a table cell other than a time or a cell of a
time-limited run differs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

COMPARED_FIELDS = ("status", "objective", "lower_bound", "upper_bound", "gap", "assignment",
                   "metrics")
TIME_COLUMN_WORDS = ("time", "t(s)", "seconds", "wall", "cpu")


def _same(a: Any, b: Any, rtol: float = 1e-12) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, rtol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], rtol) for k in a)
    return a == b


def compare_records(a_dir: Path, b_dir: Path) -> tuple[list[str], list[str], int]:
    """(differences, clock-dependent differences, records compared)."""
    diffs, clock = [], []
    a_files = {p.relative_to(a_dir) for p in a_dir.rglob("*.json")}
    b_files = {p.relative_to(b_dir) for p in b_dir.rglob("*.json")}
    for missing in sorted(a_files ^ b_files):
        diffs.append(f"only in {'A' if missing in a_files else 'B'}: {missing}")
    for rel in sorted(a_files & b_files):
        ra, rb = (json.loads((d / rel).read_text()) for d in (a_dir, b_dir))
        fields = [f for f in COMPARED_FIELDS if not _same(ra.get(f), rb.get(f))]
        pa, pb = ra.get("params", {}), rb.get("params", {})
        fields += [f"params.{f}" for f in ("pi", "mu") if not _same(pa.get(f), pb.get(f))]
        if fields:
            line = f"{rel}: {', '.join(fields)} differ"
            time_limited = "time_limit" in (ra.get("status"), rb.get("status"))
            (clock if time_limited else diffs).append(line)
    return diffs, clock, len(a_files & b_files)


def compare_tables(a_root: Path, b_root: Path) -> list[str]:
    diffs = []
    for sub in ("tables", "figures", "reports"):
        for pa in sorted((a_root / sub).rglob("*.csv")):
            rel = pa.relative_to(a_root)
            pb = b_root / rel
            if not pb.exists():
                diffs.append(f"only in A: {rel}")
                continue
            ta, tb = pd.read_csv(pa, dtype=str), pd.read_csv(pb, dtype=str)
            if list(ta.columns) != list(tb.columns) or ta.shape != tb.shape:
                diffs.append(f"{rel}: shape or columns differ")
                continue
            for col in ta.columns:
                if any(w in col.lower() for w in TIME_COLUMN_WORDS):
                    continue
                bad = (ta[col].fillna("") != tb[col].fillna("")).to_numpy().nonzero()[0]
                for row in bad[:3]:
                    diffs.append(f"{rel}: row {row} column {col!r}: {ta[col][row]!r} vs "
                                 f"{tb[col][row]!r}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_a", type=Path)
    parser.add_argument("build_b", type=Path)
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args(argv)
    diffs, clock, n = compare_records(args.build_a / "results" / args.profile,
                                      args.build_b / "results" / args.profile)
    print(f"{n} records compared: {len(diffs)} differ, {len(clock)} time-limited runs differ "
          "(clock-dependent)")
    for line in diffs + [f"(time-limited) {c}" for c in clock]:
        print(f"  {line}")
    cells = compare_tables(args.build_a, args.build_b)
    print(f"table and figure CSVs: {len(cells)} differing cells (time columns skipped)")
    for line in cells:
        print(f"  {line}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
