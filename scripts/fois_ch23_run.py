"""Snakemake script: one thesis Chapter 2-3 method on one data set -> one run record."""

from mixopt.smk import config_hash, job_log
from mixopt.studies.fois_ch23 import Ch23Spec, run_ch23_job

with job_log(snakemake.log[0]):
    spec = Ch23Spec(**snakemake.params.spec)
    rec = run_ch23_job(spec, snakemake.input.csv, snakemake.output[0],
                       config_hash=config_hash(snakemake.config), rule=snakemake.rule)
    print(f"{rec['record_id']}: status {rec['status']} log L-hat {rec['objective']} "
          f"ARI {rec['metrics']['ari']} t {rec['wall_time_s']:.3f} s")
