"""Clustering with eigenvalue-ratio restricted covariances (Fois thesis, Ch. 1): tclust and
bclust."""
