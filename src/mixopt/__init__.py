"""mixopt: reproducible optimization-based clustering."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("mixopt")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

#: scikit-learn style estimators (:mod:`mixopt.estimators`), imported on first use so that the
#: command line does not load scikit-learn.
ESTIMATORS = ("MAPClustering", "RestrictedClustering", "ClusterwiseRegression")
__all__ = ["__version__", *ESTIMATORS]


def __getattr__(name: str) -> Any:
    if name in ESTIMATORS:
        from mixopt import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'mixopt' has no attribute {name!r}")
