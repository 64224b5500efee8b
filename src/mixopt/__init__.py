"""mixopt: reproducible optimization-based clustering."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mixopt")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

