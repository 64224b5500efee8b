"""Snakemake script: Flaherty et al. EM-restarts figure (PNG + CSV + sources) from run records."""

from pathlib import Path

from mixopt.records import read_record
from mixopt.report.em_restarts import write_em_restarts
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    records = [read_record(p) for p in snakemake.input]
    # results/<profile>/flaherty_em_restarts/<case>/<method>/seed<s>.json
    case_of = {r["_path"]: Path(r["_path"]).parent.parent.name for r in records}
    out = snakemake.output
    write_em_restarts(records, case_of, out.png, out.csv, snakemake.params.profile)
