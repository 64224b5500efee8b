"""A shared precision matrix estimated from unlabelled data (when the covariance is unknown).

The MAP methods need the components' shared precision Lambda. Without labels or a known
covariance, :func:`estimate_precision` fits a Gaussian mixture with one covariance shared by its
K components (scikit-learn ``GaussianMixture(covariance_type="tied")``) and returns the inverse of
that tied covariance, with a one-line description of how it was obtained for the run's record.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

ESTIMATORS = ("tied_gmm",)   #: names of the precision estimates (``{"estimate": name}``)
#: Diagonal regularisation added to the tied covariance (scikit-learn's ``reg_covar`` default).
REG_COVAR = 1e-6


def estimate_precision(X: ArrayLike, k: int, random_state: int | None = 0,
                       n_init: int = 5) -> tuple[NDArray[np.float64], str]:
    """(Lambda, description): the inverse tied covariance of a K-component Gaussian mixture.

    ``n_init`` EM runs from k-means starts seeded by ``random_state``; the best likelihood wins.
    """
    from sklearn.mixture import GaussianMixture

    x = np.asarray(X, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need an n x d array with n >= 2 to estimate a precision, got shape "
                         f"{x.shape}")
    if not (isinstance(k, int | np.integer) and 1 <= k <= x.shape[0]):
        raise ValueError(f"k must be an integer in 1..n = {x.shape[0]}, got {k!r}")
    gm = GaussianMixture(n_components=int(k), covariance_type="tied", n_init=n_init,
                         reg_covar=REG_COVAR, random_state=random_state).fit(x)
    lam = np.linalg.inv(np.atleast_2d(gm.covariances_))
    lam = 0.5 * (lam + lam.T)
    text = (f"inverse tied covariance of a {k}-component tied-covariance Gaussian mixture "
            f"(scikit-learn GaussianMixture, covariance_type tied, n_init {n_init}, "
            f"reg_covar {REG_COVAR:g}, random_state {random_state})")
    return lam, text
