# The PAM50 study (Flaherty et al., Sec. 4.2): settings and helpers; used by flaherty_pam50.smk.

PAM50 = config["studies"]["flaherty_pam50"]
PAM50_P = P.get("pam50", {"time_limit_s": P["time_limit_s"], "threads": P["threads"]})
PAM50_DS = PAM50["dataset"]
PAM50_STUDIES = {"flaherty_pam50": implemented(PAM50["methods"]),
                 "flaherty_pam50_nolabels": implemented(PAM50["nolabels_methods"])}
PAM50_SEED = SEEDS[0]


def pam50_record(study, method, dataset=PAM50_DS):
    """Record path of one PAM50 run (first seed: one run per method, as in the paper)."""
    return f"{RESULTS}/{study}/{dataset}/{method}/seed{PAM50_SEED}.json"


def pam50_spec(study, method, seed):
    """Job spec of a PAM50 MAP run: the study's model and method options, the profile's pam50
    limits and threads."""
    fixed = study == "flaherty_pam50"
    spec = job_spec(study, PAM50_DS, method, seed, PAM50["k"], PAM50["precision"],
                    PAM50["constraints"] if fixed else PAM50["nolabels_constraints"],
                    method_options=PAM50.get("method_options"))
    spec["options"]["time_limit_s"] = PAM50_P["time_limit_s"]
    spec["options"]["threads"] = PAM50_P["threads"].get(method, 1)
    spec["options"]["backend"] = PAM50.get("solvers", {}).get(method, spec["options"]["backend"])
    return spec


PAM50_RUNS = {"pam": pam50_record("flaherty_pam50", "pam", "pam50")}
PAM50_RUNS.update({m: pam50_record("flaherty_pam50", m)
                   for m in PAM50_STUDIES["flaherty_pam50"]})
PAM50_RUNS.update({f"{m}_nolabels": pam50_record("flaherty_pam50_nolabels", m)
                   for m in PAM50_STUDIES["flaherty_pam50_nolabels"]})
PAM50_DATA = {"data": f"{PROC_DIR}/{PAM50_DS}.csv", "data_meta": f"{PROC_DIR}/{PAM50_DS}.json"}
