"""Progress lines of the long-running methods (logger ``mixopt.methods.<name>``) and the job log:
Python and C-level output of a workflow job (SCIP included) land in the job's log file."""

from __future__ import annotations

import ctypes
import io
import logging
import os
import re
import sys

import numpy as np
import pytest

from mixopt import progress
from mixopt.constraints import Constraints
from mixopt.problem import MAPProblem, RegressionProblem, RobustProblem
from mixopt.smk import job_log


@pytest.fixture
def lines(caplog, monkeypatch):
    """Every progress line (interval 0: one per iteration) of the method named by the call."""
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)
    caplog.set_level(logging.INFO, logger="mixopt")

    def get(name: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == f"mixopt.methods.{name}"]

    return get


def field(line: str, name: str) -> str:
    """The value printed after ``name`` in a progress line."""
    m = re.search(rf"(?:^|, |: ){name} ([^,]+)", line)
    assert m, f"{name!r} not in {line!r}"
    return m.group(1)


def test_progress_is_rate_limited_and_always_ends_with_done(caplog) -> None:
    caplog.set_level(logging.INFO, logger="mixopt")
    p = progress.Progress("demo", interval_s=3600.0)
    assert not p.due()
    p.report(step=1)  # an explicit report is always written
    for _ in range(1000):
        assert not p.due()
    p.done("local", incumbent=1.5, bound=None, gap=0.25)
    msgs = [r.getMessage() for r in caplog.records if r.name == "mixopt.methods.demo"]
    assert len(msgs) == 2
    assert re.fullmatch(r"done \(local\): \d+\.\d s, incumbent 1\.5, bound -, gap 25\.00%", msgs[1])
    assert progress.rel_gap(100.0, 90.0) == pytest.approx(0.1)
    assert progress.rel_gap(1.0, None) is None and progress.rel_gap(1.0, -np.inf) is None


def test_progress_is_silent_when_info_is_off(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="mixopt")
    p = progress.Progress("demo", interval_s=0.0)
    assert not p.due()
    p.done("local", incumbent=1.0)
    assert not [r for r in caplog.records if r.name == "mixopt.methods.demo"]


def test_pclustreg_logs_nodes_queue_incumbent_and_bound(lines) -> None:
    from mixopt.methods.regression.pclustreg import fit_pclustreg

    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 5.0, 40)
    X = np.column_stack([np.ones(40), x])
    y = np.where(np.arange(40) % 2 == 0, 1.0 + 0.5 * x, 10.0 - 0.5 * x) + 0.2 * rng.normal(
        size=40)
    res = fit_pclustreg(RegressionProblem(X, y, 2), sigma_min=0.1, node_limit=15, seed=1)
    out = lines("pclustreg")
    assert len(out) == res.n_expanded + 1   # one line per expansion (interval 0) + done
    for line in out[:-1]:
        for name in ("expanded", "created", "queue", "incumbent", "best bound", "gap"):
            field(line, name)
    last = out[-1]
    assert last.startswith(f"done ({res.status}): ")
    assert int(field(last, "expanded")) == res.n_expanded
    assert int(field(last, "queue")) == res.extra["n_open_at_stop"]
    assert float(field(last, "incumbent")) == pytest.approx(res.objective, rel=1e-7)
    assert float(field(last, "best bound")) == pytest.approx(res.upper_bound, rel=1e-7)


def test_bclust_logs_iterations_and_incumbent(lines) -> None:
    from mixopt.methods.robust.bclust import fit_bclust

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(c * 2.0, 1.0, (20, 2)) for c in range(3)])
    start = rng.integers(0, 3, 60)
    res = fit_bclust(RobustProblem(X, 3, 10.0), init_labels=start, mode="likelihood")
    out = lines("bclust")
    assert len(out) >= 2 and out[-1].startswith(f"done ({res.status}): ")
    assert int(field(out[-1], "outer")) == res.n_outer
    assert float(field(out[-1], "incumbent")) == pytest.approx(res.objective, rel=1e-7)
    assert all("incumbent" in line and "cluster solves" in line for line in out)


