"""Answer "where did this number come from?" for any cell of a table built from run records, and
check that the number still follows from them.

For every cell the audit checks, from its sidecar (:mod:`mixopt.report.sources`):

* each member record's stable content hash against the one recorded when the artifact was built
  (a record edited or rebuilt with other results since);
* the cell's value recomputed from the records with the cell's recipe against the sidecar's value
  (and, for a ``selected`` recipe, the selected record);
* the value printed in the table's CSV against the sidecar's value.

Every disagreement is one line starting with ``MISMATCH`` that names the cell and the record or
table; ``mixopt audit`` then exits 1.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from mixopt.provenance import record_stable_sha256, sha256_file
from mixopt.records import RecordError, read_record
from mixopt.report.sources import cell_key, read_sources, sources_path

# Relative tolerance between a recomputed value and the sidecar's (same arithmetic, other order).
VALUE_RTOL = 1e-9


class AuditCache:
    """Records, their stable hashes and table rows read once per audit run."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any] | str] = {}   # path -> record or error text
        self.hashes: dict[str, str | None] = {}
        self.tables: dict[Path, list[dict[str, str]] | str] = {}

    def record(self, path: str) -> dict[str, Any] | str:
        """The record at ``path``, or why it cannot be read."""
        if path not in self.records:
            try:
                self.records[path] = read_record(path)
            except RecordError as exc:
                self.records[path] = str(exc)
        return self.records[path]

    def stable_hash(self, path: str) -> str | None:
        if path not in self.hashes:
            self.hashes[path] = record_stable_sha256(path)
        return self.hashes[path]

    def table(self, path: Path) -> list[dict[str, str]] | str:
        """Rows of the CSV at ``path`` as text, or why it cannot be read."""
        if path not in self.tables:
            try:
                with open(path, newline="", encoding="utf-8") as fh:
                    self.tables[path] = list(csv.DictReader(fh))
            except (OSError, csv.Error, UnicodeDecodeError) as exc:
                self.tables[path] = f"cannot read {path}: {exc}"
        return self.tables[path]


def audit_cell(artifact_path: str | Path, row: str, col: str,
               cache: AuditCache | None = None) -> dict[str, Any]:
    """The sidecar entry of one cell with its records loaded and checked.

    Raises KeyError naming the known rows and columns. The result has ``loaded`` (the readable
    records), ``checks`` (what agreed) and ``mismatches`` (``MISMATCH`` lines; empty: all agree).
    """
    sources = read_sources(artifact_path)
    key = cell_key(row, col)
    cells = sources["cells"]
    if key not in cells:
        rows = sorted({k.split("|")[0] for k in cells})
        cols = sorted({k.split("|")[1] for k in cells})
        raise KeyError(f"no cell {row!r} x {col!r} in {artifact_path}; rows: {rows}; "
                       f"columns with records: {cols}")
    cache = cache or AuditCache()
    cell = dict(cells[key])
    cell["artifact"] = sources["artifact"]
    cell["profile"] = sources["profile"]
    loaded = [cache.record(p) for p in cell["records"]]
    cell["loaded"] = [r for r in loaded if isinstance(r, dict)]
    cell["checks"], cell["mismatches"] = check_cell(sources_path(artifact_path), sources, key,
                                                    cache)
    return cell


def record_problem(path: str, hashes: dict[str, Any] | None, cache: AuditCache) -> str | None:
    """Why the member record ``path`` is not the one the artifact was built from (None: it is)."""
    rec = cache.record(path)
    if isinstance(rec, str):
        return f"record {path} cannot be read: {rec}"
    if hashes is None:
        return None   # reported once per sidecar
    now, then = cache.stable_hash(path), hashes.get(path)
    if then is None or now != then:
        return (f"record {path} differs from the one the artifact was built from (stable "
                f"sha256 {str(now)[:16]}…, sidecar {str(then)[:16]}…)")
    return None


