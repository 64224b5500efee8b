"""Cost plan of the workflow (``mixopt plan``): the jobs of every Snakemake rule in a study
profile, their time budgets, and the core-hours they take.

Jobs are enumerated from the configuration the way the rules in ``workflow/rules/`` do (the
Chapter 2-3 figures through :mod:`mixopt.studies.fois_ch23_figures`, which the workflow uses
too; ``tests/test_plan.py`` checks the counts against ``snakemake -n``). A job's time comes from
the run records of a built profile (``results/quick``): its own record (same study, data set and
method) when there is one, else the mean of the records of the same method (or method family)
in the study. Runs with a time limit (the global MAP solvers, EM restarts with a time budget) are
*budget-bound*: they count their full time limit unless the record shows the same run finished
before its limit. Every job also takes a start-up overhead (process start, imports); rules that
write no record (simulations, tables, figures) count only that.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mixopt.methods.base import GLOBAL_METHODS, METHODS
from mixopt.methods.options import configured_options
from mixopt.studies.fois_ch23_figures import ch23_figures
from mixopt.studies.fois_settings import scenario_settings

TABLE_VIEWS = 11        # reports.smk: the fidelity report's nine tables, Table 3, MSSC
FIDELITY_REPORTS = 1
PAM50_SUMMARIES = ("flaherty_fig2", "flaherty_fig3", "flaherty_table3", "flaherty_pam50_gap",
                   "flaherty_pam50_agreement")
BASES = ("measured", "similar", "budget", "none")


@dataclass(frozen=True)
class Job:
    """One job of a rule: what it runs, on how many threads, and its time limits.

    ``limit_s``: the run stops at this many seconds (None: no limit); ``full_budget``: it always
    runs for ``limit_s`` (a time budget of restarts); ``runtime_min``: the rule's ``runtime``
    resource (None: the cluster profile's default)."""

    rule: str
    study: str = ""
    dataset: str = ""
    method: str = ""
    threads: int = 1
    limit_s: float | None = None
    full_budget: bool = False
    runtime_min: int | None = None


@dataclass
class Estimate:
    """A job's estimated wall seconds and its basis: measured (its own record), similar (records
    of the same method on other data), budget (its time limit) or none (no record)."""

    seconds: float | None
    basis: str


@dataclass
class RuleCost:
    """The plan of one rule: its jobs, budgets and core-hours by basis."""

    rule: str
    jobs: int = 0
    threads: set[int] = field(default_factory=set)
    limit_s: float | None = None
    runtime_min: int | None = None
    core_s: float = 0.0
    longest_s: float = 0.0
    by_basis: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BASES, 0))
    core_s_by_basis: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BASES, 0.0))
    overhead_s: float = 0.0


def runtime_minutes(limit_s: float) -> int:
    """A run rule's ``runtime`` resource for a time limit: the limit plus 10 minutes."""
    return int(limit_s / 60) + 10


def _map_job(rule: str, study: str, dataset: str, method: str, config: dict[str, Any],
             prof: dict[str, Any], limits: dict[str, Any] | None = None) -> Job:
    """A MAP run: the global methods get the profile's time limit and threads (``limits``: the
    PAM50 ones); a time budget of EM restarts is a limit it always uses up."""
    limits = limits or prof
    options = configured_options(config, method, prof)
    if method in GLOBAL_METHODS:
        limit = float(limits["time_limit_s"])
        return Job(rule, study, dataset, method, int(limits["threads"].get(method, 1)), limit,
                   runtime_min=runtime_minutes(limit))
    budget = options.get("time_budget_s")
    full = budget is not None and options.get("restarts") is None
    return Job(rule, study, dataset, method, int(options.get("threads", 1)),
               None if budget is None else float(budget), full)


def _implemented(methods: Iterable[str]) -> list[str]:
    return [m for m in methods if m in METHODS]


