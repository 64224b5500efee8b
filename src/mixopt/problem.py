"""The MAP clustering problem instance: data, number of components, known precision.

Flaherty et al. fix the component covariance: sigma = 0.4 for iris1d, and for wine and brca a
precision matrix built from the true classes (Section 4.1). ``class_precision`` builds the
candidates for the latter; which one reproduces the paper is a configuration choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mixopt.objectives import as_precision

PrecisionRule = Literal["inverse_mean_class_covariance", "mean_class_precision"]
Proportions = Literal["free", "equal"]
PROPORTIONS: tuple[str, ...] = ("free", "equal")


@dataclass
class MAPProblem:
    """An instance of Problem (4): minimise the negative log posterior over (z, mu, pi).

    Attributes:
        y: data, n x d.
        k: number of mixture components K.
        precision: shared precision matrix Lambda (d x d), symmetric positive definite.
        proportions: ``"free"`` (Problem (4): pi estimated on the simplex) or ``"equal"``
            (pi_k = 1/K fixed: the classification likelihood with equal weights, i.e. minimum
            sum-of-squares clustering in the metric of Lambda, plus the constant n log K).
        mu_bounds: per-coordinate box [M^L, M^U] for every mean (defaults to the data range).
    """

    y: NDArray[np.float64]
    k: int
    precision: NDArray[np.float64]
    proportions: Proportions = "free"
    mu_bounds: tuple[NDArray[np.float64], NDArray[np.float64]] = field(init=False)

    def __post_init__(self) -> None:
        y = np.asarray(self.y, dtype=float)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[0] == 0:
            raise ValueError(f"y must be a non-empty n x d array, got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values")
        if not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        if self.k > y.shape[0]:
            raise ValueError(f"k = {self.k} exceeds the number of points n = {y.shape[0]}")
        if self.proportions not in PROPORTIONS:
            raise ValueError(f"proportions must be one of {list(PROPORTIONS)}, "
                             f"got {self.proportions!r}")
        self.y = y
        self.k = int(self.k)
        self.precision = as_precision(self.precision, y.shape[1])
        self.mu_bounds = (y.min(axis=0), y.max(axis=0))

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def d(self) -> int:
        return int(self.y.shape[1])


def class_precision(
    y: ArrayLike, labels: ArrayLike, rule: PrecisionRule, ddof: int = 1
) -> NDArray[np.float64]:
    """Precision matrix from the true classes ("the average of the true component precisions").

    ``inverse_mean_class_covariance``: ``inv(mean_k S_k)``; ``mean_class_precision``:
    ``mean_k inv(S_k)``, with ``S_k`` the covariance of class k (divisor ``n_k - ddof``).
    Points with a negative label (unknown class) are ignored.
    """
    y2 = np.asarray(y, dtype=float)
    y2 = y2[:, None] if y2.ndim == 1 else y2
    lab = np.asarray(labels, dtype=np.int64)
    classes = [c for c in np.unique(lab) if c >= 0]
    covs = []
    for c in classes:
        yc = y2[lab == c]
        if yc.shape[0] <= ddof:
            raise ValueError(f"class {c} has {yc.shape[0]} points: too few for a covariance")
        covs.append(np.atleast_2d(np.cov(yc, rowvar=False, ddof=ddof)))
    if rule == "inverse_mean_class_covariance":
        lam = np.linalg.inv(np.mean(covs, axis=0))
    elif rule == "mean_class_precision":
        lam = np.mean([np.linalg.inv(s) for s in covs], axis=0)
    else:
        raise ValueError(f"unknown precision rule {rule!r}")
    return 0.5 * (lam + lam.T)


@dataclass
class RobustProblem:
    """A robust clustering instance (Fois thesis, Ch. 1): data ``X`` (n x p), ``k`` clusters,
    eigenvalue-ratio restriction ``r2`` (the thesis' r^2: tclust's shape ratio, bclust's
    cond(M_j) <= sqrt(r2)) and trimming proportion ``alpha`` (only 0, no trimming, is
    implemented). The methods validate ``X`` and ``k`` themselves."""

    X: NDArray[np.float64]
    k: int
    r2: float
    alpha: float = 0.0

    def __post_init__(self) -> None:
        if self.alpha != 0:
            raise ValueError(f"trimming alpha = {self.alpha} is not implemented (only alpha = 0)")


@dataclass
class RegressionProblem:
    """A clusterwise regression instance (Fois thesis, Chs. 2-3): design ``X`` (n x p, used as
    given: pclustreg expects the intercept column in it, tclustreg adds one unless its option
    ``intercept`` is false), response ``y`` (n) and ``k`` hyperplanes. The methods validate the
    arrays themselves."""

    X: NDArray[np.float64]
    y: NDArray[np.float64]
    k: int
