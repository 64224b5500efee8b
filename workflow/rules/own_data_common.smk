# Your own data sets: the sheet (config/datasets.tsv, studies.own_data.sheet) and helpers; used by
# own_data.smk. A bad row stops the workflow before any job, naming the row and the column.

import pandas as pd

from mixopt.methods import METHODS
from mixopt.studies.own_data import record_paths, read_sheet

OWN = config["studies"].get("own_data", {})
OWN_ROWS = {
    row.name: row
    for row in read_sheet(OWN.get("sheet", "config/datasets.tsv"),
                          OWN.get("methods", ["em"]), sorted(METHODS))
}
if OWN_ROWS:
    validate(pd.DataFrame([row.as_row() for row in OWN_ROWS.values()]),
             "../../config/schemas/datasets.schema.yaml")
OWN_RECORDS = record_paths(RESULTS, list(OWN_ROWS.values()), SEEDS)
OWN_REPORT = "Your data"  # report category


def own_pattern(names):
    """Wildcard constraint matching exactly ``names`` (nothing when there are none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


def own_csv(wc):
    return OWN_ROWS[wc.dataset].path


def own_spec(wc):
    row = OWN_ROWS[wc.dataset]
    return job_spec("own_data", row.name, wc.method, wc.seed, row.k, row.precision(wc.seed),
                    time_limit_s=OWN.get("time_limit_s"))


def own_points(wc):
    return OWN_ROWS[wc.dataset].points()


def own_figures():
    """One clustering figure per (data set, method), of the first seed."""
    return [f"figures/own_data/{name}/{m}.png" for name, row in OWN_ROWS.items()
            for m in row.methods]
