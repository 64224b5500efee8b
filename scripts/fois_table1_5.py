"""Snakemake script: the thesis' Table 1.5 on the six real data sets (CSV, Markdown, sources)."""

import json

from mixopt.records import read_record
from mixopt.report.fois_ch1 import write_table1_5
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    p, out = snakemake.params, snakemake.output
    records = [read_record(path) for path in snakemake.input.records]
    meta = {}
    for ds, path in zip(p.datasets, snakemake.input.meta, strict=True):
        with open(path) as fh:
            m = json.load(fh)
        meta[ds] = {"n": m["n"], "p": m["d"], "k": m["K"]}
    write_table1_5(records, p.datasets, meta, out.csv, out.md, p.profile)
