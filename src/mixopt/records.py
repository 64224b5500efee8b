"""Run records: one JSON file per (study, data set, method, seed), validated against a schema.

Tables and figures are built only from records, and the audit command walks back from a table cell
to the records behind it. Writers are atomic, so a killed job leaves no partial record.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from mixopt.io import atomic_write_json, to_jsonable

SCHEMA_VERSION = 1
# Fields that legitimately differ between two rebuilds of the same record.
VOLATILE_FIELDS = ("wall_time_s", "cpu_time_s", "trace")
VOLATILE_PROVENANCE = ("host", "start_time", "end_time", "command", "platform")
# Clock readings that methods keep in ``extra`` (seconds, not results): the thesis Chapter 1 jobs
# time the evaluation of Obj after the method (``mixopt.studies.fois_ch1``).
VOLATILE_EXTRA = ("evaluation_time_s", "seconds")   # clock readings, at any depth of extra
# Statuses that report a solution: its objective must be a finite number (``time_limit`` only when
# the run returned an assignment; without one no incumbent was found).
SOLUTION_STATUSES = ("optimal", "approximate", "time_limit", "local", "node_limit",
                     "probabilistic")


class RecordError(ValueError):
    """A record file is missing, malformed or does not follow the schema."""


@cache
def record_schema() -> dict[str, Any]:
    """The JSON schema of a run record (shipped with the package)."""
    text = resources.files("mixopt.schemas").joinpath("record.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def record_id(study: str, dataset: str, method: str, seed: int) -> str:
    """Stable identifier of a run, also its relative path without ``.json``."""
    return f"{study}/{dataset}/{method}/seed{seed}"


def validate(record: dict[str, Any], source: str = "<record>") -> None:
    """Raise :class:`RecordError` naming the offending field if ``record`` breaks the schema."""
    try:
        jsonschema.validate(record, record_schema(), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise RecordError(f"{source}: invalid record at {where}: {exc.message}") from None
    problem = objective_problem(record)
    if problem is not None:
        raise RecordError(f"{source}: invalid record at objective: {problem}")


def objective_problem(record: dict[str, Any]) -> str | None:
    """Why the record's objective does not fit its status (None: it does).

    A number must be finite; a solution status needs a number (``time_limit`` only with an
    assignment). A run that could not compute its objective is recorded with status ``error``.
    """
    obj, status = record.get("objective"), record.get("status")
    if isinstance(obj, int | float) and not math.isfinite(obj):
        return f"{obj} is not a finite number"
    if obj is None and status in SOLUTION_STATUSES:
        if status == "time_limit" and not record.get("assignment"):
            return None
        return (f"status {status!r} reports a solution but the objective is null; a run that "
                "could not compute its objective has status 'error'")
    return None


def write_record(path: str | Path, record: dict[str, Any]) -> None:
    """Validate and write ``record`` atomically."""
    rec = to_jsonable(record)
    validate(rec, str(path))
    atomic_write_json(path, rec)


def read_record(path: str | Path) -> dict[str, Any]:
    """Read and validate one record."""
    try:
        rec = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RecordError(f"{path}: record not found") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read the record ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RecordError(f"{path}: not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from None
    validate(rec, str(path))
    rec["_path"] = str(path)
    return dict(rec)


def stable_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record without fields that vary between identical rebuilds (timing, host, clock)."""
    rec = {k: v for k, v in record.items() if k not in VOLATILE_FIELDS and k != "_path"}
    prov = dict(rec.get("provenance", {}))
    for key in VOLATILE_PROVENANCE:
        prov.pop(key, None)
    if isinstance(prov.get("inputs"), list):   # a record input's bytes hold its timings
        prov["inputs"] = [{k: v for k, v in item.items() if k != "sha256"}
                          if isinstance(item, dict) and "stable_sha256" in item else item
                          for item in prov["inputs"]]
    rec["provenance"] = prov
    if isinstance(rec.get("extra"), dict):
        rec["extra"] = _without_clock(rec["extra"])
    return rec


def _without_clock(value: Any) -> Any:
    """``value`` with the keys of :data:`VOLATILE_EXTRA` dropped from every nested dict."""
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in VOLATILE_EXTRA}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value
