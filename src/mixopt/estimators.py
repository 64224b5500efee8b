"""scikit-learn style estimators over mixopt's methods (``fit``, ``predict``, ``score``, ...).

* :class:`MAPClustering`: any MAP method (``em``, ``minlp``, ``miqp``, ``exact``, ...) on
  Problem (4) with a shared precision, known or estimated from the data.
* :class:`RestrictedClustering`: tclust / bclust (Gaussian clusters with their own covariances,
  eigenvalue ratio at most ``r2``).
* :class:`ClusterwiseRegression`: tclustreg / pclustreg (one linear regression per cluster), with
  one intercept convention for both methods.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from mixopt.constraints import Constraints
from mixopt.objectives import sq_mahalanobis

_LOG2PI = math.log(2.0 * math.pi)


def _seed(random_state: Any) -> int:
    """An integer seed for mixopt's methods from a scikit-learn ``random_state``."""
    if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _softmax(logp: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(logp - logsumexp(logp, axis=1, keepdims=True))


def _gaussian_logpdf(X: NDArray, mean: NDArray, cov: NDArray) -> NDArray[np.float64]:
    """log N(x_i; mean, cov) for every row of X."""
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, (X - mean).T)
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (np.sum(z * z, axis=0) + logdet + X.shape[1] * _LOG2PI)


# --------------------------------------------------------------------------------------------
# MAP clustering


