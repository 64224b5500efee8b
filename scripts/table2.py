"""Snakemake script: Flaherty et al. Table 2 from run records (CSV, Markdown, LaTeX, sources)."""

from mixopt.methods import METHODS
from mixopt.records import read_record
from mixopt.report.table2 import write_table2
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    records = [read_record(p) for p in snakemake.input]
    missing = [m for m in snakemake.params.columns if m not in METHODS]
    notes = [f"`{m}`: not implemented yet in this version of mixopt; column left empty."
             for m in missing]
    write_table2(records, snakemake.params.datasets, snakemake.params.columns,
                 snakemake.output.csv, snakemake.output.md, snakemake.params.profile, notes,
                 tex_path=snakemake.output.tex, only_on=snakemake.params.only_on)
