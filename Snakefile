# mixopt: rebuild every table and figure of Flaherty et al. (MAP clustering via MINLP) and of the
# Fois thesis from raw data. `snakemake` builds everything with the quick profile;
# `snakemake --config profile=paper` uses the publications' settings. See README.md.

from snakemake.utils import min_version, validate

from mixopt.smk import check_finite_config

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")
check_finite_config(config)  # JSON schema cannot express NaN (YAML .nan passes `minimum`)


# `snakemake --report reports/report.html` (`make report`): one self-contained HTML with every
# artifact of `all`, captions in workflow/report/.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/flaherty.smk"
include: "workflow/rules/flaherty_pam50.smk"
include: "workflow/rules/fois_ch1.smk"
include: "workflow/rules/fois_ch23.smk"
include: "workflow/rules/mssc_benchmark.smk"
include: "workflow/rules/own_data.smk"
include: "workflow/rules/reports.smk"


rule all:
    default_target: True
    input:
        rules.processed.input,
        rules.flaherty_table2.output,
        rules.flaherty_fig1a.output,
        rules.flaherty_fig1b.output,
        rules.flaherty_pam50.input,
        rules.flaherty_em_restarts.output,
        rules.flaherty_bandi_accuracy.output,
        rules.fois_ch1.input,
        rules.fois_ch23.input,
        rules.mssc_benchmark.output,
        rules.fidelity_report.output,
        rules.own_data.input,
        expand("reports/tables/{table}.html", table=TABLE_VIEWS),
