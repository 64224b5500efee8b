# Settings shared by all rules: the active profile and the paths of records and artifacts.

from mixopt.methods import METHODS

PROFILE = config["profile"]
P = config["profiles"][PROFILE]
SEEDS = P["seeds"]
RAW_DIR = config["data"]["raw_dir"]
PROC_DIR = config["data"]["processed_dir"]
RESULTS = f"results/{PROFILE}"
LOGS = f"logs/{PROFILE}"


def implemented(methods):
    """The methods of a study that have an implementation; the others are reported as not run."""
    return [m for m in methods if m in METHODS]
