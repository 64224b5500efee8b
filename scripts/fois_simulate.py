"""Snakemake script: one simulated data set of a thesis Chapter 1 setting (MixSim + simdataset)."""

from mixopt.simulate.fois_ch1_data import write_simulated
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    ds = write_simulated(wc.setting, snakemake.params.n, int(wc.seed), snakemake.output.csv)
    sim = ds.meta["simulation"]
    print(f"{ds.name}: n={ds.n} p={ds.d} k={ds.K} BarOmega={sim['bar_omega']:.6g} "
          f"MaxOmega={sim['max_omega']:.6g}")
