# Flaherty et al., Section 4.1: Table 2 (local vs global MAP clustering on iris1d, wine, brca).

T2 = config["studies"]["flaherty_table2"]
T2_METHODS = implemented(T2["columns"])
SEC41 = "Sec. 4.1: iris, wine, brca"  # report subcategory


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
                                 proportions=T2.get("proportions", "free"),
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
        csv=report_artifact("tables/flaherty_table2.csv", "flaherty_table2", FLAHERTY, SEC41,
                            "Table 2"),
        md=report_artifact("tables/flaherty_table2.md", "flaherty_table2", FLAHERTY, SEC41,
                           "Table 2"),
        tex=report_artifact("tables/flaherty_table2.tex", "flaherty_table2", FLAHERTY, SEC41,
                            "Table 2"),
        sources=report_sources("tables/flaherty_table2.sources.json", FLAHERTY, "Table 2"),
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


# Fig. 1: bound convergence (1a) and time to certify vs n (1b) on iris1d subsets.
F1 = config["studies"]["flaherty_fig1"]
F1_METHODS = implemented(F1["methods"])
F1_SIZES = {m: P["fig1_sizes"].get(m, []) for m in F1_METHODS}


rule flaherty_fig1_run:
    input:
        csv=f"{PROC_DIR}/{F1['dataset']}.csv",
        meta=f"{PROC_DIR}/{F1['dataset']}.json",
    output:
        f"{RESULTS}/flaherty_fig1/{F1['dataset']}_n{{n}}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        n=r"\d+",
        method="|".join(F1_METHODS),
        seed=r"\d+",
    params:
        spec=lambda wc: job_spec("flaherty_fig1", f"{F1['dataset']}_n{wc.n}", wc.method,
                                 wc.seed, F1["k"], F1["precision"], F1.get("constraints"),
                                 subset_per_class=int(wc.n) // F1["k"],
                                 method_options=F1.get("method_options")),
    threads: lambda wc: P["threads"].get(wc.method, 1)
    resources:
        runtime=lambda wc: int(P["time_limit_s"] / 60) + 10,
    log:
        f"{LOGS}/flaherty_fig1/n{{n}}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/run_method.py"


