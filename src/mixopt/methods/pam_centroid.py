"""PAM50 nearest-centroid subtype predictor (Parker et al. 2009; Tibshirani et al. 2002).

The procedure of the UNC bioclassifier (``subtypePrediction_distributed.R`` in PAM50.zip, run with
its defaults ``calibrationParameters = NA``), as Flaherty et al. Sec. 4.2 ran it:

1. median-centre every gene over the samples of the data set (missing values ignored);
2. for every sample, Spearman's rank correlation with each published centroid over the genes
   the sample has (missing genes dropped pair by pair, as R's ``use = "pairwise.complete.obs"``);
3. assign the subtype of the most correlated centroid (first one on ties, centroid-file order).

The bioclassifier's per-sample standardisation (``stdArray``) is a positive affine map of each
sample and leaves its ranks, hence the Spearman correlations, unchanged; it is omitted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata


def median_centre(X: NDArray[np.float64]) -> NDArray[np.float64]:
    """Subtract every gene's (column's) median over the samples, NaN ignored."""
    return X - np.nanmedian(X, axis=0)


def spearman(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Spearman's rho over the positions where both vectors are observed (average ranks on ties)."""
    ok = ~(np.isnan(a) | np.isnan(b))
    ra, rb = rankdata(a[ok]), rankdata(b[ok])
    return float(np.corrcoef(ra, rb)[0, 1])


def align_genes(
    genes: Sequence[str], centroid_genes: Sequence[str]
) -> NDArray[np.int64]:
    """Column index in the data of every centroid gene (error naming the genes that are absent)."""
    index = {g: j for j, g in enumerate(genes)}
    absent = [g for g in centroid_genes if g not in index]
    if absent:
        raise ValueError(f"centroid genes missing from the data: {absent}")
    return np.array([index[g] for g in centroid_genes], dtype=np.int64)


def centroid_correlations(
    X: NDArray[np.float64], centroids: NDArray[np.float64], centre: bool = True
) -> NDArray[np.float64]:
    """n x K Spearman correlations of every sample (row of X) with every centroid (column).

    ``X`` (samples x genes, NaN = missing) and ``centroids`` (genes x K) share the gene order.
    """
    X = np.asarray(X, dtype=float)
    C = np.asarray(centroids, dtype=float)
    if X.shape[1] != C.shape[0]:
        raise ValueError(f"{X.shape[1]} genes in the data, {C.shape[0]} in the centroids")
    Y = median_centre(X) if centre else X
    return np.array([[spearman(y, C[:, k]) for k in range(C.shape[1])] for y in Y])


def pam_predict(
    X: NDArray[np.float64], centroids: NDArray[np.float64], centre: bool = True
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Subtype code (column of ``centroids``) of every sample and the correlation matrix."""
    corr = centroid_correlations(X, centroids, centre=centre)
    return np.argmax(corr, axis=1).astype(np.int64), corr
