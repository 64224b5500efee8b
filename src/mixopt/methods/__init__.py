"""Clustering methods. Each takes a :class:`~mixopt.problem.MAPProblem` and returns a
:class:`~mixopt.methods.base.MethodResult`; ``METHODS`` maps the CLI/config name to the function."""

from mixopt.methods.base import GLOBAL_METHODS, METHODS, MethodResult, get_method

__all__ = ["GLOBAL_METHODS", "METHODS", "MethodResult", "get_method"]
