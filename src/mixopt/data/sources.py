"""Raw-file registry and verified fetching (offline mirror first, then the canonical URL).

Every raw file is listed in the packaged ``raw_files.yaml`` with its sha256. :func:`fetch` writes to
a temporary file beside the destination, checks the hash and only then moves the file into place,
so a corrupt or partial download never appears under its final name.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

import yaml

from mixopt import __version__
from mixopt.io import atomic_path
from mixopt.provenance import sha256_file  # re-exported: data.sha256_file

MIRROR_ENV = "MIXOPT_DATA_MIRROR"
USER_AGENT = f"mixopt/{__version__} (research data pipeline; Python urllib)"
_CHUNK = 1 << 16
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class ChecksumError(ValueError):
    """A file's sha256 differs from the registry."""


class DownloadError(RuntimeError):
    """A raw file could not be obtained from the network."""


@dataclass(frozen=True)
class RawFile:
    """One registry entry: a raw input file and where to get it."""

    key: str
    file: str
    url: str
    mirror: str
    sha256: str
    description: str
    source: str
    member: str = ""


_FIELDS = tuple(f.name for f in fields(RawFile) if f.name not in ("key", "member"))
_OPTIONAL = ("member",)


def _check_entry(key: object, entry: object) -> RawFile:
    """Validate one YAML entry and build a :class:`RawFile`; raise ValueError naming the key."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"registry key {key!r} is not an identifier ([A-Za-z][A-Za-z0-9_]*)")
    if not isinstance(entry, dict):
        raise ValueError(f"registry entry {key!r} must be a mapping, got {type(entry).__name__}")
    missing = [f for f in _FIELDS if f not in entry]
    unknown = sorted(set(entry) - set(_FIELDS) - set(_OPTIONAL))
    if missing or unknown:
        raise ValueError(
            f"registry entry {key!r}: missing fields {missing}, unknown fields {unknown}"
        )
    for name in (*_FIELDS, *(f for f in _OPTIONAL if f in entry)):
        value = entry[name]
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"registry entry {key!r}: field {name!r} must be a non-empty string")
    raw = RawFile(key=key, **{name: entry[name] for name in (*_FIELDS, *_OPTIONAL)
                              if name in entry})
    if not _HEX64.fullmatch(raw.sha256):
        raise ValueError(f"registry entry {key!r}: sha256 must be 64 lowercase hex digits")
    if not raw.url.startswith(("https://", "http://")):
        raise ValueError(f"registry entry {key!r}: url must start with http(s)://")
    if "/" in raw.file or "\\" in raw.file or any(c.isspace() for c in raw.file):
        raise ValueError(f"registry entry {key!r}: file {raw.file!r} must be a plain file name "
                         "without spaces")
    mirror = Path(raw.mirror)
    if mirror.is_absolute() or ".." in mirror.parts:
        raise ValueError(f"registry entry {key!r}: mirror {raw.mirror!r} must be a relative path")
    return raw


def load_registry(path: Path | None = None) -> dict[str, RawFile]:
    """Load and validate the raw-file registry (default: the packaged ``raw_files.yaml``)."""
    if path is None:
        text = resources.files("mixopt.data").joinpath("raw_files.yaml").read_text("utf-8")
        where = "mixopt/data/raw_files.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{where}: expected a non-empty mapping of key -> entry")
    try:
        return {key: _check_entry(key, entry) for key, entry in data.items()}
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def raw_path(root: Path, raw: RawFile) -> Path:
    """Local location of a raw file: ``root / key / file``."""
    return Path(root) / raw.key / raw.file


def resolve_mirror(config_value: str | None, option: str = "config data.mirror") -> Path | None:
    """Mirror root from the config value, else ``$MIXOPT_DATA_MIRROR``, else None.

    A configured mirror that is not an existing directory raises FileNotFoundError naming
    ``option``, where the value came from (``--mirror`` on the command line).
    """
    if config_value is not None and str(config_value).strip():
        value, origin = str(config_value).strip(), option
    elif os.environ.get(MIRROR_ENV, "").strip():
        value, origin = os.environ[MIRROR_ENV].strip(), f"environment variable {MIRROR_ENV}"
    else:
        return None
    mirror = Path(value).expanduser()
    if not mirror.is_dir():
        raise FileNotFoundError(
            f"data mirror {mirror} (from {origin}) is not an existing directory"
        )
    return mirror


def _mismatch(raw: RawFile, origin: str, actual: str) -> ChecksumError:
    return ChecksumError(
        f"checksum mismatch for {raw.key} ({raw.file}) from {origin}: "
        f"expected sha256 {raw.sha256}, got {actual}"
    )


def verify(path: Path, raw: RawFile) -> None:
    """Raise ChecksumError unless ``path`` has the registry sha256 of ``raw``."""
    actual = sha256_file(path)
    if actual != raw.sha256:
        raise _mismatch(raw, str(path), actual)


def _download(url: str, target: Path, timeout: float, member: str = "") -> None:
    """Stream ``url`` into ``target``; with ``member``, ``url`` is a zip archive and ``target``
    receives that member of it."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    archive = target.with_name(target.name + ".zip") if member else target
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, \
                open(archive, "wb") as out:
            shutil.copyfileobj(response, out, _CHUNK)
        if member:
            try:
                with zipfile.ZipFile(archive) as zf, zf.open(member) as src, \
                        open(target, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
            except (zipfile.BadZipFile, KeyError) as exc:
                raise ValueError(f"{url} is not a zip archive holding {member}: {exc}") from None
    finally:
        if member:
            archive.unlink(missing_ok=True)


def fetch(raw: RawFile, dest: Path, mirror: Path | None = None, timeout: float = 60,
          option: str = "config data.mirror") -> Path:
    """Obtain ``raw`` at ``dest`` (mirror copy if available, else download) and verify it.

    An existing ``dest`` with the right hash is kept as is; one with a wrong hash is removed and
    fetched again. On a checksum or network failure nothing is left at ``dest`` or beside it.
    ``option`` is how the user sets a mirror, named in the advice of a failed download.
    """
    dest = Path(dest)
    if dest.is_file():
        if sha256_file(dest) == raw.sha256:
            return dest
        dest.unlink()
    source = Path(mirror) / raw.mirror if mirror is not None else None
    use_mirror = source is not None and source.is_file()
    origin = str(source) if use_mirror else raw.url
    with atomic_path(dest) as tmp:
        if use_mirror:
            shutil.copyfile(source, tmp)
        else:
            try:
                _download(raw.url, tmp, timeout, raw.member)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                lacked = f" (mirror {mirror} lacks {raw.mirror})" if mirror is not None else ""
                raise DownloadError(
                    f"could not download {raw.key} from {raw.url}{lacked}: {exc}. "
                    f"Without internet, point to a local mirror with {MIRROR_ENV}=/path "
                    f"or {option}."
                ) from exc
        actual = sha256_file(tmp)
        if actual != raw.sha256:
            raise _mismatch(raw, origin, actual)
    return dest
