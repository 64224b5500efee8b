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
    write_record(path, minimal_record(objective=float("inf")))
    assert read_record(path)["objective"] is None


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
