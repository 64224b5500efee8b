# The MSSC benchmark (SOS-SDP instances, method exact): settings and helpers; used by
# mssc_benchmark.smk.

from mixopt.studies import mssc_benchmark as mssc

MSSC = config["studies"]["mssc_benchmark"]
MSSC_P = P.get("mssc_benchmark", {"time_limit_s": P["time_limit_s"],
                                  "threads": P["threads"].get("exact", 1)})
MSSC_INSTANCES = mssc.instances(MSSC)
MSSC_SEED = SEEDS[0]   # exact is deterministic: one run per instance


def mssc_record(instance):
    """Record path of one benchmark instance."""
    return f"{RESULTS}/{mssc.STUDY}/{instance}/{mssc.METHOD}/seed{MSSC_SEED}.json"


def mssc_data(wc):
    """Processed data set (CSV and metadata) of the instance ``wc.instance``."""
    name = MSSC_INSTANCES[wc.instance].dataset
    return {"csv": f"{PROC_DIR}/{name}.csv", "meta": f"{PROC_DIR}/{name}.json"}


def mssc_spec(instance):
    """Job spec of one instance: exact's options, the study's, the profile's limit and threads."""
    inst = MSSC_INSTANCES[instance]
    base = job_spec(mssc.STUDY, instance, mssc.METHOD, MSSC_SEED, inst.k, mssc.PRECISION,
                    method_options={mssc.METHOD: MSSC.get("method_options", {})})
    spec = mssc.instance_spec(base, inst, MSSC_P["time_limit_s"], MSSC_P["threads"])
    check_options(mssc.METHOD, spec["options"])
    return spec
