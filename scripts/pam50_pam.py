"""Snakemake script: the PAM50 centroid predictor on the UNC matrix -> one run record."""

from mixopt.runner import JobSpec
from mixopt.smk import config_hash, job_log
from mixopt.studies.flaherty_pam50 import run_pam

with job_log(snakemake.log[0]):
    spec = JobSpec(**snakemake.params.spec)
    rec = run_pam(spec, snakemake.input.train, snakemake.input.centroids, snakemake.input.csv,
                  snakemake.output[0], config_hash=config_hash(snakemake.config),
                  rule=snakemake.rule)
    print(f"{rec['record_id']}: accuracy on known {rec['metrics']['accuracy']:.4f}")
