"""`snakemake --report`: one self-contained HTML whose results carry the artifact captions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from workflow_utils import CONFIGS, make_workdir, snakemake

pytestmark = pytest.mark.workflow

# The cheapest artifact: the EM-restarts figure (iris1d only) with 50 restarts instead of 1000.
TEST_CONFIG = (CONFIGS / "report_small.yaml").read_text()
CONFIG_ARGS = ("--configfile", "config/config.yaml", "config/test.yaml")
ARTIFACT = "figures/flaherty_em_restarts"


def report_data(html: str, name: str) -> dict:
    """The JSON object a Snakemake report assigns to ``var <name>`` (results, categories)."""
    for match in re.finditer(rf"var {name} = ", html):
        try:
            data, _ = json.JSONDecoder().raw_decode(html, match.end())
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return data
    raise AssertionError(f"no `var {name}` object in the report")


def text(caption_html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", caption_html).split())


def test_report_holds_the_built_artifact_with_its_caption(tmp_path: Path, project_root: Path,
                                                          mirror: Path) -> None:
    workdir = make_workdir(project_root, tmp_path / "wf")
    (workdir / "config/test.yaml").write_text(TEST_CONFIG)
    # One core: the jobs are tiny (download, preprocess, 4 runs, the figure).
    proc = snakemake(workdir, "--cores", "1", f"{ARTIFACT}.png", *CONFIG_ARGS, mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = snakemake(workdir, "--report", "report.html", f"{ARTIFACT}.png", *CONFIG_ARGS,
                     mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (workdir / "report.html").read_text()
    results = report_data(html, "results")
    assert set(results) == {f"{ARTIFACT}.png", f"{ARTIFACT}.csv", f"{ARTIFACT}.sources.json"}

    png = results[f"{ARTIFACT}.png"]
    assert png["data_uri"].startswith("data:image/png")  # embedded: the file is self-contained
    assert png["labels"] == {"artifact": "EM restarts", "file": "flaherty_em_restarts.png"}
    caption = text(png["caption"])
    assert caption.startswith("Flaherty et al., Sec. 4.1, EM restarts")
    assert "Built with the quick profile (50 restarts)" in caption
    assert "mixopt audit figures/flaherty_em_restarts.png" in caption
    # The caption links to the provenance sidecar, itself in the report under Provenance.
    assert "showResultInfo('figures/flaherty_em_restarts.sources.json')" in png["caption"]
    sidecar = text(results[f"{ARTIFACT}.sources.json"]["caption"])
    assert sidecar.startswith("Provenance sidecar of figures/flaherty_em_restarts.png")
    categories = report_data(html, "categories")
    assert categories["Flaherty et al."]["Sec. 4.1: iris, wine, brca"] == [
        f"{ARTIFACT}.csv", f"{ARTIFACT}.png"]
    assert categories["Provenance"]["Sources: Flaherty et al."] == [f"{ARTIFACT}.sources.json"]
    assert "How to audit a number" in html  # the global description, workflow/report/workflow.rst

    # The default target's report needs every artifact of `all`: Snakemake names a missing one.
    proc = snakemake(workdir, "--report", "all.html", *CONFIG_ARGS, mirror=mirror)
    assert proc.returncode != 0
    assert "marked for report but does not exist" in proc.stderr
    assert not (workdir / "all.html").exists()


def test_every_caption_of_all_renders(tmp_path: Path, project_root: Path) -> None:
    """Every flagged output of `all` (placeholder files here) gets a caption without rst errors."""
    workdir = make_workdir(project_root, tmp_path / "wf")
    proc = snakemake(workdir, "--summary")
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = {line.split("\t")[0] for line in proc.stdout.splitlines()[1:]}
    flagged = sorted(f for f in outputs if f.split("/")[0] in ("tables", "figures", "reports"))
    for f in flagged:
        (workdir / f).parent.mkdir(parents=True, exist_ok=True)
        (workdir / f).write_text("placeholder\n")
    proc = snakemake(workdir, "--report", "report.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = report_data((workdir / "report.html").read_text(), "results")
    # Every artifact except tables/fois_fig*.csv (the same file as figures/fois_fig*.csv).
    assert set(results) == {f for f in flagged if not f.startswith("tables/fois_fig")}
    for path, res in results.items():
        assert res["caption"].strip() and "system-message" not in res["caption"], path
        assert "quick" in text(res["caption"]), path  # the profile
    # every Markdown table also as an HTML page, which the report shows inline
    views = {f for f in results if f.startswith("reports/tables/")}
    assert views == {f"reports/tables/{f.split('/')[1][:-3]}.html" for f in flagged
                     if f.startswith("tables/") and f.endswith(".md")}
    assert "reports/tables/flaherty_table2.html" in views
    captions = {text(r["caption"]).split(":")[0] for r in results.values()}
    for expected in ("Flaherty et al., Table 2 (Sec. 4.1)", "Flaherty et al., Fig. 1b (Sec. 4.1)",
                     "Fois thesis, Table 1.5 (Ch. 1, bclust)", "Fois thesis, Fig. 3.10"):
        assert expected in captions, sorted(captions)
