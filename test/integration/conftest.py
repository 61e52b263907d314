"""Fixtures for the integration tests: a real nginx target, real stock Locust
masters (PyPI's pinned version and Debian's 2.12.1) and the worker under test.

Everything listens on 127.0.0.1 only, except in the multi-host tests, where
each process runs in a network namespace the test creates (netns=) and
listens on that namespace's own address (address=). Every process runs in its
own process group and is killed at teardown, pass or fail. Numbers are read
only from the master's own outputs (its --csv files, its web API, its log) and
from the target's own access log.

Run:
  make integration                  builds the workers and the venv, runs all
  .venv/bin/python -m pytest -v test/integration
  LW_WORKER_CMD=python .venv/bin/python -m pytest -v test/integration
                                    the same tests with stock Python workers

Environment:
  LW_WORKER_DIR  directory of the C worker binaries, relative to the repository
                 root or absolute (default build/asan: the ASan/UBSan build)
  LW_WORKER_WRAPPER  a command that prefixes every C worker's command line,
                 e.g. "valgrind -q" or "prlimit --nofile=256:256 --" (default:
                 none); a test can also give cluster.worker(wrapper=[...])
  LW_WORKER_CMD  "c" (default): run the C binaries;
                 "python": run stock Python Locust workers with the same
                 locustfile instead, to check the harness itself. A PyPI master
                 gets a worker from the venv; a Debian master gets Debian's
                 Locust through a wrapper that gives it a version string,
                 because Debian's 2.12.1 has an empty __version__ and its master
                 rejects its own stock workers.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
HELLO_LOCUSTFILE = ROOT / "examples" / "hello" / "locustfile.py"

MASTER_EXECUTABLES = {
    "pypi": ROOT / ".venv" / "bin" / "locust",
    "debian": Path("/usr/bin/locust"),
}
NGINX = Path("/usr/sbin/nginx")
HTTP_TIMEOUT = 10  # seconds, for every call to a master's web API

WORKER_DIR = Path(os.environ.get("LW_WORKER_DIR", "build/asan"))
if not WORKER_DIR.is_absolute():
    WORKER_DIR = ROOT / WORKER_DIR
WORKER_WRAPPER = shlex.split(os.environ.get("LW_WORKER_WRAPPER", ""))
WORKER_IMPL = os.environ.get("LW_WORKER_CMD", "") or "c"
if WORKER_IMPL not in ("c", "python"):
    raise pytest.UsageError(f"LW_WORKER_CMD must be 'c' or 'python', not {WORKER_IMPL!r}")

# Debian's Locust 2.12.1 as a worker: its __version__ is "", which its own
# master rejects as a pre-2.0 worker. Give it one, then run Locust's main().
DEBIAN_WORKER_WRAPPER = (
    "import sys, locust.runners; locust.runners.__version__ = '2.12.1'; "
    "sys.argv[0] = 'locust'; from locust.main import main; main()"
)

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")

T = TypeVar("T")


# --------------------------------------------------------------------------
# small helpers


def netns_prefix(netns: str | None) -> list[str]:
    """The command that runs a program inside a network namespace (it execs
    the program: same pid, so signals reach it), or nothing."""
    return ["ip", "netns", "exec", netns] if netns else []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(get: Callable[[], T], check: Callable[[T], bool], timeout: float, interval: float = 0.25) -> T:
    """Call get() until check(value) holds or timeout seconds have passed.
    Returns the last value either way: the caller asserts on it, so a timeout
    fails with the value that was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if check(value) or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def stats_row(rows: list[dict[str, str]], method: str, name: str) -> dict[str, str] | None:
    """The row of a master's requests CSV for (method, name); the Aggregated
    row has an empty Type."""
    for row in rows:
        if row["Type"] == method and row["Name"] == name:
            return row
    return None


def request_count(rows: list[dict[str, str]], method: str, name: str) -> int:
    row = stats_row(rows, method, name)
    return int(row["Request Count"]) if row else 0


def aggregated_count(rows: list[dict[str, str]]) -> int:
    return request_count(rows, "", "Aggregated")


AGGREGATED = ("", "Aggregated")


def counts_by_request(rows: list[dict[str, str]]) -> dict[tuple[str, str], int]:
    """{(method, name): Request Count} from a master's requests CSV, with the
    Aggregated row under AGGREGATED."""
    return {(row["Type"], row["Name"]): int(row["Request Count"]) for row in rows}


# --------------------------------------------------------------------------
# processes


