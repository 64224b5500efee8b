include: "own_data_common.smk"


# Your own data sets (config/README.md, "Your own data sets"): the methods of every row of the
# sheet, one record per (data set, method, seed), a table and one figure per data set and method.
# An empty sheet adds nothing to `all`.

localrules:
    own_data,


rule own_data_run:
    input:
        csv=own_csv,
    output:
        f"{RESULTS}/own/{{dataset}}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        dataset=own_pattern(OWN_ROWS),
        method=own_pattern(METHODS),
        seed=r"\d+",
    params:
        spec=own_spec,
        points=own_points,
    threads: lambda wc: P["threads"].get(wc.method, 1)
    resources:
        runtime=lambda wc: int(OWN.get("time_limit_s", P["time_limit_s"]) / 60) + 10,
    log:
        f"{LOGS}/own/{{dataset}}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/run_method.py"


rule own_data_table:
    input:
        OWN_RECORDS,
    output:
        csv=report_artifact("tables/own_data.csv", "own_data", OWN_REPORT, "Table", "Table"),
        md=report_artifact("tables/own_data.md", "own_data", OWN_REPORT, "Table", "Table"),
        sources=report_sources("tables/own_data.sources.json", OWN_REPORT, "Table"),
    params:
        profile=PROFILE,
    log:
        f"{LOGS}/tables/own_data.log",
    conda:
        ENV
    script:
        "../../scripts/own_data_table.py"


rule own_data_figure:
    input:
        csv=own_csv,
        record=f"{RESULTS}/own/{{dataset}}/{{method}}/seed{SEEDS[0]}.json",
    output:
        png=report_artifact("figures/own_data/{dataset}/{method}.png", "own_data_figure",
                            OWN_REPORT, "{dataset}", "{dataset}: {method}"),
        sources=report_sources("figures/own_data/{dataset}/{method}.sources.json", OWN_REPORT,
                               "{dataset}: {method}"),
    wildcard_constraints:
        dataset=own_pattern(OWN_ROWS),
        method=own_pattern(METHODS),
    params:
        points=own_points,
        profile=PROFILE,
    log:
        f"{LOGS}/figures/own_data/{{dataset}}/{{method}}.log",
    conda:
        ENV
    script:
        "../../scripts/own_data_figure.py"


rule own_data:
    input:
        ["tables/own_data.csv", "tables/own_data.md", "reports/tables/own_data.html",
         *own_figures()] if OWN_ROWS else [],
