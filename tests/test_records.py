import json

import numpy as np
import pytest

from mixopt.io import atomic_path
from mixopt.records import RecordError, read_record, stable_view, write_record


def minimal_record(**over):
    rec = {
        "schema_version": 1, "record_id": "s/d/em/seed0", "study": "s", "dataset": "d",
        "method": "em", "seed": 0, "status": "local", "objective": np.float64(1.5),
        "lower_bound": None, "upper_bound": None, "gap": None,
        "assignment": np.array([0, 1, 1]), "params": {"k": 2, "pi": np.array([0.5, 0.5])},
        "metrics": {"accuracy": 1.0}, "wall_time_s": 0.1, "cpu_time_s": 0.1,
        "solver": {"name": "x", "version": "1", "options": {}},
        "provenance": {"package_version": "0.1", "git_commit": None, "git_dirty": None,
                       "config_hash": None, "inputs": [{"path": "a", "sha256": "0" * 64}],
                       "host": "h", "start_time": "2026-01-01T00:00:00+00:00",
                       "end_time": "2026-01-01T00:00:01+00:00"},
    }
    rec.update(over)
    return rec


def test_round_trip(tmp_path):
    path = tmp_path / "r.json"
    write_record(path, minimal_record())
    rec = read_record(path)
    assert rec["objective"] == 1.5 and rec["assignment"] == [0, 1, 1]
    assert rec["params"]["pi"] == [0.5, 0.5]


def test_non_finite_numbers_become_null(tmp_path):
    path = tmp_path / "r.json"
    write_record(path, minimal_record(status="error", objective=float("inf"), lower_bound=np.nan))
    assert read_record(path)["objective"] is None and read_record(path)["lower_bound"] is None


@pytest.mark.parametrize("status", ["local", "optimal", "approximate", "node_limit",
                                    "probabilistic", "time_limit"])
@pytest.mark.parametrize("objective", [None, float("nan"), float("inf")])
def test_a_solution_status_needs_a_finite_objective(tmp_path, status, objective):
    with pytest.raises(RecordError, match="at objective: .*(null|finite)"):
        write_record(tmp_path / "r.json", minimal_record(status=status, objective=objective))
    assert not list(tmp_path.iterdir())


def test_validate_refuses_a_record_file_with_a_null_or_nan_objective(tmp_path):
    path = tmp_path / "r.json"
    write_record(path, minimal_record())
    rec = json.loads(path.read_text())
    for bad in ("null", "NaN"):
        path.write_text(json.dumps(rec).replace('"objective": 1.5', f'"objective": {bad}'))
        with pytest.raises(RecordError, match="objective"):
            read_record(path)


@pytest.mark.parametrize(("status", "assignment"), [("time_limit", []), ("infeasible", [0, 1, 1]),
                                                    ("error", [0, 1, 1]), ("baseline", [0, 1])])
def test_statuses_without_a_solution_may_have_no_objective(tmp_path, status, assignment):
    write_record(tmp_path / "r.json", minimal_record(status=status, objective=None,
                                                     assignment=assignment))
    assert read_record(tmp_path / "r.json")["objective"] is None


@pytest.mark.parametrize(("field", "value", "where"), [
    ("status", "finished", "status"),
    ("seed", -1, "seed"),
    ("assignment", [0, -2], "assignment/1"),
])
def test_invalid_record_names_the_field(tmp_path, field, value, where):
    with pytest.raises(RecordError, match=where):
        write_record(tmp_path / "r.json", minimal_record(**{field: value}))
    assert not list(tmp_path.iterdir())


def test_missing_provenance_field_is_rejected(tmp_path):
    rec = minimal_record()
    del rec["provenance"]["host"]
    with pytest.raises(RecordError, match="host"):
        write_record(tmp_path / "r.json", rec)


def test_malformed_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    with pytest.raises(RecordError, match="not valid JSON"):
        read_record(path)


