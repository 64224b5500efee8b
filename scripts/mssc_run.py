"""Snakemake script: one MSSC benchmark instance (method exact, equal proportions) -> one record."""

from mixopt.runner import JobSpec
from mixopt.smk import config_hash, job_log
from mixopt.studies.mssc_benchmark import run_instance

with job_log(snakemake.log[0]):
    spec = JobSpec(**snakemake.params.spec)
    rec = run_instance(spec, snakemake.input.csv, snakemake.output[0],
                       config_hash=config_hash(snakemake.config), rule=snakemake.rule)
    m = rec["metrics"]
    print(f"{rec['record_id']}: status {rec['status']} MSSC {m.get('mssc')} "
          f"lower bound {m.get('mssc_lower_bound')} gap {m.get('mssc_gap')}")
