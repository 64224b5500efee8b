"""scripts/compare_builds.py: what it ignores, and how it classifies differences between builds."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_utils import CONFIGS

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("compare_builds", ROOT / "scripts/compare_builds.py")
assert _spec is not None and _spec.loader is not None
cb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cb)


def record(status: str = "local", objective: float = 1.0, wall: float = 0.1,
           host: str = "a") -> dict:
    return {"status": status, "objective": objective, "assignment": [0, 1, 1],
            "wall_time_s": wall, "cpu_time_s": wall, "provenance": {"host": host},
            "extra": {"evaluation_time_s": wall, "mio_s": wall, "n_nodes": 3},
            "params": {"pi": [0.5, 0.5], "settings": {"time_limit_s": 5}},
            "trace": [[wall, objective, None]]}


def write_build(root: Path, records: dict[str, dict], tables: dict[str, str],
                sidecar_records: list[str]) -> Path:
    for rel, rec in records.items():
        path = root / "results/quick" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rec))
    (root / "tables").mkdir(parents=True)
    for name, text in tables.items():
        (root / "tables" / name).write_text(text)
    side = {"cells": {"a|x": {"records": [f"results/quick/{r}" for r in sidecar_records]}}}
    (root / "tables/t_clock.sources.json").write_text(json.dumps(side))
    return root


def test_classifies_time_fields_clock_dependent_runs_and_real_differences(tmp_path: Path) -> None:
    a = write_build(tmp_path / "a", {
        "s/same.json": record(),
        "s/limited.json": record("time_limit", 2.0),
        "s/changed.json": record(objective=1.0),
    }, {"t_time.csv": "x,wall_time_s\n1,0.5\n", "t_clock.csv": "x,y\n1,2.0\n",
        "t_clock.md": "| 2.0 |\n", "t_bad.csv": "x\n1\n"}, ["s/limited.json"])
    b = write_build(tmp_path / "b", {
        "s/same.json": record(wall=9.0, host="b"),      # times and provenance only
        "s/limited.json": record("optimal", 1.5, 9.0),  # stopped by the clock in build A
        "s/changed.json": record(objective=1.1),
    }, {"t_time.csv": "x,wall_time_s\n1,0.9\n", "t_clock.csv": "x,y\n1,1.5\n",
        "t_clock.md": "| 1.5 |\n", "t_bad.csv": "x\n2\n"}, ["s/limited.json"])
    records = cb.compare_records(a / "results/quick", b / "results/quick")
    assert records["results/quick/s/same.json"] == (cb.IDENTICAL, [])
    assert records["results/quick/s/limited.json"][0] == cb.CLOCK
    assert records["results/quick/s/changed.json"] == (cb.DIFFERENT, ["objective", "trace"])
    arts = cb.compare_artifacts(a, b, records)
    assert arts["tables/t_time.csv"][0] == cb.TIME_ONLY
    assert arts["tables/t_clock.csv"][0] == cb.CLOCK
    assert arts["tables/t_clock.md"][0] == cb.CLOCK          # rendered from a clock-dependent CSV
    assert arts["tables/t_bad.csv"][0] == cb.DIFFERENT       # no sidecar: unexplained
    assert arts["tables/t_clock.sources.json"][0] == cb.IDENTICAL
    assert cb.main([str(a), str(b)]) == 1
    ignoring = cb.compare_records(a / "results/quick", b / "results/quick", ("objective", "trace"))
    assert ignoring["results/quick/s/changed.json"] == (cb.IDENTICAL, [])


def test_identical_builds_pass(tmp_path: Path) -> None:
    recs = {"s/r.json": record()}
    a = write_build(tmp_path / "a", recs, {"t_clock.csv": "x\n1\n"}, ["s/r.json"])
    b = write_build(tmp_path / "b", recs, {"t_clock.csv": "x\n1\n"}, ["s/r.json"])
    assert cb.main([str(a), str(b)]) == 0


@pytest.mark.slow
def test_compat_build_matches_the_reference_build() -> None:
    """`make compat` (two builds of tests/configs/compat.yaml, before and after a refactoring):
    set COMPAT_A and COMPAT_B to the two build directories (COMPAT_IGNORE: comma-separated
    fields whose change is intended); no unexplained difference."""
    a, b = os.environ.get("COMPAT_A"), os.environ.get("COMPAT_B")
    if not (a and b):
        pytest.skip("set COMPAT_A and COMPAT_B to two builds of tests/configs/compat.yaml")
    assert (CONFIGS / "compat.yaml").exists()
    ignored = [f"--ignore-field={f}" for f in os.environ.get("COMPAT_IGNORE", "").split(",") if f]
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/compare_builds.py"), a, b,
                           *ignored], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_fields_and_columns_only_b_has_are_reported_apart(tmp_path: Path) -> None:
    new = record()
    new["metrics"] = {"accuracy": 0.5}
    a = write_build(tmp_path / "a", {"s/r.json": record()}, {"t_clock.csv": "x\n1\n"},
                    ["s/r.json"])
    b = write_build(tmp_path / "b", {"s/r.json": new}, {"t_clock.csv": "x,acc\n1,0.5\n"},
                    ["s/r.json"])
    records = cb.compare_records(a / "results/quick", b / "results/quick")
    assert records["results/quick/s/r.json"] == (cb.ADDED, ["metrics (added)"])
    assert cb.compare_artifacts(a, b, records)["tables/t_clock.csv"][0] == cb.ADDED
    assert cb.main([str(a), str(b)]) == 0


def test_a_trace_sampled_by_the_clock_is_clock_dependent_and_a_changed_path_is_not() -> None:
    """Global solvers' traces keep a row with an unchanged incumbent once per interval of wall
    time: more or fewer bound samples between the same incumbents are the clock's doing; another
    incumbent, or another last row, is not."""
    def rec(trace: list) -> dict:
        return {**record("optimal", 3.0), "trace": trace}

    a = rec([[0.1, None, -5.0], [0.2, 9.0, -5.0], [0.3, 9.0, 1.0], [0.4, 3.0, 3.0]])
    sampled = rec([[0.1, None, -5.0], [0.2, 9.0, -5.0], [0.25, 9.0, 0.5], [0.3, 9.0, 1.0],
                   [0.4, 3.0, 3.0]])
    other_path = rec([[0.1, None, -5.0], [0.2, 8.0, -5.0], [0.4, 3.0, 3.0]])
    other_end = rec([[0.1, None, -5.0], [0.2, 9.0, -5.0], [0.4, 3.0, 2.9]])
    assert cb.trace_sampled_by_the_clock(a, sampled, cb.differing_fields(a, sampled))
    assert not cb.trace_sampled_by_the_clock(a, other_path, cb.differing_fields(a, other_path))
    assert not cb.trace_sampled_by_the_clock(a, other_end, cb.differing_fields(a, other_end))
    changed = {**sampled, "objective": 2.0}
    assert not cb.trace_sampled_by_the_clock(a, changed, cb.differing_fields(a, changed))
