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
