"""Atomic file output: a reader never sees a half-written file.

Every artifact (raw download, processed data set, run record, table, figure) is written to a
temporary file in the destination directory and moved into place with ``os.replace``, which is
atomic on POSIX file systems. An interrupted job therefore leaves either the old file or nothing.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; move it onto ``dest`` only if the block succeeds.

    ``suffix`` defaults to the suffix of ``dest`` so that libraries that infer the format from the
    file name (matplotlib, pandas) still work on the temporary path. A symlink ``dest`` is
    written through: its target is replaced, the link stays.
    """
    dest = Path(os.path.realpath(dest)) if Path(dest).is_symlink() else Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=suffix if suffix is not None else dest.suffix,
        dir=dest.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():   # mkstemp creates 0600; give the file the usual umask mode
            umask = os.umask(0)
            os.umask(umask)
            tmp_path.chmod(0o666 & ~umask)
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (after symlinks; hard links too when both exist)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output_path(
    out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None] = ()
) -> None:
    """Raise ValueError unless ``out`` can be written and is none of ``inputs`` (symlinks
    resolved), so that a long job fails before it starts rather than when it writes.

    Creates nothing: a missing parent directory is checked in its nearest existing ancestor,
    which must take a new file (probed with a temporary file, removed at once)."""
    out = Path(out)
    for inp in inputs:
        if inp is not None and _same_file(out, Path(inp)):
            raise ValueError(f"output {out} is the input file {inp}; refusing to overwrite an "
                             "input (choose another output path)")
    if out.is_dir():
        raise ValueError(f"output {out} is a directory (expected a file path)")
    parent = out.resolve().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"output {out}: {parent} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=parent)
    except OSError as exc:
        raise ValueError(f"output {out} cannot be written: {exc.strerror or exc} "
                         f"({parent})") from None
    os.close(fd)
    os.unlink(probe)


def atomic_write_text(dest: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``dest`` atomically (UTF-8)."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(dest: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def atomic_write_json(dest: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON atomically."""
    atomic_write_text(dest, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths (recursively) to JSON types; non-finite
    floats become None (JSON has no NaN or infinity)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        val = float(obj)
        return val if math.isfinite(val) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj
