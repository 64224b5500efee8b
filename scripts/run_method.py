"""Snakemake script: one method on one data set with one seed -> one validated run record.

A ``points`` param (the own-data study) reads a user CSV of points instead of a processed set."""

from mixopt.runner import JobSpec, run_job
from mixopt.smk import config_hash, job_log

with job_log(snakemake.log[0]):
    spec = JobSpec(**snakemake.params.spec)
    rec = run_job(spec, snakemake.input.csv, snakemake.output[0],
                  config_hash=config_hash(snakemake.config), rule=snakemake.rule,
                  points=getattr(snakemake.params, "points", None))
    print(f"{rec['record_id']}: status {rec['status']} objective {rec['objective']}")
