"""Snakemake script: one PAM50 artifact (Fig. 2, Fig. 3, Table 3, gap or agreement table)."""

from mixopt.report.flaherty_pam50_build import build_artifact
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    build_artifact(snakemake.rule, dict(snakemake.input.items()),
                   dict(snakemake.output.items()), snakemake.params.profile)
