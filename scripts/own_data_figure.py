"""Snakemake script: the clustering of one record on your own data (as `mixopt plot` draws it)."""

from mixopt.records import read_record
from mixopt.report.own_data import write_own_figure
from mixopt.smk import job_log
from mixopt.studies.own_data import points_dataset

with job_log(snakemake.log[0]):
    ds = points_dataset(snakemake.input.csv, **snakemake.params.points)
    write_own_figure(read_record(snakemake.input.record), snakemake.input.record, ds.X,
                     ds.feature_names, snakemake.output.png, snakemake.params.profile)