def test_em_restarts_logs_restarts_and_best_value(lines) -> None:
    from mixopt.methods.map.em_restarts import fit_em_restarts

    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0.0, 1.0, (30, 1)), rng.normal(3.0, 1.0, (30, 1))])
    res = fit_em_restarts(MAPProblem(y, 2, np.eye(1)), restarts=40, batch=10)
    out = lines("em_restarts")
    assert [field(line, "restarts") for line in out[:-1]] == ["10/40", "20/40", "30/40", "40/40"]
    assert out[-1].startswith("done (local): ")
    assert float(field(out[-1], "incumbent")) == pytest.approx(res.objective, rel=1e-7)


def test_tclust_tclustreg_and_sa_log_their_best_value(lines) -> None:
    from mixopt.methods.map.sa import fit_sa
    from mixopt.methods.regression.tclustreg import fit_tclustreg
    from mixopt.methods.robust.tclust import fit_tclust

    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c * 3.0, 1.0, (15, 2)) for c in range(2)])
    tc = fit_tclust(RobustProblem(X, 2, 10.0), nsamp=5, seed=0)
    assert len(lines("tclust")) == 6
    assert float(field(lines("tclust")[-1], "incumbent")) == pytest.approx(tc.objective)

    Xr = np.column_stack([np.ones(60), rng.normal(size=60)])
    yr = Xr @ np.array([1.0, 2.0]) + rng.normal(size=60)
    tr = fit_tclustreg(RegressionProblem(Xr, yr, 2), nsamp=30, seed=0, batch_size=10)
    out = lines("tclustreg")
    assert [field(line, "starts") for line in out] == ["0/30", "10/30", "20/30", "30/30"]
    assert float(field(out[-1], "incumbent")) == pytest.approx(tr.objective)

    fit_sa(MAPProblem(X[:, :1], 2, np.eye(1)), niter=2)
    out = lines("sa")
    assert out[-1].startswith("done (local): ") and "best relaxed" in out[-1]
    assert len(out) == 2 + 1 + 1   # initial minimum + 2 hops, then done


def test_bandi_logs_each_ks_milp(lines) -> None:
    from mixopt.methods.map.bandi import fit_bandi

    rng = np.random.default_rng(2)
    y = np.concatenate([rng.normal(0.0, 1.0, (25, 2)), rng.normal(4.0, 1.0, (25, 2))])
    res = fit_bandi(MAPProblem(y, 2, np.eye(2)), max_rounds=1, mio_time_limit_s=0.2,
                    mio_node_limit=5)
    out = lines("bandi")
    assert [field(line, "last") for line in out[:-1]] == ["round 1", "e0 (2/4)", "e1 (3/4)",
                                                          "e0+e1 (4/4)"]
    assert all("ks" in line and "bound" in line and "status" in line for line in out[:-1])
    assert int(field(out[-1], "milps")) == 4
    assert float(field(out[-1], "ks")) == pytest.approx(res.extra["ks"])


def test_global_method_logs_solver_incumbent_bound_and_gap(lines) -> None:
    from mixopt.methods.map.minlp import fit_minlp

    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0.0, 1.0, (4, 1)), rng.normal(3.0, 1.0, (4, 1))])
    res = fit_minlp(MAPProblem(y, 2, np.eye(1)), constraints=Constraints.paper_defaults(),
                    backend="scip", time_limit_s=30.0)
    out = lines("minlp")
    assert out[-1].startswith("done (optimal): ") and "backend scip" in out[-1]
    assert float(field(out[-1], "bound")) == pytest.approx(res.lower_bound, rel=1e-6)
    assert float(field(out[-1], "gap").rstrip("%")) <= 0.01
    assert len(out) >= 2 and "as of" in out[0]   # streamed from the SCIP process


def test_job_log_captures_c_level_output_and_restores_descriptors(tmp_path, capfd) -> None:
    log = tmp_path / "logs" / "job.log"
    libc = ctypes.CDLL(None)
    level = logging.getLogger().level
    with job_log(log):
        print("python print")
        logging.getLogger("mixopt.methods.demo").info("a progress line")
        os.write(1, b"C-level fd 1\n")
        os.write(2, b"C-level fd 2\n")
        libc.printf(b"C stdio printf\n")   # buffered by the C library: flushed on exit
        sys.stderr.write("python stderr\n")
    os.write(1, b"after the job\n")
    text = log.read_text()
    for expected in ("python print", "INFO mixopt.methods.demo: a progress line",
                     "C-level fd 1", "C-level fd 2", "C stdio printf", "python stderr"):
        assert expected in text
    term = capfd.readouterr()
    assert "after the job" in term.out
    assert "C-level" not in term.out + term.err and "printf" not in term.out
    assert logging.getLogger().level == level