rule flaherty_fig1a:
    input:
        subset_records("flaherty_fig1", F1["dataset"], {m: [F1["trace_n"]] for m in F1_METHODS}),
    output:
        png=report_artifact("figures/flaherty_fig1a.png", "flaherty_fig1", FLAHERTY, SEC41,
                            "Fig. 1a"),
        csv=report_artifact("figures/flaherty_fig1a.csv", "flaherty_fig1", FLAHERTY, SEC41,
                            "Fig. 1a"),
        sources=report_sources("figures/flaherty_fig1a.sources.json", FLAHERTY, "Fig. 1a"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/figures/flaherty_fig1a.log",
    conda:
        ENV
    script:
        "../../scripts/fig1.py"


rule flaherty_fig1b:
    input:
        subset_records("flaherty_fig1", F1["dataset"], F1_SIZES),
    output:
        png=report_artifact("figures/flaherty_fig1b.png", "flaherty_fig1", FLAHERTY, SEC41,
                            "Fig. 1b"),
        csv=report_artifact("figures/flaherty_fig1b.csv", "flaherty_fig1", FLAHERTY, SEC41,
                            "Fig. 1b"),
        sources=report_sources("figures/flaherty_fig1b.sources.json", FLAHERTY, "Fig. 1b"),
    params:
        profile=PROFILE,
        time_limit=P["time_limit_s"],
    log:
        f"{LOGS}/figures/flaherty_fig1b.log",
    conda:
        ENV
    script:
        "../../scripts/fig1.py"


# EM restarts (Sec. 4.1): best local MAP over random restarts vs the certified optimum.
ER = config["studies"]["flaherty_em_restarts"]
ER_METHODS = ["em_restarts", "exact1d"]


rule flaherty_em_restarts_run:
    input:
        csv=f"{PROC_DIR}/{ER['dataset']}.csv",
        meta=f"{PROC_DIR}/{ER['dataset']}.json",
    output:
        f"{RESULTS}/flaherty_em_restarts/{{case}}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        case="|".join(re.escape(c) for c in ER["cases"]),
        method="|".join(ER_METHODS),
        seed=r"\d+",
    params:
        spec=lambda wc: job_spec("flaherty_em_restarts", wc.case, wc.method, wc.seed, ER["k"],
                                 {"sigma": ER["cases"][wc.case]["sigma"]},
                                 ER.get("constraints"),
                                 subset_per_class=ER["cases"][wc.case]["per_class"]),
    resources:
        runtime=lambda wc: int((job_spec("flaherty_em_restarts", wc.case, wc.method, 0, 0, {})
                                ["options"].get("time_budget_s") or 600) / 60) + 10,
    log:
        f"{LOGS}/flaherty_em_restarts/{{case}}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/run_method.py"


rule flaherty_em_restarts:
    input:
        expand(f"{RESULTS}/flaherty_em_restarts/{{case}}/{{method}}/seed{SEEDS[0]}.json",
               case=list(ER["cases"]), method=ER_METHODS),
    output:
        png=report_artifact("figures/flaherty_em_restarts.png", "flaherty_em_restarts",
                            FLAHERTY, SEC41, "EM restarts"),
        csv=report_artifact("figures/flaherty_em_restarts.csv", "flaherty_em_restarts",
                            FLAHERTY, SEC41, "EM restarts"),
        sources=report_sources("figures/flaherty_em_restarts.sources.json", FLAHERTY,
                               "EM restarts"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/figures/flaherty_em_restarts.log",
    conda:
        ENV
    script:
        "../../scripts/em_restarts.py"


# Comparison to Bandi et al. (2019), Sec. 4.1: in-sample accuracy of the KS-MIO estimate.
BD = config["studies"]["flaherty_bandi"]
BANDI_THREADS = job_spec("flaherty_bandi", "", "bandi", 0, 0, {})["options"].get("threads", 1)


rule flaherty_bandi_run:
    input:
        csv=f"{PROC_DIR}/{{dataset}}.csv",
        meta=f"{PROC_DIR}/{{dataset}}.json",
    output:
        f"{RESULTS}/flaherty_bandi/{{dataset}}/bandi/seed{{seed}}.json",
    wildcard_constraints:
        dataset="|".join(BD["datasets"]),
        seed=r"\d+",
    params:
        spec=lambda wc: job_spec("flaherty_bandi", wc.dataset, "bandi", wc.seed,
                                 **T2["datasets"][wc.dataset]),
    threads: BANDI_THREADS
    log:
        f"{LOGS}/flaherty_bandi/{{dataset}}/bandi/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/run_method.py"


rule flaherty_bandi_accuracy:
    input:
        expand(f"{RESULTS}/flaherty_bandi/{{dataset}}/bandi/seed{{seed}}.json",
               dataset=BD["datasets"], seed=SEEDS),
        study_records("flaherty_table2", T2, [m for m in BD["compare_with"] if m in T2_METHODS],
                      datasets=BD["datasets"]),
    output:
        csv=report_artifact("tables/flaherty_bandi_accuracy.csv", "flaherty_bandi", FLAHERTY,
                            SEC41, "Bandi et al. accuracy"),
        md=report_artifact("tables/flaherty_bandi_accuracy.md", "flaherty_bandi", FLAHERTY,
                           SEC41, "Bandi et al. accuracy"),
        sources=report_sources("tables/flaherty_bandi_accuracy.sources.json", FLAHERTY,
                               "Bandi et al. accuracy"),
    params:
        datasets=BD["datasets"],
        methods=["bandi"] + [m for m in BD["compare_with"] if m in T2_METHODS],
        profile=PROFILE,
    log:
        f"{LOGS}/tables/flaherty_bandi_accuracy.log",
    conda:
        ENV
    script:
        "../../scripts/bandi_table.py"
