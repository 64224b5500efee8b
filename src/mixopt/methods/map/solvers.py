"""Solver back ends for the global methods: SCIP (default, open source), Gurobi, BARON.

Each back end solves a Pyomo model with a time limit, a thread count and a relative gap, and
returns a :class:`SolveOutcome`: status, incumbent (upper bound), dual (lower) bound, the
incumbent/bound trace over time and the solver's name, version and options. A missing back end or
license raises :class:`SolverUnavailableError` with what to install; Gurobi's size-limited pip
license falls back to SCIP with a visible note when ``fallback`` is allowed.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

import pyomo.environ as pyo

from mixopt.lifetime import die_with_parent, stop_process
from mixopt.progress import Progress
from mixopt.progress import rel_gap as relative_gap

log = logging.getLogger(__name__)

Backend = Literal["scip", "gurobi", "baron", "auto"]
Status = Literal["optimal", "time_limit", "infeasible", "error"]  # of the solver call
TraceRow = tuple[float, float | None, float | None]


class SolverUnavailableError(RuntimeError):
    """The requested back end (or its license) is not available on this machine."""


@dataclass
class SolveOutcome:
    """Result of one solver call on a Pyomo model (solution loaded when ``has_solution``)."""

    status: Status
    has_solution: bool
    upper_bound: float | None
    lower_bound: float | None
    backend: str
    version: str
    options: dict[str, Any]
    wall_time_s: float
    trace: list[TraceRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log_text: str = ""


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if abs(v) < 1e19 else None


# ---------------------------------------------------------------------------------- tracing
class TraceRecorder:
    """Collects (time, incumbent, bound) rows, thinned to one row per ``min_interval`` seconds
    unless the incumbent improves (first and last rows are always kept)."""

    def __init__(self, min_interval: float = 0.05,
                 sink: Callable[[TraceRow], None] | None = None) -> None:
        self.rows: list[TraceRow] = []
        self.min_interval = min_interval
        self.sink = sink  # also called with every new row (streams the trace out of a process)

    def add(self, t: float, incumbent: float | None, bound: float | None) -> None:
        if self.sink is not None:
            self.sink((t, incumbent, bound))
        if self.rows:
            t0, inc0, b0 = self.rows[-1]
            if inc0 == incumbent and b0 == bound:
                return
            if inc0 == incumbent and t - t0 < self.min_interval:
                self.rows[-1] = (t, incumbent, bound)
                return
        self.rows.append((t, incumbent, bound))


def _scip_event_handler(recorder: TraceRecorder) -> Any:
    from pyscipopt import SCIP_EVENTTYPE, Eventhdlr

    events = SCIP_EVENTTYPE.BESTSOLFOUND | SCIP_EVENTTYPE.NODESOLVED

    class _Trace(Eventhdlr):  # type: ignore[misc]
        def eventinit(self) -> None:
            self.model.catchEvent(events, self)

        def eventexit(self) -> None:
            self.model.dropEvent(events, self)

        def eventexec(self, event: Any) -> None:
            m = self.model
            recorder.add(m.getSolvingTime(), _finite(m.getPrimalbound()),
                         _finite(m.getDualbound()))

    return _Trace()


_GUROBI_ROW = re.compile(
    r"^[ *H]\s*\d+\s+\d+\s.*?\s(?P<inc>-?[\d.e+-]+|-)\s+(?P<bd>-?[\d.e+-]+)\s+"
    r"(?P<gap>[\d.]+%|-)\s+\S+\s+(?P<t>\d+)s\s*$")


def parse_gurobi_log(text: str) -> list[TraceRow]:
    """Trace rows from the branch-and-bound table of a Gurobi log (incumbent, best bound, time)."""
    rows: list[TraceRow] = []
    for line in text.splitlines():
        m = _GUROBI_ROW.match(line)
        if m:
            inc = None if m["inc"] == "-" else _finite(m["inc"])
            rows.append((float(m["t"]), inc, _finite(m["bd"])))
    return rows


# ---------------------------------------------------------------------------------- back ends
def check_backend(backend: str) -> None:
    """Raise :class:`SolverUnavailableError` with install advice if ``backend`` cannot run here."""
    if backend == "scip":
        try:
            import pyscipopt  # noqa: F401
        except ImportError as exc:
            raise SolverUnavailableError("backend 'scip' needs pyscipopt: pip install pyscipopt"
                                         ) from exc
    elif backend == "gurobi":
        try:
            import gurobipy
        except ImportError as exc:
            raise SolverUnavailableError(
                "backend 'gurobi' needs gurobipy and a Gurobi license: pip install "
                "'mixopt[gurobi]' (the pip package carries a size-limited license), or choose "
                "solvers: scip in config/config.yaml") from exc
        try:
            gurobipy.Model("license-check").dispose()
        except gurobipy.GurobiError as exc:
            raise SolverUnavailableError(f"backend 'gurobi': no usable Gurobi license ({exc})"
                                         ) from exc
    elif backend == "baron":
        if shutil.which("baron") is None:
            raise SolverUnavailableError(
                "backend 'baron' needs the BARON executable on PATH and a BARON license "
                "(https://minlp.com); choose solvers: scip in config/config.yaml otherwise")
    else:
        raise SolverUnavailableError(f"unknown solver backend {backend!r}; "
                                     "choose scip, gurobi or baron")


def resolve_backend(backend: str) -> tuple[str, list[str]]:
    """``auto`` -> gurobi when importable and licensed, else scip (with a note saying why)."""
    if backend != "auto":
        check_backend(backend)
        return backend, []
    try:
        check_backend("gurobi")
        return "gurobi", ["backend auto: Gurobi is installed and licensed"]
    except SolverUnavailableError as exc:
        return "scip", [f"backend auto: using SCIP ({exc})"]


def _is_size_limit(exc: Exception) -> bool:
    text = str(exc).lower()
    return "size-limited" in text or "model too large" in text


def _map_termination(tc: Any, has_solution: bool) -> Status:
    name = getattr(tc, "name", str(tc))
    if name == "convergenceCriteriaSatisfied":
        return "optimal"
    if name in ("provenInfeasible", "locallyInfeasible", "infeasibleOrUnbounded"):
        return "infeasible"
    if name in ("maxTimeLimit", "iterationLimit", "interrupted", "maxIterations"):
        return "time_limit"
    return "time_limit" if has_solution else "error"


def _scip_add_start(solver: Any) -> str:
    """Give SCIP the model's current variable values as a starting solution.

    A partial solution: SCIP completes the variables it adds itself (the epigraph variable of a
    nonlinear objective), which a complete solution would leave at 0 and so be rejected."""
    scip = solver._solver_model  # noqa: SLF001 (documented escape hatch)
    sol = scip.createPartialSol()
    for pyomo_var, scip_var in solver._pyomo_var_to_solver_var_map.items():  # noqa: SLF001
        if pyomo_var.value is not None:
            scip.setSolVal(sol, scip_var, float(pyomo_var.value))
    scip.addSol(sol, free=True)
    return "warm start passed to SCIP as a partial solution (completed by SCIP)"


@contextlib.contextmanager
def _log_stream(stream: TextIO | None, backend: str) -> Iterator[TextIO | None]:
    """The stream for Pyomo's ``tee`` so that the solver log reaches ``stream`` as it is written.

    Pyomo captures a solver's output by pointing descriptors 1 and 2 (and ``sys.stdout``'s) at a
    pipe read by Python threads. PySCIPOpt holds the GIL while SCIP runs, so those threads, and
    the log, wait until the solve ends. When ``stream`` writes to the file behind descriptor 1
    (the job's log file inside :func:`mixopt.smk.job_log`, or the terminal), SCIP's output is
    therefore left on descriptor 1 (Pyomo's descriptor capture is switched off for the call;
    SCIP flushes every message) and ``None`` is returned (the outcome's ``log_text`` then lacks
    SCIP's log). Otherwise Pyomo gets a line-buffered stream on a duplicate of ``stream``'s
    descriptor (its own copy of a captured descriptor is block-buffered), or ``stream`` itself
    when it has no descriptor.
    """
    try:
        fd = stream.fileno() if stream is not None else None
    except (AttributeError, OSError, ValueError):
        fd = None
    if stream is None or fd is None:
        yield stream
        return
    stream.flush()
    try:
        direct = backend == "scip" and os.path.samestat(os.fstat(fd), os.fstat(1))
    except OSError:
        direct = False
    if direct:
        from pyomo.common import tee

        saved = tee.OVERRIDE_CAPTURE_OUTPUT
        tee.OVERRIDE_CAPTURE_OUTPUT = tee.CaptureOutputMode.ENABLE_STREAM_CAPTURE
        try:
            yield None
        finally:
            tee.OVERRIDE_CAPTURE_OUTPUT = saved
        return
    with open(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace") as out:
        yield out


def _solve_contrib(
    model: pyo.ConcreteModel,
    backend: str,
    nonlinear: bool,
    time_limit: float,
    threads: int,
    rel_gap: float,
    stream: TextIO | None = None,
    warmstart: bool = False,
    on_trace: Callable[[TraceRow], None] | None = None,
) -> SolveOutcome:
    """Solve with Pyomo's ``pyomo.contrib.solver`` interfaces (SCIP, Gurobi).

    ``warmstart`` passes the current values of the integer variables as a starting solution."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    if backend == "scip":
        name = "scip_persistent"
    else:
        name = "gurobi_direct_minlp" if nonlinear else "gurobi_persistent"
    solver = SolverFactory(name)
    recorder = TraceRecorder(sink=on_trace)
    notes: list[str] = []
    options: dict[str, Any] = {"time_limit": time_limit, "rel_gap": rel_gap}
    if backend == "scip":
        solver.set_instance(model)
        solver._solver_model.includeEventhdlr(  # noqa: SLF001 (documented escape hatch)
            _scip_event_handler(recorder), "mixopt_trace", "incumbent/bound trace")
        if threads > 1:
            notes.append(f"{threads} threads requested; SCIP's branch-and-bound is sequential "
                         "and used 1")
        options["threads"] = 1
        if warmstart:
            notes.append(_scip_add_start(solver))
            warmstart = False   # the full start replaces pyomo's partial (integer-only) one
    else:
        options["threads"] = threads
    buf = io.StringIO()
    t0 = time.perf_counter()
    with _log_stream(stream, backend) as out:
        res = solver.solve(model, time_limit=time_limit, rel_gap=rel_gap,
                           threads=options["threads"], load_solutions=False,
                           warmstart_discrete_vars=warmstart,
                           raise_exception_on_nonoptimal_result=False,
                           tee=[buf] if out is None else [buf, out])
    wall = time.perf_counter() - t0
    text = buf.getvalue()
    has_solution = res.incumbent_objective is not None
    if has_solution:
        res.solution_loader.load_vars()
    trace = recorder.rows if backend == "scip" else parse_gurobi_log(text)
    ub, lb = _finite(res.incumbent_objective), _finite(res.objective_bound)
    if trace and trace[-1][1:] != (ub, lb):
        trace.append((wall, ub, lb))
    version = ".".join(str(v) for v in res.solver_version) if res.solver_version else "unknown"
    return SolveOutcome(
        status=_map_termination(res.termination_condition, has_solution),
        has_solution=has_solution, upper_bound=ub, lower_bound=lb, backend=backend,
        version=version, options=options, wall_time_s=wall, trace=trace, notes=notes,
        log_text=text)


def _solve_isolated(model: pyo.ConcreteModel, nonlinear: bool, time_limit: float, threads: int,
                    rel_gap: float, stream: TextIO | None, warmstart: bool,
                    progress: Progress | None = None) -> SolveOutcome:
    """SCIP in a forked child process, so that a solver crash (SCIP 10 can abort in its cut loop)
    loses nothing: the trace is streamed to the parent, and a crash returns status ``error``
    with the last incumbent value and dual bound (the model keeps its start values).

    ``progress`` logs the streamed incumbent and bound every few seconds (in the parent)."""
    import multiprocessing as mp
    import os
    import traceback

    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    parent = os.getpid()

    def child() -> None:
        die_with_parent(parent)
        try:
            out = _solve_contrib(model, "scip", nonlinear, time_limit, threads, rel_gap, stream,
                                 warmstart, on_trace=lambda row: send.send(("trace", row)))
            values = ({v.name: v.value for v in model.component_data_objects(pyo.Var)}
                      if out.has_solution else {})
            send.send(("done", out, values))
        except BaseException as exc:  # noqa: BLE001 (reported to the parent)
            send.send(("exception", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        finally:
            send.close()
            if stream is not None:
                stream.flush()
            os._exit(0)

    t0 = time.perf_counter()
    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    recorder, result = TraceRecorder(), None
    try:
        while True:
            if progress is not None and progress.due():
                _report_trace(progress, recorder)
            try:
                if not recv.poll(0.2):
                    if not proc.is_alive() and not recv.poll(0):
                        break
                    continue
                msg = recv.recv()
            except EOFError:
                break
            if msg[0] == "trace":
                recorder.add(*msg[1])
            else:
                result = msg
    except BaseException:   # (mixopt.lifetime.Terminated, KeyboardInterrupt): stop SCIP too
        stop_process(proc)
        raise
    finally:
        recv.close()
    proc.join()
    if result is not None and result[0] == "done":
        out, values = result[1], result[2]
        _load_values(model, values)
        return out
    if result is not None:
        raise RuntimeError(f"SCIP failed: {result[1]}\n{result[2]}")
    wall = time.perf_counter() - t0
    code = proc.exitcode
    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    last = recorder.rows[-1] if recorder.rows else (wall, None, None)
    log.error("SCIP process died (%s) after %.0f s", how, wall)
    return SolveOutcome(
        status="error", has_solution=False, upper_bound=last[1], lower_bound=last[2],
        backend="scip", version=_scip_version(), options={"time_limit": time_limit,
                                                          "rel_gap": rel_gap, "threads": 1},
        wall_time_s=wall, trace=recorder.rows,
        notes=[f"SCIP's process died ({how}) after {wall:.0f} s; the last incumbent value "
               f"{last[1]} and dual bound {last[2]} come from its streamed trace"])


def _load_values(model: pyo.ConcreteModel, values: dict[str, Any]) -> None:
    """Load a solution (variable name -> value) into ``model`` as Pyomo's own solution loaders
    do, without domain and bound checks: a solver's values meet them only up to its tolerances
    (z = 0.9999998 for a binary, pi 1e-9 below its bound), which Pyomo would otherwise report
    in one W1001/W1002 warning per variable."""
    for name, value in values.items():
        model.find_component(name).set_value(value, skip_validation=True)


def _report_trace(progress: Progress, recorder: TraceRecorder) -> None:
    """One progress line from the latest trace row (SCIP's solving time of the row, incumbent,
    dual bound; rows come with new incumbents and solved nodes)."""
    t, inc, bound = recorder.rows[-1] if recorder.rows else (None, None, None)
    progress.report(incumbent=inc, bound=bound, gap=relative_gap(inc, bound),
                    as_of=None if t is None else f"{t:.1f} s solver time")


def _scip_version() -> str:
    try:
        from pyscipopt import Model

        return str(Model().version())
    except Exception:  # noqa: BLE001 (version is informational)
        return "unknown"


def _solve_baron(model: pyo.ConcreteModel, time_limit: float, rel_gap: float) -> SolveOutcome:
    """Solve with the BARON executable through Pyomo's shell interface."""
    solver = pyo.SolverFactory("baron")
    options = {"MaxTime": time_limit, "EpsR": rel_gap}
    t0 = time.perf_counter()
    res = solver.solve(model, options=options, load_solutions=False, tee=False)
    wall = time.perf_counter() - t0
    has_solution = len(res.solution) > 0
    if has_solution:
        model.solutions.load_from(res)
    tc = str(res.solver.termination_condition)
    status: Status = ("optimal" if tc == "optimal" else "infeasible" if tc == "infeasible"
                      else "time_limit" if has_solution or tc == "maxTimeLimit" else "error")
    ub, lb = _finite(res.problem.upper_bound), _finite(res.problem.lower_bound)
    return SolveOutcome(status=status, has_solution=has_solution, upper_bound=ub,
                        lower_bound=lb, backend="baron", version=str(solver.version()),
                        options=options, wall_time_s=wall, trace=[(wall, ub, lb)])


def solve(
    model: pyo.ConcreteModel,
    backend: str,
    nonlinear: bool,
    time_limit: float,
    threads: int = 1,
    rel_gap: float = 1e-4,
    fallback: bool = True,
    stream: TextIO | None = None,
    warmstart: bool = False,
    isolate: bool = True,
    progress: str | None = None,
) -> SolveOutcome:
    """Solve ``model`` with ``backend`` (``auto``, ``scip``, ``gurobi`` or ``baron``).

    ``nonlinear`` says whether the model has general nonlinear terms (MINLP) or is at most
    quadratic (MIQP). With ``fallback``, a Gurobi size-limit license error re-solves with SCIP and
    says so in the notes. The solver's progress log is copied to ``stream`` as it runs.
    ``warmstart`` gives the current integer values as a start (SCIP, Gurobi; BARON ignores it).
    ``isolate`` runs SCIP in a child process so that a solver crash is reported, not fatal.
    ``progress`` (a method name) logs incumbent and bound to ``mixopt.methods.<progress>`` every
    few seconds while an isolated SCIP runs, and one line at the end for every back end.
    """
    chosen, notes = resolve_backend(backend)
    if time_limit <= 0:
        raise ValueError(f"time limit must be positive, got {time_limit}")
    prog = Progress(progress) if progress is not None else None
    if chosen == "baron":
        out = _solve_baron(model, time_limit, rel_gap)
    else:
        try:
            if chosen == "scip" and isolate:
                out = _solve_isolated(model, nonlinear, time_limit, threads, rel_gap, stream,
                                      warmstart, prog)
            else:
                out = _solve_contrib(model, chosen, nonlinear, time_limit, threads, rel_gap,
                                     stream, warmstart)
        except Exception as exc:
            if chosen == "gurobi" and fallback and _is_size_limit(exc):
                notes.append("Gurobi's size-limited license cannot hold this model; "
                             "solved with SCIP instead")
                log.warning(notes[-1])
                out = (_solve_isolated(model, nonlinear, time_limit, threads, rel_gap, stream,
                                       warmstart, prog) if isolate else
                       _solve_contrib(model, "scip", nonlinear, time_limit, threads, rel_gap,
                                      stream, warmstart))
            else:
                raise
    out.notes = notes + out.notes
    if prog is not None:
        prog.done(out.status, backend=out.backend, incumbent=out.upper_bound,
                  bound=out.lower_bound, gap=relative_gap(out.upper_bound, out.lower_bound))
    return out
