"""One simulated clusterwise-regression data set of thesis Chapters 2-3 (Secs. 2.3.3, 3.2.2).

``MixSimreg(k, p, 'BarOmega', w, 'PiLow', 1/(3k))`` with FSDA's default regressor and coefficient
distributions (intercept plus p - 1 regressors ~ U(0, 1)), then ``simdatasetreg(n, ...)``, from
``numpy.random.default_rng(seed)`` (MATLAB's streams cannot be replayed in numpy).
The CSV holds the p - 1 regressors and the response ``y``; the intercept is implied
(``meta["intercept"]``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mixopt.data.dataset import Dataset, write_dataset
from mixopt.simulate import mixsimreg, simdatasetreg
from mixopt.studies.fois_settings import RegSetting


def simulate_reg_setting(setting: RegSetting, seed: int) -> Dataset:
    """Data set ``seed`` of ``setting`` with the true labels and MixSimReg parameters in meta."""
    rng = np.random.default_rng(seed)
    ms = mixsimreg(setting.k, setting.p, bar_omega=setting.bar_omega, pi_low=setting.pi_low,
                   seed=rng)
    y, X, labels = simdatasetreg(setting.n, ms.pi, ms.beta, ms.S, seed=rng)
    if not np.allclose(X[:, 0], 1.0):
        raise RuntimeError("simdatasetreg did not return the intercept column first")
    names = [f"x{j + 2}" for j in range(setting.p - 1)]
    meta = {
        "transformation": [
            f"MixSimreg(k={setting.k}, p={setting.p}, BarOmega={setting.bar_omega:g}, "
            f"PiLow=1/(3k)); simdatasetreg(n={setting.n}); numpy default_rng({seed})"],
        "response": "y", "intercept": True,
        "simulation": {"setting": setting.__dict__, "setting_name": setting.name, "seed": seed,
                       "pi": ms.pi, "beta": ms.beta, "S": ms.S, "bar_omega": ms.bar_omega,
                       "max_omega": ms.max_omega, "c": ms.c},
    }
    data = np.column_stack([X[:, 1:], y])
    return Dataset(f"{setting.name}_seed{seed}", data, labels, [*names, "y"],
                   [str(j + 1) for j in range(setting.k)], meta)


def write_simulated_reg(setting_name: str, seed: int, csv_path: str | Path) -> Dataset:
    """Simulate data set ``seed`` of the regression setting ``setting_name`` and write it."""
    ds = simulate_reg_setting(RegSetting.from_name(setting_name), seed)
    write_dataset(ds, Path(csv_path))
    return ds


def regression_arrays(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(X with a leading ones column, y) of a regression data set.

    The response is ``meta["response"]`` or the left side of ``meta["regression"]`` ("y ~ x");
    the other columns are the regressors; an intercept is added (the thesis allows one)."""
    response = ds.meta.get("response")
    if response is None and "regression" in ds.meta:
        response = str(ds.meta["regression"]).split("~")[0].strip()
    if response not in ds.feature_names:
        raise ValueError(f"data set {ds.name!r} names no response column (meta 'response')")
    j = ds.feature_names.index(response)
    regressors = np.delete(ds.X, j, axis=1)
    return np.column_stack([np.ones(ds.n), regressors]), ds.X[:, j].copy()