def check_cell(sidecar: Path, sources: dict[str, Any], key: str, cache: AuditCache,
               check_records: bool = True) -> tuple[list[str], list[str]]:
    """(what agreed, ``MISMATCH`` lines) for the cell ``key`` of the sidecar ``sidecar``;
    ``check_records=False``: the caller reports the records (and the missing hashes) itself."""
    cell = sources["cells"][key]
    ok: list[str] = []
    bad: list[str] = []
    hashes = sources.get("record_stable_sha256")
    if hashes is None and check_records:
        bad.append(f"MISMATCH cell {key}: {sidecar} holds no record hashes (written by an older "
                   "mixopt): rebuild the artifact")
    records: list[dict[str, Any]] = []
    for path in cell.get("records", []):
        rec, problem = cache.record(path), record_problem(path, hashes, cache)
        if isinstance(rec, dict):
            records.append(rec)
        if problem is not None:
            bad += [f"MISMATCH cell {key}: {problem}"] if check_records else []
        elif hashes is not None:
            ok.append(f"record {path}: content as built (stable sha256 {hashes[path][:16]}…)")
    if len(records) == len(cell.get("records", [])) and "recipe" in cell:
        good, wrong = _check_recipe(key, cell, records)
        ok += good
        bad += wrong
    elif "recipe" not in cell:
        ok.append("value: not recomputed (no recipe; see the rule)")
    if "table_cell" in cell and "table" in sources:
        good, wrong = _check_table(key, cell, sidecar.parent / sources["table"]["path"],
                                   sources["table"].get("float_format"), cache)
        ok += good
        bad += wrong
    return ok, bad


# ------------------------------------------------------------------------------------ recipes
def field_value(record: dict[str, Any], field: str) -> Any:
    """The value of a dotted field (``metrics.ari``) of a record (None when absent)."""
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _finite(values: list[Any]) -> list[float]:
    return [float(v) for v in values
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]


def recompute(recipe: dict[str, Any], records: list[dict[str, Any]]
              ) -> tuple[Any, str | None]:
    """(value, selected record path or None) of a recipe (:func:`mixopt.report.sources.recipe`)
    over ``records``; raises ValueError for a recipe that does not fit them."""
    from mixopt.report.table2 import select_record

    aggregate, field = recipe["aggregate"], recipe.get("field")
    selected = None
    if aggregate == "null":
        return None, None
    if aggregate == "single":
        if len(records) != 1:
            raise ValueError(f"recipe 'single' needs one record, the cell has {len(records)}")
        value = field_value(records[0], field)
    elif aggregate == "selected":
        chosen = select_record(records)
        selected = chosen["_path"]
        value = field_value(chosen, field)
    elif aggregate == "mean":
        values = _finite([field_value(r, field) for r in records])
        value = sum(values) / len(values) if values else None
    else:
        raise ValueError(f"unknown aggregate {aggregate!r}")
    if value is not None and "scale" in recipe:
        value = float(value) * recipe["scale"]
    return value, selected


def same_value(a: Any, b: Any) -> bool:
    """Equal, numbers up to :data:`VALUE_RTOL`; None and NaN both mean 'no value'."""
    def missing(v: Any) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if numbers:
        return math.isclose(float(a), float(b), rel_tol=VALUE_RTOL, abs_tol=1e-12)
    return bool(a == b)


def _parts(cell: dict[str, Any], spec: Any) -> list[tuple[str | None, Any, Any]]:
    """(value key or None, sidecar value, spec) per part of a cell (dict values: one per key)."""
    value = cell.get("value")
    if isinstance(spec, dict) and not ("aggregate" in spec or "row" in spec):
        return [(k, value.get(k) if isinstance(value, dict) else None, s)
                for k, s in spec.items()]
    return [(None, value, spec)]


