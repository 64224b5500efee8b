# Fois thesis Chapter 1 study: settings and helpers (functions live apart from rules); used by fois_ch1.smk.

from mixopt.studies.fois_settings import SimSetting, all_settings, scenario_settings

CH1 = config["studies"]["fois_ch1"]
CH1_SIM = CH1["simulation"]
CH1_REAL = CH1["real_data"]
CH1_METHODS = CH1["methods"]
CH1_SETTINGS = [s.name for s in all_settings(CH1_SIM["base"], CH1_SIM["scenarios"])]
CH1_REPS = list(range(1, P["fois_replications"] + 1))
SIM_DIR = "data/simulated/fois_ch1"
CH1_SCENARIO_BY_TABLE = {sc["table"]: s for s, sc in CH1_SIM["scenarios"].items()}
CH1_REPORT = "Ch. 1: bclust"  # report subcategory


def thesis_table(wc):
    """Report label of a Chapter 1 table: table1_2 -> Table 1.2."""
    return f"Table {wc.table[5:].replace('_', '.')}"


def ch1_options(method):
    """Method options: `methods` < the profile's `method_overrides`."""
    options = dict(config["methods"].get(method, {}))
    options.update(P.get("method_overrides", {}).get(method, {}))
    return options


def ch1_spec(wc):
    real = wc.dataset in CH1_REAL["datasets"]
    r2 = CH1_REAL["r2"] if real else SimSetting.from_name(wc.dataset).r2
    return {"study": "fois_ch1", "dataset": wc.dataset, "method": wc.method,
            "seed": int(wc.seed), "r2": float(r2), "options": ch1_options(wc.method)}


def ch1_inputs(wc):
    if wc.dataset in CH1_REAL["datasets"]:
        stem = f"{PROC_DIR}/{wc.dataset}"
    else:
        stem = f"{SIM_DIR}/{wc.dataset}/seed{wc.seed}"
    inputs = {"csv": f"{stem}.csv", "meta": f"{stem}.json"}
    if wc.method.startswith("bclust"):
        inputs["start"] = f"{RESULTS}/fois_ch1/{wc.dataset}/tclust/seed{wc.seed}.json"
    return inputs


def ch1_scenario_records(scenario):
    sc = CH1_SIM["scenarios"][scenario]
    names = [s.name for s in scenario_settings(CH1_SIM["base"], sc["vary"], sc["values"])]
    return [f"{RESULTS}/fois_ch1/{name}/{m}/seed{it}.json"
            for name in names for m in CH1_METHODS for it in CH1_REPS]
