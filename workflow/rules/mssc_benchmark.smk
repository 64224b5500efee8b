include: "mssc_benchmark_common.smk"


# The MSSC benchmark: minimum-sum-of-squares clustering (Problem (4) with pi_k = 1/K and
# Lambda = I) of the SOS-SDP instances, certified by method exact; one record per instance, the
# table beside SOS-SDP's published figures (docs/exact.md).

BENCH = "Benchmarks"   # report category
MSSC_SUB = "MSSC (SOS-SDP instances)"


rule mssc_benchmark_run:
    input:
        unpack(mssc_data),
    output:
        f"{RESULTS}/mssc_benchmark/{{instance}}/exact/seed{MSSC_SEED}.json",
    wildcard_constraints:
        instance="|".join(re.escape(i) for i in MSSC_INSTANCES),
    params:
        spec=lambda wc: mssc_spec(wc.instance),
    threads: MSSC_P["threads"]
    resources:
        runtime=int(MSSC_P["time_limit_s"] / 60) + 10,
    log:
        f"{LOGS}/mssc_benchmark/{{instance}}/exact/seed{MSSC_SEED}.log",
    conda:
        ENV
    script:
        "../../scripts/mssc_run.py"


rule mssc_benchmark:
    input:
        [mssc_record(i) for i in MSSC_INSTANCES],
    output:
        csv=report_artifact("tables/mssc_benchmark.csv", "mssc_benchmark", BENCH, MSSC_SUB,
                            "MSSC benchmark"),
        md=report_artifact("tables/mssc_benchmark.md", "mssc_benchmark", BENCH, MSSC_SUB,
                           "MSSC benchmark"),
        sources=report_sources("tables/mssc_benchmark.sources.json", BENCH, "MSSC benchmark"),
    params:
        instances=list(MSSC_INSTANCES),
        profile=PROFILE,
    log:
        f"{LOGS}/tables/mssc_benchmark.log",
    conda:
        ENV
    script:
        "../../scripts/mssc_benchmark_table.py"
