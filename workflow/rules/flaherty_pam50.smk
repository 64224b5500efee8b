include: "flaherty_pam50_common.smk"


# Flaherty et al., Section 4.2: the PAM50 breast-cancer study. MINLP/MIQP on pam50-4d with the 139
# known subtypes fixed, the MIQP without them (gap experiment), the PAM50 centroid predictor, and
# Fig. 2, Fig. 3, Table 3, the gap and the agreement tables.



SEC42 = "Sec. 4.2: PAM50"  # report subcategory


rule pam50_run:
    input:
        csv=f"{PROC_DIR}/{PAM50_DS}.csv",
        meta=f"{PROC_DIR}/{PAM50_DS}.json",
    output:
        f"{RESULTS}/{{study}}/{PAM50_DS}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        study="flaherty_pam50|flaherty_pam50_nolabels",
        method="minlp|miqp|exact",
        seed=r"\d+",
    params:
        spec=lambda wc: pam50_spec(wc.study, wc.method, wc.seed),
        fix_known=lambda wc: wc.study == "flaherty_pam50",
    threads: lambda wc: PAM50_P["threads"].get(wc.method, 1)
    resources:
        runtime=int(PAM50_P["time_limit_s"] / 60) + 10,
    log:
        f"{LOGS}/{{study}}/{PAM50_DS}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_run.py"


rule pam50_pam:
    input:
        train=raw_file("unc_pam50_train"),
        centroids=raw_file("unc_pam50_centroids"),
        csv=f"{PROC_DIR}/{PAM50_DS}.csv",
        meta=f"{PROC_DIR}/{PAM50_DS}.json",
    output:
        PAM50_RUNS["pam"],
    params:
        spec={"study": "flaherty_pam50", "dataset": "pam50", "method": "pam",
              "seed": PAM50_SEED, "k": PAM50["k"], "precision": PAM50["precision"],
              "options": PAM50["pam"]},
    log:
        f"{LOGS}/flaherty_pam50/pam50/pam/seed{PAM50_SEED}.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_pam.py"


rule flaherty_fig2:
    input:
        **PAM50_RUNS,
        **PAM50_DATA,
    output:
        png=report_artifact("figures/flaherty_fig2.png", "flaherty_pam50", FLAHERTY, SEC42,
                            "Fig. 2"),
        csv=report_artifact("figures/flaherty_fig2.csv", "flaherty_pam50", FLAHERTY, SEC42,
                            "Fig. 2"),
        sources=report_sources("figures/flaherty_fig2.sources.json", FLAHERTY, "Fig. 2"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/figures/flaherty_fig2.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_report.py"


rule flaherty_fig3:
    input:
        **PAM50_RUNS,
        **PAM50_DATA,
        expr=f"{PROC_DIR}/pam50.csv",
        expr_meta=f"{PROC_DIR}/pam50.json",
    output:
        png=report_artifact("figures/flaherty_fig3.png", "flaherty_pam50", FLAHERTY, SEC42,
                            "Fig. 3"),
        csv=report_artifact("figures/flaherty_fig3.csv", "flaherty_pam50", FLAHERTY, SEC42,
                            "Fig. 3"),
        sources=report_sources("figures/flaherty_fig3.sources.json", FLAHERTY, "Fig. 3"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/figures/flaherty_fig3.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_report.py"


rule flaherty_table3:
    input:
        **PAM50_RUNS,
        **PAM50_DATA,
    output:
        csv=report_artifact("tables/flaherty_table3.csv", "flaherty_pam50", FLAHERTY, SEC42,
                            "Table 3"),
        md=report_artifact("tables/flaherty_table3.md", "flaherty_pam50", FLAHERTY, SEC42,
                           "Table 3"),
        sources=report_sources("tables/flaherty_table3.sources.json", FLAHERTY, "Table 3"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/tables/flaherty_table3.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_report.py"


rule flaherty_pam50_gap:
    input:
        **PAM50_RUNS,
        **PAM50_DATA,
    output:
        csv=report_artifact("tables/flaherty_pam50_gap.csv", "flaherty_pam50", FLAHERTY, SEC42,
                            "PAM50 gap"),
        md=report_artifact("tables/flaherty_pam50_gap.md", "flaherty_pam50", FLAHERTY, SEC42,
                           "PAM50 gap"),
        sources=report_sources("tables/flaherty_pam50_gap.sources.json", FLAHERTY, "PAM50 gap"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/tables/flaherty_pam50_gap.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_report.py"


rule flaherty_pam50_agreement:
    input:
        **PAM50_RUNS,
        **PAM50_DATA,
    output:
        csv=report_artifact("tables/flaherty_pam50_agreement.csv", "flaherty_pam50", FLAHERTY,
                            SEC42, "PAM50 agreement"),
        md=report_artifact("tables/flaherty_pam50_agreement.md", "flaherty_pam50", FLAHERTY,
                           SEC42, "PAM50 agreement"),
        sources=report_sources("tables/flaherty_pam50_agreement.sources.json", FLAHERTY,
                               "PAM50 agreement"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/tables/flaherty_pam50_agreement.log",
    conda:
        ENV
    script:
        "../../scripts/pam50_report.py"


rule flaherty_pam50:
    input:
        rules.flaherty_fig2.output,
        rules.flaherty_fig3.output,
        rules.flaherty_table3.output,
        rules.flaherty_pam50_gap.output,
        rules.flaherty_pam50_agreement.output,
