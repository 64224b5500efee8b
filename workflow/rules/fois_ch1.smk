include: "fois_ch1_common.smk"


# Fois thesis, Chapter 1: bclust vs tclust, random and oracle. Simulated data sets (MixSim), one
# record per (data set, method, seed), Tables 1.1-1.5 and one figure per simulation scenario.



rule fois_simulate:
    output:
        csv=f"{SIM_DIR}/{{setting}}/seed{{seed}}.csv",
        meta=f"{SIM_DIR}/{{setting}}/seed{{seed}}.json",
    wildcard_constraints:
        setting="|".join(re.escape(s) for s in CH1_SETTINGS),
        seed=r"\d+",
    params:
        n=CH1_SIM["n"],
    log:
        f"{LOGS}/fois_simulate/{{setting}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_simulate.py"


rule fois_ch1_run:
    input:
        unpack(ch1_inputs),
    output:
        f"{RESULTS}/fois_ch1/{{dataset}}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        dataset="|".join(re.escape(s) for s in CH1_REAL["datasets"] + CH1_SETTINGS),
        method="|".join(CH1_METHODS),
        seed=r"\d+",
    params:
        spec=ch1_spec,
    log:
        f"{LOGS}/fois_ch1/{{dataset}}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_ch1_run.py"


rule fois_scenario_table:
    input:
        lambda wc: ch1_scenario_records(CH1_SCENARIO_BY_TABLE[wc.table]),
    output:
        csv=report_artifact("tables/fois_{table}.csv", "fois_table", FOIS, CH1_REPORT,
                            thesis_table),
        md=report_artifact("tables/fois_{table}.md", "fois_table", FOIS, CH1_REPORT,
                           thesis_table),
        sources=report_sources("tables/fois_{table}.sources.json", FOIS, thesis_table),
    wildcard_constraints:
        table="|".join(CH1_SCENARIO_BY_TABLE),
    params:
        scenario=lambda wc: CH1_SIM["scenarios"][CH1_SCENARIO_BY_TABLE[wc.table]],
        base=CH1_SIM["base"],
        profile=PROFILE,
    log:
        f"{LOGS}/tables/fois_{{table}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_scenario_table.py"


rule fois_scenario_figure:
    input:
        lambda wc: ch1_scenario_records(wc.scenario),
    output:
        png=report_artifact("figures/fois_scenario{scenario}.png", "fois_scenario", FOIS,
                            CH1_REPORT, "Scenario {scenario}"),
        csv=report_artifact("figures/fois_scenario{scenario}.csv", "fois_scenario", FOIS,
                            CH1_REPORT, "Scenario {scenario}"),
        sources=report_sources("figures/fois_scenario{scenario}.sources.json", FOIS,
                               "Scenario {scenario}"),
    wildcard_constraints:
        scenario="|".join(CH1_SIM["scenarios"]),
    params:
        scenario=lambda wc: CH1_SIM["scenarios"][wc.scenario],
        base=CH1_SIM["base"],
        profile=PROFILE,
    log:
        f"{LOGS}/figures/fois_scenario{{scenario}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_scenario_figure.py"


rule fois_table1_5:
    input:
        records=[f"{RESULTS}/fois_ch1/{ds}/{m}/seed{CH1_REAL['seed']}.json"
                 for ds in CH1_REAL["datasets"] for m in CH1_METHODS],
        meta=[f"{PROC_DIR}/{ds}.json" for ds in CH1_REAL["datasets"]],
    output:
        csv=report_artifact("tables/fois_table1_5.csv", "fois_table", FOIS, CH1_REPORT,
                            "Table 1.5"),
        md=report_artifact("tables/fois_table1_5.md", "fois_table", FOIS, CH1_REPORT,
                           "Table 1.5"),
        sources=report_sources("tables/fois_table1_5.sources.json", FOIS, "Table 1.5"),
    params:
        datasets=CH1_REAL["datasets"],
        profile=PROFILE,
    log:
        f"{LOGS}/tables/fois_table1_5.log",
    conda:
        ENV
    script:
        "../../scripts/fois_table1_5.py"


rule fois_ch1:
    input:
        expand("tables/fois_{table}.{ext}", table=list(CH1_SCENARIO_BY_TABLE) + ["table1_5"],
               ext=["csv", "md"]),
        expand("figures/fois_scenario{scenario}.{ext}", scenario=list(CH1_SIM["scenarios"]),
               ext=["png", "csv"]),
