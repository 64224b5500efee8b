"""Snakemake script: the MSSC benchmark table from run records (CSV, Markdown, sources)."""

from mixopt.records import read_record
from mixopt.report.mssc_benchmark import write_mssc_table
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    records = [read_record(p) for p in snakemake.input]
    write_mssc_table(records, snakemake.params.instances, snakemake.output.csv,
                     snakemake.output.md, snakemake.params.profile)
