"""Helpers shared by the workflow tests: a copy of the workflow in a temporary directory, a
Snakemake run in it, and the small test configurations (``tests/configs/*.yaml``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "scripts", "profiles")


def make_workdir(project_root: Path, dest: Path) -> Path:
    """Copy the workflow (Snakefile, rules, config, scripts, profiles) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = project_root / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, mirror: Path | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake on 2 cores in ``workdir`` with the raw-data mirror given as config."""
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    if mirror is not None:
        cmd += ["--config", f"data={{'mirror': '{mirror}'}}"]
    env = {k: v for k, v in os.environ.items() if k != "MIXOPT_DATA_MIRROR"}
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900, env=env)