def flaherty_jobs(config: dict[str, Any], prof: dict[str, Any]) -> list[Job]:
    """The runs of Flaherty et al. Sec. 4.1: Table 2, Fig. 1, EM restarts, Bandi et al."""
    seeds = prof["seeds"]
    runtime = runtime_minutes(prof["time_limit_s"])
    t2 = config["studies"]["flaherty_table2"]
    only_on = t2.get("only_on", {})
    jobs = [replace_runtime(_map_job("flaherty_table2_run", "flaherty_table2", ds, m, config,
                                     prof), runtime)
            for ds in t2["datasets"] for m in _implemented(t2["columns"]) for _ in seeds
            if ds in only_on.get(m, [ds])]
    f1 = config["studies"]["flaherty_fig1"]
    for m in _implemented(f1["methods"]):
        sizes = dict.fromkeys([*prof["fig1_sizes"].get(m, []), f1["trace_n"]])
        jobs += [replace_runtime(_map_job("flaherty_fig1_run", "flaherty_fig1",
                                          f"{f1['dataset']}_n{n}", m, config, prof), runtime)
                 for n in sizes]
    er = config["studies"]["flaherty_em_restarts"]
    for case in er["cases"]:
        for m in ("em_restarts", "exact1d"):
            job = _map_job("flaherty_em_restarts_run", "flaherty_em_restarts", case, m, config,
                           prof)
            jobs.append(replace_runtime(job, runtime_minutes(job.limit_s or 600)))
    bd = config["studies"]["flaherty_bandi"]
    jobs += [_map_job("flaherty_bandi_run", "flaherty_bandi", ds, "bandi", config, prof)
             for ds in bd["datasets"] for _ in seeds]
    return jobs


def replace_runtime(job: Job, runtime_min: int) -> Job:
    """``job`` with the rule's ``runtime`` resource."""
    return replace(job, runtime_min=runtime_min)


def pam50_jobs(config: dict[str, Any], prof: dict[str, Any]) -> list[Job]:
    """The PAM50 runs of Sec. 4.2 (one seed) and the PAM50 predictor."""
    pam50 = config["studies"]["flaherty_pam50"]
    limits = prof.get("pam50", {"time_limit_s": prof["time_limit_s"],
                                "threads": prof["threads"]})
    runtime = runtime_minutes(limits["time_limit_s"])
    jobs = [Job("pam50_pam", "flaherty_pam50", "pam50", "pam")]
    for study, key in (("flaherty_pam50", "methods"), ("flaherty_pam50_nolabels",
                                                      "nolabels_methods")):
        jobs += [replace_runtime(_map_job("pam50_run", study, pam50["dataset"], m, config, prof,
                                          limits), runtime)
                 for m in _implemented(pam50[key])]
    return jobs


def fois_ch1_jobs(config: dict[str, Any], prof: dict[str, Any]) -> list[Job]:
    """Thesis Ch. 1: one simulation per (setting, replication), every method on it, and the
    methods on the real data sets (one seed)."""
    ch1 = config["studies"]["fois_ch1"]
    sim = ch1["simulation"]
    reps = range(1, prof["fois_replications"] + 1)
    names = dict.fromkeys(s.name for sc in sim["scenarios"].values()
                          for s in scenario_settings(sim["base"], sc["vary"], sc["values"]))
    jobs = [Job("fois_simulate", dataset=name) for name in names for _ in reps]
    datasets = [*names.keys()] * len(reps) + ch1["real_data"]["datasets"]
    jobs += [_ch1_job(ds, m) for ds in datasets for m in ch1["methods"]]
    return jobs


def _ch1_job(dataset: str, method: str) -> Job:
    return Job("fois_ch1_run", "fois_ch1", dataset, method)


def fois_ch23_jobs(config: dict[str, Any], prof: dict[str, Any]) -> list[Job]:
    """Thesis Chs. 2-3: every record a figure plots, and the simulations they run on."""
    ch23 = config["studies"]["fois_ch23"]
    girdles = ch23["girdles"]["dataset"]
    figures = ch23_figures(ch23, prof["fois_ch23"], "results")
    paths = dict.fromkeys(m["path"] for f in figures.values() for m in f["members"])
    jobs = []
    simulations = {}
    for path in paths:
        _, _, dataset, method, seed = path.split("/")
        jobs.append(Job("fois_ch23_run", "fois_ch23", dataset, method))
        if not dataset.startswith(f"{girdles}-k"):
            simulations[(dataset, seed)] = Job("fois_simulate_reg", dataset=dataset)
    return list(simulations.values()) + jobs


