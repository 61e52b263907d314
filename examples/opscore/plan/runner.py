"""make plan's runner: starts the target (the stand-in with Redis, unless
OPSCORE_URL names a real Ops-Core), the monitor, and for each scenario a
headless stock Locust master with N C workers (and Python workers if asked),
then hands the run folder to the analysis and the report.

Every process it starts runs in its own process group and is stopped when
the run ends, also on Ctrl-C or an error. Every wait is bounded: a scenario
gets its profile's length plus START_MARGIN_S; then the master is
interrupted (it still writes its CSV files and HTML report).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import psutil

from . import scenarios
from .logs import DockerLog, FileLog
from .monitor import Component, Monitor
from .sources import DockerContainer, HostCpu, LocalProcess, RedisInfo

HERE = Path(__file__).resolve().parent
OPSCORE_DIR = HERE.parent
ROOT = OPSCORE_DIR.parents[1]
LOCUSTFILE = OPSCORE_DIR / "locustfile.py"
C_WORKER = ROOT / "build" / "opscore-worker"
START_MARGIN_S = 60.0
READY_TIMEOUT_S = 20.0


def log(message: str) -> None:
    print(f"plan: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ScenarioRun:
    number: int
    prefix: str  # CSV prefix, relative to the run folder
    html: str
    started: float = 0.0
    ended: float = 0.0
    exit_code: Optional[int] = None
    timed_out: bool = False
    master_log: str = ""
    worker_pids: list = field(default_factory=list)


@dataclass
class RunInfo:
    """What the analysis needs besides the CSV files: saved as run.json."""
    started: str
    target: str
    started_target: bool
    time_scale: float
    stress_max_users: int
    workers: int
    python_workers: int
    http_client: Optional[str]
    degradation: Optional[str]
    service_cores: float
    service_source: str = ""
    redis_source: str = ""
    log_source: str = ""
    problems: list = field(default_factory=list)
    scenarios: list = field(default_factory=list)
    components: dict = field(default_factory=dict)  # name: {role, label, cores}


class Processes:
    """Children in their own process groups; stop_all() ends them all."""

    def __init__(self):
        self.popens: list[subprocess.Popen] = []

    def start(self, argv: list[str], log_path: Path, env: Optional[dict] = None) -> subprocess.Popen:
        with open(log_path, "wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=ROOT, start_new_session=True)
        self.popens.append(popen)
        return popen

    @staticmethod
    def stop(popen: subprocess.Popen, first: int = signal.SIGTERM, grace: float = 5.0) -> None:
        for sig in (first, signal.SIGKILL):
            if popen.poll() is not None:
                return
            try:
                os.killpg(popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                popen.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        for popen in reversed(self.popens):
            self.stop(popen)
        self.popens.clear()


def wait_http(url: str, timeout: float, popen: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and popen.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return True
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    return False


def wait_redis(port: int, timeout: float, popen: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and popen.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def probe(url: str) -> Optional[str]:
    """None when something answers HTTP at url, else why not (one line)."""
    try:
        urllib.request.urlopen(url.rstrip("/") + "/health", timeout=3).close()
    except urllib.error.HTTPError:
        return None  # it answers, even if not with 200
    except (OSError, urllib.error.URLError) as e:
        reason = getattr(e, "reason", e)
        return str(getattr(reason, "strerror", None) or reason)
    return None


class Plan:
    def __init__(self, opts, out: Path):
        self.opts = opts
        self.out = out
        self.procs = Processes()
        self.monitor = Monitor(out / "resources.csv", opts.interval)
        self.service_log = None
        self.info = RunInfo(
            started=time.strftime("%Y-%m-%d %H:%M:%S %Z"), target=opts.url or "", started_target=not opts.url,
            time_scale=opts.time_scale, stress_max_users=opts.stress_max_users, workers=opts.workers,
            python_workers=opts.python_workers, http_client=opts.http_client, degradation=None,
            service_cores=opts.service_cores)

    # -- the target

    def start_standin(self) -> None:
        opts = self.opts
        redis_port, port = free_port(), free_port()
        redis_proc = self.procs.start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                      self.out / "redis.log")
        argv = [sys.executable, str(OPSCORE_DIR / "standin" / "run.py"), "--host", "127.0.0.1",
                "--port", str(port), "--redis-port", str(redis_port), "--log-level", "WARNING"]
        degraded = []
        if opts.cpu_work_ms:
            argv += ["--cpu-work-ms", str(opts.cpu_work_ms)]
            degraded.append(f"CPU-bound mode: {opts.cpu_work_ms:g} ms of CPU per agent request in the API process")
        if opts.slow_redis_ms:
            argv += ["--slow-redis-ms", str(opts.slow_redis_ms), "--slow-redis-share", str(opts.slow_redis_share)]
            degraded.append(f"slow-Redis mode: {opts.slow_redis_ms:g} ms of Redis time on "
                            f"{100 * opts.slow_redis_share:g}% of the agent requests' Redis calls")
        if degraded and opts.degrade_above_agents:
            argv += ["--degrade-above-agents", str(opts.degrade_above_agents)]
            degraded.append(f"both only once more than {opts.degrade_above_agents} agents have registered")
        if opts.upstream_workflow_bug:
            argv.append("--upstream-workflow-bug")
            degraded.append("upstream's POST /workflow bug")
        if not wait_redis(redis_port, READY_TIMEOUT_S, redis_proc):
            raise SystemExit(f"plan: redis-server did not start; see {self.out / 'redis.log'}")
        standin = self.procs.start(argv, self.out / "opscore.log")
        url = f"http://127.0.0.1:{port}"
        if not wait_http(url + "/health", READY_TIMEOUT_S, standin):
            raise SystemExit(f"plan: the stand-in did not start; see {self.out / 'opscore.log'}")
        self.info.target = url
        self.info.degradation = "; ".join(degraded) or None
        log(f"stand-in Ops-Core at {url} (Redis on 127.0.0.1:{redis_port})"
            + (f", degraded: {self.info.degradation}" if degraded else ""))
        self.add_service([LocalProcess(pid=standin.pid)], f"local process {standin.pid} (stand-in, uvicorn)")
        self.add_redis([LocalProcess(pid=redis_proc.pid), RedisInfo("127.0.0.1", redis_port)],
                       f"local process {redis_proc.pid} and INFO at 127.0.0.1:{redis_port}")
        self.service_log = FileLog(self.out / "opscore.log", "opscore.log")
        self.info.log_source = "opscore.log (the stand-in's output)"

    def watch_external(self) -> None:
        opts = self.opts
        reason = probe(opts.url)
        if reason:
            self.note(f"Ops-Core at {opts.url} does not answer ({reason}); "
                      "the scenarios run anyway and count the failures")
        service = self.sources(opts.service_container, opts.service_pid, opts.service_process)
        if service:
            self.add_service([service[0]], service[1])
        else:
            self.note("no Ops-Core process or container given (--service-container, --service-pid or "
                      "--service-process): its CPU, memory and network are not measured")
        redis_sources, labels = [], []
        found = self.sources(opts.redis_container, opts.redis_pid, opts.redis_process)
        if found:
            redis_sources.append(found[0])
            labels.append(found[1])
        if opts.redis_addr:
            host, port = opts.redis_addr
            redis_sources.append(RedisInfo(host, port, os.environ.get("REDIS_PASSWORD") or None))
            labels.append(f"INFO at {host}:{port}")
        if redis_sources:
            self.add_redis(redis_sources, " and ".join(labels))
        else:
            self.note("no Redis given (--redis-container, --redis-pid, --redis-process or --redis-addr): "
                      "Redis is not measured")
        if opts.service_log:
            self.service_log = FileLog(Path(opts.service_log))
            self.info.log_source = opts.service_log
        elif opts.service_container:
            self.service_log = DockerLog(opts.service_container, opts.docker_socket)
            self.info.log_source = f"docker logs {opts.service_container}"
        else:
            self.note("no Ops-Core log given (--service-log or --service-container): logs are not counted")

    def sources(self, container, pid, process):
        if container:
            return DockerContainer(container, self.opts.docker_socket), \
                f"container {container} (Docker API at {self.opts.docker_socket})"
        if pid or process:
            return LocalProcess(pid=pid, name=process), f"local process {pid or process}"
        return None

    def add_service(self, sources: list, label: str) -> None:
        self.monitor.add(Component("opscore", "service", sources, label, self.opts.service_cores))
        self.info.service_source = label

    def add_redis(self, sources: list, label: str) -> None:
        self.monitor.add(Component("redis", "redis", sources, label, 1.0))
        self.info.redis_source = label

    def note(self, message: str) -> None:
        log(message)
        self.info.problems.append(message)

    # -- one scenario

    def run_scenario(self, number: int) -> ScenarioRun:
        run = ScenarioRun(number, f"scenario{number}", f"scenario{number}.html",
                          master_log=f"scenario{number}-master.log")
        port = free_port()
        master = self.start_master(run, port)
        workers = self.start_workers(number, port)
        run.worker_pids = [popen.pid for popen in workers]
        self.monitor.set_scenario(number)
        if self.service_log is not None:
            self.service_log.mark(time.time())
        run.started = time.time()
        self.wait_master(run, master)
        run.ended = time.time()
        self.monitor.set_scenario(None)
        for popen in workers:
            try:
                popen.wait(5)
            except subprocess.TimeoutExpired:
                Processes.stop(popen)
        self.monitor.remove_role("generator")
        if self.service_log is not None:
            summary = self.service_log.read_since_mark()
            (self.out / f"scenario{number}-log.json").write_text(json.dumps(asdict(summary), indent=1))
        return run

    def start_master(self, run: ScenarioRun, port: int) -> subprocess.Popen:
        opts = self.opts
        master = self.procs.start([
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--master", "--headless",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "--expect-workers", str(opts.workers + opts.python_workers), "--host", self.info.target,
            "--scenario", str(run.number), "--time-scale", f"{opts.time_scale:g}",
            "--stress-max-users", str(opts.stress_max_users),
            "--csv", str(self.out / run.prefix), "--csv-full-history", "--html", str(self.out / run.html),
        ], self.out / run.master_log)
        self.monitor.add(Component("master", "generator", [LocalProcess(pid=master.pid)], "locust master"))
        return master

    def start_workers(self, number: int, port: int) -> list[subprocess.Popen]:
        """The C workers, then the Python workers, each watched as a load
        generator (worker-N, pyworker-N)."""
        opts = self.opts
        c_argv = [str(C_WORKER), "--master-host", "127.0.0.1", "--master-port", str(port)]
        if opts.http_client:
            c_argv += ["--http-client", opts.http_client]
        py_argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
                   "--master-host", "127.0.0.1", "--master-port", str(port)]
        kinds = [("worker", "C worker", c_argv)] * opts.workers
        kinds += [("pyworker", "Python worker", py_argv)] * opts.python_workers
        popens, counts = [], {}
        for kind, label, argv in kinds:
            counts[kind] = counts.get(kind, 0) + 1
            name = f"{kind}-{counts[kind]}"
            popen = self.procs.start(argv, self.out / f"scenario{number}-{name}.log")
            self.monitor.add(Component(name, "generator", [LocalProcess(pid=popen.pid)], label))
            popens.append(popen)
        return popens

    def wait_master(self, run: ScenarioRun, master: subprocess.Popen) -> None:
        """Until the master ends by itself, or interrupt it (it still writes
        its CSV files and report) once the profile's length plus a margin
        has passed."""
        opts = self.opts
        limit = scenarios.duration_s(run.number, opts.time_scale, opts.stress_max_users) + START_MARGIN_S
        log(f"scenario {run.number}: running for at most {limit:.0f} s "
            f"({opts.workers} C worker(s), {opts.python_workers} Python worker(s))")
        try:
            run.exit_code = master.wait(limit)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            log(f"scenario {run.number}: still running after {limit:.0f} s; interrupting the master")
            Processes.stop(master, signal.SIGINT, 20.0)
            run.exit_code = master.returncode

    # -- the whole plan

    def check_tools(self) -> None:
        """A clear message, before anything starts, for a missing program."""
        if self.opts.workers and not os.access(C_WORKER, os.X_OK):
            raise SystemExit(f"plan: {C_WORKER} not found: build it first (make)")
        if not self.opts.url and not shutil.which("redis-server"):
            raise SystemExit("plan: redis-server not found: install it (make deps) or give OPSCORE_URL")

    def run(self) -> None:
        opts = self.opts
        self.check_tools()
        self.monitor.add(Component("host", "host", [HostCpu()], "this machine", float(psutil.cpu_count() or 1)))
        if opts.url:
            self.watch_external()
        else:
            self.start_standin()
        self.monitor.start()
        stats_table = _summary_printer()
        try:
            for number in opts.scenarios:
                run = self.run_scenario(number)
                self.info.scenarios.append(asdict(run))
                stats = self.out / f"{run.prefix}_stats.csv"
                if stats.exists():
                    stats_table(str(stats))
                else:
                    log(f"scenario {number}: the master wrote no stats; see {self.out / run.master_log}")
                self.save()
        finally:
            self.monitor.stop()
            self.procs.stop_all()
            self.info.components = {c.name: {"role": c.role, "label": c.label, "cores": c.cores}
                                    for c in self.monitor.history.values()}
            for problem in self.monitor.problems():
                if problem not in self.info.problems:
                    self.info.problems.append(problem)
            self.save()

    def save(self) -> None:
        (self.out / "run.json").write_text(json.dumps(asdict(self.info), indent=1))


def _summary_printer():
    """examples/opscore/summary.py's table printer (make demo's)."""
    if str(OPSCORE_DIR) not in sys.path:
        sys.path.insert(0, str(OPSCORE_DIR))
    import summary  # noqa: E402  (examples/opscore/summary.py)
    return summary.main
