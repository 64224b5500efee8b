"""Basin-hopping "simulated annealing" on the relaxed Problem (4) (Flaherty et al., Sec. 2, 4.1).

The paper's SA is ``scipy.optimize.basinhopping`` (Wales and Doye, 1997): random steps, each
followed by a local SLSQP minimisation of the relaxed problem (the same one as
:mod:`mixopt.methods.map.slsqp`, same K-means start) and a Metropolis test at temperature ``T``. The
step perturbs every coordinate of x by ``U(-s, s)`` (all coordinates live in [0,1]: z, pi and
mu rescaled to its box), clips into the bounds and renormalises the z rows and pi; SLSQP restores
the remaining linear constraints, and minima that still violate them are rejected. The lowest
minimum is rounded as for SLSQP. The optimiser works on ``f / n``; ``temperature`` is in units of
f (basinhopping gets ``T = temperature / n``), so a rise of ``temperature`` in f is accepted with
probability 1/e.
"""

from __future__ import annotations

import numpy as np
import scipy
from scipy.optimize import basinhopping

from mixopt.constraints import Constraints
from mixopt.methods.base import SIDE_CONSTRAINTS, MethodResult, map_method, single_threaded_blas
from mixopt.methods.map.kmeans_start import KMeansSpace
from mixopt.methods.map.relaxed import (
    FEAS_TOL,
    FloatArray,
    RelaxedProblem,
)
from mixopt.problem import MAPProblem
from mixopt.progress import Progress


class ProjectedStep:
    """basinhopping ``take_step``: uniform perturbation, then projection (adaptive ``stepsize``)."""

    def __init__(self, rp: RelaxedProblem, stepsize: float, rng: np.random.Generator,
                 relabel: bool = True) -> None:
        self.rp, self.stepsize, self.rng, self.relabel = rp, stepsize, rng, relabel

    def __call__(self, u: FloatArray) -> FloatArray:
        x = self.rp.expand(u)
        x += self.rng.uniform(-self.stepsize, self.stepsize, size=x.shape)
        return self.rp.reduce(self.rp.project(x, relabel=self.relabel))


@map_method("sa", constraints=SIDE_CONSTRAINTS)
def fit_sa(
    problem: MAPProblem,
    seed: int = 0,
    constraints: Constraints | None = None,
    niter: int = 100,
    temperature: float = 1.0,
    stepsize: float = 0.5,
    niter_success: int | None = None,
    max_iter: int = 500,
    ftol: float = 1e-9,
    kmeans_n_init: int = 10,
    kmeans_space: KMeansSpace = "data",
    sort_start: bool = True,
) -> MethodResult:
    """Run basin hopping from a K-means start seeded with ``seed``; see the module docstring.

    ``sort_start`` relabels the K-means components by size so that the start satisfies
    ``pi_order``; ``False`` keeps scikit-learn's label order, and SLSQP then typically ends with
    tied pi (pi = 1/K), which is what the paper's SLSQP/SA columns of Table 2 show.
    """
    step_seed, metropolis_seed = np.random.SeedSequence(seed).spawn(2)
    with single_threaded_blas():
        rp = RelaxedProblem.build(problem, constraints)
        x0, labels0 = rp.start(seed, kmeans_n_init, kmeans_space, sort_start)

        def feasible(f_new: float, x_new: FloatArray, f_old: float, x_old: FloatArray) -> bool:
            return bool(np.isfinite(f_new)) and rp.max_violation(rp.expand(x_new)) <= FEAS_TOL

        minimizer_kwargs = {"method": "SLSQP", "jac": True, "bounds": rp.bounds(),
                            "constraints": rp.scipy_constraints(),
                            "options": {"maxiter": max_iter, "ftol": ftol}}
        step = ProjectedStep(rp, stepsize, np.random.default_rng(step_seed), sort_start)
        progress = Progress("sa")
        hops = {"done": 0, "accepted": 0, "best": np.inf}

        def on_hop(x: FloatArray, f: float, accept: bool) -> None:
            # basinhopping's callback, after every local minimisation (the first one included);
            # f is the local minimum's f / n
            hops["done"] += 1
            if accept:
                hops["accepted"] += 1
                hops["best"] = min(hops["best"], float(f))
            if progress.due():
                progress.report(minima=f"{hops['done']}/{niter + 1}", accepted=hops["accepted"],
                                last=float(f) * problem.n,
                                best_relaxed=hops["best"] * problem.n)

        res = basinhopping(rp.objective, rp.reduce(x0), niter=niter, T=temperature / problem.n,
                           stepsize=stepsize, minimizer_kwargs=minimizer_kwargs, take_step=step,
                           accept_test=feasible, niter_success=niter_success,
                           rng=np.random.default_rng(metropolis_seed), callback=on_hop)
    best = res.lowest_optimization_result
    progress.done("local", hops=int(res.nit), minima=hops["done"], accepted=hops["accepted"],
                  best_relaxed=float(best.fun) * problem.n)
    x = rp.expand(res.x)
    options = {"niter": niter, "T": temperature, "stepsize": stepsize,
               "niter_success": niter_success, "local_method": "SLSQP", "max_iter": max_iter,
               "ftol": ftol, "kmeans_n_init": kmeans_n_init, "kmeans_space": kmeans_space,
               "sort_start": sort_start, "constraints": rp.constraints.to_dict()}
    solver = {"name": "scipy-basinhopping", "version": scipy.__version__, "options": options}
    extra = {"scipy_status": int(best.status), "message": "; ".join(map(str, res.message)),
             "nit": int(res.nit), "local_message": str(best.message),
             "success": bool(res.success), "nfev": int(res.get("nfev", 0)),
             "minimization_failures": int(res.minimization_failures),
             "final_stepsize": float(step.stepsize),
             "start_relaxed_objective": rp.fun_and_grad(x0)[0]}
    return rp.result(x, labels0, solver, int(res.nit), extra)
