include: "fois_ch23_common.smk"


# Fois thesis, Chapters 2-3: pclustreg (chi-square and F bounds) vs tclustreg and the oracle on
# MixSimreg data and the girdles data; Figs. 2.1-2.2 and 3.1-3.13 with their numbers as CSV.



rule fois_simulate_reg:
    output:
        csv=f"{REG_DIR}/{{setting}}/seed{{seed}}.csv",
        meta=f"{REG_DIR}/{{setting}}/seed{{seed}}.json",
    wildcard_constraints:
        setting="|".join(re.escape(s) for s in CH23_SETTINGS),
        seed=r"\d+",
    log:
        f"{LOGS}/fois_simulate_reg/{{setting}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_simulate_reg.py"


rule fois_ch23_run:
    input:
        unpack(ch23_inputs),
    output:
        f"{RESULTS}/fois_ch23/{{dataset}}/{{method}}/seed{{seed}}.json",
    wildcard_constraints:
        dataset="|".join([re.escape(s) for s in CH23_SETTINGS] + [rf"{GIRDLES}-k\d+"]),
        method=r"(tclustreg|pclustreg1|pclustreg2|oracle)(-ns\d+)?(-nl\d+)?(-sigmatrue)?",
        seed=r"\d+",
    params:
        spec=ch23_spec,
    log:
        f"{LOGS}/fois_ch23/{{dataset}}/{{method}}/seed{{seed}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_ch23_run.py"


rule fois_ch23_figure:
    input:
        lambda wc: sorted({m["path"] for m in CH23_FIGURES[wc.fig]["members"]}),
    output:
        png=report_artifact("figures/fois_{fig}.png", "fois_ch23", FOIS, thesis_chapter,
                            thesis_figure),
        csv=report_artifact("figures/fois_{fig}.csv", "fois_ch23", FOIS, thesis_chapter,
                            thesis_figure),
        table="tables/fois_{fig}.csv",  # the same CSV as figures/fois_{fig}.csv
        sources=report_sources("figures/fois_{fig}.sources.json", FOIS, thesis_figure),
    wildcard_constraints:
        fig="|".join(CH23_FIGURES),
    params:
        figure=lambda wc: CH23_FIGURES[wc.fig],
        profile=PROFILE,
    log:
        f"{LOGS}/figures/fois_{{fig}}.log",
    conda:
        ENV
    script:
        "../../scripts/fois_ch23_figure.py"


rule fois_ch23:
    input:
        expand("figures/fois_{fig}.{ext}", fig=list(CH23_FIGURES), ext=["png", "csv"]),
        expand("tables/fois_{fig}.csv", fig=list(CH23_FIGURES)),
