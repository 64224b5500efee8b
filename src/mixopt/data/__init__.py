"""Data layer: raw-file registry and fetching, processed data sets and their file format."""

from mixopt.data.dataset import Dataset, read_dataset, read_points_csv, write_dataset
from mixopt.data.preprocess import (
    PROCESSED,
    ProcessedSpec,
    build_dataset,
    processed_names,
    raw_keys_for,
)
from mixopt.data.sources import (
    ChecksumError,
    DownloadError,
    RawFile,
    fetch,
    load_registry,
    raw_path,
    resolve_mirror,
    sha256_file,
    verify,
)

__all__ = [
    "PROCESSED",
    "ChecksumError",
    "Dataset",
    "DownloadError",
    "ProcessedSpec",
    "RawFile",
    "build_dataset",
    "fetch",
    "load_registry",
    "processed_names",
    "raw_keys_for",
    "raw_path",
    "read_dataset",
    "read_points_csv",
    "resolve_mirror",
    "sha256_file",
    "verify",
    "write_dataset",
]
