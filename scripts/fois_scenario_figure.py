"""Snakemake script: the figure of one thesis simulation scenario (PNG, CSV, sources)."""

from mixopt.records import read_record
from mixopt.report.fois_ch1 import VARY_LABELS, scenario_rows
from mixopt.report.fois_scenarios import plot_scenario
from mixopt.report.sources import write_sources
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    p, out = snakemake.params, snakemake.output
    sc = p.scenario
    records = [read_record(path) for path in snakemake.input]
    table, cells = scenario_rows(records, p.base, sc["vary"], sc["values"], sc["table"])
    title = (f"Fois thesis, scenario {snakemake.wildcards.scenario}: varying "
             f"{VARY_LABELS[sc['vary']]} (Table {sc['table'][5:].replace('_', '.')})")
    plot_scenario(table, sc["vary"], title, out.png, out.csv)
    write_sources(out.png, f"fois_scenario{snakemake.wildcards.scenario}", p.profile, cells)
