# Flaherty et al., Section 4.1: Table 2 (local vs global MAP clustering on iris1d, wine, brca).

T2 = config["studies"]["flaherty_table2"]
T2_METHODS = implemented(T2["columns"])


rule flaherty_table2_run:
    input:
        csv=f"{PROC_DIR}/{{dataset}}.csv",
        meta=f"{PROC_DIR}/{{dataset}}.json",
    output:
        f"{RESULTS}/flaherty_table2/{{dataset}}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        dataset="|".join(T2["datasets"]),
        method="|".join(T2_METHODS),
        seed=r"\d+",
    params:
        spec=lambda wc: job_spec("flaherty_table2", wc.dataset, wc.method, wc.seed,
                                 constraints=T2.get("constraints"),
                                 **T2["datasets"][wc.dataset]),
    threads: lambda wc: P["threads"].get(wc.method, 1)
    resources:
        runtime=lambda wc: int(P["time_limit_s"] / 60) + 10,
    log:
        f"{LOGS}/flaherty_table2/{{dataset}}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/run_method.py"


rule flaherty_table2:
    input:
        study_records("flaherty_table2", T2, T2_METHODS),
    output:
        csv="tables/flaherty_table2.csv",
        md="tables/flaherty_table2.md",
        tex="tables/flaherty_table2.tex",
        sources="tables/flaherty_table2.sources.json",
    params:
        datasets=list(T2["datasets"]),
        columns=T2["columns"],
        only_on=T2.get("only_on", {}),
        profile=PROFILE,
    log:
        f"{LOGS}/tables/flaherty_table2.log",
    conda:
        ENV
    script:
        "../../scripts/table2.py"
