"""Fois thesis studies: Chapter 1 (bclust vs tclust, random and oracle on MixSim and real data)."""
