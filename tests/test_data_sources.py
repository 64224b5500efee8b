"""Raw-file registry, mirror resolution and verified fetching."""

from __future__ import annotations

import io
import re
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from mixopt.data import sources
from mixopt.data.sources import (
    ChecksumError,
    DownloadError,
    fetch,
    load_registry,
    raw_path,
    resolve_mirror,
    sha256_file,
    verify,
)

EXPECTED_KEYS = {
    "uci_iris", "uci_wine", "uci_wdbc", "uci_seeds", "uci_algerian", "kaggle_star",
    "fois_raw_iris", "fois_algerian_bejaia", "fois_algerian_sidi", "fois_star", "fsda_girdles",
    "fsda_girdlesT", "unc_pam50_train", "unc_pam50_centroids", "unc_pam50_annotation",
    "flaherty_iris1d", "flaherty_iris4d", "flaherty_wine", "flaherty_brca", "flaherty_pam50",
    "flaherty_pam50_4d",
    *(f"mssc_{name}" for name in (
        "ruspini", "iris", "wine", "gr202", "seeds", "glass", "accent", "ecoli", "real_estate",
        "wholesale_std", "hungarian", "wdbc", "voice", "energy_std")),
}



@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every download fail; return the list of URLs that were attempted."""
    tried: list[str] = []

    def refuse(request: urllib.request.Request, timeout: float = 0) -> None:
        tried.append(request.full_url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_registry_entries_are_complete() -> None:
    registry = load_registry()
    assert set(registry) == EXPECTED_KEYS
    for key, raw in registry.items():
        assert raw.key == key
        assert re.fullmatch(r"[0-9a-f]{64}", raw.sha256), key
        assert raw.url.startswith(("https://", "http://")), key
        assert " " not in raw.file and "/" not in raw.file, key
        assert raw.description.strip() and raw.source.strip(), key
    assert raw_path(Path("/r"), registry["kaggle_star"]) == Path("/r/kaggle_star/star_6class.csv")


def test_registry_matches_mirror_checksums(mirror: Path) -> None:
    listed = {}
    for line in (mirror / "checksums.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    registry = load_registry()
    assert {raw.mirror: raw.sha256 for raw in registry.values()} == {
        name: digest for name, digest in listed.items()
        if name not in {"girdles/girdles.mat", "seeds/bclust/seeds_dataset.txt"}
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("file: a.txt\nurl: https://x/a\nmirror: a.txt\nsha256: abc\ndescription: d\nsource: s",
         "sha256"),
        ("file: a.txt\nurl: ftp://x/a\nmirror: a.txt\nsha256: " + "a" * 64
         + "\ndescription: d\nsource: s", "url"),
        ("file: a.txt\nurl: https://x/a\nsha256: " + "a" * 64 + "\ndescription: d\nsource: s",
         "missing fields"),
    ],
)
def test_malformed_registry_names_the_key(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("bad_entry:\n" + "".join(f"  {line}\n" for line in entry.splitlines()))
    with pytest.raises(ValueError, match=message) as info:
        load_registry(path)
    assert "bad_entry" in str(info.value)


def test_fetch_from_mirror_verifies_and_reuses(
    tmp_path: Path, mirror: Path, no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "raw"
    for raw in load_registry().values():
        dest = fetch(raw, raw_path(root, raw), mirror=mirror)
        assert dest == raw_path(root, raw)
        verify(dest, raw)
    assert no_network == []
    assert len(_files_under(root)) == len(EXPECTED_KEYS)

    def no_copy(*args: object) -> None:
        raise AssertionError("an up-to-date file must not be copied again")

    monkeypatch.setattr(sources.shutil, "copyfile", no_copy)
    raw = load_registry()["uci_iris"]
    assert fetch(raw, raw_path(root, raw), mirror=mirror) == raw_path(root, raw)


def test_corrupt_mirror_file_raises_and_leaves_nothing(
    tmp_path: Path, mirror: Path, no_network: list[str]
) -> None:
    raw = load_registry()["uci_iris"]
    bad_mirror = tmp_path / "mirror"
    corrupt = bad_mirror / raw.mirror
    corrupt.parent.mkdir(parents=True)
    data = bytearray((mirror / raw.mirror).read_bytes())
    data[100] ^= 0x01
    corrupt.write_bytes(bytes(data))
    actual = sha256_file(corrupt)
    root = tmp_path / "raw"
    with pytest.raises(ChecksumError) as info:
        fetch(raw, raw_path(root, raw), mirror=bad_mirror)
    message = str(info.value)
    assert raw.sha256 in message and actual in message
    assert raw.file in message and raw.key in message and str(corrupt) in message
    assert _files_under(root) == []
    assert no_network == []


def test_missing_mirror_file_and_no_network_raises_download_error(
    tmp_path: Path, no_network: list[str]
) -> None:
    raw = load_registry()["uci_wine"]
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    root = tmp_path / "raw"
    with pytest.raises(DownloadError) as info:
        fetch(raw, raw_path(root, raw), mirror=empty_mirror, timeout=1)
    message = str(info.value)
    assert raw.url in message and "MIXOPT_DATA_MIRROR" in message and "data.mirror" in message
    assert no_network == [raw.url]
    assert _files_under(root) == []


def test_download_is_verified(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = load_registry()["fsda_girdles"]
    payload = {"bytes": (mirror / raw.mirror).read_bytes()}
    agents: list[str | None] = []

    def serve(request: urllib.request.Request, timeout: float = 0) -> io.BytesIO:
        assert request.full_url == raw.url
        agents.append(request.get_header("User-agent"))
        return io.BytesIO(payload["bytes"])

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    dest = raw_path(tmp_path, raw)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"stale content")
    assert fetch(raw, dest) == dest
    assert sha256_file(dest) == raw.sha256
    assert agents and agents[0] and agents[0].startswith("mixopt/")

    dest.unlink()
    payload["bytes"] = payload["bytes"][:-1]
    with pytest.raises(ChecksumError, match=re.escape(raw.url)):
        fetch(raw, dest)
    assert _files_under(tmp_path) == []


def test_download_of_an_archive_member_is_verified(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry with ``member`` downloads a zip archive and keeps only that member, verified."""
    raw = load_registry()["mssc_ruspini"]
    assert raw.member == "ruspini.txt" and raw.url.endswith(".zip")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(raw.member, (mirror / raw.mirror).read_bytes())
    payload = {"bytes": archive.getvalue()}
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda request, timeout=0: io.BytesIO(payload["bytes"]))
    dest = raw_path(tmp_path, raw)
    assert fetch(raw, dest) == dest
    assert sha256_file(dest) == raw.sha256
    assert _files_under(tmp_path) == [dest]

    dest.unlink()
    payload["bytes"] = b"not a zip archive"
    with pytest.raises(DownloadError, match="not a zip archive"):
        fetch(raw, dest)
    assert _files_under(tmp_path) == []


def test_verify_raises_on_wrong_file(tmp_path: Path) -> None:
    raw = load_registry()["uci_iris"]
    path = tmp_path / "iris.data"
    path.write_text("not iris\n")
    with pytest.raises(ChecksumError, match=raw.sha256):
        verify(path, raw)


def test_resolve_mirror_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_config, from_env = tmp_path / "config_mirror", tmp_path / "env_mirror"
    from_config.mkdir()
    from_env.mkdir()
    monkeypatch.delenv("MIXOPT_DATA_MIRROR", raising=False)
    assert resolve_mirror(None) is None
    assert resolve_mirror("") is None
    assert resolve_mirror(str(from_config)) == from_config
    monkeypatch.setenv("MIXOPT_DATA_MIRROR", str(from_env))
    assert resolve_mirror(str(from_config)) == from_config
    assert resolve_mirror("") == from_env
    assert resolve_mirror(None) == from_env
    shutil.rmtree(from_env)
    with pytest.raises(FileNotFoundError, match="MIXOPT_DATA_MIRROR"):
        resolve_mirror(None)
    with pytest.raises(FileNotFoundError, match="data.mirror"):
        resolve_mirror(str(tmp_path / "nowhere"))