def mssc_jobs(config: dict[str, Any], prof: dict[str, Any]) -> list[Job]:
    """The MSSC benchmark: one ``exact`` run per instance with the profile's limit and threads."""
    from mixopt.studies import mssc_benchmark as mssc

    limits = prof.get("mssc_benchmark", {"time_limit_s": prof["time_limit_s"],
                                         "threads": prof["threads"]})
    limit = float(limits["time_limit_s"])
    threads = limits["threads"]
    threads = int(threads.get(mssc.METHOD, 1) if isinstance(threads, dict) else threads)
    runtime = int(limit / 60) + 10   # mssc_benchmark.smk
    return [Job("mssc_benchmark_run", mssc.STUDY, name, mssc.METHOD, threads, limit,
                runtime_min=runtime)
            for name in mssc.instances(config["studies"]["mssc_benchmark"])]


def _mssc_datasets(config: dict[str, Any]) -> list[str]:
    from mixopt.studies import mssc_benchmark as mssc

    return list(dict.fromkeys(inst.dataset for inst in
                              mssc.instances(config["studies"]["mssc_benchmark"]).values()))


def summary_jobs(config: dict[str, Any]) -> list[Job]:
    """Jobs that write no record: downloads, preprocessing, tables, figures, reports."""
    from mixopt.data.preprocess import raw_keys_for

    datasets = list(dict.fromkeys([*config["datasets"], *_mssc_datasets(config)]))
    raw = dict.fromkeys(k for ds in datasets for k in raw_keys_for(ds))
    raw.update(dict.fromkeys(("unc_pam50_train", "unc_pam50_centroids")))
    ch1 = config["studies"]["fois_ch1"]
    ch23 = config["studies"]["fois_ch23"]
    n_ch23_figs = 2 + sum(len(sc["figures"]) for sc in ch23["fig3"].values()) \
        + 2 * len(ch23["girdles"]["figures"])
    counts = {"download": len(raw), "preprocess": len(datasets), "mssc_benchmark": 1,
              "flaherty_table2": 1, "flaherty_fig1a": 1, "flaherty_fig1b": 1,
              "flaherty_em_restarts": 1, "flaherty_bandi_accuracy": 1,
              **dict.fromkeys(PAM50_SUMMARIES, 1),
              "fois_scenario_table": len(ch1["simulation"]["scenarios"]),
              "fois_scenario_figure": len(ch1["simulation"]["scenarios"]), "fois_table1_5": 1,
              "fois_ch23_figure": n_ch23_figs, "fidelity_report": FIDELITY_REPORTS,
              "table_view": TABLE_VIEWS, "all": 1}
    return [Job(rule) for rule, n in counts.items() for _ in range(n)]


