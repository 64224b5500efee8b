"""MAP clustering under the Gaussian mixture model with a known shared precision (Flaherty et
al.): local methods (EM, EM restarts, SLSQP, basin hopping, Bandi et al.), the global MINLP and
MIQP with their Pyomo formulations and solver drivers, and the certified ``exact`` solvers."""