class Proc:
    """One child process in its own process group, output in files."""

    def __init__(self, name: str, kind: str, argv: list[str], log_dir: Path, env: dict | None = None):
        self.name = name
        self.kind = kind  # "target", "master", "c-worker", "python-worker"
        self.argv = [str(a) for a in argv]
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        # LOCUST_* settings of the calling shell would change what is tested
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
        full_env.update(env or {})
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: killpg reaches all its children
            )
        self.pid = self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if it is still running after timeout s."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def send_signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.wait(5)

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output_tail(self, limit: int = 12000) -> str:
        parts = [f"$ {' '.join(self.argv)}", f"(pid {self.pid}, exit code {self.returncode})"]
        for label, text in (("stdout", self.stdout()), ("stderr", self.stderr())):
            if text:
                if len(text) > limit:
                    text = "[...]\n" + text[-limit:]
                parts.append(f"--- {label} ---\n{text}")
        return "\n".join(parts)


class Procs:
    """Every process a test starts. stop_all() ends them all: workers get
    SIGTERM first (a C worker then exits by itself, which lets the leak
    checker run), then every process group gets SIGKILL."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.all: list[Proc] = []
        self._names = Counter()

    def start(self, name: str, kind: str, argv: list, env: dict | None = None) -> Proc:
        self._names[name] += 1
        if self._names[name] > 1:
            name = f"{name}-{self._names[name]}"
        proc = Proc(name, kind, argv, self.log_dir, env)
        self.all.append(proc)
        return proc

    def stop_all(self) -> None:
        workers = [p for p in self.all if p.kind.endswith("worker") and p.alive()]
        for p in workers:
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 3
        for p in workers:
            p.wait(max(0.0, deadline - time.monotonic()))
        for p in reversed(self.all):
            p.kill_group()

    def sanitizer_reports(self) -> list[str]:
        found = []
        for p in self.all:
            if p.kind == "c-worker":
                text = p.stderr()
                if any(marker in text for marker in SANITIZER_MARKERS):
                    found.append(p.output_tail())
        return found


PROCS_KEY = pytest.StashKey[Procs]()


@pytest.fixture
def procs(request, tmp_path):
    registry = Procs(tmp_path)
    request.node.stash[PROCS_KEY] = registry
    yield registry
    registry.stop_all()
    reports = registry.sanitizer_reports()
    if reports:
        pytest.fail("sanitizer report in a C worker's stderr:\n" + "\n\n".join(reports), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the output of every process of the test to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        registry = item.stash.get(PROCS_KEY, None)
        for p in registry.all if registry else []:
            report.sections.append((f"process {p.name}", p.output_tail()))


# --------------------------------------------------------------------------
# the target: nginx

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

worker_rlimit_nofile {nofile};

events {{
    worker_connections {connections};
}}

http {{
    log_format counted '$msec $connection $request_method $request_uri $status $remote_addr $ssl_session_reused';
    access_log {dir}/access.log counted;
    log_format agents '$connection $http_user_agent';
    access_log {dir}/agents.log agents;

    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    keepalive_requests 1000000;
    keepalive_timeout {keepalive_timeout};
    default_type text/plain;

    server {{
        listen {address}:{port}{ssl};
{tls}
        location = / {{
            {root}
        }}
        location = /fail {{
            return 500 "fail";
        }}
        location = /notfound {{
            return 404;
        }}
        location = /echo {{
            if ($request_method != POST) {{
                return 405;
            }}
            if ($http_content_type) {{
                return 415;
            }}
            return 200 "ok";
        }}
        location = /auth {{
            if ($http_authorization != "Bearer s3cr3t-key") {{
                return 401;
            }}
            return 200 "ok";
        }}
        location = /login {{
            add_header Set-Cookie "session=s-$arg_user; Path=/; HttpOnly";
            return 200 "welcome";
        }}
        location = /whoami {{
            if ($cookie_session = "") {{
                return 401;
            }}
            return 200 "$cookie_session";
        }}
        location = /moved {{
            return 302 /whoami;
        }}
{locations}
        location / {{
            return 404;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    status: int
    time: float  # epoch seconds when nginx finished the request
    connection: int  # nginx's connection serial number
    client: str  # the client's address
    resumed: bool = False  # on a TLS connection that resumed a session


# The Ops-Core routes with the statuses examples/opscore expects, for a
# Target(locations=...): the soak and the tests of the master's settings.
OPSCORE_LOCATIONS = """\
        location = /v1/opscore/internal/agent/notify {
            return 200 '{"status":"success","message":"Agent registered"}';
        }
        location ~ ^/v1/opscore/agent/[^/]+/state$ {
            if ($request_method = POST) {
                return 202 '{"status":"success","message":"State update accepted"}';
            }
            return 200 '{"agentId":"x","state":"idle","timestamp":"2025-04-21T15:16:01.894000+00:00"}';
        }
        location ~ ^/v1/opscore/agent/[^/]+/workflow$ {
            return 202 '{"status":"success","message":"Workflow accepted"}';
        }"""


class Target:
    """nginx with its own config in a temporary directory. Its access log has
    one line per request served, "EPOCH CONNECTION METHOD URI STATUS CLIENT
    REUSED" (REUSED: "r" on a TLS connection that resumed a session): the
    target's own count. The readiness probes are left out of every count."""

    READY_PATH = "/__ready"
    ROOT_DEFAULT = 'return 200 "hello";'

    def __init__(self, procs: Procs, workdir: Path, *, keepalive_timeout: str = "75s", tls: bool = False,
                 cert: tuple[Path, Path] | None = None,
                 root: str = ROOT_DEFAULT, locations: str = "", connections: int = 4096,
                 address: str = "127.0.0.1", netns: str | None = None):
        """keepalive_timeout: nginx's, for idle keep-alive connections.
        tls: serve HTTPS with a fresh self-signed certificate for 127.0.0.1
        (self.cert), so a client that verifies certificates refuses it.
        cert: (certificate, key) to serve instead, e.g. from CertAuthority.
        root: the nginx directives of "location = /".
        locations: more location blocks (e.g. the soak's Ops-Core routes).
        connections: nginx's worker_connections (open files: twice that).
        address, netns: listen on this address, inside this network namespace
        (`ip netns exec`); the test process must be able to reach it."""
        self.dir = workdir
        self.dir.mkdir()
        self.port = free_port()
        tls = tls or cert is not None
        self.url = f"{'https' if tls else 'http'}://{address}:{self.port}"
        self.access_log = self.dir / "access.log"
        self.cert = self.dir / "cert.pem" if tls else None
        tls_conf = ""
        self.own_cert = cert is not None
        if cert:
            self.cert, key = cert
            tls_conf = f"        ssl_certificate {self.cert};\n        ssl_certificate_key {key};\n"
        elif tls:
            key = self.dir / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                            "-keyout", str(key), "-out", str(self.cert)],
                           check=True, capture_output=True, timeout=30)
            tls_conf = f"        ssl_certificate {self.cert};\n        ssl_certificate_key {key};\n"
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=self.dir, address=address, port=self.port,
                                          keepalive_timeout=keepalive_timeout,
                                          ssl=" ssl" if tls else "", tls=tls_conf, root=root,
                                          locations=locations, connections=connections,
                                          nofile=2 * connections))
        self.proc = procs.start(
            "nginx", "target", netns_prefix(netns) + [NGINX, "-p", self.dir, "-c", conf, "-e", self.dir / "error.log"]
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.proc.alive():
                raise RuntimeError(f"nginx exited:\n{self.proc.output_tail()}\n{self.error_log()}")
            try:
                requests.get(self.url + self.READY_PATH, timeout=1, verify=str(self.cert) if self.cert else True)
                return
            except requests.exceptions.SSLError:
                if self.own_cert:
                    return  # a certificate made to be refused: the handshake shows nginx is up
                raise
            except requests.ConnectionError:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"nginx not ready after {timeout}s:\n{self.error_log()}")
                time.sleep(0.05)

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def mark(self) -> int:
        """A position in the access log: served(since=mark) counts only what
        was served after this moment."""
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def served(self, since: int = 0) -> list[Served]:
        with open(self.access_log, "rb") as f:
            f.seek(since)
            data = f.read().decode()
        # a line being written right now has no newline yet: leave it out
        lines = data.split("\n")[:-1]
        out = []
        for line in lines:
            msec, connection, method, path, status, client, reused = line.split(" ")
            if path != self.READY_PATH:
                out.append(Served(method, path, int(status), float(msec), int(connection), client,
                                  reused == "r"))
        return out

    def counts_by_request(self, since: int = 0) -> dict[tuple[str, str], int]:
        """{(method, path): requests served}, plus the total under AGGREGATED:
        the same shape as counts_by_request() of a master's CSV (the test
        classes name each request by its path)."""
        served = self.served(since)
        counts = dict(Counter((s.method, s.path) for s in served))
        counts[AGGREGATED] = len(served)
        return counts

    def agents(self) -> dict[int, str]:
        """{connection: the User-Agent its requests carried ("-": none)},
        from a second access log: which client a connection came from."""
        with open(self.dir / "agents.log", "rb") as f:
            lines = f.read().decode().split("\n")[:-1]
        return {int(c): agent for c, _, agent in (line.partition(" ") for line in lines)}

    def connections(self, since: int = 0) -> set[int]:
        """The client connections that requests came on."""
        return {s.connection for s in self.served(since)}

    def count(self, since: int = 0, method: str | None = None, path: str | None = None,
              status: int | None = None) -> int:
        return sum(
            1
            for s in self.served(since)
            if (method is None or s.method == method)
            and (path is None or s.path == path)
            and (status is None or s.status == status)
        )


