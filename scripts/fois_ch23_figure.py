"""Snakemake script: one thesis Chapter 2-3 figure (PNG, CSV beside it and in tables/, sources)."""

from mixopt.records import read_record
from mixopt.report.fois_ch23 import write_figure
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    f, out = snakemake.params.figure, snakemake.output
    records = [read_record(path) for path in snakemake.input]
    stats = write_figure(records, f["members"], f["quantity"], f["methods"], f["groups"],
                         f["group_label"], f["title"], f["kind"], f"fois_{snakemake.wildcards.fig}",
                         out.png, out.csv, out.table, snakemake.params.profile)
    print(stats.to_string())
