"""Docs and code cite only what the repository holds: no outside paths, no dead relative links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

SCANNED = ("src", "scripts", "workflow", "tests", "docs", "config", "README.md")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".smk", ".rst", ".txt", ".toml", ".cfg", ".sh"}
# Paths of a particular machine or of files kept beside the repository (specifications, papers,
# the data manifest), bare names of those specifications, and the issue tracker: a reader of the
# repository cannot open them.
OUTSIDE = re.compile(r"shared/|specs/|_reference\.md|/work/"
                     r"|(?<![\w-])(tclust|tclustreg|mixsim|slurm_local_cluster)\.md|\bissue \d")
# Legitimate runtime uses, matched as (file, text of the line): the test suite looks for the
# raw-data mirror beside the project (../shared/data) when $MIXOPT_DATA_MIRROR is unset, as
# .ci/run does; that is a location to search, not a document cited. Debian's gridengine packages
# name their debconf questions shared/gridengine*.
ALLOWED = {("tests/conftest.py", "../shared/data beside the project"),
           ("tests/sge_cluster.py", " shared/gridengine")}
MD_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def scanned_files() -> list[Path]:
    """Text files under SCANNED (build and cache folders excluded), this file excluded."""
    out = []
    for name in SCANNED:
        root = PROJECT_ROOT / name
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            parts = set(path.relative_to(PROJECT_ROOT).parts)
            if (path.is_file() and path.suffix in TEXT_SUFFIXES and path != Path(__file__).resolve()
                    and "__pycache__" not in parts
                    and not any(p.endswith(".egg-info") for p in parts)):
                out.append(path)
    return out


def outside_citations(files: list[Path]) -> list[str]:
    """'file:line: text' for every line citing a path outside the repository (ALLOWED skipped)."""
    hits = []
    for path in files:
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line) and not any(rel == f and text in line for f, text in ALLOWED):
                hits.append(f"{rel}:{no}: {line.strip()}")
    return hits


def dead_links(files: list[Path]) -> list[str]:
    """'file: target' for every relative Markdown link whose file is missing or outside the repo."""
    bad = []
    for path in files:
        for target in MD_LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # URL (http:, mailto:, ...) or an anchor in the same page
            dest = (path.parent / target.split("#", 1)[0]).resolve()
            if not dest.exists() or PROJECT_ROOT not in (dest, *dest.parents):
                bad.append(f"{path.relative_to(PROJECT_ROOT).as_posix()}: {target}")
    return bad


def test_no_citation_of_paths_outside_the_repository():
    assert outside_citations(scanned_files()) == []


def test_relative_links_in_docs_resolve():
    pages = sorted((PROJECT_ROOT / "docs").glob("*.md"))
    pages += [PROJECT_ROOT / "README.md", PROJECT_ROOT / "config" / "README.md"]
    assert dead_links(pages) == []


@pytest.mark.parametrize("line, found", [
    ("see bclust_reference.md 4", True),
    ("(specs/tclust.md)", True),
    ("export MIXOPT_DATA_MIRROR=/work/shared/data", True),
    ("(tclust.md 3.2 item 5)", True),
    ("the SDP branch-and-bound of issue 9", True),
    ("docs/reference-bclust.md 4", False),
    ("docs/reference-tclust.md 3.2", False),
])
def test_outside_pattern(tmp_path, monkeypatch, line, found):
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    f = tmp_path / "a.py"
    f.write_text(f"# {line}\n")
    assert bool(outside_citations([f])) is found


def test_dead_link_detected(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    (tmp_path / "ok.md").write_text("x")
    page = tmp_path / "p.md"
    page.write_text("[a](ok.md#sec) [b](missing.md) [c](https://x.org/y.md) [d](#top) "
                    "[e](../up.md)")
    assert dead_links([page]) == ["p.md: missing.md", "p.md: ../up.md"]
