"""Snakemake script: Flaherty et al. Fig. 1a or 1b (PNG + CSV + sources) from run records."""

from mixopt.records import read_record
from mixopt.report.fig1 import write_fig1a, write_fig1b
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    records = [read_record(p) for p in snakemake.input]
    out = snakemake.output
    if snakemake.rule == "flaherty_fig1a":
        write_fig1a(records, out.png, out.csv, snakemake.params.profile)
    else:
        write_fig1b(records, out.png, out.csv, snakemake.params.profile,
                    snakemake.params.time_limit)
