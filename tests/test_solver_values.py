"""A solution copied back from the isolated SCIP process logs no Pyomo W1001/W1002 warnings:
a solver's values meet domains and bounds only up to its tolerances."""

from __future__ import annotations

import logging

import numpy as np
import pyomo.environ as pyo
import pytest

import mixopt.methods.map.solvers
from mixopt.methods.map.em import fit_em
from mixopt.methods.map.minlp import fit_minlp
from mixopt.methods.map.miqp import fit_miqp
from mixopt.problem import MAPProblem


def _within_tolerance(model, *args, **kwargs) -> mixopt.methods.map.solvers.SolveOutcome:
    """Stands in for SCIP in the child: the (warm start) values, moved by solver tolerances."""
    for var in model.component_data_objects(pyo.Var):
        if var.value is None:
            continue
        if var.is_binary():
            var.set_value(1 - 2e-7 if var.value > 0.5 else 1e-8, skip_validation=True)
        elif var.lb is not None and var.value <= var.lb:
            var.set_value(var.lb - 1e-9, skip_validation=True)
    return mixopt.methods.map.solvers.SolveOutcome(
        status="time_limit", has_solution=True, upper_bound=None, lower_bound=None,
        backend="scip", version="test", options={}, wall_time_s=0.0)


@pytest.mark.parametrize("fit", [fit_minlp, fit_miqp])
def test_warm_started_solve_logs_no_domain_warnings(monkeypatch, caplog, fit):
    pytest.importorskip("pyscipopt")
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0, 0.3, 12), rng.normal(3, 0.3, 12)])
    problem = MAPProblem(y, 2, np.eye(1) / 0.09)
    monkeypatch.setattr(mixopt.methods.map.solvers, "_solve_contrib", _within_tolerance)
    with caplog.at_level(logging.WARNING):
        result = fit(problem, backend="scip", time_limit_s=5, warm_start="em")
    # (Pyomo's formatter adds the "W1001" prefix: the records hold only the message)
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("pyomo")]
    assert warnings == []
    assert result.labels.tolist() == fit_em(problem, seed=0).labels.tolist()
