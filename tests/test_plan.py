"""`mixopt plan`: jobs per rule as the workflow plans them, run times from records, budgets."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_utils import make_workdir

from mixopt import plan
from mixopt.cli import main

# A small profile over the project's configuration: Table 2 with EM and MINLP on its three data
# sets and two seeds, Fig. 1 with MINLP at one size, PAM50 with MINLP (labels) and MIQP (without),
# the MSSC benchmark on ruspini only.
TINY = {
    "studies": {
        "mssc_benchmark": {"selected": ["ruspini_k4"]},
        "flaherty_table2": {"columns": ["em", "minlp"]},
        "flaherty_fig1": {"methods": ["minlp"], "trace_n": 6},
        "flaherty_pam50": {"methods": ["minlp"], "nolabels_methods": ["miqp"]},
    },
    "profiles": {"tiny": {
        "pam50": {"time_limit_s": 100, "threads": {"minlp": 1, "miqp": 4}},
        "seeds": [0, 1], "time_limit_s": 50, "threads": {"minlp": 1, "miqp": 2},
        "fois_replications": 1,
        "fois_ch23": {"replications": 1, "girdles_seeds": 1,
                      "fig3_values": {"k": [2], "p": [2], "nsamp": [100]}},
        "fig1_sizes": {"minlp": [6]},
    }},
}


def _record(root: Path, study: str, dataset: str, method: str, seed: int, wall: float,
            status: str) -> None:
    path = root / study / dataset / method / f"seed{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"study": study, "dataset": dataset, "method": method,
                                "seed": seed, "wall_time_s": wall, "status": status}))


@pytest.fixture
def tiny(tmp_path, project_root) -> tuple[list[str], Path]:
    """(config files, records directory): EM on wine took 2 s and 4 s; MINLP finished on wine
    in 10 s and hit its limit on brca; nothing else has a record."""
    overlay = tmp_path / "tiny.yaml"
    overlay.write_text(yaml.safe_dump(TINY))
    records = tmp_path / "records"
    _record(records, "flaherty_table2", "wine", "em", 0, 2.0, "local")
    _record(records, "flaherty_table2", "wine", "em", 1, 4.0, "local")
    _record(records, "flaherty_table2", "wine", "minlp", 0, 10.0, "optimal")
    _record(records, "flaherty_table2", "brca", "minlp", 0, 50.2, "time_limit")
    (records / "notes.json").write_text("[1, 2]")          # not a record: skipped
    return [str(project_root / "config" / "config.yaml"), str(overlay)], records


def _csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {r["rule"]: r for r in csv.DictReader(io.StringIO(text))}


def test_plan_counts_measured_similar_and_budget_bound_jobs(tiny, capsys):
    configs, records = tiny
    assert main(["plan", "--profile", "tiny", "--records", str(records), "--configfile",
                 *configs, "--format", "csv", "--job-overhead", "0"]) == 0
    rows = _csv_rows(capsys.readouterr().out)
    t2 = rows["flaherty_table2_run"]
    # 3 data sets x 2 methods x 2 seeds. EM: wine measured (mean 3 s), iris1d and brca from
    # the EM records on wine (3 s); MINLP: wine finished (10 s, both seeds), brca hit its limit
    # and iris1d has no record: 50 s each, budget-bound.
    assert (t2["jobs"], t2["jobs_measured"], t2["jobs_similar"], t2["jobs_budget"]) == \
        ("12", "4", "4", "4")
    assert float(t2["core_hours"]) == pytest.approx((6 * 3 + 2 * 10 + 4 * 50) / 3600, abs=1e-6)
    assert (t2["time_limit_s"], t2["runtime_min"], t2["longest_job_s"]) == ("50.0", "10", "50.0")
    pam = rows["pam50_run"]    # 100 s budgets: MINLP on 1 thread, MIQP on 4
    assert (pam["jobs"], pam["jobs_budget"], pam["threads_max"]) == ("2", "2", "4")
    assert float(pam["core_hours"]) == pytest.approx(500 / 3600, abs=1e-6)
    assert rows["flaherty_fig1_run"]["jobs_budget"] == "1"
    assert rows["fois_ch1_run"]["jobs_none"] == rows["fois_ch1_run"]["jobs"]
    assert rows["preprocess"]["jobs"] == "14" and rows["preprocess"]["core_hours"] == "0.0"


def test_plan_text_gives_totals_and_wall_times(tiny, capsys):
    configs, records = tiny
    assert main(["plan", "--profile", "tiny", "--records", str(records), "--configfile",
                 *configs, "--cores", "2", "--nodes", "2", "--cores-per-node", "3",
                 "--job-overhead", "0"]) == 0
    out = capsys.readouterr().out
    # 238 core-s of Table 2, 500 of PAM50, 50 of Fig. 1, 50 of the MSSC benchmark: 838 core-s =
    # 0.2 core-hours; on 2 cores 419 s, on 6 cores 140 s; on 12 cores the longest job (100 s)
    # bounds it.
    assert re.search(r"total: [\d,]+ jobs, 0\.2 core-hours \(0\.0 measured, 0\.0 from similar "
                     r"runs, 0\.2 budget-bound, 0\.0 job start-up\)", out)
    assert "wall time on 2 cores: 0.1 h" in out
    assert "wall time on 2 nodes x 3 cores: 0.0 h" in out
    assert "note: some jobs use 4 threads, more than one node's 3 cores" in out
    rows = plan.plan(plan.workflow_jobs(_merged(configs), "tiny"),
                     plan.RecordIndex.from_dir(records))
    assert plan.core_hours(rows) * 3600 == pytest.approx(838)
    assert plan.wall_hours(rows, 2) * 3600 == pytest.approx(419)
    assert plan.wall_hours(rows, 6) * 3600 == pytest.approx(838 / 6)
    assert plan.wall_hours(rows, 12) * 3600 == pytest.approx(100)


def test_job_overhead_counts_once_per_job_on_one_core(tiny, capsys):
    configs, records = tiny
    args = ["plan", "--profile", "tiny", "--records", str(records), "--configfile", *configs,
            "--format", "csv", "--job-overhead"]
    assert main([*args, "0"]) == 0
    before = _csv_rows(capsys.readouterr().out)
    assert main([*args, "36"]) == 0
    after = _csv_rows(capsys.readouterr().out)
    for rule in ("flaherty_table2_run", "pam50_run", "preprocess", "fois_simulate"):
        added = float(after[rule]["core_hours"]) - float(before[rule]["core_hours"])
        assert added == pytest.approx(int(after[rule]["jobs"]) * 36 / 3600, abs=1e-5), rule
    assert float(after["preprocess"]["longest_job_s"]) == 36


def test_only_keeps_the_matching_jobs(tiny, capsys):
    configs, records = tiny
    assert main(["plan", "--profile", "tiny", "--records", str(records), "--configfile",
                 *configs, "--format", "csv", "--job-overhead", "0", "--only",
                 r"^flaherty_table2_run/wine/"]) == 0
    rows = _csv_rows(capsys.readouterr().out)
    assert list(rows) == ["flaherty_table2_run"]
    assert (rows["flaherty_table2_run"]["jobs"], rows["flaherty_table2_run"]["jobs_measured"]) \
        == ("4", "4")
    assert float(rows["flaherty_table2_run"]["core_hours"]) == \
        pytest.approx((2 + 4 + 10 + 10) / 3600, abs=1e-6)


def test_small_rules_without_records_fold_into_one_row(tiny, capsys):
    configs, records = tiny
    args = ["plan", "--profile", "tiny", "--records", str(records), "--configfile", *configs,
            "--job-overhead", "1"]
    assert main(args) == 0
    folded = capsys.readouterr().out
    assert main([*args, "--all-rules"]) == 0
    full = capsys.readouterr().out
    # the tiny profile's simulations have fewer than 100 jobs: they fold with the tables
    assert re.search(r"^\d+ other rules +\d+ ", folded, flags=re.M)
    assert not re.search(r"^preprocess ", folded, flags=re.M)
    assert re.search(r"^preprocess +14 ", full, flags=re.M)
    assert folded.splitlines()[-3:] == full.splitlines()[-3:]     # the same totals


def test_plan_markdown(tiny, capsys):
    configs, records = tiny
    assert main(["plan", "--profile", "tiny", "--records", str(records), "--configfile",
                 *configs, "--format", "md", "--job-overhead", "0"]) == 0
    out = capsys.readouterr().out
    assert "| rule | jobs | threads | time limit | runtime | basis | core-h | longest job |" in out
    assert "| pam50_run | 2 | 1-4 | 1.67 min | 11 min | 2 budget | 0.1 | 1.67 min |" in out


def _merged(paths: list[str]) -> dict:
    config: dict = {}
    for p in paths:
        config = plan.merge_config(config, yaml.safe_load(Path(p).read_text()))
    return config


def test_merge_config_merges_mappings_and_replaces_the_rest():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert plan.merge_config(base, {"a": {"c": [3]}, "e": 2}) == \
        {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_full_budget_counts_the_budget_even_when_a_record_finished():
    job = plan.Job("r", "s", "d", "em_restarts", limit_s=100.0, full_budget=True)
    index = plan.RecordIndex([("s", "d", "em_restarts", plan.Measured(3.0, "local"))])
    assert index.estimate(job) == plan.Estimate(100.0, "budget")
    family = plan.Job("r", "s", "d2", "pclustreg1-ns400")
    index = plan.RecordIndex([("s", "d", "pclustreg1-ns100", plan.Measured(2.0, "node_limit")),
                              ("s", "d", "pclustreg2-ns100", plan.Measured(9.0, "node_limit"))])
    assert index.estimate(family) == plan.Estimate(2.0, "similar")


@pytest.mark.parametrize("args, message", [
    (["--profile", "nope"], "--profile nope: not a profile of the configuration; known: "),
    (["--records", "{tmp}/missing"], "no such directory"),
    (["--records", "{tmp}/empty"], "no run records in it"),
    (["--nodes", "0"], "--nodes must be >= 1, got 0"),
    (["--cores", "-2"], "--cores must be >= 1, got -2"),
    (["--job-overhead", "nan"], "--job-overhead must be a number >= 0, got nan"),
    (["--only", "("], "--only '(': not a regular expression"),
    (["--only", "^nothing$"], "--only '^nothing$': no job matches"),
    (["--configfile", "{tmp}/bad.yaml"], "not valid YAML"),
    (["--configfile", "{tmp}/missing.yaml"], "No such file or directory"),
    (["--configfile", "{tmp}/partial.yaml"], "the configuration has no setting 'datasets'"),
])
def test_plan_errors_are_one_line_exit_2(tmp_path, capsys, tiny, args, message):
    (tmp_path / "bad.yaml").write_text("a: [1\n")
    partial = {"profiles": {"quick": TINY["profiles"]["tiny"]}}      # no studies, no methods
    (tmp_path / "partial.yaml").write_text(yaml.safe_dump(partial))
    (tmp_path / "empty").mkdir()
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--configfile" not in args:
        args += ["--configfile", tiny[0][0]]
    if "--records" not in args:
        args += ["--records", str(tiny[1])]
    assert main(["plan", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mixopt plan: error: ") and err.count("\n") == 1, err
    assert message in err


@pytest.mark.workflow
@pytest.mark.parametrize("profile", [
    "quick",                                        # 515 jobs, about 20 s
    pytest.param("paper", marks=pytest.mark.slow),  # 26,857 jobs, 1 to 13 min
])
def test_plan_counts_the_jobs_snakemake_plans(tmp_path, project_root, profile):
    """Jobs per rule of a profile in a fresh project, as `snakemake -n` counts them."""
    workdir = make_workdir(project_root, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--quiet", "rules",
                           "--config", f"profile={profile}"],
                          cwd=workdir, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = proc.stdout.split("Job stats:")[-1]
    counted = dict(re.findall(r"^(\w+)\s+(\d+)$", stats, flags=re.M))
    counted.pop("total")
    config = yaml.safe_load((project_root / "config" / "config.yaml").read_text())
    jobs: dict[str, int] = {}
    for job in plan.workflow_jobs(config, profile):
        jobs[job.rule] = jobs.get(job.rule, 0) + 1
    assert jobs == {rule: int(n) for rule, n in counted.items()}