@pytest.fixture
def target(procs, tmp_path) -> Target:
    return Target(procs, tmp_path / "nginx")


# --------------------------------------------------------------------------
# masters


class Master:
    """A stock Locust master, headless or with its web UI.

    Web API differences between the versions (read from their sources):
      /stop         2.12.1: GET only.  2.47.0: POST only.
      /stats/reset  2.12.1: GET only.  2.47.0: POST only.
      /stats/requests  cached for 2 s in both. Both: "stats", "errors",
                    "state", "user_count", "fail_ratio", and "workers" (id,
                    state, user_count, cpu_usage, memory_usage). 2.12.1:
                    "total_rps" is the current rate, plus
                    "current_response_time_percentile_95"/"_50". 2.47.0:
                    "current_rps", "current_fail_per_sec", "total_rps" (the
                    whole run's rate), "total_fail_per_sec",
                    "current_response_time_percentiles", "worker_count".
                    No per-class user counts in either.
      /tasks        both: {"per_class": {Class: {"ratio": r, ...}}}, r from the
                    workers' reported user_classes_count: per-class counts are
                    r * user_count.
      /swarm        both: form user_count, spawn_rate (host optional); 2.47.0
                    answers success false when either is missing or invalid.
      failures CSV  2.47.0 adds "First Seen" and "Last Seen" columns.
      /worker-count, /logs  2.47.0 only.
    """

    def __init__(self, procs: Procs, flavor: str, workdir: Path, locustfile: Path, classes: list[str],
                 host: str | None, headless: bool, users: int | None, rate: float | None,
                 run_time: str | None, expect_workers: int | None, stop_timeout: int | None,
                 port: int | None, extra_args: list[str], address: str = "127.0.0.1",
                 netns: str | None = None):
        """address, netns: bind the ZeroMQ port and the web UI to this address,
        inside this network namespace (`ip netns exec`); workers connect to
        self.address."""
        self.flavor = flavor
        self.address = address
        workdir.mkdir(exist_ok=True)
        self.csv_prefix = workdir / "stats"
        # free_port() only finds a port that was free a moment ago: another
        # test may take it first. Then the master fails to bind, and it is
        # started again on other ports (unless the test chose the port).
        for attempt in range(3):
            self.port = port or free_port()
            self.web_port = None if headless else free_port()
            self._start(procs, locustfile, classes, host, headless, users, rate, run_time, expect_workers,
                        stop_timeout, extra_args, netns)
            if self._wait_bound() or port or attempt == 2:
                break
        if not headless:
            self._wait_web_ready()

    def _wait_bound(self, timeout: float = 30) -> bool:
        """Wait until the master listens on its ZeroMQ port. False: it
        exited because the port was taken."""
        want = f":{self.port:04X} "
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.proc.alive():
                return "Address already in use" not in self.proc.stderr()
            for table in ("tcp", "tcp6"):
                try:
                    lines = Path(f"/proc/{self.proc.pid}/net/{table}").read_text().splitlines()[1:]
                except OSError:
                    continue
                if any(want in line and line.split()[3] == "0A" for line in lines):
                    return True
            time.sleep(0.05)
        return True

    def _start(self, procs, locustfile, classes, host, headless, users, rate, run_time, expect_workers,
               stop_timeout, extra_args, netns) -> None:
        address = self.address
        argv = [MASTER_EXECUTABLES[self.flavor], "-f", locustfile, "--master",
                "--master-bind-host", address, "--master-bind-port", self.port,
                "--csv", self.csv_prefix, "--loglevel", "INFO"]
        if host:
            argv += ["--host", host]
        if headless:
            argv += ["--headless"]
        else:
            argv += ["--web-host", address, "--web-port", self.web_port]
        if users is not None:
            argv += ["-u", users]
        if rate is not None:
            argv += ["-r", rate]
        if run_time is not None:
            argv += ["-t", run_time]
        if expect_workers is not None:
            argv += ["--expect-workers", expect_workers, "--expect-workers-max-wait", "30"]
        if stop_timeout is not None:
            argv += ["--stop-timeout", stop_timeout]
        argv += extra_args + classes
        self.proc = procs.start(f"master-{self.flavor}", "master", netns_prefix(netns) + argv)

    # -- process

    def log(self) -> str:
        """Locust logs to stderr; the stats tables go to stdout."""
        return self.proc.stderr()

    def wait_exit(self, timeout: float) -> int | None:
        return self.proc.wait(timeout)

    def csv_file(self, kind: str) -> list[dict[str, str]]:
        """kind: "stats" or "failures" (the files of --csv)."""
        return parse_csv(Path(f"{self.csv_prefix}_{kind}.csv").read_text())

    # -- web API

    @property
    def web_url(self) -> str:
        assert self.web_port, "this master runs headless"
        return f"http://{self.address}:{self.web_port}"

    def _wait_web_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.proc.alive():
                raise RuntimeError(f"master exited during start:\n{self.proc.output_tail()}")
            try:
                if requests.get(self.web_url + "/stats/requests", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(f"master web UI not ready after {timeout}s")
            time.sleep(0.1)

    def stats(self) -> dict:
        """/stats/requests. The master caches it for 2 s: poll, don't expect
        a change to show at once."""
        r = requests.get(self.web_url + "/stats/requests", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return r.json()

    def workers(self) -> list[dict]:
        return self.stats()["workers"]

    def swarm(self, users: int, rate: float) -> dict:
        r = requests.post(self.web_url + "/swarm", data={"user_count": users, "spawn_rate": rate},
                          timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        reply = r.json()
        assert reply.get("success"), f"/swarm refused: {reply}"
        return reply

    def stop(self) -> None:
        """Stop the test. The master's /stop returns when the workers report
        zero users (or after its own 60 s timeout)."""
        r = requests.post(self.web_url + "/stop", timeout=70)
        if r.status_code == 405:  # 2.12.1 serves /stop on GET only
            r = requests.get(self.web_url + "/stop", timeout=70)
        r.raise_for_status()
        assert r.json().get("success"), r.text

    def requests_csv(self) -> list[dict[str, str]]:
        """/stats/requests/csv: the stats table, computed on each request (no cache)."""
        r = requests.get(self.web_url + "/stats/requests/csv", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return parse_csv(r.text)

    def failures_csv(self) -> list[dict[str, str]]:
        r = requests.get(self.web_url + "/stats/failures/csv", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return parse_csv(r.text)

    def settled_counts(self, target: "Target", since: int = 0,
                       timeout: float = 12) -> tuple[dict, dict]:
        """After a stop: the master's counts and the target's, once they agree
        or after timeout s. Workers report every 3 s, so the master's numbers
        may lag the target's for that long."""
        def both():
            return counts_by_request(self.requests_csv()), target.counts_by_request(since)

        return poll(both, lambda pair: pair[0] == pair[1], timeout)

    def users_per_class(self) -> dict[str, int]:
        """Users per class as the workers reported them: /tasks gives each
        class's share, /stats/requests the total."""
        r = requests.get(self.web_url + "/tasks", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        per_class = r.json()["per_class"]
        total = self.stats()["user_count"]
        return {name: round(entry["ratio"] * total) for name, entry in per_class.items()}

    def worker_reports(self) -> list[tuple[str, dict]]:
        """(worker id, {"user_count", "user_classes_count", "num_requests"})
        for each stats report the master received, from the lines
        locustfile.py logs."""
        pattern = re.compile(r"worker report: (\S+) (\{.*\})\s*$")
        return [(m.group(1), json.loads(m.group(2)))
                for m in (pattern.search(line) for line in self.log().splitlines()) if m]


# --------------------------------------------------------------------------
# workers


class Worker:
    """The worker under test: a C binary, or a stock Python worker in
    LW_WORKER_CMD=python mode."""

    def __init__(self, procs: Procs, master: Master, impl: str, binary: str | Path, locustfile: Path,
                 args: list[str], env: dict | None, via_env: bool, wrapper: list[str] | None = None,
                 netns: str | None = None):
        """master: anything with .port and .flavor (a Master, a FakeMaster).
        binary: a name in WORKER_DIR, or an absolute path.
        wrapper: a command that prefixes the C worker's (default: LW_WORKER_WRAPPER).
        netns: run inside this network namespace (`ip netns exec`)."""
        self.impl = impl
        self.master = master
        master_host = getattr(master, "address", "127.0.0.1")
        connect = ["--master-host", master_host, "--master-port", str(master.port)]
        env = dict(env or {})
        if via_env:
            env.update({"LOCUST_MASTER_NODE_HOST": master_host, "LOCUST_MASTER_NODE_PORT": str(master.port)})
            connect = []
        if impl == "c":
            exe = WORKER_DIR / binary  # an absolute binary stays as it is
            if not os.access(exe, os.X_OK):
                pytest.fail(f"C worker binary {exe} is missing: build it (make integration), "
                            "or set LW_WORKER_DIR", pytrace=False)
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
            argv = list(WORKER_WRAPPER if wrapper is None else wrapper) + [exe] + connect + args
            kind = "c-worker"
        elif master.flavor == "pypi":
            argv = [MASTER_EXECUTABLES["pypi"], "-f", locustfile, "--worker"] + connect + args
            kind = "python-worker"
        else:
            argv = ["/usr/bin/python3", "-c", DEBIAN_WORKER_WRAPPER, "-f", locustfile, "--worker"] + connect + args
            kind = "python-worker"
        self.proc = procs.start(f"worker-{impl}", kind, netns_prefix(netns) + argv, env)

    def stderr(self) -> str:
        return self.proc.stderr()


# --------------------------------------------------------------------------
# the fixture tests use


class Cluster:
    """Starts masters and workers for one test, against one target."""

    def __init__(self, procs: Procs, target: Target, tmp_path: Path, flavor: str, http_client: str = ""):
        self.procs = procs
        self.target = target
        self.tmp_path = tmp_path
        self.flavor = flavor
        self.http_client = http_client  # --http-client of C workers, "" for each class's own
        self._master_seq = itertools.count(1)

    def master(self, classes: list[str], *, headless: bool = False, users: int | None = None,
               rate: float | None = None, run_time: str | None = None, expect_workers: int | None = None,
               stop_timeout: int | None = None, port: int | None = None, flavor: str | None = None,
               locustfile: Path = LOCUSTFILE, host: str | None = "target",
               extra_args: list[str] | None = None, address: str = "127.0.0.1",
               netns: str | None = None) -> Master:
        """host: "target" means the nginx fixture's URL; None means no --host.

        stop_timeout: Locust's --stop-timeout. A test that compares the
        master's count with the target's after a stop or quit sets it, so that
        users finish the task in hand: a request cancelled in flight may have
        been served by the target without ever being counted, in any worker.
        """
        return Master(
            self.procs, flavor or self.flavor, self.tmp_path / f"master{next(self._master_seq)}",
            locustfile, classes, self.target.url if host == "target" else host, headless, users, rate,
            run_time, expect_workers, stop_timeout, port, extra_args or [], address, netns,
        )

    def worker(self, master: Master, *, impl: str | None = None, binary: str | Path = "test-worker",
               locustfile: Path = LOCUSTFILE, args: list[str] | None = None, env: dict | None = None,
               via_env: bool = False, wrapper: list[str] | None = None, netns: str | None = None) -> Worker:
        impl = impl or WORKER_IMPL
        if impl == "c" and self.http_client:
            args = ["--http-client", self.http_client] + list(args or [])
        return Worker(self.procs, master, impl, binary, locustfile, args or [], env, via_env, wrapper, netns)

    def wait_registered(self, master: Master, count: int = 1, timeout: float = 15) -> list[dict]:
        """Wait until the master lists `count` workers, all ready; returns the list."""
        return poll(master.workers,
                    lambda ws: len(ws) == count and all(w["state"] == "ready" for w in ws), timeout)


@pytest.fixture(params=["pypi", "debian"])
def flavor(request) -> str:
    exe = MASTER_EXECUTABLES[request.param]
    if not exe.exists():
        pytest.fail(f"{exe} is missing (make venv / apt-get install python3-locust)", pytrace=False)
    return request.param


@pytest.fixture
def http_client() -> str:
    """The C workers' --http-client: LW_HTTP_CLIENT (curl or fast), else
    each class's own. A module parametrizes it to run under both clients."""
    return os.environ.get("LW_HTTP_CLIENT", "")


@pytest.fixture
def cluster(procs, target, tmp_path, flavor, http_client) -> Cluster:
    return Cluster(procs, target, tmp_path, flavor, http_client)


TEST_TIME_LIMIT = 150  # seconds: a bound on any one test, whatever hangs


@pytest.fixture(autouse=True)
def time_limit():
    """Fail a test that runs longer than TEST_TIME_LIMIT; its teardown still
    kills every process it started."""

    def expired(_signum, _frame):
        pytest.fail(f"test took longer than {TEST_TIME_LIMIT} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIME_LIMIT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def need_tool(present: bool, what: str) -> None:
    """A test's tool is missing: skip it on a developer's machine, fail it
    in CI (CI=true), where `make deps` must have installed it."""
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing: CI must install it (make deps)", pytrace=False)
    pytest.skip(f"{what} is missing (make deps installs it)")


def c_worker_only(reason: str):
    """Skip in LW_WORKER_CMD=python mode: the test checks behaviour only the
    C worker has."""
    return pytest.mark.skipif(WORKER_IMPL != "c", reason=f"C worker only: {reason}")


def pytest_report_header(config):
    where = WORKER_DIR if WORKER_IMPL == "c" else "stock Locust"
    return f"worker under test: {WORKER_IMPL} ({where})"


# --------------------------------------------------------------------------
# fault injection: a fake master, targets nginx cannot play, worker logs


@dataclass
class Received:
    """One message a FakeMaster received from a worker."""
    at: float  # time.monotonic()
    identity: bytes  # the worker's ZeroMQ routing id
    frames: int  # frames in the ZeroMQ message
    type: str | None  # None: the frame did not decode as [type, data, node_id]
    data: object
    node_id: str | None
    raw: bytes


class FakeMaster:
    """A ZeroMQ ROUTER on 127.0.0.1 that plays a Locust master by hand: it acks
    client_ready (auto_ack) and sends whatever frames a test gives it, valid or
    not. Single-threaded: received messages are collected while a test calls
    pump() or wait_for(). A message the worker sends that does not decode the
    way a stock master decodes it (msgpack, raw=False) has type None."""

    flavor = "pypi"  # what Worker() reads from a master: only Python workers use it

    def __init__(self, auto_ack: bool = True):
        import zmq  # pyzmq comes with Locust

        self._zmq = zmq
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.auto_ack = auto_ack
        self.received: list[Received] = []
        self.acks_sent = 0

    def close(self) -> None:
        self.sock.close(0)
        self.ctx.term()

    def _decode(self, frames: list[bytes]) -> Received:
        import msgpack

        identity, payload = frames[0], frames[1] if len(frames) > 1 else b""
        kind, data, node_id = None, None, None
        try:
            msg = msgpack.unpackb(payload, raw=False, strict_map_key=False)
            if isinstance(msg, list) and len(msg) == 3 and isinstance(msg[0], str):
                kind, data, node_id = msg
        except Exception:  # noqa: BLE001 - an undecodable frame is recorded as such
            pass
        return Received(time.monotonic(), identity, len(frames) - 1, kind, data, node_id, payload)

    def pump(self, seconds: float) -> None:
        """Receive (and auto-ack) for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(max(1, int(left * 1000))):
                if time.monotonic() >= deadline:
                    return
                continue
            while self.sock.poll(0):
                msg = self._decode(self.sock.recv_multipart())
                self.received.append(msg)
                if self.auto_ack and msg.type == "client_ready":
                    self.send_msg(msg.identity, "ack", {"index": self.acks_sent}, msg.node_id)
                    self.acks_sent += 1

    def wait_for(self, check: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not check():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(0.1, left))
        return True

    def messages(self, kind: str | None = None, since: float = 0.0) -> list[Received]:
        return [m for m in self.received if m.at >= since and (kind is None or m.type == kind)]

    def send(self, identity: bytes, *frames: bytes) -> None:
        """A raw ZeroMQ message of one or more frames to the worker."""
        self.sock.send_multipart([identity, *frames])

    def send_msg(self, identity: bytes, kind, data, node_id) -> None:
        import msgpack

        self.send(identity, msgpack.packb([kind, data, node_id], use_bin_type=True))

    def wait_registered(self, timeout: float = 10, since: float = 0.0) -> Received:
        """The first client_ready received after `since` (acked when auto_ack is on)."""
        assert self.wait_for(lambda: self.messages("client_ready", since), timeout), "no client_ready from the worker"
        return self.messages("client_ready", since)[0]

    def spawn(self, ready: Received, users: dict, host: str, timeout: float = 10) -> None:
        """Send a spawn to the worker of `ready`; wait for its spawning_complete."""
        since = time.monotonic()
        self.send_msg(ready.identity, "spawn", self.spawn_msg(users, host), ready.node_id)
        assert self.wait_for(lambda: self.messages("spawning_complete", since=since), timeout), \
            "no spawning_complete"

    def spawn_msg(self, users: dict, host: str, timestamp: float | None = None) -> dict:
        """The data of a spawn message as a stock master sends it."""
        return {"timestamp": timestamp or time.time(), "user_classes_count": users, "host": host,
                "stop_timeout": None, "parsed_options": {}}


@pytest.fixture
def fake_master():
    master = FakeMaster()
    yield master
    master.close()


# BodyUser checks this body (length and its last bytes) through both clients
CHUNKED_BODY = b"0123456789" * 9999 + b"ENDOFBODY!"


def _chunked(body: bytes) -> bytes:
    out, i, size = [], 0, 1
    while i < len(body):
        piece = body[i:i + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        i += len(piece)
        size = size * 3 + 7 if size < 20000 else 1
    return b"".join(out) + b"0\r\n\r\n"


CHUNKED_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + _chunked(CHUNKED_BODY))


class CertAuthority:
    """A certificate authority made for one test (openssl req and openssl ca),
    and certificates it signs: point a worker at self.cert with SSL_CERT_FILE
    (OpenSSL's and, through the worker, libcurl's store)."""

    CONF = """[ca]
default_ca = d
[d]
database = {dir}/index.txt
serial = {dir}/serial
new_certs_dir = {dir}
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
"""

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.dir.mkdir()
        self.cert, self.key = self.dir / "ca.pem", self.dir / "ca.key"
        (self.dir / "index.txt").write_text("")
        (self.dir / "serial").write_text("01\n")
        (self.dir / "ca.cnf").write_text(self.CONF.format(dir=self.dir))
        self._run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=lw test CA", "-days", "2",
                  "-keyout", self.key, "-out", self.cert)

    def _run(self, *args) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)

    def issue(self, name: str, san: str = "IP:127.0.0.1", start: str = "20200101000000Z",
              end: str = "20991231000000Z") -> tuple[Path, Path]:
        """A certificate for san, valid from start to end (ASN.1 times):
        (certificate, key) paths."""
        cert, key, csr = self.dir / f"{name}.pem", self.dir / f"{name}.key", self.dir / f"{name}.csr"
        self._run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
                  "-keyout", key, "-out", csr)
        self._run("ca", "-batch", "-config", self.dir / "ca.cnf", "-cert", self.cert, "-keyfile", self.key,
                  "-in", csr, "-out", cert, "-startdate", start, "-enddate", end)
        return cert, key


class FaultServer:
    """A TCP server on 127.0.0.1, in a thread of the test process, for target
    faults nginx cannot play. mode:
      "blackhole"  accepts and reads requests, never answers (for https://,
                   a server that stalls in the handshake)
      "tls-close"  reads the first bytes (a ClientHello) and closes
      "tls-garbage"  answers the first bytes (a ClientHello) with an HTTP
                   response instead of a ServerHello, then closes
      "reset"      accepts, reads the request head, then closes with SO_LINGER 0,
                   so the client gets a TCP reset
      "close-reused"  answers the first request of each connection (200,
                   "hello", keep-alive) and closes the connection, unanswered,
                   when a second request comes on it: a keep-alive connection
                   the server dropped just as the client reused it
      "chunked"    answers every request with a 100,000-byte body (CHUNKED_BODY)
                   in chunks of varied sizes (Transfer-Encoding: chunked),
                   keeping the connection alive
    requests: request heads read (its own count); answered: requests
    answered; connections: accepted."""

    def __init__(self, mode: str):
        import selectors
        import threading

        assert mode in ("blackhole", "reset", "close-reused", "chunked", "tls-close", "tls-garbage")
        self.mode = mode
        self.answered = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.connections = 0
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.listener, selectors.EVENT_READ, None)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"fault-{mode}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import selectors

        while not self._stop:
            for key, _ in self._sel.select(timeout=0.1):
                if key.data is None:
                    try:
                        conn, _addr = self.listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self.connections += 1
                    self._sel.register(conn, selectors.EVENT_READ, {"buf": bytearray(), "heads": 0})
                    continue
                conn, state = key.fileobj, key.data
                buf = state["buf"]
                try:
                    chunk = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    self._sel.unregister(conn)
                    conn.close()
                    continue
                buf += chunk
                if self.mode.startswith("tls-"):
                    self.requests += 1  # a ClientHello
                    if self.mode == "tls-garbage":
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    self._sel.unregister(conn)
                    conn.close()
                    continue
                heads = buf.count(b"\r\n\r\n")
                if heads:
                    self.requests += heads
                    state["heads"] += heads
                    del buf[:buf.rfind(b"\r\n\r\n") + 4]
                    if self.mode == "reset":
                        self._sel.unregister(conn)
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        conn.close()
                    elif self.mode == "chunked":
                        for _ in range(heads):
                            conn.setblocking(True)
                            conn.settimeout(5)
                            conn.sendall(CHUNKED_RESPONSE)
                            conn.setblocking(False)
                            self.answered += 1
                    elif self.mode == "close-reused":
                        if state["heads"] == 1:
                            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                         b"Content-Type: text/plain\r\n\r\nhello")
                            self.answered += 1
                        else:
                            self._sel.unregister(conn)
                            conn.close()
        for key in list(self._sel.get_map().values()):
            key.fileobj.close()
        self._sel.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)


@pytest.fixture
def fault_server():
    """fault_server(mode) starts a FaultServer; all are stopped at teardown."""
    servers: list[FaultServer] = []

    def start(mode: str) -> FaultServer:
        servers.append(FaultServer(mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def log_lines(text: str, level: str | None = None) -> list[str]:
    """The worker's log lines ("[time] host/LEVEL/logger: text"), of one level
    if given."""
    return [line for line in text.splitlines() if level is None or f"/{level}/" in line]


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    return free_port()
