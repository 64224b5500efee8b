"""Compare the artifacts of two builds of the workflow (e.g. before and after a refactoring).

Usage: ``python scripts/compare_builds.py BUILD_A BUILD_B [--profile quick]``

Run records are matched by path under ``results/<profile>/`` and compared field by field, except
what is expected to differ between two runs of the same code: ``provenance`` (code identity,
hosts, dates), the measured times (``wall_time_s``, ``cpu_time_s``, any other key ending in
``_s`` that is not a limit or a budget, ``seconds``) and the time column of ``trace``. A
record that differs only by fields B has and A has not is **fields added in B** (new metrics or
details: what A computed is unchanged). A differing record is **clock-dependent** when either
build's run stopped at a wall-clock limit (status ``time_limit``): where a solver stops then
depends on the machine's load, not on the code; or when only its ``trace`` differs, with the
same incumbents and the same last row (the global solvers' recorder samples the bound by the
clock).

Every other file under ``tables/``, ``figures/`` and ``reports/`` is compared with its
counterpart: byte-identical; else CSVs cell by cell, time columns skipped (**time columns
only** when nothing else differs; **fields added in B** when B only adds columns); a file
rendered from a CSV (``.md``, ``.tex``, ``.html``, ``.png``, the ``.sources.json`` sidecar)
inherits that CSV's class; a sidecar whose CSV is identical takes its records' class (**record
hashes only** when they compare identical: the hashes cover provenance). A differing artifact is
clock-dependent when the records its sidecar lists differ only clock-dependently.

Exit status 1 when anything differs that is not explained by time columns, added fields or
clock-dependent records. ``--common``: compare only the files both builds hold (a partial
build); the others are counted, not failed. ``--ignore-field FIELD``: a record field whose
change between A and B is intended (e.g. a note that names a moved module).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

IGNORED_FIELDS = ("provenance",)
TIME_COLUMN_WORDS = ("time", "t(s)", "seconds", "wall", "cpu")
ARTIFACT_DIRS = ("tables", "figures", "reports")
#: Classes of a compared file, in order of gravity.
IDENTICAL, TIME_ONLY, HASHES, ADDED, CLOCK, DIFFERENT = (
    "identical", "time columns only", "record hashes only", "fields added in B",
    "clock-dependent", "DIFFERENT")
NESTED = ("extra", "params", "solver", "metrics")


def _is_time_key(key: str) -> bool:
    """A measured duration in seconds (``*_s`` or ``seconds``; not a configured limit or
    budget)."""
    k = key.lower()
    return k == "seconds" or (k.endswith("_s") and "limit" not in k and "budget" not in k)


def _same(a: Any, b: Any, rtol: float = 1e-12) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, rtol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], rtol) for k in a)
    return a == b


def _strip_times(value: Any) -> Any:
    """``value`` without measured durations (dict keys) at any depth."""
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items() if not _is_time_key(k)}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """What a record computed: everything but provenance, measured times and trace times."""
    out = {k: _strip_times(v) for k, v in record.items()
           if k not in IGNORED_FIELDS and not _is_time_key(k)}
    if isinstance(out.get("trace"), list):
        out["trace"] = [row[1:] if isinstance(row, list) else row for row in out["trace"]]
    return out


def differing_fields(a: dict[str, Any], b: dict[str, Any],
                     ignored: tuple[str, ...] = ()) -> list[str]:
    """Top-level fields (:data:`NESTED` ones: second level) that differ; a key only B has is
    marked ``(added)``, one only A has ``(removed)``."""
    ca, cb = comparable(a), comparable(b)
    fields = []
    for key in sorted(ca.keys() | cb.keys()):
        va, vb = ca.get(key), cb.get(key)
        if _same(va, vb):
            continue
        if isinstance(va, dict) and isinstance(vb, dict) and key in NESTED:
            fields += [f"{key}.{k}" + (" (added)" if k not in va else " (removed)"
                                       if k not in vb else "")
                       for k in sorted(va.keys() | vb.keys())
                       if k not in va or k not in vb or not _same(va[k], vb[k])]
        else:
            fields.append(key + (" (added)" if key not in ca else " (removed)"
                                 if key not in cb else ""))
    return [f for f in fields if f.split(" ")[0] not in ignored]


def _incumbents(trace: list[Any]) -> list[Any]:
    """The trace's incumbent values with repeats in a row removed."""
    out: list[Any] = []
    for row in trace:
        if isinstance(row, list) and len(row) > 1 and (not out or not _same(out[-1], row[1])):
            out.append(row[1])
    return out


