"""A throw-away one-node Grid Engine on this machine, for tests (needs root; Debian packages).

Recipe: docs/clusters.md, section 'The Grid Engine test cluster'. `start()` installs
gridengine-master, -exec and -client with apt-get if needed (debconf preseeded: cell `default`,
this host as master, no automatic cluster set-up, so the packages configure nothing), then builds
a cluster entirely inside a temporary directory: an SGE_ROOT whose bin/lib/util directories link
to the installed ones, a cell with classic (flat-file) spooling, a global configuration that
admits root's jobs, and free ports for sge_qmaster and sge_execd. It starts both daemons in the
foreground (SGE_ND) as children of this process, registers this host as submit and execution
host, adds the parallel environment `smp` and the queue `all.q` with `slots` slots, and waits
until a job runs. `stop()` ends exactly the daemons it started, by pid, and removes the directory.
Anything that prevents a cluster raises `ClusterUnavailable`, which tests turn into a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cluster_utils import terminate, wait_until

PACKAGES = ("gridengine-master", "gridengine-exec", "gridengine-client")
PACKAGE_ROOT = Path("/var/lib/gridengine")  # Debian's SGE_ROOT: bin, lib, util, utilbin
PACKAGE_CONFIGURATION = Path("/usr/share/gridengine/default-configuration")
CELL = "default"
QUEUE = "all.q"
PE = "smp"
# debconf answers for every gridengine package: no automatic cluster (this module builds its own).
PRESEED = "".join(
    f"{pkg} shared/gridenginemaster string {{host}}\n"
    f"{pkg} shared/gridenginecell string {CELL}\n"
    f"{pkg} shared/gridengineconfig boolean false\n"
    for pkg in ("gridengine-common", *PACKAGES))

BOOTSTRAP = """admin_user              none
default_domain          none
ignore_fqdn             true
spooling_method         classic
spooling_lib            libspoolc
spooling_params         {common};{spool}
binary_path             /usr/sbin
qmaster_spool_dir       {spool}
security_mode           none
listener_threads        2
worker_threads          2
scheduler_threads       1
"""

PE_CONF = f"""pe_name            {PE}
slots              999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    $pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
"""

EXEC_HOST = """hostname {host}
load_scaling NONE
complex_values NONE
user_lists NONE
xuser_lists NONE
projects NONE
xprojects NONE
usage_scaling NONE
report_variables NONE
"""

# Queue fields changed from qconf's template: the host, its slots, the PE, bash, and no load
# threshold (a shared machine's load would put the queue in alarm state and hold every job).
QUEUE_FIELDS = {"hostlist": "{host}", "slots": "{slots}", "pe_list": PE,
                "load_thresholds": "NONE", "shell": "/bin/bash"}
# Scheduler: a pass every 2 s and at each submission and finish (defaults: every 15 s only).
SCHED_FIELDS = {"schedule_interval": "0:0:2", "flush_submit_sec": "1", "flush_finish_sec": "1"}


class ClusterUnavailable(RuntimeError):
    """No cluster can be had here (not root, no packages, daemons do not come up)."""


@dataclass
class SgeCluster:
    """A running test cluster: its SGE_ROOT, host, ports and the daemons this process started."""

    root: Path
    host: str
    slots: int
    qmaster_port: int
    execd_port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def common(self) -> Path:
        return self.root / CELL / "common"

    @property
    def env(self) -> dict[str, str]:
        """Environment for the clients (qsub, qstat, ...); qsub -V passes it on to the jobs."""
        return {**os.environ, "SGE_ROOT": str(self.root), "SGE_CELL": CELL,
                "SGE_QMASTER_PORT": str(self.qmaster_port),
                "SGE_EXECD_PORT": str(self.execd_port)}

    def run(self, *cmd: str, timeout: float = 30, stdin: str | None = None
            ) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def qconf(self, *args: str) -> None:
        """Run qconf; raise ClusterUnavailable with its message if it fails."""
        proc = self.run("qconf", *args)
        if proc.returncode != 0:
            raise ClusterUnavailable(f"qconf {' '.join(args)} failed: "
                                     f"{(proc.stderr or proc.stdout).strip()[-300:]}")

    def log_tail(self, name: str, lines: int = 15) -> str:
        """Last lines of a daemon's messages file (spool/messages or execd/<host>/messages)."""
        path = (self.root / "spool/messages" if name == "qmaster"
                else self.root / "execd" / self.host / "messages")
        if not path.exists():
            return f"(no {path})"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, remove: bool = True) -> None:
        """Delete this cluster's jobs, stop the daemons started here (by pid), drop the files."""
        if "qmaster" in self.procs and self.procs["qmaster"].poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):  # stop the daemons anyway
                self.run("qdel", "-u", "*", timeout=10)
        for name in ("execd", "qmaster"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                terminate(proc, 30)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def ensure_packages(host: str, timeout: float = 900) -> None:
    """apt-get install the gridengine packages unless sge_qmaster, sge_execd and qsub are there."""
    if all(shutil.which(b) for b in ("sge_qmaster", "sge_execd", "qsub", "qconf")) and (
            PACKAGE_ROOT / "util").exists():
        return
    if shutil.which("apt-get") is None:
        raise ClusterUnavailable("gridengine is not installed and apt-get is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (["debconf-set-selections"], ["apt-get", "update", "-q"],
             ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES])
    for cmd in steps:
        stdin = PRESEED.format(host=host) if cmd[0] == "debconf-set-selections" else None
        try:
            proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterUnavailable(f"{' '.join(cmd)} failed: {exc}") from exc
        if proc.returncode != 0:
            raise ClusterUnavailable(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    if shutil.which("sge_qmaster") is None:
        raise ClusterUnavailable("apt-get installed gridengine but sge_qmaster is not on PATH")


def _edited(text: str, fields: dict[str, str]) -> str:
    """`name value` lines of a qconf listing with the given fields replaced."""
    lines = []
    for line in text.splitlines():
        name = line.split(maxsplit=1)[0] if line.strip() else ""
        lines.append(f"{name} {fields[name]}" if name in fields else line)
    return "\n".join(lines) + "\n"


def _write_cell(cluster: SgeCluster) -> None:
    """SGE_ROOT with links to the packages' files, the cell's bootstrap, and the spool."""
    root = cluster.root
    for name in ("bin", "lib", "util", "utilbin"):
        (root / name).symlink_to(PACKAGE_ROOT / name)
    common, spool = cluster.common, root / "spool"
    common.mkdir(parents=True)
    spool.mkdir()
    (root / "execd").mkdir()
    (common / "bootstrap").write_text(BOOTSTRAP.format(common=common, spool=spool))
    (common / "act_qmaster").write_text(f"{cluster.host}\n")
    # The host resolves to 127.0.0.1, which resolves back to localhost: one host for SGE.
    (common / "host_aliases").write_text(f"{cluster.host} localhost\n")
    # Root's jobs admitted; accounting records written within 1 s (default 15 s), so that
    # qacct, and with it profiles/sge's status checks, sees a finished job at once.
    conf = _edited(PACKAGE_CONFIGURATION.read_text(),
                   {"execd_spool_dir": str(root / "execd"), "min_uid": "0", "min_gid": "0",
                    "reporting_params": "accounting=true reporting=false flush_time=00:00:01 "
                                        "joblog=false sharelog=00:00:00"})
    (root / "global.conf").write_text(conf)
    spoolinit = [["/usr/lib/gridengine/spoolinit", "classic", "libspoolc",
                  f"{common};{spool}", "init"]]
    defaults = [["/usr/lib/gridengine/spooldefaults", *args] for args in (
        ("configuration", str(root / "global.conf")),
        ("complexes", str(PACKAGE_ROOT / "util/resources/centry")),
        ("usersets", str(PACKAGE_ROOT / "util/resources/usersets")),
        ("managers", "root"))]
    for cmd in spoolinit + defaults:
        proc = cluster.run(*cmd)
        if proc.returncode != 0:
            raise ClusterUnavailable(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}")


def _start_daemon(cluster: SgeCluster, name: str) -> None:
    with open(cluster.root / f"{name}.stdout", "wb") as out:
        cluster.procs[name] = subprocess.Popen(
            [f"sge_{name}"], env={**cluster.env, "SGE_ND": "1"}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=cluster.root)


def _configure(cluster: SgeCluster) -> None:
    """Submit and execution host, the smp PE, the queue, and a quick scheduler."""
    host, root = cluster.host, cluster.root
    cluster.qconf("-as", host)
    (root / "exec_host").write_text(EXEC_HOST.format(host=host))
    cluster.qconf("-Ae", str(root / "exec_host"))
    (root / "pe").write_text(PE_CONF)
    cluster.qconf("-Ap", str(root / "pe"))
    template = subprocess.run(["qconf", "-aq", QUEUE], env={**cluster.env, "EDITOR": "cat"},
                              capture_output=True, text=True, timeout=30, check=False).stdout
    fields = {k: v.format(host=host, slots=cluster.slots) for k, v in QUEUE_FIELDS.items()}
    (root / "queue").write_text(_edited(template, fields))
    # qconf -aq normally rejects the unedited template (its PEs make and mpi do not exist).
    exists = cluster.run("qconf", "-sq", QUEUE).returncode == 0
    cluster.qconf("-Mq" if exists else "-Aq", str(root / "queue"))
    sched = cluster.run("qconf", "-ssconf").stdout
    (root / "sched").write_text(_edited(sched, SCHED_FIELDS))
    cluster.qconf("-Msconf", str(root / "sched"))


def _job_runs(cluster: SgeCluster, timeout: float) -> None:
    """Submit a 1-second job and wait until qacct records it with exit status 0."""
    proc = cluster.run("qsub", "-terse", "-b", "y", "-o", "/dev/null", "-j", "y", "-N", "probe",
                       "/bin/true")
    if proc.returncode != 0:
        raise ClusterUnavailable(f"qsub failed: {proc.stderr.strip()[-300:]}")
    job = proc.stdout.strip()
    finished = lambda: "exit_status  0" in cluster.run("qacct", "-j", job).stdout  # noqa: E731
    if not wait_until(finished, timeout, 1):
        raise ClusterUnavailable(f"a test job did not run within {timeout} s:\n"
                                 + cluster.run("qstat", "-j", job).stdout[-500:]
                                 + cluster.log_tail("execd"))


def start(slots: int = 2, timeout: float = 90) -> SgeCluster:
    """Install (if needed) and start a one-node cluster; raise ClusterUnavailable if impossible."""
    if os.geteuid() != 0:
        raise ClusterUnavailable("starting sge_qmaster/sge_execd needs root")
    host = socket.gethostname().split(".")[0]
    ensure_packages(host)
    qmaster_port, execd_port = _free_ports(2)
    root = Path(tempfile.mkdtemp(prefix="mixopt-sge-"))
    root.chmod(0o755)
    cluster = SgeCluster(root=root, host=host, slots=slots, qmaster_port=qmaster_port,
                         execd_port=execd_port)
    try:
        _write_cell(cluster)
        _start_daemon(cluster, "qmaster")
        if not wait_until(lambda: cluster.run("qconf", "-sh").returncode == 0, timeout):
            raise ClusterUnavailable(f"sge_qmaster did not answer within {timeout} s:\n"
                                     + cluster.log_tail("qmaster"))
        _configure(cluster)
        _start_daemon(cluster, "execd")
        if not wait_until(lambda: "-" not in _load(cluster), timeout):
            raise ClusterUnavailable(f"sge_execd on {host} did not report within {timeout} s:\n"
                                     + cluster.log_tail("execd"))
        _job_runs(cluster, timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _load(cluster: SgeCluster) -> str:
    """The host's load column in qhost ('-' until sge_execd reports)."""
    out = cluster.run("qhost", "-h", cluster.host).stdout.splitlines()
    row = [line.split() for line in out if line.split()[:1] == [cluster.host]]
    return row[0][6] if row and len(row[0]) > 6 else "-"
