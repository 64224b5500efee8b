# Reports built from the tables: reports/fidelity.{md,csv} lists every reproduced published number
# with ours beside it (part of `all`; alone: `snakemake fidelity_report`).

FIDELITY_TABLES = ["flaherty_table2", "flaherty_bandi_accuracy", "flaherty_pam50_gap",
                   "flaherty_pam50_agreement", "fois_table1_1", "fois_table1_2", "fois_table1_3",
                   "fois_table1_4", "fois_table1_5"]


rule fidelity_report:
    input:
        [f"tables/{t}.csv" for t in FIDELITY_TABLES],
    output:
        md=report("reports/fidelity.md", caption="../report/fidelity.rst", category=PROVENANCE,
                  subcategory="Fidelity", labels={"artifact": "fidelity.md"}),
        csv=report("reports/fidelity.csv", caption="../report/fidelity.rst", category=PROVENANCE,
                   subcategory="Fidelity", labels={"artifact": "fidelity.csv"}),
    params:
        tables=FIDELITY_TABLES,
        profile=PROFILE,
    log:
        f"{LOGS}/reports/fidelity.log",
    conda:
        ENV
    script:
        "../../scripts/fidelity_report.py"


# HTML views of every Markdown table, so that the report shows the tables inline (Snakemake's
# report offers CSV and Markdown as downloads only).
TABLE_VIEWS = [*FIDELITY_TABLES, "flaherty_table3", "mssc_benchmark"]


rule table_view:
    input:
        "tables/{table}.md",
    output:
        report("reports/tables/{table}.html", caption="../report/table_view.rst",
               category="Tables", labels=report_labels(table=lambda wc: wc.table)),
    wildcard_constraints:
        table="[a-z0-9_]+",
    log:
        f"{LOGS}/reports/table_view_{{table}}.log",
    conda:
        ENV
    script:
        "../../scripts/table_view.py"
