"""Runs of the PAM50 study (Flaherty et al., Sec. 4.2): MAP runs with the known subtypes fixed and
the PAM50 centroid predictor, each written as one run record.

The 139 samples with a known subtype enter MINLP/MIQP as ``known_labels`` constraints
(``z_ic = 1`` for the sample's subtype code c), so component k *is* subtype k
(:data:`mixopt.data.pam50_matrix.SUBTYPES`). The PAM record holds the predictor's call for every
sample and, for comparison, Problem (4) at that assignment on pam50-4d with the study's precision
(mu and pi profiled out: class means and proportions).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixopt import __version__, provenance
from mixopt.data.dataset import read_dataset
from mixopt.data.pam50_matrix import SUBTYPES, read_centroids, read_unc_matrix
from mixopt.methods.pam_centroid import align_genes, pam_predict
from mixopt.objectives import profile_parameters, profiled_objective
from mixopt.records import record_id, write_record
from mixopt.runner import JobSpec, precision_matrix, run_on_dataset


def with_known_labels(labels: NDArray[np.int64], base: dict[str, Any] | None) -> dict[str, Any]:
    """``base`` constraints plus ``known_labels`` for every point with a label >= 0."""
    out = dict(base or {})
    out["known_labels"] = [[int(i), int(c)] for i, c in enumerate(labels) if c >= 0]
    return out


def run_map_job(
    spec: JobSpec,
    data_csv: str | Path,
    out: str | Path,
    fix_known: bool,
    config_hash: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """One MINLP/MIQP run on a PAM50 data set, the known subtypes fixed when ``fix_known``."""
    csv = Path(data_csv)
    ds = read_dataset(csv)
    if fix_known:
        if ds.labels is None:
            raise ValueError(f"{csv}: no labels to fix")
        spec = replace(spec, constraints=with_known_labels(ds.labels, spec.constraints))
    return run_on_dataset(spec, ds, [csv, csv.with_suffix(".json")], out,
                          config_hash=config_hash, rule=rule)


def run_pam(
    spec: JobSpec,
    train: str | Path,
    centroids: str | Path,
    data_csv: str | Path,
    out: str | Path,
    config_hash: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """The PAM50 centroid predictor on the UNC matrix (missing cells left missing) as a record.

    ``spec.options['centre']`` (default true): median-centre the genes first, as the
    bioclassifier does. ``data_csv`` (pam50-4d) and ``spec.precision`` give the Problem (4) value
    of PAM's assignment; ``spec.dataset`` names the data set in the record.
    """
    start = provenance.now_utc()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    unc = read_unc_matrix(Path(train))
    genes, subtypes, C = read_centroids(Path(centroids))
    if subtypes != SUBTYPES:
        raise ValueError(f"centroid subtypes {subtypes} differ from {SUBTYPES}")
    centre = bool(spec.options.get("centre", True))
    labels, corr = pam_predict(unc.values[:, align_genes(unc.genes, genes)], C, centre=centre)
    ds = read_dataset(Path(data_csv))
    lam = precision_matrix(ds, spec.precision, spec.k)
    mu, pi = profile_parameters(ds.X, labels, spec.k)
    objective = profiled_objective(ds.X, labels, spec.k, lam)
    truth = unc.labels()
    known = truth >= 0
    n_right = int(np.sum(labels[known] == truth[known]))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    record = {
        "schema_version": 1,
        "record_id": record_id(spec.study, spec.dataset, spec.method, spec.seed),
        "study": spec.study, "dataset": spec.dataset, "method": spec.method, "seed": spec.seed,
        "status": "local", "objective": objective, "lower_bound": None, "upper_bound": None,
        "gap": None, "assignment": labels,
        "params": {"k": spec.k, "pi": pi, "mu": mu, "precision": lam,
                   "settings": asdict(spec)},
        "metrics": {"accuracy": n_right / int(known.sum()), "n_known_correct": n_right,
                    "n_known": int(known.sum())},
        "wall_time_s": wall, "cpu_time_s": cpu,
        "solver": {"name": "pam50-centroid", "version": __version__,
                   "options": {"centre": "gene median" if centre else "none",
                               "distance": "Spearman", "missing": "pairwise complete genes"}},
        "trace": [],
        "notes": [f"objective: Problem (4) on {ds.name} at PAM's assignment, mu and pi profiled "
                  "(class means and proportions), not a quantity PAM optimises"],
        "extra": {"correlations": corr, "subtypes": SUBTYPES, "sample_ids": unc.samples},
        "provenance": provenance.collect(
            inputs=[Path(train), Path(centroids), Path(data_csv),
                    Path(data_csv).with_suffix(".json")],
            config_hash=config_hash, start_time=start, end_time=provenance.now_utc(),
            settings=asdict(spec), rule=rule),
    }
    write_record(out, record)
    return record
