"""Snakemake script: accuracy of Bandi et al. vs the MAP methods (CSV, Markdown, sources)."""

from mixopt.records import read_record
from mixopt.report.bandi import write_bandi_table
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    records = [read_record(p) for p in snakemake.input]
    p, out = snakemake.params, snakemake.output
    write_bandi_table(records, p.datasets, p.methods, out.csv, out.md, p.profile)
