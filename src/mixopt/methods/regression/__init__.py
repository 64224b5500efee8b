"""Clusterwise linear regression (Fois thesis, Chs. 2-3): tclustreg and pclustreg."""
