"""MixSim-style simulation of Gaussian mixtures and clusterwise regressions with a target overlap.

Python reimplementation of FSDA's MixSim, simdataset, MixSimreg and simdatasetreg as specified in
docs/reference-mixsim.md (Melnykov, Chen and Maitra 2012; Maitra and Melnykov 2010).
"""

from mixopt.simulate.mixsim import (
    GPCM,
    BetaDistrib,
    MixSimError,
    MixSimRegResult,
    MixSimResult,
    XDistrib,
    gen_pi,
    gen_sigma_gpcm,
    mixsim,
    mixsimreg,
    restr_sigma_gpcm,
    restreigen,
)
from mixopt.simulate.overlap import (
    OverlapPars,
    OverlapSummary,
    asymptotic_omega_map,
    gchisq_cdf,
    misclassification_prob,
    omega_map,
    overlap,
    overlap_pars,
    summarize_omega,
)
from mixopt.simulate.sample import component_sizes, simdataset, simdatasetreg

__all__ = [
    "GPCM",
    "BetaDistrib",
    "MixSimError",
    "MixSimRegResult",
    "MixSimResult",
    "OverlapPars",
    "OverlapSummary",
    "XDistrib",
    "asymptotic_omega_map",
    "component_sizes",
    "gchisq_cdf",
    "gen_pi",
    "gen_sigma_gpcm",
    "misclassification_prob",
    "mixsim",
    "mixsimreg",
    "omega_map",
    "overlap",
    "overlap_pars",
    "restr_sigma_gpcm",
    "restreigen",
    "simdataset",
    "simdatasetreg",
    "summarize_omega",
]
