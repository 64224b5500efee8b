"""Snakemake script: one MINLP/MIQP run of the PAM50 study (known subtypes fixed or not)."""

from mixopt.runner import JobSpec
from mixopt.smk import config_hash, job_log
from mixopt.studies.flaherty_pam50 import run_map_job

with job_log(snakemake.log[0]):
    spec = JobSpec(**snakemake.params.spec)
    rec = run_map_job(spec, snakemake.input.csv, snakemake.output[0],
                      fix_known=snakemake.params.fix_known,
                      config_hash=config_hash(snakemake.config), rule=snakemake.rule)
    print(f"{rec['record_id']}: status {rec['status']} objective {rec['objective']} "
          f"gap {rec['gap']}")
