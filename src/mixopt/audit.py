"""Answer "where did this number come from?" for any cell of a table built from run records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mixopt.provenance import record_stable_sha256, sha256_file
from mixopt.records import read_record
from mixopt.report.sources import cell_key, read_sources


def audit_cell(artifact_path: str | Path, row: str, col: str) -> dict[str, Any]:
    """The sidecar entry of one cell with its records loaded (raises KeyError naming known rows)."""
    sources = read_sources(artifact_path)
    key = cell_key(row, col)
    cells = sources["cells"]
    if key not in cells:
        rows = sorted({k.split("|")[0] for k in cells})
        cols = sorted({k.split("|")[1] for k in cells})
        raise KeyError(f"no cell {row!r} x {col!r} in {artifact_path}; rows: {rows}; "
                       f"columns with records: {cols}")
    cell = dict(cells[key])
    cell["artifact"] = sources["artifact"]
    cell["profile"] = sources["profile"]
    cell["loaded"] = [read_record(p) for p in cell["records"]]
    return cell


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


def format_audit(cell: dict[str, Any]) -> str:
    """Human-readable report of one audited cell."""
    out = [
        f"artifact  {cell['artifact']} (profile {cell['profile']})",
        f"value     {cell.get('value')!r}   published {cell.get('published')!r}",
        f"rule      {cell.get('rule')}",
        f"selected  {cell.get('selected') or 'all records below (aggregated)'}",
        f"records   {len(cell['loaded'])}",
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
            f"    config hash {prov['config_hash']}  settings hash {prov.get('settings_hash')}",
            f"    rule {prov.get('rule')}  host {prov['host']}  "
            f"{prov['start_time']} -> {prov['end_time']}",
            f"    command {prov.get('command')}",
        ]
        for inp in prov["inputs"]:
            status = input_status(inp["path"], inp["sha256"], inp.get("stable_sha256"))
            out.append(f"    input {inp['path']}  sha256 {inp['sha256']}  ({status})")
    return "\n".join(out)
