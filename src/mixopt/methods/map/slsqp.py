"""SLSQP on the relaxed Problem (4) (Flaherty et al., Sec. 2 "SLSQP" and Sec. 4.1).

``scipy.optimize.minimize(method="SLSQP")`` over ``x = (z in [0,1]^{nK}, mu in the box, pi in
[eps, 1])`` with analytic gradient, the simplex constraints of Problem (4) and every side
constraint as linear (in)equalities (see :mod:`mixopt.methods.map.relaxed`), from the K-means
solution. z is then rounded to the nearest integral assignment; ``objective`` is Problem (4) at
(rounded z, mu, pi), the number reported in Table 2. SLSQP minimises ``f / n`` with mu rescaled
to its box (see :mod:`~mixopt.methods.map.relaxed`), so ``ftol`` is per data point. Since f is
linear in z for fixed (mu, pi), the relaxed optimum is usually integral already.
"""

from __future__ import annotations

import scipy
from scipy.optimize import minimize

from mixopt.constraints import Constraints
from mixopt.methods.base import SIDE_CONSTRAINTS, MethodResult, map_method, single_threaded_blas
from mixopt.methods.map.kmeans_start import KMeansSpace
from mixopt.methods.map.relaxed import RelaxedProblem
from mixopt.problem import MAPProblem


@map_method("slsqp", constraints=SIDE_CONSTRAINTS)
def fit_slsqp(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    max_iter: int = 500,
    ftol: float = 1e-9,
    kmeans_n_init: int = 10,
    kmeans_space: KMeansSpace = "data",
    sort_start: bool = True,
) -> MethodResult:
    """Run SLSQP from a K-means start seeded with ``seed``; see the module docstring.

    ``sort_start`` relabels the K-means components by size so that the start satisfies
    ``pi_order``; ``False`` keeps scikit-learn's label order, and SLSQP then typically ends with
    tied pi (pi = 1/K), which is what the paper's SLSQP/SA columns of Table 2 show.
    """
    with single_threaded_blas():
        rp = RelaxedProblem.build(problem, constraints)
        x0, labels0 = rp.start(seed, kmeans_n_init, kmeans_space, sort_start)
        res = minimize(rp.objective, rp.reduce(x0), jac=True, method="SLSQP",
                       bounds=rp.bounds(), constraints=rp.scipy_constraints(),
                       options={"maxiter": max_iter, "ftol": ftol})
    x = rp.expand(res.x)
    solver = {"name": "scipy-slsqp", "version": scipy.__version__,
              "options": {"max_iter": max_iter, "ftol": ftol, "kmeans_n_init": kmeans_n_init,
                          "kmeans_space": kmeans_space, "sort_start": sort_start,
                          "constraints": rp.constraints.to_dict()}}
    extra = {"scipy_status": int(res.status), "message": str(res.message), "nit": int(res.nit),
             "success": bool(res.success),
             "start_relaxed_objective": rp.fun_and_grad(x0)[0]}
    return rp.result(x, labels0, solver, int(res.nit), extra)