def merge_config(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` merged into a copy of ``base`` the way Snakemake merges ``--configfile``
    files: nested mappings key by key, any other value replaced."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    return out


def workflow_jobs(config: dict[str, Any], profile: str) -> list[Job]:
    """Every job that ``snakemake --config profile=<profile>`` runs in a fresh project."""
    prof = config["profiles"][profile]
    return (summary_jobs(config) + flaherty_jobs(config, prof) + pam50_jobs(config, prof)
            + fois_ch1_jobs(config, prof) + fois_ch23_jobs(config, prof)
            + mssc_jobs(config, prof))


def select_jobs(jobs: list[Job], pattern: str) -> list[Job]:
    """The jobs whose ``rule/dataset/method`` matches the regular expression ``pattern``
    (``re.search``; ValueError when it is not a regular expression)."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"--only {pattern!r}: not a regular expression ({exc})") from None
    return [j for j in jobs if regex.search(f"{j.rule}/{j.dataset}/{j.method}")]


# --- records and estimates -------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    """Wall seconds and status of one run record."""

    wall_s: float
    status: str


def method_family(method: str) -> str:
    """A Chapter 2-3 method id without its numbers: pclustreg1-ns400 -> pclustreg1-ns*."""
    return re.sub(r"-(ns|nl)\d+", r"-\1*", method)


class RecordIndex:
    """The run records under a directory, by (study, data set, method)."""

    def __init__(self, records: Iterable[tuple[str, str, str, Measured]]) -> None:
        self.exact: dict[tuple[str, str, str], list[Measured]] = defaultdict(list)
        self.by_method: dict[tuple[str, str], list[Measured]] = defaultdict(list)
        self.by_family: dict[tuple[str, str], list[Measured]] = defaultdict(list)
        self.count = 0
        for study, dataset, method, m in records:
            self.exact[(study, dataset, method)].append(m)
            self.by_method[(study, method)].append(m)
            self.by_family[(study, method_family(method))].append(m)
            self.count += 1

    @classmethod
    def from_dir(cls, root: Path) -> RecordIndex:
        """Read every ``*.json`` record under ``root`` (files that are not records are skipped)."""
        return cls(r for p in sorted(root.rglob("*.json")) if (r := _read(p)) is not None)

    def estimate(self, job: Job) -> Estimate:
        """Wall seconds of ``job`` and their basis (see the module docstring)."""
        own = self.exact.get((job.study, job.dataset, job.method), [])
        if job.limit_s is not None:
            if job.full_budget or not own or any(m.status == "time_limit" for m in own):
                return Estimate(job.limit_s, "budget")
            return Estimate(min(_mean(own), job.limit_s), "measured")
        if own:
            return Estimate(_mean(own), "measured")
        similar = (self.by_method.get((job.study, job.method))
                   or self.by_family.get((job.study, method_family(job.method))))
        if similar:
            return Estimate(_mean(similar), "similar")
        return Estimate(None, "none")


def _read(path: Path) -> tuple[str, str, str, Measured] | None:
    try:
        rec = json.loads(path.read_text())
        wall = float(rec["wall_time_s"])
        key = (str(rec["study"]), str(rec["dataset"]), str(rec["method"]))
        return (*key, Measured(wall, str(rec.get("status"))))
    except (ValueError, KeyError, TypeError):
        return None


def _mean(ms: list[Measured]) -> float:
    return sum(m.wall_s for m in ms) / len(ms)


def plan(jobs: list[Job], index: RecordIndex, overhead_s: float = 0.0) -> list[RuleCost]:
    """The cost of every rule, in the order the rules first appear in ``jobs``.

    ``overhead_s``: seconds every job takes beyond its record's wall time (process start,
    imports, Snakemake's bookkeeping), on one core; jobs that write no record take only that."""
    rows: dict[str, RuleCost] = {}
    for job in jobs:
        row = rows.setdefault(job.rule, RuleCost(job.rule))
        row.jobs += 1
        row.threads.add(job.threads)
        row.core_s += overhead_s
        row.overhead_s += overhead_s
        row.longest_s = max(row.longest_s, overhead_s)
        if job.limit_s is not None:
            row.limit_s = max(row.limit_s or 0.0, job.limit_s)
        if job.runtime_min is not None:
            row.runtime_min = max(row.runtime_min or 0, job.runtime_min)
        if not job.study:
            continue
        est = index.estimate(job)
        row.by_basis[est.basis] += 1
        if est.seconds is not None:
            row.core_s += est.seconds * job.threads
            row.core_s_by_basis[est.basis] += est.seconds * job.threads
            row.longest_s = max(row.longest_s, est.seconds + overhead_s)
    return list(rows.values())


# --- output ----------------------------------------------------------------------------------

COLUMNS = ("rule", "jobs", "threads", "time limit", "runtime", "basis", "core-h", "longest job")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def _basis(row: RuleCost) -> str:
    if not sum(row.by_basis.values()):
        return "start-up only"
    return ", ".join(f"{n} {b}" for b, n in row.by_basis.items() if n)


def _threads(row: RuleCost) -> str:
    lo, hi = min(row.threads), max(row.threads)
    return str(lo) if lo == hi else f"{lo}-{hi}"


FOLD_BELOW = 100  # rules without records and with fewer jobs are folded into one row


def fold_small(rows: list[RuleCost]) -> list[RuleCost]:
    """``rows`` with the rules that write no record and have few jobs (tables, figures, data)
    summed into one row ``N other rules``."""
    small = [r for r in rows if not sum(r.by_basis.values()) and r.jobs < FOLD_BELOW]
    if len(small) < 2:
        return rows
    other = RuleCost(f"{len(small)} other rules", jobs=sum(r.jobs for r in small),
                     threads=set().union(*(r.threads for r in small)),
                     core_s=sum(r.core_s for r in small),
                     longest_s=max(r.longest_s for r in small),
                     overhead_s=sum(r.overhead_s for r in small))
    return [r for r in rows if r not in small] + [other]


def table_rows(rows: list[RuleCost]) -> list[list[str]]:
    """The plan's cells, one list per rule (rules with records first, then the others)."""
    ordered = sorted(rows, key=lambda r: (not sum(r.by_basis.values()), -r.core_s, r.rule))
    return [[r.rule, str(r.jobs), _threads(r), _duration(r.limit_s),
             "-" if r.runtime_min is None else f"{r.runtime_min} min", _basis(r),
             f"{r.core_s / 3600:.1f}", _duration(r.longest_s) if r.longest_s else "-"]
            for r in ordered]


def wall_hours(rows: list[RuleCost], cores: int) -> float:
    """Wall hours on ``cores`` cores with ideal packing: the core-hours over the cores, but no
    less than the longest job (a lower bound; dependencies and queueing come on top)."""
    core_s = sum(r.core_s for r in rows)
    longest = max((r.longest_s for r in rows), default=0.0)
    return max(core_s / cores, longest) / 3600


def summary_lines(rows: list[RuleCost], cores: list[tuple[str, int]]) -> list[str]:
    """The totals: jobs, core-hours by basis, and wall time on each machine of ``cores``."""
    jobs = sum(r.jobs for r in rows)
    core_h = sum(r.core_s for r in rows) / 3600
    parts = {b: sum(r.core_s_by_basis[b] for r in rows) / 3600 for b in BASES[:3]}
    unknown = sum(r.by_basis["none"] for r in rows)
    start = sum(r.overhead_s for r in rows) / 3600
    lines = [f"total: {jobs:,} jobs, {core_h:,.1f} core-hours ({parts['measured']:,.1f} "
             f"measured, {parts['similar']:,.1f} from similar runs, {parts['budget']:,.1f} "
             f"budget-bound, {start:,.1f} job start-up)"]
    if unknown:
        lines.append(f"{unknown:,} run jobs without any record of their method: not counted")
    for label, n in cores:
        lines.append(f"wall time on {label}: {wall_hours(rows, n):,.1f} h (ideal packing)")
    return lines


def format_plan(rows: list[RuleCost], fmt: str, cores: list[tuple[str, int]],
                fold: bool = True) -> str:
    """The plan as a text table, Markdown or CSV (CSV: the table only, every rule, numbers
    unrounded). ``fold``: the small rules without records in one row (:func:`fold_small`)."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["rule", "jobs", "threads_max", "time_limit_s", "runtime_min",
                    *(f"jobs_{b}" for b in BASES), "core_hours", "longest_job_s"])
        for r in rows:
            w.writerow([r.rule, r.jobs, max(r.threads), r.limit_s or "", r.runtime_min or "",
                        *(r.by_basis[b] for b in BASES), round(r.core_s / 3600, 6),
                        round(r.longest_s, 3)])
        return buf.getvalue()
    cells = table_rows(fold_small(rows) if fold else rows)
    if fmt == "md":
        lines = ["| " + " | ".join(COLUMNS) + " |",
                 "|" + "|".join("---:" if c in ("jobs", "core-h") else "---"
                                for c in COLUMNS) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines + [""] + [f"{s}  " for s in summary_lines(rows, cores)]) + "\n"
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    right = {1, 6}
    fmt_row = "  ".join(f"{{:{'>' if i in right else '<'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt_row.format(*COLUMNS), fmt_row.format(*("-" * w for w in widths))]
    lines += [fmt_row.format(*row) for row in cells]
    return "\n".join(lines + [""] + summary_lines(rows, cores)) + "\n"


def machines(cores: int, nodes: int | None, cores_per_node: int) -> list[tuple[str, int]]:
    """The machines to give wall times for: ``cores`` cores, and ``nodes`` nodes if given."""
    out = [(f"{cores} cores", cores)]
    if nodes is not None:
        out.append((f"{nodes} nodes x {cores_per_node} cores", nodes * cores_per_node))
    return out


def core_hours(rows: list[RuleCost]) -> float:
    """Total core-hours of a plan."""
    return math.fsum(r.core_s for r in rows) / 3600