def test_job_log_holds_scip_output_and_progress(tmp_path, capfd) -> None:
    from mixopt.methods.map.minlp import fit_minlp

    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0.0, 1.0, (4, 1)), rng.normal(3.0, 1.0, (4, 1))])
    log = tmp_path / "job.log"
    with job_log(log):
        fit_minlp(MAPProblem(y, 2, np.eye(1)), constraints=Constraints.paper_defaults(),
                  backend="scip", time_limit_s=30.0, log_progress=True)
    text = log.read_text()
    assert "presolving" in text and "SCIP Status" in text         # SCIP's own log (from C)
    assert re.search(r"INFO mixopt\.methods\.minlp: done \(optimal\): .*incumbent .*bound", text)
    term = capfd.readouterr()
    assert "presolving" not in term.out + term.err


def test_scip_log_reaches_the_job_log_while_scip_runs(tmp_path) -> None:
    """SCIP's log is in the file during the solve, not only after it (PySCIPOpt holds the GIL,
    so a log relayed by Python threads would arrive at the end)."""
    import threading
    import time

    from mixopt.methods.map.minlp import fit_minlp

    rng = np.random.default_rng(5)
    y = np.vstack([rng.normal(c, 1.0, (12, 3)) for c in range(3)])
    log = tmp_path / "job.log"
    seen: list[float] = []
    stop = threading.Event()

    def watch() -> None:   # runs while the parent waits for the SCIP process
        while not stop.is_set() and not seen:
            if log.exists() and "presolving" in log.read_text():
                seen.append(time.perf_counter())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    with job_log(log):
        watcher.start()
        res = fit_minlp(MAPProblem(y, 3, np.eye(3)), constraints=Constraints.paper_defaults(),
                        backend="scip", time_limit_s=2.5, log_progress=True)
        end = time.perf_counter()
    stop.set()
    watcher.join()
    assert res.status == "time_limit"
    assert seen and seen[0] < end - 1.0


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _em_restarts_run() -> None:
    from mixopt.methods.map.em_restarts import fit_em_restarts

    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0.0, 1.0, (30, 1)), rng.normal(3.0, 1.0, (30, 1))])
    fit_em_restarts(MAPProblem(y, 2, np.eye(1)), restarts=40, batch=10)


def test_bar_shows_count_of_total() -> None:
    assert progress.bar(12, 40, width=10) == "[===>      ] 12/40"
    assert progress.bar(0, 40, width=4) == "[>   ] 0/40"
    assert progress.bar(40, 40, width=4) == "[====] 40/40"


def test_terminal_gets_a_bar_redrawn_in_place(monkeypatch) -> None:
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda: os.terminal_size((200, 24)))
    tty = FakeTTY()
    with progress.progress_to(tty):
        _em_restarts_run()
    text = tty.getvalue()
    draws = text.split("\r")[1:]
    bars = [d for d in draws if d.startswith("[")]
    assert [b.split(" mixopt: ")[0] for b in bars] == [
        f"[{'=' * n}{'>' if n < 20 else ''}{' ' * (19 - n)}] {c}/40" if n < 20 else
        f"[{'=' * 20}] 40/40" for n, c in ((5, 10), (10, 20), (15, 30), (20, 40))]
    assert all("incumbent" in b and b.endswith("\x1b[K") for b in bars)
    assert draws[-1].startswith("\x1b[Kmixopt: mixopt.methods.em_restarts: done (local): ")
    assert text.count("\n") == 1 and text.endswith("\n")   # only the done line ends a line


def test_bar_is_cut_to_the_terminal_width(monkeypatch) -> None:
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda: os.terminal_size((41, 24)))
    tty = FakeTTY()
    with progress.progress_to(tty):
        _em_restarts_run()
    bars = [d for d in tty.getvalue().split("\r") if d.startswith("[")]
    assert bars and all(len(b) == 40 + len("\x1b[K") for b in bars)


