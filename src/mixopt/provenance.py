"""Where a number came from: code version, configuration, inputs, machine and time."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import socket
import subprocess
import sys
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mixopt
from mixopt.records import stable_view

SOURCE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".csv", ".md")

# Libraries whose versions are recorded with every run (the numerical stack that can move numbers).
TRACKED_LIBRARIES = ("numpy", "scipy", "scikit-learn", "pandas", "pyomo", "pyscipopt", "highspy",
                     "cvxpy", "clarabel", "scs", "gurobipy", "mosek")
# The exact versions of every dependency (`make lock`), relative to the project root.
LOCK_FILE = "requirements/lock.txt"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def canonical_hash(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def git_state(cwd: str | Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git work tree at ``cwd``; (None, None) outside a repository.

    ``dirty`` ignores untracked files: outputs live in ignored folders, and an untracked file cannot
    change what tracked code computes.
    """
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                                capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())


@cache
def source_sha256() -> str:
    """sha256 over the installed ``mixopt`` package's files (relative path and bytes, sorted):
    identifies the code that ran when there is no git commit (a release archive, a copy)."""
    root = Path(mixopt.__file__).parent
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix in SOURCE_SUFFIXES):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def lock_state(root: str | Path) -> tuple[str | None, str | None]:
    """(sha256, None) of the environment lock of the source tree at ``root``, or (None, why not)."""
    root = Path(root)
    if not (root / "pyproject.toml").is_file():
        return None, f"mixopt is installed outside its source tree ({root} has no pyproject.toml)"
    lock = root / LOCK_FILE
    if not lock.is_file():
        return None, f"the source tree {root} has no {LOCK_FILE}"
    return sha256_file(lock), None


@cache
def environment_lock() -> tuple[str | None, str | None]:
    """:func:`lock_state` of the source tree the running ``mixopt`` was installed from (editable
    install: ``src/mixopt`` two levels below the project root)."""
    return lock_state(Path(mixopt.__file__).resolve().parents[2])


def record_stable_sha256(path: str | Path) -> str | None:
    """Hash of the :func:`mixopt.records.stable_view` of the run record at ``path`` (equal between
    rebuilds, whose bytes differ in timings); None when the file is not a run record."""
    if not str(path).endswith(".json"):
        return None
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(rec, dict) and "record_id" in rec and "provenance" in rec):
        return None
    return canonical_hash(stable_view(rec))


def input_entry(path: str | Path) -> dict[str, str]:
    """``{"path", "sha256"}`` of an input file, and ``stable_sha256`` when it is a run record
    (:func:`record_stable_sha256`)."""
    entry = {"path": str(path), "sha256": sha256_file(path)}
    stable = record_stable_sha256(path)
    if stable is not None:
        entry["stable_sha256"] = stable
    return entry


def library_versions() -> dict[str, str]:
    """Installed versions of the tracked numerical libraries."""
    out = {}
    for name in TRACKED_LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def now_utc() -> str:
    """Current time, ISO 8601 in UTC."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def collect(
    inputs: list[str | Path],
    config_hash: str | None,
    start_time: str,
    end_time: str,
    settings: dict[str, Any] | None = None,
    rule: str | None = None,
    cwd: str | Path | None = None,
) -> dict[str, Any]:
    """Provenance block of a run record."""
    commit, dirty = git_state(cwd)
    lock_sha, lock_reason = environment_lock()
    lock = {"environment_lock_sha256": lock_sha}
    if lock_sha is None:
        lock["environment_lock_reason"] = lock_reason
    return {
        "package_version": mixopt.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "config_hash": config_hash,
        "settings_hash": canonical_hash(settings or {}),
        "source_sha256": source_sha256(),
        **lock,
        "inputs": [input_entry(p) for p in inputs],
        "host": socket.gethostname(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "start_time": start_time,
        "end_time": end_time,
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else None,
        "rule": rule,
        "libraries": library_versions(),
    }