def trace_sampled_by_the_clock(a: dict[str, Any], b: dict[str, Any], fields: list[str]) -> bool:
    """True when two records differ only in ``trace`` (besides added fields) and their traces
    have the same sequence of incumbents and the same last row: the rows between differ only in
    when the global solvers' trace recorder sampled the bound (it keeps a row with an unchanged
    incumbent once per interval of wall-clock time)."""
    if [f for f in fields if not f.endswith(" (added)")] != ["trace"]:
        return False
    ta, tb = a.get("trace"), b.get("trace")
    if not (isinstance(ta, list) and isinstance(tb, list) and ta and tb):
        return False
    return _incumbents(ta) == _incumbents(tb) and _same(ta[-1][1:], tb[-1][1:])


def compare_records(a_dir: Path, b_dir: Path,
                    ignored: tuple[str, ...] = ()) -> dict[str, tuple[str, list[str]]]:
    """Record path (relative to the build root) -> (class, differing fields); fields named in
    ``ignored`` (``notes``, ``solver.version``) are not compared."""
    out: dict[str, tuple[str, list[str]]] = {}
    a_files = {p.relative_to(a_dir) for p in a_dir.rglob("*.json")}
    b_files = {p.relative_to(b_dir) for p in b_dir.rglob("*.json")}
    prefix = Path(a_dir.parent.name) / a_dir.name
    for rel in sorted(a_files ^ b_files):
        out[str(prefix / rel)] = (DIFFERENT, [f"only in {'A' if rel in a_files else 'B'}"])
    for rel in sorted(a_files & b_files):
        ra, rb = (json.loads((d / rel).read_text()) for d in (a_dir, b_dir))
        fields = differing_fields(ra, rb, ignored)
        if not fields:
            cls = IDENTICAL
        elif all(f.endswith(" (added)") for f in fields):
            cls = ADDED
        elif "time_limit" in (ra.get("status"), rb.get("status")) or \
                trace_sampled_by_the_clock(ra, rb, fields):
            cls = CLOCK
        else:
            cls = DIFFERENT
        out[str(prefix / rel)] = (cls, fields)
    return out


def _differing_cells(pa: Path, pb: Path) -> tuple[list[str], bool, list[str]]:
    """(differing non-time cells, whether only time columns differ, columns only B has) of two
    CSVs; A's columns are compared when B has them all (in A's order)."""
    ta, tb = pd.read_csv(pa, dtype=str), pd.read_csv(pb, dtype=str)
    added = [c for c in tb.columns if c not in ta.columns]
    if [c for c in tb.columns if c in ta.columns] != list(ta.columns) or len(ta) != len(tb):
        return ["shape or columns differ"], False, added
    tb = tb[list(ta.columns)]
    cells = []
    for col in ta.columns:
        if any(w in col.lower() for w in TIME_COLUMN_WORDS):
            continue
        bad = (ta[col].fillna("") != tb[col].fillna("")).to_numpy().nonzero()[0]
        cells += [f"row {row} column {col!r}: {ta[col][row]!r} vs {tb[col][row]!r}"
                  for row in bad]
    return cells, not cells, added


def _sidecar_records(root: Path, stem: Path) -> set[str] | None:
    """Records listed by the sidecar ``<stem>.sources.json`` (None without a sidecar)."""
    side = root / f"{stem}.sources.json"
    if not side.exists():
        return None
    data = json.loads(side.read_text())
    found: set[str] = set()
    for cell in data.get("cells", {}).values():
        if isinstance(cell, dict):
            found.update(cell.get("records", []) or [])
            if cell.get("selected"):
                found.add(cell["selected"])
    return found


def _sidecar_class(root: Path, stem: Path,
                   records: dict[str, tuple[str, list[str]]]) -> tuple[str, str]:
    """Class of a sidecar whose CSV is identical: that of its records' differences."""
    listed = _sidecar_records(root, stem) or set()
    classes = {records.get(r, (DIFFERENT, []))[0] for r in listed}
    for cls in (DIFFERENT, CLOCK, ADDED):
        if cls in classes:
            return cls, f"record hashes ({cls} records)"
    # the stable hash of a record covers its provenance (code version): it differs between
    # commits even when the record compares identical
    return HASHES, "its CSV and records are identical"


def _stem(rel: Path) -> Path:
    name = rel.name
    for suffix in (".sources.json", ".csv", ".md", ".tex", ".html", ".png", ".pdf", ".svg"):
        if name.endswith(suffix):
            return rel.with_name(name[: -len(suffix)])
    return rel.with_suffix("")


def _csv_of(root: Path, rel: Path) -> Path | None:
    """The CSV an artifact file is rendered from (same stem; reports/tables/x.html: tables/x)."""
    stem = _stem(rel)
    for cand in (stem, Path("tables") / stem.name):
        if (root / f"{cand}.csv").exists():
            return cand
    return None


