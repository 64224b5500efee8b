"""Snakemake script: one of the thesis' Tables 1.1-1.4 (CSV, Markdown, sources)."""

from mixopt.records import read_record
from mixopt.report.fois_ch1 import write_scenario_table
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    p, out = snakemake.params, snakemake.output
    records = [read_record(path) for path in snakemake.input]
    write_scenario_table(records, p.base, p.scenario["vary"], p.scenario["values"],
                         p.scenario["table"], out.csv, out.md, p.profile)
