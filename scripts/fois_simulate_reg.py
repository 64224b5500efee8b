"""Snakemake script: one simulated clusterwise-regression data set (MixSimreg + simdatasetreg)."""

from mixopt.simulate.fois_ch23_data import write_simulated_reg
from mixopt.smk import job_log

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    ds = write_simulated_reg(wc.setting, int(wc.seed), snakemake.output.csv)
    sim = ds.meta["simulation"]
    print(f"{ds.name}: n={ds.n} columns={ds.d} k={ds.K} BarOmega={sim['bar_omega']:.6g}")
