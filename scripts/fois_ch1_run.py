"""Snakemake script: one thesis Chapter 1 method on one data set -> one run record."""

from mixopt.smk import config_hash, job_log
from mixopt.studies.fois_ch1 import Ch1Spec, run_ch1_job

with job_log(snakemake.log[0]):
    spec = Ch1Spec(**snakemake.params.spec)
    start = snakemake.input.get("start")
    rec = run_ch1_job(spec, snakemake.input.csv, snakemake.output[0], start_record=start,
                      config_hash=config_hash(snakemake.config), rule=snakemake.rule)
    print(f"{rec['record_id']}: status {rec['status']} Obj {rec['objective']} "
          f"ARI {rec['metrics']['ari']} t {rec['wall_time_s']:.3f} s")