def _check_recipe(key: str, cell: dict[str, Any], records: list[dict[str, Any]]
                  ) -> tuple[list[str], list[str]]:
    ok, bad = [], []
    for part, stated, spec in _parts(cell, cell["recipe"]):
        name = f"{key} [{part}]" if part else key
        try:
            value, selected = recompute(spec, records)
        except (ValueError, KeyError, TypeError) as exc:
            bad.append(f"MISMATCH cell {name}: cannot recompute the value ({exc})")
            continue
        how = f"{spec['aggregate']} {spec.get('field')}"
        if selected is not None and cell.get("selected") not in (None, selected):
            bad.append(f"MISMATCH cell {name}: the records select {selected} but the sidecar "
                       f"says {cell['selected']}")
        if same_value(value, stated):
            ok.append(f"value{f' {part}' if part else ''} {stated!r} = {how} of the records")
        else:
            bad.append(f"MISMATCH cell {name}: the records give {value!r} ({how}) but the "
                       f"sidecar says {stated!r}")
    return ok, bad


# ------------------------------------------------------------------------------------ table
def _row_matches(row: dict[str, str], want: dict[str, Any]) -> bool:
    for col, value in want.items():
        text = row.get(col)
        if text is None:
            return False
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                if float(text) != float(value):
                    return False
            except ValueError:
                return False
        elif text != str(value):
            return False
    return True


def printed_matches(text: str, value: Any, float_format: str | None) -> bool:
    """Does the CSV text ``text`` show ``value`` (written with ``float_format``, or exactly)?"""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text.strip() in ("", "nan", "NaN", "None")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text == str(value)
    try:
        shown = float(text)
    except ValueError:
        return False
    if float_format is not None and shown == float(float_format % value):
        return True
    return math.isclose(shown, float(value), rel_tol=VALUE_RTOL, abs_tol=0.0)


def _check_table(key: str, cell: dict[str, Any], table: Path, float_format: str | None,
                 cache: AuditCache) -> tuple[list[str], list[str]]:
    where = cell["table_cell"]
    rows = cache.table(table)
    if isinstance(rows, str):
        return [], [f"MISMATCH cell {key}: {rows}"]
    found = [r for r in rows if _row_matches(r, where["row"])]
    if len(found) != 1:
        return [], [f"MISMATCH cell {key}: {len(found)} rows of {table} match {where['row']} "
                    "(expected one)"]
    ok, bad = [], []
    column = where["column"]
    for part, stated, col in _parts(cell, column):
        name = f"{key} [{part}]" if part else key
        if col not in found[0]:
            bad.append(f"MISMATCH cell {name}: {table} has no column {col!r}")
        elif printed_matches(found[0][col], stated, float_format):
            ok.append(f"table {table} column {col}: {found[0][col]!r} as in the sidecar")
        else:
            bad.append(f"MISMATCH cell {name}: {table} column {col!r} shows "
                       f"{found[0][col]!r} but the sidecar says {stated!r}")
    return ok, bad


# ------------------------------------------------------------------------------------ all
def sidecars_under(paths: list[str | Path]) -> list[Path]:
    """Every ``*.sources.json`` under the directories (or the sidecar files) ``paths``."""
    out: list[Path] = []
    for p in map(Path, paths):
        out += [sources_path(p)] if p.is_file() else sorted(p.rglob("*.sources.json"))
    return out


def audit_all(paths: list[str | Path]) -> tuple[list[str], int]:
    """Check every cell of every sidecar under ``paths``: (report lines, number of mismatches)."""
    cache = AuditCache()
    lines: list[str] = []
    total = 0
    sidecars = sidecars_under(paths)
    if not sidecars:
        raise FileNotFoundError(f"no *.sources.json sidecar under {', '.join(map(str, paths))}")
    for sidecar in sidecars:
        try:
            sources = read_sources(sidecar)
            cells = sources["cells"]
        except (ValueError, KeyError, TypeError, OSError) as exc:
            lines.append(f"MISMATCH {sidecar}: not a readable sidecar ({exc})")
            total += 1
            continue
        bad = _record_lines(sidecar, sources, cache)
        bad += [line for key in sorted(cells)
                for line in check_cell(sidecar, sources, key, cache, check_records=False)[1]]
        total += len(bad)
        lines.append(f"{sidecar}: {len(cells)} cells, " + (mismatches(len(bad)) if bad else "ok"))
        lines += [f"  {line}" for line in bad]
    return lines, total


def mismatches(n: int) -> str:
    """'1 mismatch', '3 mismatches'."""
    return f"{n} mismatch{'' if n == 1 else 'es'}"


