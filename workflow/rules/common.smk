# Settings and helpers shared by all rules: the active profile, paths, raw-file lookup, job specs.

import re

from mixopt.data.preprocess import processed_names, raw_keys_for
from mixopt.data.sources import load_registry
from mixopt.methods import GLOBAL_METHODS, METHODS
from mixopt.methods.options import check_options, configured_options

PROFILE = config["profile"]
P = config["profiles"][PROFILE]
SEEDS = P["seeds"]
RAW_DIR = config["data"]["raw_dir"]
PROC_DIR = config["data"]["processed_dir"]
RESULTS = f"results/{PROFILE}"
LOGS = f"logs/{PROFILE}"
ENV = "../envs/mixopt.yaml"
RAW = load_registry()


def raw_file(key):
    """Path of a verified raw file: data/raw/<key>/<file>."""
    return f"{RAW_DIR}/{key}/{RAW[key].file}"


def implemented(methods):
    """The methods of a study that have an implementation; the others are reported as not run."""
    return [m for m in methods if m in METHODS]


# `snakemake --report`: categories of the report and the flags of its files (captions in
# workflow/report/; labels name the paper artifact and the file).
FLAHERTY = "Flaherty et al."
FOIS = "Fois thesis"
PROVENANCE = "Provenance"


def report_labels(**labels):
    """Report labels; a function of the wildcards when a value is (Snakemake wants plain values)."""
    if not any(callable(v) for v in labels.values()):
        return labels
    return lambda wc: {k: v(wc) if callable(v) else v for k, v in labels.items()}


def report_artifact(path, caption, category, subcategory, artifact):
    """Flag one file of a paper artifact for the report (caption workflow/report/<caption>.rst).

    ``subcategory`` and ``artifact`` may be functions of the wildcards. Labels: the artifact and
    the file name (unique, so the report shows every file as a row, never as a toggle)."""
    return report(path, caption=f"../report/{caption}.rst", category=category,
                  subcategory=subcategory,
                  labels=report_labels(artifact=artifact, file=path.rsplit("/", 1)[-1]))


def report_sources(path, source, artifact):
    """Flag the <name>.sources.json provenance sidecar of an artifact (category Provenance)."""
    return report(path, caption="../report/sources.rst", category=PROVENANCE,
                  subcategory=f"Sources: {source}", labels=report_labels(artifact=artifact))


def study_records(study, cfg, methods, datasets=None):
    """Record paths of a study: every (data set, method, seed), minus restricted methods.

    ``datasets`` narrows the study's data sets (e.g. to those another study compares on)."""
    only_on = cfg.get("only_on", {})
    return [f"{RESULTS}/{study}/{ds}/{m}/seed{s}.json"
            for ds in cfg["datasets"] for m in methods for s in SEEDS
            if ds in only_on.get(m, [ds]) and (datasets is None or ds in datasets)]


def subset_records(study, dataset, sizes_by_method):
    """Record paths of runs on per-class subsets <dataset>_n<N> (first seed only)."""
    return [f"{RESULTS}/{study}/{dataset}_n{n}/{m}/seed{SEEDS[0]}.json"
            for m, sizes in sizes_by_method.items() for n in sizes]


def job_spec(study, dataset, method, seed, k, precision, constraints=None, subset_per_class=None,
             method_options=None, time_limit_s=None, proportions="free"):
    """The settings that determine one run's numbers (passed as params: a change reruns the job).

    Options: ``methods`` < the profile's ``method_overrides`` < the study's ``method_options``.
    ``time_limit_s``: the global methods' limit (default: the profile's). ``proportions``
    (``free`` or ``equal``) enters the spec only when equal, so that the specs of
    free-proportions runs, and their params, stay as they were."""
    options = configured_options(config, method, P, method_options)
    if method in GLOBAL_METHODS:
        options["time_limit_s"] = P["time_limit_s"] if time_limit_s is None else time_limit_s
        options["threads"] = P["threads"].get(method, 1)
        options["backend"] = config["solvers"].get(method, "scip")
        options["log_progress"] = True
    if method in METHODS:
        check_options(method, options)  # unknown names, types, ranges: fail before any job
    return {"study": study, "dataset": dataset, "method": method, "seed": int(seed),
            "k": k, "precision": precision, "options": options, "constraints": constraints,
            "subset_per_class": subset_per_class,
            **({"proportions": proportions} if proportions != "free" else {})}
