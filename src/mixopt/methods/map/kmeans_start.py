"""Initialisation shared by the local methods: K-means seeded by the run's seed."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans

from mixopt.objectives import profile_parameters
from mixopt.problem import MAPProblem

KMeansSpace = Literal["data", "whitened"]


def kmeans_start(
    problem: MAPProblem, seed: int, n_init: int = 10, space: KMeansSpace = "data"
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """K-means labels and the implied (mu, pi), as the paper initialises EM, SLSQP and SA.

    ``space="data"`` clusters the raw coordinates (the paper's protocol); ``"whitened"`` clusters
    ``y L`` with ``Lambda = L L'``, the geometry of Problem (4).
    """
    y = problem.y
    if space == "whitened":
        y = y @ np.linalg.cholesky(problem.precision)
    elif space != "data":
        raise ValueError(f"kmeans space must be 'data' or 'whitened', got {space!r}")
    km = KMeans(n_clusters=problem.k, n_init=n_init, random_state=seed).fit(y)
    labels = km.labels_.astype(np.int64)
    mu, pi = profile_parameters(problem.y, labels, problem.k, problem.proportions)
    return labels, mu, pi