def _record_lines(sidecar: Path, sources: dict[str, Any], cache: AuditCache) -> list[str]:
    """One ``MISMATCH`` line per member record of a sidecar that is not as built (or one for a
    sidecar without hashes), naming how many cells use it."""
    hashes = sources.get("record_stable_sha256")
    if hashes is None:
        return [f"MISMATCH {sidecar}: holds no record hashes (written by an older mixopt): "
                "rebuild the artifact"]
    uses: dict[str, list[str]] = {}
    for key, cell in sources["cells"].items():
        for path in cell.get("records", []):
            uses.setdefault(path, []).append(key)
    lines = []
    for path, keys in sorted(uses.items()):
        problem = record_problem(path, hashes, cache)
        if problem is not None:
            cells = ", ".join(sorted(keys)[:3]) + (f" and {len(keys) - 3} more"
                                                   if len(keys) > 3 else "")
            lines.append(f"MISMATCH {problem}; used by cells {cells}")
    return lines


def input_status(path: str, recorded_sha: str, stable_sha: str | None = None) -> str:
    """'ok', 'changed since' or 'missing' for an input file named in a record; a record input
    (``stable_sha``) rebuilt since with the same content up to its timings is 'ok (rebuilt)'."""
    p = Path(path)
    if not p.exists():
        return "missing now"
    if sha256_file(p) == recorded_sha:
        return "ok"
    if stable_sha is not None and record_stable_sha256(p) == stable_sha:
        return "ok (rebuilt: same content up to timings)"
    return "CHANGED since the run"


def lock_line(prov: dict[str, Any]) -> str:
    """The environment lock's hash in a record's provenance, or why there is none."""
    if "environment_lock_sha256" not in prov:
        return "not recorded (record older than the lock)"
    return prov["environment_lock_sha256"] or f"none ({prov.get('environment_lock_reason')})"


def format_audit(cell: dict[str, Any]) -> str:
    """Human-readable report of one audited cell, ending with its checks."""
    out = [
        f"artifact  {cell['artifact']} (profile {cell['profile']})",
        f"value     {cell.get('value')!r}   published {cell.get('published')!r}",
        f"rule      {cell.get('rule')}",
        f"recipe    {cell.get('recipe')}",
        f"selected  {cell.get('selected') or 'all records below (aggregated)'}",
        f"records   {len(cell['records'])}",
    ]
    for rec in cell["loaded"]:
        prov = rec["provenance"]
        solver = rec["solver"]
        out += [
            "",
            f"- {rec['_path']}  [{rec['record_id']}]",
            f"    status {rec['status']}  objective {rec['objective']}  "
            f"bounds [{rec['lower_bound']}, {rec['upper_bound']}]  gap {rec['gap']}",
            f"    seed {rec['seed']}  wall {rec['wall_time_s']:.3f} s  "
            f"cpu {rec['cpu_time_s']:.3f} s",
            f"    solver {solver['name']} {solver['version']}  options {solver['options']}",
            f"    code mixopt {prov['package_version']}  commit {prov['git_commit']}  "
            f"dirty {prov['git_dirty']}  source sha256 {prov.get('source_sha256')}",
            f"    environment lock sha256 {lock_line(prov)}",
            f"    config hash {prov['config_hash']}  settings hash {prov.get('settings_hash')}",
            f"    rule {prov.get('rule')}  host {prov['host']}  "
            f"{prov['start_time']} -> {prov['end_time']}",
            f"    command {prov.get('command')}",
        ]
        for inp in prov["inputs"]:
            status = input_status(inp["path"], inp["sha256"], inp.get("stable_sha256"))
            out.append(f"    input {inp['path']}  sha256 {inp['sha256']}  ({status})")
    out += ["", "checks"] + [f"  ok  {line}" for line in cell.get("checks", [])]
    out += cell.get("mismatches", [])
    n_bad = len(cell.get("mismatches", []))
    out.append(f"audit: {'FAILED, ' + mismatches(n_bad) if n_bad else 'OK'}")
    return "\n".join(out)
