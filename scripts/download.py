"""Snakemake script: fetch one raw file (mirror first, then its canonical URL), sha256 verified."""

from pathlib import Path

from mixopt.data.sources import fetch, load_registry, resolve_mirror
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    raw = load_registry()[snakemake.wildcards.key]
    if snakemake.wildcards.file != raw.file:
        raise ValueError(f"raw file {raw.key!r} is stored as {raw.file!r}, "
                         f"not {snakemake.wildcards.file!r}")
    path = fetch(raw, Path(snakemake.output[0]), mirror=resolve_mirror(snakemake.params.mirror))
    print(f"{raw.key}: {path} sha256 {raw.sha256} verified")
