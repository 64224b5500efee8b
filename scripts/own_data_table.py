"""Snakemake script: the table of your own data sets (CSV, Markdown, sources) from the records."""

from mixopt.records import read_record
from mixopt.report.own_data import write_own_table
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    paths = list(snakemake.input)
    write_own_table([read_record(p) for p in paths], paths, snakemake.output.csv,
                    snakemake.output.md, snakemake.params.profile)
