"""Snakemake script: reports/tables/<table>.html, the inline view of tables/<table>.md."""

from pathlib import Path

from mixopt.io import atomic_write_text
from mixopt.report.html_view import markdown_to_html
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    text = Path(snakemake.input[0]).read_text()
    atomic_write_text(snakemake.output[0], markdown_to_html(text, snakemake.wildcards.table))
