"""Snakemake script: build one processed data set (CSV + metadata JSON) from verified raw files."""

from pathlib import Path

from mixopt.data.dataset import write_dataset
from mixopt.data.preprocess import build_dataset
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    raw = {key: Path(path) for key, path in snakemake.params.raw.items()}
    ds = build_dataset(snakemake.wildcards.name, raw)
    write_dataset(ds, Path(snakemake.output.csv))
    print(f"{ds.name}: n={ds.n} d={ds.d} K={ds.K} -> {snakemake.output.csv}")