def test_pipe_and_log_file_get_plain_lines(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)
    pipe = io.StringIO()
    with progress.progress_to(pipe):
        _em_restarts_run()
    lines = pipe.getvalue().splitlines()
    assert [field(x, "restarts") for x in lines] == ["10/40", "20/40", "30/40", "40/40", "40/40"]
    assert all(x.startswith("mixopt: mixopt.methods.em_restarts: ") for x in lines)
    assert "\r" not in pipe.getvalue() and "[=" not in pipe.getvalue()
    log = tmp_path / "job.log"
    with job_log(log):
        _em_restarts_run()
    text = log.read_text()
    assert "INFO mixopt.methods.em_restarts: done (local)" in text
    assert "\r" not in text and "[=" not in text


def test_progress_to_restores_the_logger_and_interval() -> None:
    log = logging.getLogger("mixopt.methods")
    handlers, level, interval = list(log.handlers), log.level, progress.INTERVAL_S
    with progress.progress_to(FakeTTY()):
        assert progress.INTERVAL_S == progress.TTY_INTERVAL_S
    assert (log.handlers, log.level, progress.INTERVAL_S) == (handlers, level, interval)
    with progress.progress_to(FakeTTY(), enabled=False) as handler:
        assert handler is None and log.handlers == handlers


def test_tclust_tclustreg_and_pclustreg_give_their_totals(caplog) -> None:
    from mixopt.methods.regression.pclustreg import fit_pclustreg
    from mixopt.methods.regression.tclustreg import fit_tclustreg
    from mixopt.methods.robust.tclust import fit_tclust

    caplog.set_level(logging.INFO, logger="mixopt")
    p = progress.Progress("demo", interval_s=0.0, total=7)
    p.report(count=3, step=3)
    p.done("local", count=7)
    first, last = [r for r in caplog.records if r.name == "mixopt.methods.demo"]
    assert (first.progress_count, first.progress_total) == (3, 7)
    assert not hasattr(last, "progress_total")   # the done line ends the bar
    caplog.clear()
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c * 3.0, 1.0, (15, 2)) for c in range(2)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(progress, "INTERVAL_S", 0.0)
        fit_tclust(RobustProblem(X, 2, 10.0), nsamp=5, seed=0)
        x = rng.uniform(0.0, 5.0, 30)
        xr = np.column_stack([np.ones(30), x])
        fit_pclustreg(RegressionProblem(xr, 1.0 + x + rng.normal(size=30), 2), sigma_min=0.1,
                      node_limit=6, seed=1)
        fit_tclustreg(RegressionProblem(xr, 1.0 + x + rng.normal(size=30), 2), nsamp=20, seed=0,
                      batch_size=10)
    totals = {(r.name.rsplit(".", 1)[-1], r.progress_total) for r in caplog.records
              if hasattr(r, "progress_total")}
    assert totals == {("tclust", 5), ("pclustreg", 6), ("tclustreg", 20)}


def test_cli_draws_a_bar_on_a_terminal_and_nothing_when_quiet(tmp_path, monkeypatch) -> None:
    from mixopt.cli import main

    monkeypatch.setattr(progress, "TTY_INTERVAL_S", 0.0)
    rng = np.random.default_rng(0)
    data = tmp_path / "pts.csv"
    data.write_text("x\n" + "\n".join(f"{float(v)!r}" for v in np.concatenate(
        [rng.normal(0, 1, 20), rng.normal(4, 1, 20)])) + "\n")
    argv = ["cluster", "--data", str(data), "--k", "2", "--sigma", "1", "--method",
            "em_restarts", "--options", '{"restarts": 20, "batch": 10}']
    for quiet, expected in ((False, "] 20/20 mixopt: mixopt.methods.em_restarts: "), (True, "")):
        tty = FakeTTY()
        monkeypatch.setattr(sys, "stderr", tty)
        assert main([*argv, "--out", str(tmp_path / f"r{quiet}.json"),
                     *(["--quiet"] if quiet else [])]) == 0
        assert expected in tty.getvalue() and (quiet == (tty.getvalue() == ""))