def test_interrupted_write_leaves_nothing(tmp_path):
    dest = tmp_path / "out.json"
    with pytest.raises(KeyboardInterrupt), atomic_path(dest) as tmp:
        tmp.write_text('{"partial": ')
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_stable_view_drops_only_volatile_fields():
    a = minimal_record()
    b = json.loads(json.dumps(minimal_record(wall_time_s=9.0), default=lambda o: o.tolist()))
    b["provenance"]["host"] = "other"
    a = json.loads(json.dumps(a, default=lambda o: o.tolist()))
    assert stable_view(a) == stable_view(b)
    b["objective"] = 2.0
    assert stable_view(a) != stable_view(b)


def test_atomic_writes_respect_the_umask(tmp_path):
    import os

    from mixopt.io import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def _jsonable(rec):
    return json.loads(json.dumps(rec, default=lambda o: o.tolist()))


def test_a_record_input_is_identified_by_its_stable_content(tmp_path):
    """A record read by another run (bclust reads tclust's) holds timings, so its bytes differ
    between rebuilds; its ``stable_sha256`` does not, and the stable view compares only that."""
    from mixopt.audit import input_status
    from mixopt.provenance import collect, input_entry, source_sha256

    first, again, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    write_record(first, minimal_record())
    rebuilt = minimal_record(wall_time_s=7.0)
    rebuilt["provenance"]["host"] = "elsewhere"
    write_record(again, rebuilt)
    write_record(other, minimal_record(objective=2.5))
    e1, e2, e3 = input_entry(first), input_entry(again), input_entry(other)
    assert e1["sha256"] != e2["sha256"]
    assert e1["stable_sha256"] == e2["stable_sha256"] != e3["stable_sha256"]
    data = tmp_path / "x.csv"
    data.write_text("1,2\n")
    assert set(input_entry(data)) == {"path", "sha256"}   # plain files: bytes only

    views = []
    shared = tmp_path / "input.json"
    for record_input in (first, again):   # the same input path, rebuilt in between
        shared.write_bytes(record_input.read_bytes())
        prov = collect([data, shared], None, "2026-01-01T00:00:00+00:00",
                       "2026-01-01T00:00:01+00:00")
        assert len(prov["source_sha256"]) == 64 and prov["source_sha256"] == source_sha256()
        views.append(stable_view(_jsonable(minimal_record(provenance=prov))))
    assert views[0] == views[1]
    # the audit tells a rebuilt record input from a changed one
    again.write_bytes(first.read_bytes())
    write_record(first, rebuilt)
    assert input_status(str(first), e1["sha256"], e1["stable_sha256"]).startswith("ok (rebuilt")
    write_record(first, minimal_record(objective=3.0))
    assert input_status(str(first), e1["sha256"], e1["stable_sha256"]) == "CHANGED since the run"


def test_every_record_names_the_environment_lock(tmp_path):
    """The lock's sha256 when mixopt runs from its source tree; null with the reason elsewhere."""
    from pathlib import Path

    from mixopt.audit import lock_line
    from mixopt.provenance import collect, lock_state, sha256_file

    lock = Path(__file__).resolve().parents[1] / "requirements" / "lock.txt"
    prov = collect([], None, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00")
    assert prov["environment_lock_sha256"] == sha256_file(lock)
    assert "environment_lock_reason" not in prov
    write_record(tmp_path / "r.json", minimal_record(provenance=prov))   # the schema allows it
    assert lock_line(prov) == sha256_file(lock)

    sha, reason = lock_state(tmp_path)   # an installed copy: no source tree around it
    assert sha is None and "outside its source tree" in reason
    (tmp_path / "pyproject.toml").write_text("")
    assert lock_state(tmp_path)[1].endswith("has no requirements/lock.txt")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "lock.txt").write_text("x==1\n")
    assert lock_state(tmp_path) == (sha256_file(tmp_path / "requirements" / "lock.txt"), None)
    prov.update(environment_lock_sha256=None, environment_lock_reason=reason)
    write_record(tmp_path / "s.json", minimal_record(provenance=prov))
    assert lock_line(prov) == f"none ({reason})"
    assert lock_line({}).startswith("not recorded")
