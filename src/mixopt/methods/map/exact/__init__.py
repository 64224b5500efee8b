"""Certified global optima of Problem (4): ``exact1d`` (dynamic program, d = 1) and ``exact``
(SDP branch-and-bound in any dimension, direction search for K = 2); see docs/exact.md."""
