# Raw files: canonical URL (or a local mirror) -> data/raw/<key>/<file>, sha256 verified.
# Processed data sets: data/processed/<name>.csv + <name>.json (labels, source hashes, transform).

from mixopt.data.preprocess import processed_names, raw_keys_for
from mixopt.data.sources import load_registry

RAW = load_registry()


def raw_file(key):
    return f"{RAW_DIR}/{key}/{RAW[key].file}"


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
    script:
        "../../scripts/preprocess.py"


rule processed:
    input:
        expand(f"{PROC_DIR}/{{name}}.{{ext}}", name=config["datasets"], ext=["csv", "json"]),