def compare_artifacts(a_root: Path, b_root: Path,
                      records: dict[str, tuple[str, list[str]]]) -> dict[str, tuple[str, str]]:
    """Artifact file (relative path) -> (class, detail)."""
    out: dict[str, tuple[str, str]] = {}
    csv_class: dict[Path, tuple[str, str]] = {}

    def by_records(stem: Path) -> tuple[str, str]:
        listed = _sidecar_records(a_root, stem)
        if listed is None:
            return DIFFERENT, "no sidecar to trace its records"
        classes = Counter(records.get(r, (DIFFERENT, []))[0] for r in listed)
        if classes[DIFFERENT]:
            return DIFFERENT, f"{classes[DIFFERENT]} of its records differ"
        if classes[CLOCK]:
            return CLOCK, f"{classes[CLOCK]} of its {len(listed)} records are time-limited runs"
        return DIFFERENT, "its records are identical"

    def classify_csv(stem: Path) -> tuple[str, str]:
        if stem not in csv_class:
            pa, pb = a_root / f"{stem}.csv", b_root / f"{stem}.csv"
            if not pb.exists():
                csv_class[stem] = (DIFFERENT, "only in A")
            elif pa.read_bytes() == pb.read_bytes():
                csv_class[stem] = (IDENTICAL, "")
            else:
                cells, time_only, added = _differing_cells(pa, pb)
                if time_only and added:
                    csv_class[stem] = (ADDED, f"columns {added}")
                elif time_only:
                    csv_class[stem] = (TIME_ONLY, "")
                else:
                    cls, why = by_records(stem)
                    csv_class[stem] = (cls, f"{len(cells)} cells ({why}); first: {cells[0]}")
        return csv_class[stem]

    a_files = {p.relative_to(a_root) for d in ARTIFACT_DIRS for p in (a_root / d).rglob("*")
               if p.is_file()}
    b_files = {p.relative_to(b_root) for d in ARTIFACT_DIRS for p in (b_root / d).rglob("*")
               if p.is_file()}
    for rel in sorted(a_files ^ b_files):
        out[str(rel)] = (DIFFERENT, f"only in {'A' if rel in a_files else 'B'}")
    for rel in sorted(a_files & b_files):
        if (a_root / rel).read_bytes() == (b_root / rel).read_bytes():
            out[str(rel)] = (IDENTICAL, "")
            continue
        stem = _csv_of(a_root, rel)
        if rel.suffix == ".csv" and stem is not None:
            out[str(rel)] = classify_csv(stem)
        elif stem is not None:
            cls, why = classify_csv(stem)
            if cls == IDENTICAL and rel.name.endswith(".sources.json"):
                # the sidecar holds hashes of its records: they change with added fields too
                cls, why = _sidecar_class(a_root, stem, records)
            elif cls == IDENTICAL:  # rendered file differs although its data does not
                cls, why = DIFFERENT, "its CSV is identical"
            out[str(rel)] = (cls, f"rendered from {stem}.csv ({cls})" if cls != DIFFERENT
                             else why)
        else:
            out[str(rel)] = (DIFFERENT, "no CSV to compare cell by cell")
    return out


def summary(classes: dict[str, tuple[str, Any]]) -> str:
    counts = Counter(cls for cls, _ in classes.values())
    return ", ".join(f"{counts[c]} {c}" for c in (IDENTICAL, TIME_ONLY, HASHES, ADDED, CLOCK,
                                                   DIFFERENT)
                     if counts[c] or c in (IDENTICAL, DIFFERENT))


def _drop_one_sided(classes: dict[str, tuple[str, Any]], what: str) -> dict[str, tuple[str, Any]]:
    """``classes`` without the files only one build holds (their number printed)."""
    kept = {k: v for k, v in classes.items() if not str(v[1]).startswith(("only in", "['only in"))}
    print(f"{len(classes) - len(kept)} {what} in one build only (not compared)")
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_a", type=Path)
    parser.add_argument("build_b", type=Path)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--common", action="store_true",
                        help="compare only the files both builds hold")
    parser.add_argument("--ignore-field", action="append", default=[], metavar="FIELD",
                        help="a record field whose change is intended between A and B (e.g. "
                             "notes, solver.version); repeatable")
    args = parser.parse_args(argv)
    records = compare_records(args.build_a / "results" / args.profile,
                              args.build_b / "results" / args.profile,
                              tuple(args.ignore_field))
    if args.ignore_field:
        print(f"not compared (intended changes): {', '.join(args.ignore_field)}")
    if args.common:
        records = _drop_one_sided(records, "records")
    print(f"{len(records)} records: {summary(records)}")
    for path, (cls, fields) in records.items():
        if cls != IDENTICAL:
            print(f"  [{cls}] {path}: {', '.join(fields)}")
    artifacts = compare_artifacts(args.build_a, args.build_b, records)
    if args.common:
        artifacts = _drop_one_sided(artifacts, "table, figure and report files")
    print(f"{len(artifacts)} table, figure and report files: {summary(artifacts)}")
    for path, (cls, detail) in artifacts.items():
        if cls != IDENTICAL:
            print(f"  [{cls}] {path}" + (f": {detail}" if detail else ""))
    bad = [c for c, _ in [*records.values(), *artifacts.values()] if c == DIFFERENT]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
