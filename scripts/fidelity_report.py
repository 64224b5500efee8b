"""Snakemake script: reports/fidelity.{md,csv} from the tables' published-vs-ours columns."""

from mixopt.report.fidelity import write_fidelity
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    tables = dict(zip(snakemake.params.tables, snakemake.input, strict=True))
    df = write_fidelity(tables, snakemake.output.md, snakemake.output.csv,
                        snakemake.params.profile)
    print(f"{len(df)} published numbers")
