# Raw files: canonical URL (or a local mirror) -> data/raw/<key>/<file>, sha256 verified.
# Processed data sets: data/processed/<name>.csv + <name>.json (labels, source hashes, transform).

localrules:
    download,


rule download:
    output:
        f"{RAW_DIR}/{{key}}/{{file}}",
    wildcard_constraints:
        key="|".join(sorted(RAW)),
    params:
        mirror=config["data"]["mirror"],
    log:
        f"{LOGS}/download/{{key}}/{{file}}.log",
    conda:
        ENV
    script:
        "../../scripts/download.py"


rule preprocess:
    input:
        lambda wc: [raw_file(k) for k in raw_keys_for(wc.name)],
    output:
        csv=f"{PROC_DIR}/{{name}}.csv",
        meta=f"{PROC_DIR}/{{name}}.json",
    wildcard_constraints:
        name="|".join(processed_names()),
    params:
        raw=lambda wc: {k: raw_file(k) for k in raw_keys_for(wc.name)},
    log:
        f"{LOGS}/preprocess/{{name}}.log",
    conda:
        ENV
    script:
        "../../scripts/preprocess.py"


rule processed:
    input:
        expand(f"{PROC_DIR}/{{name}}.{{ext}}", name=config["datasets"], ext=["csv", "json"]),
