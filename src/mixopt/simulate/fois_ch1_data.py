"""One simulated data set of the thesis' Chapter 1 (Sec. 1.3.3; docs/reference-bclust.md 6).

``MixSim(k, p, 'sph', struct('shw', r^2, 'pars', 'VVV'), 'BarOmega', w)`` with FSDA's other
defaults (equal proportions, means in U[0,1]^p, cdet = shb = 100), then ``simdataset(n, ...)``.
The thesis seeds MATLAB's generator with rng(it) before each data set; here
``numpy.random.default_rng(seed)`` feeds MixSim and simdataset (MATLAB's stream cannot be replayed
in numpy, so data sets agree with the thesis' in distribution, not draw by draw).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mixopt.data.dataset import Dataset, write_dataset
from mixopt.simulate import GPCM, mixsim, simdataset
from mixopt.studies.fois_settings import SimSetting


def simulate_setting(setting: SimSetting, n: int, seed: int) -> Dataset:
    """Data set ``seed`` of ``setting``: n points, true labels, MixSim parameters in ``meta``."""
    if n < setting.k:
        raise ValueError(f"n = {n} is smaller than k = {setting.k}")
    rng = np.random.default_rng(seed)
    ms = mixsim(setting.k, setting.p, bar_omega=setting.bar_omega, sph=GPCM(shw=setting.r2),
                seed=rng)
    X, labels = simdataset(n, ms.pi, ms.mu, ms.S, seed=rng)
    meta = {
        "transformation": [
            f"MixSim(k={setting.k}, p={setting.p}, sph=GPCM(VVV, shw={setting.r2:g}, cdet=100, "
            f"shb=100), BarOmega={setting.bar_omega:g}); simdataset(n={n}); "
            f"numpy default_rng({seed})"],
        "simulation": {"setting": setting.as_dict(), "setting_name": setting.name, "n": n,
                       "seed": seed, "pi": ms.pi, "mu": ms.mu, "S": ms.S,
                       "bar_omega": ms.bar_omega, "max_omega": ms.max_omega, "c": ms.c,
                       "attempts": ms.attempts},
    }
    return Dataset(f"{setting.name}_seed{seed}", X, labels, [f"x{j + 1}" for j in range(setting.p)],
                   [str(j + 1) for j in range(setting.k)], meta)


def write_simulated(setting_name: str, n: int, seed: int, csv_path: str | Path) -> Dataset:
    """Simulate data set ``seed`` of the setting named ``setting_name`` and write it."""
    ds = simulate_setting(SimSetting.from_name(setting_name), n, seed)
    write_dataset(ds, Path(csv_path))
    return ds
