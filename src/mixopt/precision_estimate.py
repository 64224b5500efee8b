"""The shared precision (inverse covariance) of Problem (4) estimated from unlabelled data.

MAP clustering in the papers takes the covariance as known. On one's own data it is usually not:
:func:`estimate_precision` fits a tied-covariance Gaussian mixture (scikit-learn) with K
components and returns the inverse of its shared covariance, with a description to record.
"""

from __future__ import annotations

import numpy as np

ESTIMATORS = ("tied_gmm",)   #: names of the precision estimates (``{"estimate": name}``)


def estimate_precision(X: np.ndarray, k: int, random_state: int | None = 0,
                       n_init: int = 5) -> tuple[np.ndarray, str]:
    """Precision matrix of a tied-covariance K-component Gaussian mixture fit to ``X``.

    Returns ``(precision, description)``; the description says how it was obtained (for the
    record). ValueError when there are fewer points than components.
    """
    from sklearn.mixture import GaussianMixture

    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if not 1 <= k <= X.shape[0]:
        raise ValueError(f"cannot estimate a precision with K = {k} from {X.shape[0]} points")
    gm = GaussianMixture(n_components=k, covariance_type="tied", n_init=n_init,
                         random_state=random_state, reg_covar=1e-6).fit(X)
    cov = np.atleast_2d(gm.covariances_)
    precision = np.linalg.inv(cov)
    precision = (precision + precision.T) / 2.0
    description = (f"tied-covariance Gaussian mixture (scikit-learn GaussianMixture, K = {k}, "
                   f"n_init = {n_init}, random_state = {random_state}, reg_covar = 1e-6); "
                   "precision = inverse of the shared covariance")
    return precision, description