class MAPClustering(ClusterMixin, BaseEstimator):
    """MAP clustering of a Gaussian mixture with a shared precision (Problem (4)).

    Parameters:
        n_clusters: K.
        method: a MAP method of :data:`mixopt.methods.base.METHODS` (``em``, ``minlp``, ...).
        precision: ``"estimate"`` (default: the inverse tied covariance of a Gaussian mixture
            fit, :func:`mixopt.precision_estimate.estimate_precision`), a number c (Lambda = c I,
            e.g. ``1 / sigma**2``) or a d x d matrix.
        constraints: side constraints, a dict in the constraint language or a
            :class:`~mixopt.constraints.Constraints` (then ``min_size`` is taken from it).
        min_size: smallest cluster size (1: K non-empty clusters; 0: empty clusters allowed).
        proportions: ``"free"`` (Problem (4): weights estimated) or ``"equal"`` (weights fixed
            at 1/K: minimum sum-of-squares clustering in the metric of the precision).
        time_limit: seconds, for methods with a ``time_limit_s`` option (global methods).
        method_options: further keyword options of the method's fit function.
        random_state: seeds the method (and the precision estimate).

    Fitted attributes: ``labels_``, ``means_`` (K x d), ``weights_`` (K), ``precision_``,
    ``precision_source_`` (how the precision was obtained), ``objective_`` (Problem (4) at the
    result), ``lower_bound_`` and ``gap_`` (certified, global methods; else None), ``status_``,
    ``record_`` (the fields of a run record: status, objective, bounds, params, notes, trace,
    extra, solver), ``n_features_in_``.
    """

    def __init__(self, n_clusters: int = 3, method: str = "em", precision: Any = "estimate",
                 constraints: Any = None, min_size: int = 1, time_limit: float | None = None,
                 method_options: dict[str, Any] | None = None, random_state: Any = None,
                 proportions: str = "free") -> None:
        self.n_clusters = n_clusters
        self.method = method
        self.precision = precision
        self.constraints = constraints
        self.min_size = min_size
        self.time_limit = time_limit
        self.method_options = method_options
        self.random_state = random_state
        self.proportions = proportions

    def _resolve_precision(self, X: NDArray, seed: int) -> tuple[NDArray, str]:
        from mixopt.objectives import as_precision
        from mixopt.precision_estimate import estimate_precision

        if isinstance(self.precision, str):
            if self.precision != "estimate":
                raise ValueError(f"precision must be 'estimate', a number or a d x d matrix, "
                                 f"got {self.precision!r}")
            return estimate_precision(X, self.n_clusters, random_state=seed)
        lam = as_precision(self.precision, X.shape[1])
        return lam, "given"

    def _constraints(self) -> Constraints:
        if isinstance(self.constraints, Constraints):
            return self.constraints
        return Constraints.from_dict({"min_size": self.min_size, **(self.constraints or {})})

    def _options(self) -> dict[str, Any]:
        from mixopt.methods.options import check_options, method_options

        options = dict(self.method_options or {})
        if self.time_limit is not None:
            if "time_limit_s" not in method_options(self.method):
                raise ValueError(f"method {self.method!r} takes no time limit")
            options["time_limit_s"] = float(self.time_limit)
        check_options(self.method, options)
        return options

    def fit(self, X: ArrayLike, y: Any = None) -> MAPClustering:
        """Run the method on X (``y`` is ignored)."""
        from mixopt.data.dataset import Dataset
        from mixopt.methods.base import get_method
        from mixopt.problem import MAPProblem
        from mixopt.runner import JobSpec, result_record

        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        seed = _seed(self.random_state)
        options = self._options()
        cons = self._constraints()
        lam, source = self._resolve_precision(X, seed)
        problem = MAPProblem(X, int(self.n_clusters), lam, proportions=self.proportions)
        result = get_method(self.method)(problem, seed=seed, constraints=cons, **options)
        if result.status in ("error", "infeasible") or len(result.labels) != problem.n:
            notes = "; ".join(result.extra.get("notes", [])) or "no solution"
            raise RuntimeError(f"{self.method} ended with status {result.status}: {notes}")
        spec = JobSpec(study="estimator", dataset="X", method=self.method, seed=seed,
                       k=problem.k, precision={"matrix": lam.tolist(), "source": source},
                       options=options, constraints=cons.to_dict(),
                       proportions=self.proportions)
        ds = Dataset(name="X", X=X, labels=None, feature_names=[f"x{j}" for j in
                                                                  range(X.shape[1])],
                     label_names=[])
        record = result_record(spec, ds, problem, result)
        record["params"]["precision_source"] = source
        record["solver"] = result.solver
        self.labels_ = np.asarray(result.labels, dtype=np.int64)
        self.means_ = np.asarray(result.mu, dtype=float)
        self.weights_ = np.asarray(result.pi, dtype=float)
        self.precision_ = lam
        self.precision_source_ = source
        self.objective_ = float(result.objective)
        self.lower_bound_ = result.lower_bound
        self.gap_ = result.gap
        self.status_ = result.status
        self.record_ = record
        return self

    def _log_joint(self, X: ArrayLike) -> NDArray[np.float64]:
        """log w_k - 1/2 (x - mu_k)' Lambda (x - mu_k) (n x K), up to a constant per row."""
        check_is_fitted(self)
        Xv = validate_data(self, X, dtype=np.float64, reset=False)
        with np.errstate(divide="ignore"):
            logw = np.log(self.weights_)
        return logw[None, :] - 0.5 * sq_mahalanobis(Xv, self.means_, self.precision_)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Posterior probabilities, proportional to w_k exp(-1/2 (x-mu_k)' Lambda (x-mu_k))."""
        return _softmax(self._log_joint(X))

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """The component of highest posterior probability."""
        return np.argmax(self._log_joint(X), axis=1).astype(np.int64)

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """log of the fitted mixture density sum_k w_k N(x; mu_k, Lambda^-1) at every row."""
        logj = self._log_joint(X)
        _, logdet = np.linalg.slogdet(self.precision_)
        return logsumexp(logj, axis=1) + 0.5 * logdet - 0.5 * self.n_features_in_ * _LOG2PI

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean log-likelihood per sample of the fitted mixture (higher is better)."""
        return float(np.mean(self.score_samples(X)))


# --------------------------------------------------------------------------------------------
# restricted Gaussian clustering (thesis Ch. 1)


class RestrictedClustering(ClusterMixin, BaseEstimator):
    """Gaussian clusters with their own covariances, eigenvalue ratio at most ``r2``.

    ``method="tclust"`` (FSDA tclust without trimming, ``nsamp`` random starts) or ``"bclust"``
    (tclust, then the thesis' local search; ``mode`` ``likelihood`` or ``thesis``). Clusters have
    equal weights, as in both methods. ``predict`` assigns a point to the component of largest
    Gaussian log-density log N(x; mu_j, Sigma_j) under the fitted means and covariances;
    ``predict_proba`` normalises these densities; ``score`` is the mean per sample of that largest
    log-density (the classification log-likelihood; on the training data of bclust in likelihood
    mode it is -objective_ / n). Columns constant in the training data are dropped by tclust;
    ``kept_columns_`` lists those used, and ``covariances_`` refer to them.

    Fitted attributes: ``labels_``, ``means_`` (K x d kept), ``covariances_``, ``objective_``
    (the method's own), ``status_``, ``kept_columns_``, ``n_features_in_``.
    """

    def __init__(self, n_clusters: int = 3, method: str = "bclust", r2: float = 10.0,
                 mode: str = "likelihood", nsamp: int = 300, time_limit: float | None = None,
                 random_state: Any = None) -> None:
        self.n_clusters = n_clusters
        self.method = method
        self.r2 = r2
        self.mode = mode
        self.nsamp = nsamp
        self.time_limit = time_limit
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: Any = None) -> RestrictedClustering:
        """Cluster X (``y`` is ignored)."""
        from mixopt.methods.robust.bclust import fit_bclust
        from mixopt.methods.robust.tclust import fit_tclust
        from mixopt.problem import RobustProblem

        if self.method not in ("tclust", "bclust"):
            raise ValueError(f"method must be 'tclust' or 'bclust', got {self.method!r}")
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        k = int(self.n_clusters)
        tc = fit_tclust(RobustProblem(X, k, float(self.r2)), nsamp=int(self.nsamp),
                        seed=_seed(self.random_state))
        keep = np.asarray(tc.kept_columns, dtype=np.int64)
        labels, mu, sigma = tc.labels, tc.mu, tc.sigma
        objective, status = float(tc.objective_labels), "local"
        if self.method == "bclust":
            res = fit_bclust(RobustProblem(X[:, keep], k, float(self.r2)), init_labels=tc.labels,
                             mode=self.mode, time_limit_s=self.time_limit)
            labels, mu, sigma = res.labels, res.mu, res.sigma
            objective, status = float(res.objective), res.status
        self.labels_ = np.asarray(labels, dtype=np.int64)
        self.means_ = np.asarray(mu, dtype=float)
        self.covariances_ = np.asarray(sigma, dtype=float)
        self.objective_ = objective
        self.status_ = status
        self.kept_columns_ = keep
        return self

    def _log_densities(self, X: ArrayLike) -> NDArray[np.float64]:
        check_is_fitted(self)
        Xv = validate_data(self, X, dtype=np.float64, reset=False)[:, self.kept_columns_]
        out = np.full((Xv.shape[0], len(self.means_)), -np.inf)
        for j, (mean, cov) in enumerate(zip(self.means_, self.covariances_, strict=True)):
            if np.all(np.isfinite(mean)):
                out[:, j] = _gaussian_logpdf(Xv, mean, cov)
        return out

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """The component of largest log-density."""
        return np.argmax(self._log_densities(X), axis=1).astype(np.int64)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """The components' densities at every row, normalised (equal weights)."""
        return _softmax(self._log_densities(X))

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean classification log-likelihood per sample: mean_i max_j log N(x_i; mu_j, Sigma_j)."""
        return float(np.mean(np.max(self._log_densities(X), axis=1)))


# --------------------------------------------------------------------------------------------
# clusterwise linear regression (thesis Chs. 2-3)


class ClusterwiseRegression(ClusterMixin, BaseEstimator):
    """One linear regression per cluster: ``tclustreg`` or ``pclustreg``.

    **Intercept convention** (both methods alike): ``fit_intercept=True`` drops the columns of X
    that are constant in the training data (their coefficients are 0) and adds a column of ones;
    ``fit_intercept=False`` uses X as given (add your own column of ones). ``pclustreg`` options:
    ``variant`` (``"F"``: no noise bound needed; ``"chi2"`` needs ``sigma_min``), ``node_limit``
    (expanded nodes; None: until the probabilistic guarantee holds, which can take long) and
    ``time_limit``; ``tclustreg``: ``nsamp`` random starts.

    Assigning a point to a regression cluster needs its response: ``predict(X, y)`` returns the
    cluster of highest log(w_j) + log N(y; x' coef_j + intercept_j, sigma_j^2) (the
    classification likelihood the methods maximise), ``predict_response(X)`` each cluster's fitted
    response (n x K). ``score(X, y)`` is the mean log-likelihood per sample of the mixture of
    regressions.

    Fitted attributes: ``labels_``, ``coef_`` (K x p), ``intercept_`` (K), ``sigma_`` (K, ML
    noise sd sqrt(SSR_j / n_j)), ``weights_`` (n_j / n), ``loglik_`` (the thesis' log L-hat of
    ``labels_``), ``status_``, ``n_features_in_``.
    """

    def __init__(self, n_clusters: int = 2, method: str = "tclustreg", fit_intercept: bool = True,
                 nsamp: int = 300, variant: str = "F", sigma_min: float | None = None,
                 node_limit: int | None = 100, time_limit: float | None = None,
                 random_state: Any = None) -> None:
        self.n_clusters = n_clusters
        self.method = method
        self.fit_intercept = fit_intercept
        self.nsamp = nsamp
        self.variant = variant
        self.sigma_min = sigma_min
        self.node_limit = node_limit
        self.time_limit = time_limit
        self.random_state = random_state

    def _design(self, X: NDArray) -> NDArray:
        if not self.fit_intercept:
            return X
        return np.hstack([np.ones((X.shape[0], 1)), X[:, self.used_columns_]])

    def fit(self, X: ArrayLike, y: ArrayLike) -> ClusterwiseRegression:
        """Fit K regressions of y on X."""
        from mixopt.methods.regression.pclustreg import fit_pclustreg
        from mixopt.methods.regression.tclustreg import fit_tclustreg, loglik_hat
        from mixopt.problem import RegressionProblem

        if self.method not in ("tclustreg", "pclustreg"):
            raise ValueError(f"method must be 'tclustreg' or 'pclustreg', got {self.method!r}")
        X, yy = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        k, seed = int(self.n_clusters), _seed(self.random_state)
        self.used_columns_ = (np.flatnonzero(np.ptp(X, axis=0) > 0) if self.fit_intercept
                              else np.arange(X.shape[1]))
        design = self._design(X)
        if self.method == "tclustreg":
            res = fit_tclustreg(RegressionProblem(design, yy, k), nsamp=int(self.nsamp), seed=seed,
                                intercept=False)
            labels, status = res.labels, "local"
        else:
            pc = fit_pclustreg(RegressionProblem(design, yy, k), variant=self.variant,
                               sigma_min=self.sigma_min, node_limit=self.node_limit, seed=seed,
                               time_limit_s=self.time_limit)
            labels = pc.labels
            status = {"complete": "probabilistic"}.get(pc.status, pc.status)
        self._set_coefficients(design, yy, np.asarray(labels, dtype=np.int64), k)
        self.loglik_ = float(loglik_hat(design, yy, self.labels_, k))
        self.status_ = status
        return self

    def _set_coefficients(self, design: NDArray, y: NDArray, labels: NDArray, k: int) -> None:
        """OLS per cluster: coef_, intercept_, sigma_, weights_ in the caller's columns."""
        p = self.n_features_in_
        coef, icpt, sigma = np.zeros((k, p)), np.zeros(k), np.zeros(k)
        cols = self.used_columns_
        for j in range(k):
            idx = labels == j
            beta = np.linalg.lstsq(design[idx], y[idx], rcond=None)[0]
            resid = y[idx] - design[idx] @ beta
            sigma[j] = math.sqrt(float(resid @ resid) / max(int(idx.sum()), 1))
            if self.fit_intercept:
                icpt[j], coef[j, cols] = beta[0], beta[1:]
            else:
                coef[j] = beta
        self.labels_, self.coef_, self.intercept_, self.sigma_ = labels, coef, icpt, sigma
        self.weights_ = np.bincount(labels, minlength=k) / labels.size

    def predict_response(self, X: ArrayLike) -> NDArray[np.float64]:
        """Each cluster's fitted response x' coef_j + intercept_j (n x K)."""
        check_is_fitted(self)
        Xv = validate_data(self, X, dtype=np.float64, reset=False)
        return Xv @ self.coef_.T + self.intercept_[None, :]

    def _log_joint(self, X: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        resp = self.predict_response(X)
        yy = np.asarray(y, dtype=float).reshape(-1)
        if yy.shape[0] != resp.shape[0]:
            raise ValueError(f"y has {yy.shape[0]} values for {resp.shape[0]} rows of X")
        sig = np.maximum(self.sigma_, 1e-300)
        with np.errstate(divide="ignore"):
            logw = np.log(self.weights_)
        r = (yy[:, None] - resp) / sig[None, :]
        return logw[None, :] - 0.5 * r * r - np.log(sig)[None, :] - 0.5 * _LOG2PI

    def predict(self, X: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """The cluster of highest classification likelihood of (x, y) (the response is needed)."""
        return np.argmax(self._log_joint(X, y), axis=1).astype(np.int64)

    def fit_predict(self, X: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:  # type: ignore[override]
        """Fit and return ``labels_``."""
        return self.fit(X, y).labels_

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean log-likelihood per sample of the mixture of regressions."""
        return float(np.mean(logsumexp(self._log_joint(X, y), axis=1)))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
