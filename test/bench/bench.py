#!/usr/bin/env python3
"""bench.py - the worker's benchmark, against wrk and Locust's Python worker.

One command (`make bench`, or `.venv/bin/python test/bench/bench.py`) sets
everything up on 127.0.0.1 and prints a markdown report (also written to
test/bench/results.md). Every section that measures our worker measures it
with both of its HTTP clients: the curl client (libcurl, the default, like
Locust's HttpUser: BenchUser, PacedUser, TimedUser) and the fast client (its
own HTTP/1.1 client on libev, like FastHttpUser: FastBenchUser,
FastPacedUser, FastTimedUser).

  1. Throughput per core: build/bench-worker (one process, 50 users,
     constant(0), GET /) attached to a headless stock Locust master, against
     `wrk -t1` with the same number of connections and against Locust's Python
     worker with FastHttpUser and with HttpUser. Requests/s is what the target
     served during a fixed window (nginx's own counter), median of the runs,
     the ratio to wrk and to Locust's worker of the same kind (curl client:
     HttpUser; fast client: FastHttpUser).
  2. Users per process: 1,000 / 5,000 / 15,000 PacedUsers and FastPacedUsers
     (between(5, 10), GET /, the plan's Scenario 1 pacing) in one worker
     process: RSS, RSS per user, CPU %, time to spawn them all (master log:
     spawn jobs sent -> all users spawned), open connections at the target,
     the longest gap between two heartbeats as the master received them, and
     whether the master ever marked the worker missing. Locust's Python
     worker at 5,000 users is measured once per client as a reference.
  3. Timing fidelity: one user, one connection, one request at a time. Our
     median and p99 response time (every time the worker reported, kept at
     full resolution by TimedUser and FastTimedUser) against wrk's --latency
     percentiles and the target's own $request_time (nginx logs it in whole
     milliseconds only).
  4. Reporting cost: at 15,000 users, the share of the worker's CPU spent on
     stats and on the master link (perf samples with call stacks, each
     charged to the nearest caller in our code, plus ZeroMQ's own threads).
  6. User classes in Lua (build/lua-worker, examples/bench/bench.lua, the
     same classes): throughput per core (50 users, constant(0), GET /)
     against the C worker with the same client and wrk in the same
     interleaved runs, also with the instruction limit off (the JIT on);
     memory per user and spawn time at the largest size (FastPacedUser,
     and PacedUser), Lua against C. Section "lua".
  7. HTTPS (section "https"): nginx with a certificate made at bench time
     (openssl req), which the worker trusts through SSL_CERT_FILE (so
     certificates are verified, as by default). Throughput of BenchUser and
     FastBenchUser against `wrk -t1 -c50` over https; the handshake rate
     (users connecting over TLS per second: 15,000 PacedUsers or
     FastPacedUsers spawned at once, users / seconds from spawn to that many
     connections at nginx) against `openssl s_time -new` (one blocking
     handshake after another); RSS per user at 15,000 HTTPS users.
  5. Where the costs are, measured: the worker's top symbols at full
     throughput (perf), its heap per user by allocation path (valgrind
     massif, 1,000 users) and what runs while 15,000 users spawn and connect
     (perf with call stacks, syscall tracepoints), i.e. what delays the
     heartbeat timer.
  7. Request-rate cap: build/bench-worker standalone (no master), 50
     FastBenchUsers of constant(0), --max-rps 1,000 and 50,000: the rate
     nginx served over the window against the cap, and the worker's CPU,
     next to the same users uncapped (the cost of the cap per request).
     Section "ratecap".

Layout: nginx (Debian's package, one worker process, configuration generated
in a temporary directory) is pinned to CPU 0 with taskset, and so is the
Locust master; the load generator under test (wrk, our worker or a Python
worker) is pinned to CPU 1, alone. Every process gets 20,000 open files.
Contenders run --reps times, interleaved, and the medians are reported.
Every run is bounded in time; every process started here is killed at exit.

Options: --reps N (throughput and fidelity, default 3), --user-reps N (users
per process at the largest size, default 2; 1 at the others), --duration S
(throughput window, default 10), --hold S (users-per-process and reporting
window, default 6), --light S (fidelity run, default 4), --profile-window S
(perf and massif windows, default 4), --clients curl,fast, --only
SECTION,... (throughput, profile, users, memory, spawn, reporting,
fidelity, lua, ratecap), --quick (1 rep, short windows: a smoke test), --keep (keep the
temp dir with every log), --out FILE (default test/bench/results.md). perf
and valgrind are optional: without them the profiles are left out.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import functools
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
WORKER_BIN = ROOT / "build" / "bench-worker"
LUA_BIN = ROOT / "build" / "lua-worker"
BENCH_LUA = ROOT / "examples" / "bench" / "bench.lua"
LOCUSTFILE = ROOT / "examples" / "bench" / "locustfile.py"
LOCUST = ROOT / ".venv" / "bin" / "locust"
NGINX = Path("/usr/sbin/nginx")
RESULTS = ROOT / "test" / "bench" / "results.md"

RESPONSE = '{"status":"success","message":"State update accepted"}'
NOFILE = 20000           # open files per process, nginx's worker_connections
TARGET_CPU = 0           # nginx and the Locust master
LOAD_CPU = 1             # the load generator under test, alone
CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = time.monotonic()

# Source files whose CPU counts as "stats" or "master link" in the profile.
STATS_FILES = ("worker/stats.c", "worker/error_key.c")
LINK_FILES = ("worker/master.c", "worker/zlink.c", "worker/procinfo.c", "proto/", "/usr/include/msgpack")
LINK_DSOS = ("libzmq", "libmsgpack", "libsodium", "libpgm", "libnorm", "libgssapi")


def log(msg: str) -> None:
    """Progress on stderr; the report goes to stdout."""
    print(f"[{time.monotonic() - STARTED:6.1f}s] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# processes


def raise_nofile() -> None:
    """preexec_fn: NOFILE open files (within the hard limit if not root)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, max(hard, NOFILE)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(NOFILE, hard), hard))


def nofile_limit() -> int:
    """The open-file limit the children will get."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return NOFILE if os.geteuid() == 0 or hard >= NOFILE else hard


class Proc:
    """A child in its own process group, pinned to one CPU, output in a file."""

    def __init__(self, name: str, argv: list, cpu: int, log_dir: Path, env: dict | None = None):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "wb") as out:
            self.popen = subprocess.Popen(
                ["taskset", "-c", str(cpu)] + [str(a) for a in argv],
                cwd=ROOT, env=full_env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=raise_nofile,
            )
        self.pid = self.popen.pid  # taskset execs the command: same pid
        self.started = time.time()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Signal it, wait up to timeout s, then kill its process group."""
        if self.alive():
            self.popen.send_signal(sig)
            self.wait(timeout)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


# --------------------------------------------------------------------------
# /proc readings


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (all its threads) or of one thread."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def threads(pid: int) -> dict[int, str]:
    """{tid: thread name}."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        out[int(task.name)] = (task / "comm").read_text().strip()
    return out


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


def all_cpu_seconds() -> dict[int, tuple[int, float]]:
    """{pid: (parent pid, CPU seconds)} of every process on the machine."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            out[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
        except (OSError, ValueError, IndexError):
            pass
    return out


def ours(pid: int, table: dict[int, tuple[int, float]]) -> bool:
    """Is pid this script or one of its descendants?"""
    me = os.getpid()
    for _ in range(32):
        if pid == me:
            return True
        if pid not in table or pid <= 1:
            return False
        pid = table[pid][0]
    return False


class CpuMeter:
    """CPU % of some processes (and of single threads) between start and
    stop, and of every process this script did not start ("other load":
    anything else running on the machine disturbs the numbers)."""

    def __init__(self, pids: list[int], tids: dict[int, int] | None = None):
        self.pids, self.tids = pids, tids or {}
        self.t0 = time.monotonic()
        self.c0 = [cpu_seconds(p) for p in pids]
        self.tc0 = {t: cpu_seconds(p, t) for t, p in self.tids.items()}
        self.all0 = all_cpu_seconds()

    def stop(self) -> tuple[list[float], dict[int, float], float]:
        dt = time.monotonic() - self.t0
        procs = [100 * (cpu_seconds(p) - c) / dt for p, c in zip(self.pids, self.c0)]
        thr = {t: 100 * (cpu_seconds(p, t) - self.tc0[t]) / dt for t, p in self.tids.items()}
        all1 = all_cpu_seconds()
        other = sum(c - self.all0.get(pid, (0, 0.0))[1] for pid, (_, c) in all1.items()
                    if not ours(pid, all1))
        return procs, thr, 100 * other / dt


# --------------------------------------------------------------------------
# the target: nginx


NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile {nofile};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections {nofile}; multi_accept on; }}
http {{
    default_type application/json;
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    log_format request_time '$request_time';
    server {{
        listen 127.0.0.1:{port} backlog=65535;
        location = / {{ return 202 '{body}'; }}
        location = /nginx_status {{ stub_status; }}
    }}
    server {{
        listen 127.0.0.1:{timed_port} backlog=65535;
        access_log {tmp}/timed-access.log request_time;
        location = / {{ return 202 '{body}'; }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl backlog=65535;
        ssl_certificate {tmp}/tls-cert.pem;
        ssl_certificate_key {tmp}/tls-key.pem;
        location = / {{ return 202 '{body}'; }}
    }}
}}
"""


class Nginx:
    """Debian's nginx on three loopback ports: `url` for load (no access log,
    stub_status counts requests, those of every port), `timed_url` (logs
    $request_time) and `tls_url` (HTTPS with a self-signed certificate for
    127.0.0.1 made here: `tls_cert`)."""

    def __init__(self, tmp: Path):
        self.port, self.timed_port, self.tls_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timed_url = f"http://127.0.0.1:{self.timed_port}"
        self.tls_url = f"https://127.0.0.1:{self.tls_port}"
        self.tls_cert = tmp / "tls-cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                        "-keyout", tmp / "tls-key.pem", "-out", self.tls_cert],
                       check=True, capture_output=True, timeout=30)
        self.timed_log = tmp / "timed-access.log"
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(nofile=NOFILE, tmp=tmp, port=self.port, tls_port=self.tls_port,
                                          timed_port=self.timed_port, body=RESPONSE))
        self.proc = Proc("nginx", [NGINX, "-p", tmp, "-e", tmp / "nginx-error.log", "-c", conf],
                         TARGET_CPU, tmp)
        wait_until(self.answers, 10, "nginx")
        self.worker_pid = children(self.proc.pid)[0]

    def answers(self) -> bool:
        try:
            self.status()
            return True
        except OSError:
            return False

    def status(self) -> tuple[int, int]:
        """(open client connections, requests served so far), from stub_status."""
        with urllib.request.urlopen(f"{self.url}/nginx_status", timeout=5) as r:
            text = r.read().decode()
        active = int(re.search(r"Active connections:\s*(\d+)", text).group(1))
        requests = int(text.split("\n")[2].split()[2])
        return active - 1, requests  # minus this status request

    def served(self) -> int:
        return self.status()[1]

    def timed_log_size(self) -> int:
        return self.timed_log.stat().st_size if self.timed_log.exists() else 0

    def request_times_ms(self, since: int) -> list[float]:
        """$request_time of every request logged on timed_url after offset since."""
        with open(self.timed_log, "rb") as f:
            f.seek(since)
            return [float(x) * 1000 for x in f.read().split()]


# --------------------------------------------------------------------------
# Locust masters and workers


STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\]")


def log_time(text: str, needle: str) -> float | None:
    """Epoch time of the first log line containing needle."""
    for line in text.splitlines():
        m = STAMP.match(line)
        if m and needle in line:
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
            return t + int(m.group(2)) / 1000
    return None


def heartbeat_times(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line.split()[0]) for line in path.read_text().splitlines() if line.strip()]


def worker_argv(kind: str, master_port: int) -> list:
    if kind == "c":
        return [WORKER_BIN, "--master-host", "127.0.0.1", "--master-port", master_port]
    if kind == "lua":
        return [LUA_BIN, BENCH_LUA, "--master-host", "127.0.0.1", "--master-port", master_port]
    return [LOCUST, "-f", LOCUSTFILE, "--worker", "--master-host", "127.0.0.1",
            "--master-port", master_port]


def master_argv(master_port: int, host: str, users: int, user_class: str, limit_s: int) -> list:
    return [LOCUST, "-f", LOCUSTFILE, "--master", "--headless", "--only-summary",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", master_port,
            "--expect-workers", "1", "-u", users, "-r", users, "-t", f"{limit_s}s",
            "--host", host, user_class]


@dataclass
class LocustRun:
    rps: float = 0.0               # requests/s the target served in the window
    cpu_pct: float = 0.0           # the worker process, all threads
    target_cpu_pct: float = 0.0    # nginx's worker
    other_cpu_pct: float = 0.0     # processes not started by the benchmark
    rss_kb: int = 0                # worker RSS at the end of the window
    idle_rss_kb: int = 0           # worker RSS before any user (C worker only)
    spawn_s: float | None = None   # master: spawn jobs sent -> all users spawned
    connected_at: float | None = None
    connect_s: float | None = None # spawn jobs sent -> `users` connections open at the target
    connections: int = 0           # open client connections at the target
    heartbeat_gap_s: float | None = None
    heartbeats: int = 0
    missing: bool = False
    thread_cpu: dict = field(default_factory=dict)  # {thread name: CPU %}
    times_us: list = field(default_factory=list)    # TimedUser's response times
    window_end_s: float = 0.0      # end of the window, seconds after the worker started
    target_ms: list = field(default_factory=list)   # nginx $request_time


class Bench:
    """The temporary directory, the target, and the runs."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.nginx = Nginx(tmp)
        self.seq = 0
        self.other_loads: list[float] = []  # other processes' CPU % in each window

    def name(self, what: str) -> str:
        self.seq += 1
        return f"{self.seq:02d}-{what}"

    # -- wrk

    def wrk(self, conns: int, warmup: float, window: float, timed: bool = False, tls: bool = False) -> dict:
        """wrk -t1 -cN on the load CPU; req/s from nginx over the window."""
        url = self.nginx.timed_url if timed else self.nginx.tls_url if tls else self.nginx.url
        duration = int(warmup + window + 1)
        since = self.nginx.timed_log_size()
        proc = Proc(self.name(f"wrk-c{conns}"),
                    ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", f"{url}/"],
                    LOAD_CPU, self.tmp)
        try:
            time.sleep(warmup)
            result = self.window([proc.pid], window)
            proc.wait(duration + 10)
        finally:
            proc.stop()
        out = proc.text()
        result["wrk_rps"] = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
        result["latency_us"] = parse_wrk_latency(out)
        if timed:
            result["target_ms"] = self.nginx.request_times_ms(since)
        return result

    def wait_spawned(self, master: Proc, worker: Proc, users: int, timeout: float) -> float | None:
        """Wait for the master's 'All users spawned' and for `users` open
        connections at the target; returns when the latter happened (epoch s),
        None if not within timeout."""
        deadline = time.monotonic() + timeout
        connected_at = None
        while time.monotonic() < deadline:
            if not master.alive() or not worker.alive():
                raise RuntimeError(f"{master.name}: master or worker exited early, see {self.tmp}")
            if connected_at is None and self.nginx.status()[0] >= users:
                connected_at = time.time()
            if "All users spawned" in master.text():
                if connected_at:
                    return connected_at
                deadline = min(deadline, time.monotonic() + 30)  # connections: 30 s more at most
            time.sleep(0.02)
        if "All users spawned" not in master.text():
            raise RuntimeError(f"{master.name}: users not spawned within {timeout:.0f} s")
        return None

    def window(self, pids: list[int], seconds: float, probe: Callable | None = None,
               tids: dict | None = None) -> dict:
        """Over `seconds` (or while probe(seconds) runs): requests/s served,
        CPU % of pids[0] (the generator), of nginx, of the threads tids and
        of processes not started here."""
        n0 = self.nginx.served()
        meter = CpuMeter(pids + [self.nginx.worker_pid], tids)
        t0 = time.monotonic()
        (probe or time.sleep)(seconds)
        dt = time.monotonic() - t0
        n1 = self.nginx.served()
        procs, thr, other = meter.stop()
        self.other_loads.append(other)
        return {"rps": (n1 - n0 - 1) / dt, "cpu_pct": procs[0], "target_cpu_pct": procs[-1],
                "thread_cpu": thr, "other_cpu_pct": other}

    # -- a master with one worker

    def locust(self, kind: str, user_class: str, users: int, warmup: float, window: float,
               timed: bool = False, probe: Callable | None = None,
               before_master: Callable[[int], None] | None = None,
               wrap: list | None = None, env: dict | None = None, tls: bool = False) -> LocustRun:
        """A headless master (CPU 0) and one worker (CPU 1) running `users`
        users of user_class; measures over `window` seconds after spawning
        is complete and `warmup` more seconds have passed. probe(pid, s)
        replaces the window's sleep; before_master(pid) runs just before the
        master starts."""
        run = LocustRun()
        tag = self.name(f"{kind}-{user_class}-{users}")
        master_port = free_port()
        hb_path = self.tmp / f"{tag}-heartbeats.txt"
        times_path = self.tmp / f"{tag}-times.txt"
        host = self.nginx.timed_url if timed else self.nginx.tls_url if tls else self.nginx.url
        spawn_limit = 120 if kind == "py" else 60
        since = self.nginx.timed_log_size()
        worker_env = dict(env or {}, **({"LW_BENCH_TIMES": str(times_path)} if timed else {}))
        if tls:
            worker_env["SSL_CERT_FILE"] = str(self.nginx.tls_cert)  # verified, as by default
        worker = Proc(f"{tag}-worker", (wrap or []) + worker_argv(kind, master_port), LOAD_CPU, self.tmp,
                      env=worker_env or None)
        master = None
        try:
            if kind in ("c", "lua"):
                wait_until(lambda: "Starting Locust worker" in worker.text() or not worker.alive(),
                           30, "the worker to start")
                time.sleep(0.3)
                run.idle_rss_kb = rss_kb(worker.pid)
            if before_master:
                before_master(worker.pid)
            master = Proc(f"{tag}-master",
                          master_argv(master_port, host, users, user_class,
                                      int(spawn_limit + warmup + window + 30)),
                          TARGET_CPU, self.tmp,
                          env={"LW_BENCH_HEARTBEATS": str(hb_path),
                               "LOCUST_WAIT_FOR_WORKERS_REPORT_AFTER_RAMP_UP": str(spawn_limit)})
            run.connected_at = self.wait_spawned(master, worker, users, spawn_limit + 30)
            time.sleep(warmup)
            names = {t: n for t, n in threads(worker.pid).items() if n.startswith("ZMQbg")}
            w = self.window([worker.pid, master.pid], window, tids={t: worker.pid for t in names},
                            probe=(lambda s: probe(worker.pid, s)) if probe else None)
            window_end = time.time()
            run.window_end_s = window_end - worker.started
            run.rps, run.cpu_pct, run.target_cpu_pct = w["rps"], w["cpu_pct"], w["target_cpu_pct"]
            run.other_cpu_pct = w["other_cpu_pct"]
            run.thread_cpu = {names[t]: v for t, v in w["thread_cpu"].items()}
            run.rss_kb = rss_kb(worker.pid)
            run.connections = self.nginx.status()[0]
        finally:
            if master:
                master.stop()
                worker.wait(5)  # it quits with the master; TimedUser writes its times then
            worker.stop()
        text = master.text()
        t_sent, t_done = log_time(text, "Sending spawn jobs"), log_time(text, "All users spawned")
        if t_sent and t_done:
            run.spawn_s = t_done - t_sent
        if t_sent and run.connected_at:
            run.connect_s = max(0.0, run.connected_at - t_sent)
        beats = [t for t in heartbeat_times(hb_path) if t <= window_end]
        run.heartbeats = len(beats)
        if len(beats) > 1:
            run.heartbeat_gap_s = max(b - a for a, b in zip(beats, beats[1:]))
        run.missing = "failed to send heartbeat" in text or "missing" in text.lower()
        if timed:
            if times_path.exists():
                run.times_us = [float(x) for x in times_path.read_text().split()]
            run.target_ms = self.nginx.request_times_ms(since)
        return run


def parse_wrk_latency(out: str) -> dict[int, float]:
    """wrk --latency's percentile lines -> {50: microseconds, ...}."""
    scale = {"us": 1, "ms": 1000, "s": 1_000_000}
    result = {}
    for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        result[int(m.group(1))] = float(m.group(2)) * scale[m.group(3)]
    return result


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, as wrk and Locust report them."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------
# perf


def perf_works() -> bool:
    if not shutil.which("perf"):
        return False
    with tempfile.NamedTemporaryFile(suffix=".data") as f:
        r = subprocess.run(["perf", "record", "-q", "-o", f.name, "--", "true"],
                           capture_output=True, timeout=30)
        return r.returncode == 0


def perf_probe(out: Path, stacks: bool = False) -> Callable[[int, float], None]:
    """A window probe: sample the worker at 999 Hz for the window (with
    stacks: DWARF call chains, for costs by caller)."""
    def probe(pid: int, seconds: float) -> None:
        subprocess.run(["perf", "record", "-q", "-F", "999", "-p", str(pid), "-o", str(out)] +
                       (["--call-graph", "dwarf,8192"] if stacks else []) +
                       ["--", "sleep", str(seconds)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 60)
    return probe


def perf_samples(data: Path) -> list[tuple[float, str, str, str]]:
    """[(percent, thread name, dso, symbol)] of self time, largest first."""
    r = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                        "--sort", "comm,dso,sym", "-g", "none", "-t", "\t", "--percent-limit", "0"],
                       capture_output=True, text=True, timeout=120)
    rows = []
    for line in r.stdout.splitlines():
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) < 4 or not parts[0].endswith("%"):
            continue
        sym = re.sub(r"^\[[.k]\]\s*", "", parts[3])
        rows.append((float(parts[0].rstrip("%")), parts[1], parts[2], sym))
    return sorted(rows, reverse=True)


def symbol_files(binary: Path) -> dict[str, str]:
    """{function: source file relative to the repository} from debug info."""
    r = subprocess.run(["nm", "-l", "--defined-only", str(binary)],
                       capture_output=True, text=True, timeout=60)
    out = {}
    for line in r.stdout.splitlines():
        head, _, where = line.partition("\t")
        parts = head.split()
        if len(parts) == 3 and parts[1] in "tT" and where:
            name, path = parts[2], where.rsplit(":", 1)[0]
            out[name] = os.path.relpath(path, ROOT) if path.startswith(str(ROOT)) else path
    return out


FRAME = re.compile(r"^\s*[0-9a-f]+\s+(\S+).*\((.*)\)\s*$")


def perf_stacks(data: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(thread name, [(symbol, dso), ...leaf first])], one per sample."""
    r = subprocess.run(["perf", "script", "-i", str(data), "-F", "comm,tid,ip,sym,dso"],
                       capture_output=True, text=True, timeout=300)
    samples = []
    for block in r.stdout.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines:
            continue
        frames = [(m.group(1), m.group(2)) for m in map(FRAME.match, lines[1:]) if m]
        samples.append((lines[0].split()[0], frames))
    return samples


def classify(comm: str, frames: list[tuple[str, str]], files: dict[str, str]) -> str:
    """'stats', 'master link' or 'other' for one sample: ZeroMQ's threads and
    libraries are the master link; otherwise the nearest caller in our own
    code decides (stats.c, error_key.c: stats; master.c, zlink.c, proto/,
    procinfo.c, msgpack: master link)."""
    if comm.startswith("ZMQbg"):
        return "master link"
    for sym, dso in frames:
        if any(d in dso for d in LINK_DSOS):
            return "master link"
        src = files.get(sym)
        if src is None or not (dso.endswith(WORKER_BIN.name) or dso == "inlined"):
            continue
        if src.startswith(STATS_FILES):
            return "stats"
        if src.startswith(LINK_FILES):
            return "master link"
        return "other"
    return "other"


# --------------------------------------------------------------------------
# the sections


CLIENTS = ("curl", "fast")  # the worker's HTTP clients: libcurl, and its own on libev


def c_class(client: str, base: str) -> str:
    """bench-worker's class of that client: BenchUser or FastBenchUser."""
    return ("Fast" if client == "fast" else "") + base


def c_label(client: str, base: str, users: int | None = None) -> str:
    """e.g. 'bench-worker (C, fast client), 50 FastBenchUser'."""
    count = f"{users:,} " if users is not None else ""
    return f"bench-worker (C, {client} client), {count}{c_class(client, base)}"


def py_label(users: int | None, kind: str) -> str:
    """e.g. 'Locust 2.47.0 worker, 50 FastHttpUser'."""
    count = f"{users:,} " if users is not None else ""
    return f"Locust {locust_version()} worker, {count}{kind}"


def throughput(b: Bench, reps: int, conns: int, warmup: float, window: float,
               clients: tuple[str, ...]) -> dict:
    """{"labels": {role: label}, "runs": {role: [per-run dicts]}}; roles are
    wrk, curl, fast (our worker's clients), py-fast and py-http (Locust's
    FastHttpUser and HttpUser); contenders interleaved in each rep."""
    labels = {"wrk": f"wrk -t1 -c{conns}"}
    labels.update({c: c_label(c, "BenchUser", conns) for c in clients})
    labels.update({"py-fast": py_label(conns, "FastHttpUser"), "py-http": py_label(conns, "HttpUser")})
    contenders = {"wrk": lambda: b.wrk(conns, warmup, window),
                  "py-fast": lambda: vars(b.locust("py", "FastBenchUser", conns, warmup, window)),
                  "py-http": lambda: vars(b.locust("py", "BenchUser", conns, warmup, window))}
    for c in clients:
        contenders[c] = functools.partial(
            lambda cls: vars(b.locust("c", cls, conns, warmup, window)), c_class(c, "BenchUser"))
    results: dict[str, list] = {role: [] for role in labels}
    for rep in range(reps):
        for role, name in labels.items():
            log(f"throughput {rep + 1}/{reps}: {name}")
            r = contenders[role]()
            log(f"  {r['rps']:.0f} req/s, generator CPU {r['cpu_pct']:.0f}%")
            results[role].append(r)
    return {"labels": labels, "runs": results}


def scale(b: Bench, reps: int, sizes: list[int], py_users: int, warmup: float, window: float,
          clients: tuple[str, ...]) -> list:
    """[(label, client, users, [LocustRun])] for our worker at each size with
    each client (PacedUser, FastPacedUser), `reps` runs at the largest size
    (the goal's) and one at the others, then the Python worker's reference
    runs (client "py")."""
    rows = []
    for users in sizes:
        runs: dict[str, list] = {c: [] for c in clients}
        n = reps if users == max(sizes) else 1
        for rep in range(n):
            for c in clients:
                cls = c_class(c, "PacedUser")
                log(f"users per process {rep + 1}/{n}: {users} {cls} (C, {c} client)")
                r = b.locust("c", cls, users, warmup, window)
                log(f"  RSS {r.rss_kb / 1024:.1f} MB, spawn {r.spawn_s} s, connect {fmt(r.connect_s, '.2f')} s, "
                    f"CPU {r.cpu_pct:.1f}%, {r.connections} connections, heartbeat gap {r.heartbeat_gap_s}")
                runs[c].append(r)
        rows += [(c_label(c, "PacedUser"), c, users, runs[c]) for c in clients]
    if py_users:
        for cls, kind in (("FastPacedUser", "FastHttpUser"), ("PacedUser", "HttpUser")):
            log(f"users per process (reference): {py_users} {kind} (Python)")
            r = b.locust("py", cls, py_users, warmup, window)
            log(f"  RSS {r.rss_kb / 1024:.1f} MB, spawn {r.spawn_s} s, CPU {r.cpu_pct:.1f}%")
            rows.append((py_label(None, kind), "py", py_users, [r]))
    return rows


NO_LIMIT = {"LW_LUA_INSTRUCTION_LIMIT": "0"}   # no instruction hook: the JIT compiler on


def lua_section(b: Bench, reps: int, conns: int, warmup: float, window: float, users: int,
                user_reps: int, clients: tuple[str, ...]) -> dict:
    """Throughput of the Lua worker against the C worker (same client) and
    wrk, interleaved; then memory and spawn time at `users` users, Lua and C."""
    labels = {"wrk": f"wrk -t1 -c{conns}"}
    contenders = {"wrk": lambda: b.wrk(conns, warmup, window)}
    for c in clients:
        cls = c_class(c, "BenchUser")
        labels[f"c-{c}"] = c_label(c, "BenchUser", conns)
        labels[f"lua-{c}"] = f"lua-worker ({c} client), {conns} {cls}"
        contenders[f"c-{c}"] = functools.partial(lambda k: vars(b.locust("c", k, conns, warmup, window)), cls)
        contenders[f"lua-{c}"] = functools.partial(
            lambda k: vars(b.locust("lua", k, conns, warmup, window)), cls)
        if c == "fast":
            labels["lua-fast-jit"] = f"lua-worker (fast client, no instruction limit: JIT on), {conns} {cls}"
            contenders["lua-fast-jit"] = functools.partial(
                lambda k: vars(b.locust("lua", k, conns, warmup, window, env=NO_LIMIT)), cls)
    runs: dict[str, list] = {role: [] for role in labels}
    for rep in range(reps):
        for role, name in labels.items():
            log(f"lua throughput {rep + 1}/{reps}: {name}")
            r = contenders[role]()
            log(f"  {r['rps']:.0f} req/s, generator CPU {r['cpu_pct']:.0f}%")
            runs[role].append(r)
    rows = []
    for c in sorted(clients, key=lambda x: x != "fast"):
        cls = c_class(c, "PacedUser")
        for kind in ("lua", "c"):
            per = []
            for rep in range(user_reps):
                log(f"lua users {rep + 1}/{user_reps}: {users} {cls} ({kind}, {c} client)")
                r = b.locust(kind, cls, users, 1.0, window)
                log(f"  RSS {r.rss_kb / 1024:.1f} MB, idle {r.idle_rss_kb / 1024:.1f} MB, spawn {r.spawn_s} s")
                per.append(r)
            label = (f"lua-worker ({c} client), {cls}" if kind == "lua" else c_label(c, "PacedUser"))
            rows.append((label, c, users, per))
    return {"labels": labels, "runs": runs, "users": rows}


def lua_report(res: dict, args: argparse.Namespace) -> list[str]:
    lua = res.get("lua")
    if not lua:
        return []
    labels, runs = lua["labels"], lua["runs"]
    med = {role: median([r["rps"] for r in runs[role]]) for role in labels}
    lines = ["## User classes in Lua (build/lua-worker)", "",
             f"Throughput per core: {args.conns} users of examples/bench/bench.lua's classes (constant(0), "
             f"GET /), one process on the load CPU, {args.duration:.0f} s windows after a 2 s warm-up, "
             f"{n_runs(args.reps)} per contender interleaved with the C worker and wrk (medians). By "
             "default a task runs under an instruction-count hook (the endless-loop guard), which "
             "LuaJIT only calls from its interpreter, so the JIT compiler is off; the \"JIT on\" row "
             "runs with LW_LUA_INSTRUCTION_LIMIT=0 (no guard). When the generator's CPU is below 100 %, "
             "nginx (or the rest of the machine) limits req/s, not the generator: then the per-core "
             "ratio (CPU µs per request) is the one that tells the generators apart.", "",
             "| Generator (one core) | req/s (median) | runs | generator CPU % | CPU µs per request "
             "| vs C worker, same client: req/s | per core (C's CPU µs per request / this one's) | vs wrk |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for role, name in labels.items():
        same = {"lua-fast": "c-fast", "lua-fast-jit": "c-fast", "lua-curl": "c-curl"}.get(role)
        ratio = f"{med[role] / med[same]:.2f}x" if same in med and med[same] else "-"
        per_core = (f"{cpu_us_per_request(runs[same]) / cpu_us_per_request(runs[role]):.2f}x"
                    if same in med else "-")
        each = ", ".join(f"{r['rps']:,.0f}" for r in runs[role])
        lines.append(f"| {name} | {med[role]:,.0f} | {each} "
                     f"| {median([r['cpu_pct'] for r in runs[role]]):.0f} | {cpu_us_per_request(runs[role]):.1f} "
                     f"| {ratio} | {per_core} | {med[role] / med['wrk']:.2f}x |")
    users = lua["users"][0][2] if lua["users"] else 0
    lines += ["", f"Memory and spawn time at {users:,} users (between(5, 10), GET /, -r {users:,}; "
              f"{args.hold:.0f} s window), Lua against C with the same client; columns as in "
              "\"Users per process\".", "", *scale_table(lua["users"]), ""]
    goals = []
    if "lua-fast" in med and med.get("c-fast"):
        ratio = med["lua-fast"] / med["c-fast"]
        per_core = cpu_us_per_request(runs["c-fast"]) / cpu_us_per_request(runs["lua-fast"])
        busy = median([r["cpu_pct"] for r in runs["c-fast"] + runs["lua-fast"]]) < 90
        goals.append(f"| Lua throughput per core >= 0.7x the C fast client (requests per CPU-second of the "
                     f"generator) | {per_core:.2f}x: {status(per_core >= 0.7)}; req/s {ratio:.2f}x"
                     + (" (the generators were not CPU-bound: req/s measured nginx and the machine's other "
                        "load, not them)" if busy else "") + " |")
    for label, c, n, per in lua["users"]:
        if label.startswith("lua-worker") and c == "fast":
            kb = median([r.rss_kb for r in per]) / n
            goals.append(f"| <= 8 KB per Lua user on the fast client at {n:,} users (RSS / users) "
                         f"| {kb:.1f} KB: {status(kb <= 8)} |")
    if goals:
        lines += ["| Lua goal | result |", "|---|---|", *goals, ""]
    return lines


def s_time(b: Bench, seconds: int) -> float | None:
    """`openssl s_time -new` against the HTTPS port on the load CPU: full
    handshakes per second, one after another (None if it did not run)."""
    proc = Proc(b.name("openssl-s_time"), ["openssl", "s_time", "-connect", f"127.0.0.1:{b.nginx.tls_port}",
                                           "-new", "-time", seconds], LOAD_CPU, b.tmp)
    proc.wait(seconds + 30)
    proc.stop()
    m = re.search(r"(\d+) connections in ([\d.]+) real seconds", proc.text())
    return int(m.group(1)) / float(m.group(2)) if m and float(m.group(2)) > 0 else None


def https(b: Bench, reps: int, conns: int, users: int, warmup: float, window: float, hold: float,
          clients: tuple[str, ...]) -> dict:
    """HTTPS: throughput (wrk and each client, interleaved, `reps` runs),
    the handshake rate and memory at `users` (one run per client), and
    openssl s_time's handshake rate."""
    out: dict = {"tp": {"wrk": [], **{c: [] for c in clients}}, "users": {}, "users_n": users}
    for rep in range(reps):
        log(f"https throughput {rep + 1}/{reps}: wrk -t1 -c{conns}")
        r = b.wrk(conns, warmup, window, tls=True)
        log(f"  {r['rps']:.0f} req/s")
        out["tp"]["wrk"].append(r)
        for c in clients:
            log(f"https throughput {rep + 1}/{reps}: {c_class(c, 'BenchUser')} ({c} client)")
            r = vars(b.locust("c", c_class(c, "BenchUser"), conns, warmup, window, tls=True))
            log(f"  {r['rps']:.0f} req/s, generator CPU {r['cpu_pct']:.0f}%")
            out["tp"][c].append(r)
    for c in clients:
        log(f"https users: {users} {c_class(c, 'PacedUser')} ({c} client)")
        r = b.locust("c", c_class(c, "PacedUser"), users, 1.0, hold, tls=True)
        log(f"  RSS {r.rss_kb / 1024:.1f} MB, connect {fmt(r.connect_s, '.2f')} s, {r.connections} connections")
        out["users"][c] = r
    log("https: openssl s_time -new")
    out["s_time"] = s_time(b, 5)
    return out


def https_table(res: dict, conns: int) -> tuple[list[str], list[str]]:
    """The HTTPS tables and the goal lines."""
    tp = res["tp"]
    wrk = median([r["rps"] for r in tp["wrk"]])
    lines = ["| contender | req/s | vs wrk | CPU % |", "|---|---:|---:|---:|",
             f"| wrk -t1 -c{conns} (https) | {wrk:,.0f} | 1.00x | {median([r['cpu_pct'] for r in tp['wrk']]):.0f} |"]
    goals = []
    for c, runs in tp.items():
        if c == "wrk" or not runs:
            continue
        rps = median([r["rps"] for r in runs])
        lines.append(f"| our worker, {conns} {c_class(c, 'BenchUser')} ({c} client) | {rps:,.0f} | "
                     f"{rps / wrk:.2f}x | {median([r['cpu_pct'] for r in runs]):.0f} |")
        if c == "fast":
            goals.append(f"| HTTPS throughput, fast client >= 0.9x wrk | {rps / wrk:.2f}x: "
                         f"{status(rps / wrk >= 0.9)} |")
    n = res["users_n"]
    lines += ["", f"{n:,} users at once over HTTPS (verified certificates), PacedUser / FastPacedUser:", "",
              "| client | RSS per user | added per user | connections at nginx | handshakes/s (users / connect time) |",
              "|---|---:|---:|---:|---:|"]
    for c, r in res["users"].items():
        rate = r.connections / r.connect_s if r.connect_s else None
        lines.append(f"| {c} | {r.rss_kb / n:.1f} KB | {(r.rss_kb - r.idle_rss_kb) / n:.1f} KB | "
                     f"{r.connections:,} | {fmt(rate, ',.0f')} |")
    st = res.get("s_time")
    lines += ["", f"Reference: `openssl s_time -new` (one blocking full handshake after another, same CPU): "
              f"{fmt(st, ',.0f')} handshakes/s."]
    return lines, goals


def fidelity(b: Bench, reps: int, window: float, clients: tuple[str, ...]) -> dict:
    """One connection, one request at a time: wrk vs TimedUser (curl client)
    and FastTimedUser (fast client); {"wrk": [...], client: [LocustRun]}."""
    out: dict[str, list] = {"wrk": [], **{c: [] for c in clients}}
    for rep in range(reps):
        log(f"timing fidelity {rep + 1}/{reps}: wrk -t1 -c1")
        out["wrk"].append(b.wrk(1, 0.0, window, timed=True))
        for c in clients:
            cls = c_class(c, "TimedUser")
            log(f"timing fidelity {rep + 1}/{reps}: bench-worker, 1 {cls} ({c} client)")
            out[c].append(b.locust("c", cls, 1, 0.0, window, timed=True))
    return out


def ratecap(b: Bench, users: int, warmup: float, window: float) -> list[dict]:
    """bench-worker standalone (--headless, no master), `users`
    FastBenchUsers of constant(0), with each --max-rps of RATE_CAPS and
    without one: [{"cap": N or None, "rps", "cpu_pct", ...}]."""
    rows = []
    for cap in (*RATE_CAPS, None):
        label = f"--max-rps {cap}" if cap else "no cap"
        log(f"rate cap: {users} FastBenchUser, {label}")
        argv = [WORKER_BIN, "--headless", "-u", users, "-r", users, "-t", f"{int(warmup + window + 10)}s",
                "-H", b.nginx.url, "--only-summary", "FastBenchUser"] + (["--max-rps", cap] if cap else [])
        proc = Proc(b.name(f"ratecap-{cap or 'off'}"), argv, LOAD_CPU, b.tmp)
        try:
            wait_until(lambda: "All users spawned" in proc.text() or not proc.alive(), 30, "the users to spawn")
            time.sleep(warmup)
            rows.append({"cap": cap, **b.window([proc.pid], window)})
        finally:
            proc.stop(signal.SIGINT)
    return rows


def ratecap_table(rows: list[dict], window: float) -> list[str]:
    off = next((r for r in rows if r["cap"] is None), None)
    base_us = cpu_us_per_request([off]) if off and off["rps"] > 0 else None
    lines = ["| --max-rps | req/s served (nginx) | vs cap | worker CPU % | CPU µs per request "
             "| cost of the cap per request |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        us = cpu_us_per_request([r]) if r["rps"] > 0 else None
        dev = f"{100 * (r['rps'] / r['cap'] - 1):+.2f}%" if r["cap"] else "-"
        cost = f"{us - base_us:+.1f} µs" if r["cap"] and us is not None and base_us is not None else "-"
        lines.append(f"| {r['cap'] or 'none'} | {r['rps']:,.0f} | {dev} | {r['cpu_pct']:.0f} | "
                     f"{fmt(us, '.1f')} | {cost} |")
    return lines


STALL_FRAMES = {
    "curl": (("curl_multi_socket_action", "inside libcurl (curl_multi_socket_action)"),),
    "fast": (("h1_start", "starting requests in the fast client (h1_start, connects included)"),
             ("on_io", "socket events (libev's on_io: connect done, send, receive)")),
    "both": (("__sys_connect", "connect() system calls"),
             ("__inet_hash_connect", "of which the kernel's search for a free local port"),
             ("asm_exc_page_fault", "page faults (first touch of new memory)"),
             ("tcp_sendmsg", "sending the first requests (loopback delivery included)"),
             ("on_adjust", "the runner's spawn slices (users created)")),
}


def spawn_profile(b: Bench, client: str, users: int, seconds: float = 8.0) -> tuple:
    """Our worker's stacks while `users` PacedUsers (or FastPacedUsers)
    spawn and make their first requests: (client, LocustRun, samples,
    longest loop iteration). perf starts before the master does."""
    cls = c_class(client, "PacedUser")
    data = b.tmp / f"perf-spawn-{cls}-{users}.data"
    trace = b.tmp / f"perf-spawn-{cls}-{users}-syscalls.data"
    perf: list[subprocess.Popen] = []

    def start_perf(pid: int) -> None:
        for argv in (["-F", "999", "--call-graph", "dwarf,8192", "-o", str(data)],
                     ["-e", "syscalls:sys_enter_epoll_wait", "-e", "syscalls:sys_exit_epoll_wait",
                      "-e", "syscalls:sys_enter_connect", "-o", str(trace)]):
            perf.append(subprocess.Popen(
                ["perf", "record", "-q", "-p", str(pid)] + argv + ["--", "sleep", str(seconds)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.5)  # perf attaches

    log(f"spawn profile: {users} {cls} ({client} client), perf from before the spawn")
    run = b.locust("c", cls, users, 0.0, 4.0, before_master=start_perf)
    for p in perf:
        try:
            p.wait(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            p.kill()
    return client, run, (perf_stacks(data) if data.exists() else []), longest_iteration(trace)


def longest_iteration(trace: Path) -> tuple[float, int, int] | None:
    """From epoll_wait and connect tracepoints of the worker's loop thread:
    the longest stretch of work between leaving epoll_wait and entering it
    again (one loop iteration: no timer, the heartbeat's included, can run
    inside it), how many connect() calls it made, and how many there were
    in all."""
    if not trace.exists():
        return None
    r = subprocess.run(["perf", "script", "-i", str(trace), "-F", "comm,time,event"],
                       capture_output=True, text=True, timeout=120)
    enters, exits, connects = [], [], []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0].startswith("ZMQbg"):
            continue
        t = float(parts[1].rstrip(":"))
        if "connect" in parts[2]:
            connects.append(t)
        else:
            (exits if "exit" in parts[2] else enters).append(t)
    enters.sort()
    stretches = [(enters[i] - t, t) for t in exits if (i := bisect.bisect_left(enters, t)) < len(enters)]
    if not stretches:
        return None
    busy, start = max(stretches)
    return busy, sum(1 for t in connects if start <= t <= start + busy), len(connects)


MASSIF_NODE = re.compile(r"^( *)n(\d+): (\d+) (?:0x[0-9A-F]+: )?(.*)$")


def massif_tree(path: Path, before_ms: float) -> tuple[float, list]:
    """The last detailed heap snapshot taken before before_ms: (time in ms,
    [(depth, bytes, frame text), ...] in file order)."""
    best: tuple[float, list] = (0.0, [])
    snap_time, nodes, detailed = 0.0, [], False
    for line in path.read_text(errors="replace").splitlines() + ["snapshot=end"]:
        if line.startswith("snapshot="):
            if detailed and nodes and snap_time <= before_ms:
                best = (snap_time, nodes)
            snap_time, nodes, detailed = 0.0, [], False
        elif line.startswith("time="):
            snap_time = float(line.split("=")[1])
        elif line.startswith("heap_tree="):
            detailed = line.split("=")[1] in ("detailed", "peak")
        elif m := MASSIF_NODE.match(line):
            nodes.append((len(m.group(1)), int(m.group(3)), m.group(4)))
    return best


def heap_by_caller(nodes: list, files: dict[str, str]) -> dict[str, int]:
    """Heap bytes of a massif tree by allocation path: our nearest function
    and the named library calls between it and malloc, e.g.
    'http_session_new: curl_share_setopt > curl_easy_init'."""
    out: dict[str, int] = {}
    stack: list[str] = []
    for i, (depth, size, text) in enumerate(nodes):
        del stack[depth:]
        fn = text.split(" (")[0]
        stack.append(fn)
        if i + 1 < len(nodes) and nodes[i + 1][0] > depth:
            continue  # not a leaf
        path = stack[1:]  # callee (malloc's caller) first
        own = next((k for k, f in enumerate(path) if f in files), None)
        if own is None:
            label = "elsewhere (libraries, start-up)"
        else:
            libs = [f for f in reversed(path[:own]) if f != "???" and not f.startswith("in ")]
            label = path[own] + (": " + " > ".join(libs) if libs else "")
        out[label] = out.get(label, 0) + size
    return out


def memory_profile(b: Bench, client: str, users: int, hold: float) -> tuple:
    """Our worker under valgrind's massif with `users` PacedUsers (or
    FastPacedUsers): (client, users, total heap bytes, {allocation path:
    bytes}) at the end of the window."""
    cls = c_class(client, "PacedUser")
    out = b.tmp / f"massif-{cls}.out"
    log(f"memory profile: {users} {cls} ({client} client) under valgrind --tool=massif")
    run = b.locust("c", cls, users, 1.0, hold, wrap=[
        "valgrind", "-q", "--tool=massif", "--time-unit=ms", "--detailed-freq=1",
        "--max-snapshots=200", "--threshold=0.2", f"--massif-out-file={out}"])
    if not out.exists():
        return client, users, 0, {}
    _, nodes = massif_tree(out, run.window_end_s * 1000)
    total = nodes[0][1] if nodes else 0
    return client, users, total, heap_by_caller(nodes, symbol_files(WORKER_BIN))


def profiled(b: Bench, user_class: str, users: int, warmup: float, window: float,
             stacks: bool = False) -> tuple:
    """One run of our worker under perf: (LocustRun, perf rows by symbol,
    samples with their stacks if asked for)."""
    data = b.tmp / f"perf-{user_class}-{users}.data"
    log(f"profile: {users} {user_class} under perf for {window:.0f} s")
    run = b.locust("c", user_class, users, warmup, window, probe=perf_probe(data, stacks))
    rows = perf_samples(data) if data.exists() else []
    return run, rows, (perf_stacks(data) if stacks and data.exists() else [])


# --------------------------------------------------------------------------
# the report


@functools.lru_cache(maxsize=None)
def locust_version() -> str:
    r = subprocess.run([LOCUST, "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"(\d+\.\d+\.\d+)", r.stdout + r.stderr)
    return m.group(1) if m else "?"


def first_line(argv: list) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def os_release() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "?"


def machine() -> list[str]:
    """The report's header: what this ran on, with which versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    libcurl = re.search(r"libcurl/(\S+)", first_line(["curl", "--version"]))
    libzmq = first_line(["pkg-config", "--modversion", "libzmq"])
    git = first_line(["git", "-C", str(ROOT), "log", "-1", "--format=%h (%cd)", "--date=short"])
    dirty = " + uncommitted changes" if first_line(["git", "-C", str(ROOT), "status", "--porcelain",
                                                    "worker", "proto", "examples/bench"]) != "?" else ""
    return [
        f"- Machine: {os.cpu_count()} CPUs, {cpu}, {mem_gb:.0f} GB RAM; Linux {platform.release()}; "
        f"{os_release()}",
        f"- Target: {first_line([NGINX, '-v']).replace('nginx version: ', '')}, one worker process, "
        f"pinned to CPU {TARGET_CPU} with the Locust master; the load generator alone on CPU {LOAD_CPU}; "
        f"{nofile_limit()} open files per process",
        f"- Generators: {first_line(['wrk', '--version']).split(' [')[0]}; Locust {locust_version()} "
        f"(Python {platform.python_version()}); build/bench-worker at {git}{dirty}, "
        f"libcurl {libcurl.group(1) if libcurl else '?'}, libzmq {libzmq}",
    ]


def n_runs(n: int) -> str:
    return f"{n} run" + ("" if n == 1 else "s")


def fmt(v: float | None, spec: str = ".0f") -> str:
    if v is None or v != v:
        return "n/a"
    return format(v, spec)


def status(ok: bool, stretch: bool = False) -> str:
    return ("**met** (stretch met)" if stretch else "**met**") if ok else "**not met**"


def cpu_us_per_request(runs: list[dict]) -> float:
    """Median CPU time of the generator per request served, µs."""
    return median([r["cpu_pct"] / 100 / r["rps"] * 1e6 for r in runs if r["rps"] > 0])


LIKE = {"curl": ("py-http", "HttpUser"), "fast": ("py-fast", "FastHttpUser")}


def throughput_table(tp: dict) -> tuple[list[str], dict]:
    """The throughput table and {role: median req/s}."""
    labels, res = tp["labels"], tp["runs"]
    med = {role: median([r["rps"] for r in res[role]]) for role in labels}
    wrk = med["wrk"]
    lines = ["| Generator (one core) | req/s (median) | runs | generator CPU % | CPU µs per request "
             "| nginx CPU % | other load % | vs wrk | vs Locust, like for like |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for role, name in labels.items():
        runs = ", ".join(f"{r['rps']:,.0f}" for r in res[role])
        col = lambda key: median([r[key] for r in res[role]])  # noqa: E731
        like = (f"{med[role] / med[LIKE[role][0]]:.1f}x {LIKE[role][1]}" if role in LIKE else "-")
        lines.append(f"| {name} | {med[role]:,.0f} | {runs} | {col('cpu_pct'):.0f} "
                     f"| {cpu_us_per_request(res[role]):.1f} | {col('target_cpu_pct'):.0f} "
                     f"| {col('other_cpu_pct'):.0f} | {med[role] / wrk:.2f}x | {like} |")
    return lines, med


def scale_table(rows: list) -> list[str]:
    lines = ["| Worker | users | RSS MB | RSS/user KB (RSS / users) | added/user KB ((RSS - idle RSS) / users) "
             "| CPU % | spawned s | connected s | connections | max heartbeat gap s | marked missing |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for label, _, users, runs in rows:
        rss = median([r.rss_kb for r in runs])
        idle = median([r.idle_rss_kb for r in runs]) if runs[0].idle_rss_kb else None
        added = fmt((rss - idle) / users, ".1f") if idle else "n/a"
        gaps = [r.heartbeat_gap_s for r in runs if r.heartbeat_gap_s is not None]
        runs_note = f" ({len(runs)} runs)" if len(runs) > 1 else ""
        lines.append(
            f"| {label}{runs_note} | {users:,} | {rss / 1024:.1f} | {rss / users:.1f} | {added} "
            f"| {median([r.cpu_pct for r in runs]):.1f} | {fmt(median([r.spawn_s for r in runs]), '.2f')} "
            f"| {fmt(median([r.connect_s for r in runs]), '.2f')} "
            f"| {median([r.connections for r in runs]):,.0f} | {fmt(max(gaps) if gaps else None, '.2f')} "
            f"| {'yes' if any(r.missing for r in runs) else 'no'} |")
    return lines


def ms_as_us(ms: float) -> str:
    """nginx's whole-millisecond times in µs: 0 means below 1 ms."""
    return "< 1000" if ms == 0 else f"{ms * 1000:.0f}"


def fidelity_table(res: dict) -> tuple[list[str], dict]:
    """The table and {"wrk50", "wrk99", client: (median, p99)} in µs."""
    wrk50 = median([r["latency_us"].get(50) for r in res["wrk"]])
    wrk99 = median([r["latency_us"].get(99) for r in res["wrk"]])
    clients = [c for c in CLIENTS if c in res]
    target = [t for c in clients for r in res[c] for t in r.target_ms]
    target += [t for r in res["wrk"] for t in r["target_ms"]]
    lines = ["| Client (1 connection, 1 request at a time) | median µs | p99 µs "
             "| overhead vs wrk, median / p99 µs | req/s |",
             "|---|---:|---:|---:|---:|",
             f"| wrk -t1 -c1 (--latency) | {wrk50:.0f} | {wrk99:.0f} | - "
             f"| {median([r['rps'] for r in res['wrk']]):,.0f} |"]
    summary: dict = {"wrk50": wrk50, "wrk99": wrk99}
    for c in clients:
        c50 = median([percentile(r.times_us, 50) for r in res[c]])
        c99 = median([percentile(r.times_us, 99) for r in res[c]])
        summary[c] = (c50, c99)
        lines.append(f"| {c_label(c, 'TimedUser', 1)} | {c50:.0f} | {c99:.0f} "
                     f"| {round(c50 - wrk50):+d} / {round(c99 - wrk99):+d} | {median([r.rps for r in res[c]]):,.0f} |")
    lines.append(f"| nginx's own $request_time (all clients, {len(target):,} requests) "
                 f"| {ms_as_us(percentile(target, 50))} | {ms_as_us(percentile(target, 99))} "
                 f"| 1 ms resolution: {sum(1 for t in target if t == 0) / max(1, len(target)):.1%} "
                 f"logged as 0.000 s | |")
    return lines, summary


def reporting_shares(samples: list) -> dict[str, float]:
    """{part: share of the samples} for stats, master link and other."""
    files = symbol_files(WORKER_BIN)
    share = {"stats": 0, "master link": 0, "other": 0}
    for comm, frames in samples:
        share[classify(comm, frames, files)] += 1
    total = sum(share.values()) or 1
    return {part: n / total for part, n in share.items()}


def reporting_table(run: LocustRun, samples: list) -> list[str]:
    share = reporting_shares(samples)
    zmq = ", ".join(f"{k} {v:.2f}%" for k, v in sorted(run.thread_cpu.items())) or "n/a"
    lines = [f"Worker CPU over the window: {run.cpu_pct:.2f}% of a core at {run.rps:,.0f} req/s "
             f"({run.connections:,} connections open); ZeroMQ's threads (/proc): {zmq}. "
             f"{len(samples):,} perf samples with call stacks, each charged to the nearest caller in our code.",
             "",
             "| Part | share of the worker's CPU | % of a core |",
             "|---|---:|---:|"]
    for part in ("stats", "master link", "other"):
        lines.append(f"| {part} | {share[part]:.1%} | {share[part] * run.cpu_pct:.3f} |")
    return lines


def spawn_table(client: str, run: LocustRun, samples: list,
                iteration: tuple[float, int, int] | None) -> list[str]:
    """Where the worker's CPU went while the users spawned and connected."""
    total = len(samples) or 1
    longest = (f"The longest stretch of work in one loop iteration (from leaving epoll_wait to entering "
               f"it again) lasted {iteration[0] * 1000:,.0f} ms and made {iteration[1]:,} of the "
               f"{iteration[2]:,} connect() calls; timers, the heartbeat's included, only run between "
               "iterations. " if iteration else "")
    lines = [f"This run: spawned {fmt(run.spawn_s, '.2f')} s, connected {fmt(run.connect_s, '.2f')} s, "
             f"longest heartbeat gap {fmt(run.heartbeat_gap_s, '.2f')} s. {longest}"
             f"Where the worker's CPU went during perf's 8 s, from 1.5 s before the master started "
             f"({len(samples):,} samples at 999 Hz = {len(samples) / 999:.2f} s):", "",
             "| in the worker's stacks | share of samples | CPU s |", "|---|---:|---:|"]
    for frame, label in STALL_FRAMES[client] + STALL_FRAMES["both"]:
        n = sum(1 for _, frames in samples if any(sym == frame for sym, _ in frames))
        lines.append(f"| {label} | {n / total:.1%} | {n / 999:.2f} |")
    return lines


def memory_table(client: str, users: int, total: int, sites: dict[str, int], top: int = 8) -> list[str]:
    lines = [f"Heap (malloc) of the worker with {users:,} {c_class(client, 'PacedUser')}s, at the end of "
             "the window, by allocation path (our nearest function: the library calls down to malloc): "
             f"{total / users / 1024:.1f} KB per user in all.", "",
             "| allocation path | KB per user |", "|---|---:|"]
    for label, size in sorted(sites.items(), key=lambda x: -x[1])[:top]:
        lines.append(f"| `{label}` | {size / users / 1024:.2f} |")
    return lines


def profile_table(run: LocustRun, rows: list, top: int = 15) -> list[str]:
    by_dso: dict[str, float] = {}
    for pct, comm, dso, _ in rows:
        key = f"{dso} ({comm})" if comm.startswith("ZMQbg") else dso
        by_dso[key] = by_dso.get(key, 0) + pct
    lines = [f"Worker at {run.rps:,.0f} req/s, {run.cpu_pct:.0f}% CPU. By library: " +
             ", ".join(f"{d} {p:.1f}%" for d, p in sorted(by_dso.items(), key=lambda x: -x[1])[:8]) + ".",
             "", "| self % | library | symbol |", "|---:|---|---|"]
    for pct, _, dso, sym in rows[:top]:
        lines.append(f"| {pct:.1f} | {dso} | `{sym}` |")
    return lines


def goal_throughput(tp_med: dict, client: str) -> list[str]:
    """The two throughput cells of one client: vs wrk, vs Locust."""
    if client not in tp_med:
        return ["not measured", "not measured"]
    ours, wrk = tp_med[client], tp_med["wrk"]
    like_role, like_name = LIKE[client]
    like = ours / tp_med[like_role]
    vs_wrk = f"{ours / wrk:.2f}x ({ours:,.0f} vs {wrk:,.0f} req/s): {status(ours / wrk >= 0.6, ours / wrk >= 0.8)}"
    vs_py = f"{like:.1f}x {like_name} ({tp_med[like_role]:,.0f} req/s): {status(like >= 10)}"
    if client == "curl":
        vs_py += f"; {ours / tp_med['py-fast']:.1f}x FastHttpUser"
    return [vs_wrk, vs_py]


def goal_users(rows: list, client: str, max_users: int) -> list[str]:
    """The RSS, spawn and heartbeat cells of one client at max_users."""
    big = next((runs for _, c, users, runs in rows if c == client and users == max_users), None)
    if not big:
        return ["not measured"] * 3
    kb = median([r.rss_kb for r in big]) / max_users
    spawn = max(r.spawn_s or float("inf") for r in big)
    connect = max(r.connect_s or float("inf") for r in big)
    gap = max((r.heartbeat_gap_s or float("inf")) for r in big)
    missing = any(r.missing for r in big)
    return [f"{kb:.1f} KB per user: {status(kb < 10)}",
            f"spawned {spawn:.2f} s, all connected {connect:.2f} s: {status(max(spawn, connect) < 2)}",
            f"max gap {gap:.2f} s, marked missing: {'yes' if missing else 'no'}: "
            f"{status(gap < 1.5 and not missing)}"]


def goal_fidelity(fid: dict | None, client: str) -> str:
    if not fid or client not in fid:
        return "not measured"
    c50, c99 = fid[client]
    over = c50 - fid["wrk50"]
    return f"{round(over):+d} µs ({c50:.0f} vs {fid['wrk50']:.0f}; p99 {c99:.0f} vs {fid['wrk99']:.0f}): {status(over <= 50)}"


def goal_reporting(rep: dict, client: str) -> str:
    if client not in rep:
        return "not measured"
    run, _, samples = rep[client]
    share = reporting_shares(samples)
    own = share["stats"] + share["master link"]
    return (f"{own * run.cpu_pct:.3f}% of a core: stats {share['stats']:.1%} and master link "
            f"{share['master link']:.1%} of the worker's {run.cpu_pct:.1f}% ({len(samples):,} samples)")


def goals_table(res: dict, tp_med: dict | None, fid: dict | None, max_users: int,
                clients: tuple[str, ...]) -> list[str]:
    """Every goal, per client: the number and met / not met."""
    cells: dict[str, list[str]] = {}
    for c in clients:
        cells[c] = (goal_throughput(tp_med or {}, c) + goal_users(res.get("users", []), c, max_users)
                    + [goal_fidelity(fid, c), goal_reporting(res.get("reporting", {}), c)])
    goals = ["Throughput >= 0.6x wrk per core (stretch 0.8x)",
             "Throughput >= 10x Locust on the same core (like for like)",
             f"{max_users:,} users in one process, < 10 KB RSS per user (RSS / users)",
             f"all {max_users:,} spawned (and connected) in < 2 s (slowest run)",
             "heartbeats never late (every gap < 1.5 s, never marked missing)",
             "median overhead within 50 µs of wrk at light load",
             f"cost of our own reporting at {max_users:,} users"]
    head = " | ".join(f"{c} client" for c in clients)
    lines = [f"| Goal | {head} |", "|---|" + "---|" * len(clients)]
    for i, goal in enumerate(goals):
        lines.append(f"| {goal} | " + " | ".join(cells[c][i] for c in clients) + " |")
    minutes = (time.monotonic() - STARTED) / 60
    lines.append("| `make bench` in under 10 minutes (one run for both) | "
                 + " | ".join([f"{minutes:.1f} min: {status(minutes < 10)}"] * len(clients)) + " |")
    return lines


# --------------------------------------------------------------------------


def check_tools() -> None:
    missing = [str(p) for p in (WORKER_BIN, LUA_BIN, LOCUST, NGINX) if not Path(p).exists()]
    missing += [t for t in ("wrk", "taskset") if not shutil.which(t)]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}: run `make deps` (root), then `make bench`")
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench: needs 2 CPUs (target on one, load generator on the other)")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="runs per contender, throughput and fidelity (3)")
    p.add_argument("--user-reps", type=int, default=2,
                   help="runs per client at the largest users-per-process size (2; 1 at the others)")
    p.add_argument("--duration", type=float, default=10, help="throughput window, s (default 10)")
    p.add_argument("--hold", type=float, default=6, help="users-per-process window, s (default 6)")
    p.add_argument("--light", type=float, default=4, help="timing-fidelity run, s (default 4)")
    p.add_argument("--profile-window", type=float, default=4, help="perf and massif windows, s (default 4)")
    p.add_argument("--conns", type=int, default=50, help="connections / users for throughput (50)")
    p.add_argument("--users", default="1000,5000,15000", help="users per process sizes")
    p.add_argument("--python-users", type=int, default=5000,
                   help="users for the Python worker reference (0: skip)")
    p.add_argument("--clients", default=",".join(CLIENTS), help="our worker's HTTP clients: curl,fast")
    p.add_argument("--quick", action="store_true", help="1 rep, short windows: a smoke test")
    p.add_argument("--only", default="", help=f"comma-separated sections: {','.join(SECTIONS)}")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and logs")
    p.add_argument("--out", type=Path, default=RESULTS)
    a = p.parse_args()
    a.clients = tuple(c for c in CLIENTS if c in a.clients.split(","))
    if a.quick:
        a.reps, a.user_reps, a.duration, a.hold, a.light, a.profile_window = 1, 1, 4, 4, 3, 3
    return a


SECTIONS = ("throughput", "profile", "users", "memory", "spawn", "reporting", "fidelity", "lua", "ratecap",
            "https")
RATE_CAPS = (1000, 50000)  # --max-rps of the ratecap section


def run_sections(bench: Bench, args: argparse.Namespace, sizes: list[int], use_perf: bool) -> dict:
    """Every section asked for, in order; {section: its raw results}, the
    profiles as {client: result}."""
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    if not use_perf:
        log("perf does not work here: no profiles")
        only -= {"profile", "spawn", "reporting"}
    clients, res = args.clients, {}
    if "throughput" in only:
        res["throughput"] = throughput(bench, args.reps, args.conns, 2.0, args.duration, clients)
    if "profile" in only:
        res["profile"] = {c: profiled(bench, c_class(c, "BenchUser"), args.conns, 2.0, args.profile_window)
                          for c in clients}
    if "users" in only:
        res["users"] = scale(bench, args.user_reps, sizes, args.python_users, 1.0, args.hold, clients)
    if "memory" in only and shutil.which("valgrind"):
        res["memory"] = {c: memory_profile(bench, c, min(sizes), args.profile_window) for c in clients}
    if "spawn" in only:
        res["spawn"] = {c: spawn_profile(bench, c, max(sizes)) for c in clients}
    if "reporting" in only:
        res["reporting"] = {c: profiled(bench, c_class(c, "PacedUser"), max(sizes), 2.0,
                                        args.hold, stacks=True) for c in clients}
    if "fidelity" in only:
        res["fidelity"] = fidelity(bench, args.reps, args.light, clients)
    if "lua" in only:
        res["lua"] = lua_section(bench, args.reps, args.conns, 2.0, args.duration, max(sizes),
                                 args.user_reps, clients)
    if "ratecap" in only:
        res["ratecap"] = ratecap(bench, args.conns, 2.0, args.duration)
    if "https" in only:
        res["https"] = https(bench, args.reps, args.conns, max(sizes), 2.0, args.duration, args.hold, clients)
    res["other_loads"] = bench.other_loads
    return res


def quiet_line(loads: list[float]) -> str:
    """How busy the rest of the machine was during the measurement windows."""
    if not loads:
        return "- Other load: not measured"
    line = (f"- Other load: processes not started by the benchmark used {median(loads):.1f}% of a core "
            f"(median over {len(loads)} windows, max {max(loads):.1f}%)")
    if median(loads) > 5:
        line += " **(the machine was busy: the numbers are disturbed)**"
    elif max(loads) > 10:
        line += " (some windows were disturbed; the medians damp that)"
    return line


CLIENT_NOTE = ("Our worker runs each class on one of its two HTTP clients: the curl client "
               "(libcurl, the default, like Locust's HttpUser) or the fast client (its own HTTP/1.1 "
               "client on libev, like Locust's FastHttpUser; the Fast... classes). Compare like with "
               "like: curl client with HttpUser, fast client with FastHttpUser, both with wrk.")


def report_throughput(res: dict, args: argparse.Namespace) -> tuple[list[str], dict | None]:
    if "throughput" not in res:
        return [], None
    tp_lines, tp_med = throughput_table(res["throughput"])
    return ["## Throughput per core", "",
            f"Keep-alive, no wait, GET / (202 with a 55-byte JSON body). req/s = what nginx "
            f"served during a {args.duration:.0f} s window after a 2 s warm-up (its stub_status "
            "counter); CPU % over the same window; CPU µs per request = generator CPU / req/s; "
            f"{n_runs(args.reps)} per contender, interleaved.", "", *tp_lines, ""], tp_med


def report_users(res: dict, args: argparse.Namespace, sizes: list[int]) -> list[str]:
    if "users" not in res:
        return []
    return ["## Users per process", "",
            f"PacedUser (curl client) and FastPacedUser (fast client): between(5, 10), GET /; -r equal "
            f"to -u; {n_runs(args.user_reps)} per client at {max(sizes):,} users, 1 run at the other sizes "
            f"(medians; the heartbeat gap is the largest), measured over {args.hold:.0f} s starting 1 s after every user was connected. "
            "RSS (at the end) and CPU % of the worker process, all threads, from /proc; RSS/user = RSS "
            "/ users (the goal's measure); added/user = (RSS - RSS of the idle worker) / users; "
            "spawned = master log 'Sending spawn jobs' to 'All users spawned'; connected = spawn jobs "
            "sent to that many connections open at nginx; heartbeat gap = longest interval between "
            "two heartbeats the master received (its heartbeat_sent event).", "",
            *scale_table(res["users"]), ""]


def report_profiles(res: dict, args: argparse.Namespace, sizes: list[int]) -> list[str]:
    """The memory, spawn, reporting and full-throughput profiles, per client."""
    out = []
    for c, mem in res.get("memory", {}).items():
        if mem[2]:
            out += [f"## Where the memory per user goes, {c} client (valgrind massif)", "",
                    *memory_table(*mem), ""]
    for c, spawn in res.get("spawn", {}).items():
        out += [f"## What runs while {max(sizes):,} {c_class(c, 'PacedUser')}s spawn, {c} client "
                "(perf, call stacks)", "", *spawn_table(*spawn), ""]
    for c, (run, rows, samples) in res.get("reporting", {}).items():
        out += [f"## Cost of our own reporting, {c} client ({max(sizes):,} {c_class(c, 'PacedUser')}s)", "",
                *reporting_table(run, samples), "",
                "Top symbols (self time) in that run:", "", *profile_table(run, rows, top=10), ""]
    for c, (run, rows, _) in res.get("profile", {}).items():
        out += [f"## Where the worker's time goes at full throughput, {c} client "
                f"({args.conns} {c_class(c, 'BenchUser')}s, perf, {args.profile_window:.0f} s)", "",
                *profile_table(run, rows), ""]
    return out


def report(res: dict, args: argparse.Namespace, sizes: list[int]) -> str:
    out = [f"# Benchmark results ({datetime.date.today().isoformat()})", "",
           *machine(),
           f"- Command: `make bench` ({n_runs(args.reps)} per contender for throughput and fidelity, "
           f"{n_runs(args.user_reps)} per client at {max(sizes):,} users for users per process; medians; "
           f"took {(time.monotonic() - STARTED) / 60:.1f} min)",
           quiet_line(res.get("other_loads", [])), "", CLIENT_NOTE, ""]
    tp_lines, tp_med = report_throughput(res, args)
    out += tp_lines + report_users(res, args, sizes)
    fid_sum = None
    if "fidelity" in res:
        fid_lines, fid_sum = fidelity_table(res["fidelity"])
        out += ["## Timing fidelity", "",
                f"Light load: one connection, one request at a time, {args.light:.0f} s per run, "
                f"{n_runs(args.reps)} (medians). Our times are the ones the worker reports to the master, "
                "kept at full resolution (TimedUser: curl client; FastTimedUser: fast client).",
                "", *fid_lines, ""]
    https_goals = []
    if "https" in res:
        lines, https_goals = https_table(res["https"], args.conns)
        out += ["## HTTPS", "",
                f"nginx's HTTPS port, a self-signed certificate made at bench time which the worker "
                f"trusts through SSL_CERT_FILE (verified, as by default). Throughput as above "
                f"({args.duration:.0f} s window, {n_runs(args.reps)}, medians).", "", *lines, ""]
    out += report_profiles(res, args, sizes)
    out += lua_report(res, args)
    if "ratecap" in res:
        out += ["## Request-rate cap (--max-rps)", "",
                f"build/bench-worker standalone (--headless, no master), {args.conns} FastBenchUsers of "
                f"constant(0), one process on CPU 1; req/s = what nginx served during a {args.duration:.0f} s "
                "window after a 2 s warm-up; the goal is within 2 % of the cap. Cost of the cap = CPU µs "
                "per request capped minus uncapped (fewer requests per loop iteration at a low rate "
                "count in it too).", "", *ratecap_table(res["ratecap"], args.duration), ""]
    if https_goals:
        out += ["## HTTPS goals", "", "| goal | result |", "|---|---|", *https_goals, ""]
    if tp_med or fid_sum or "users" in res or "reporting" in res:
        out += ["## Goals", "", *goals_table(res, tp_med, fid_sum, max(sizes), args.clients), ""]
    return "\n".join(out)


def on_term(signum: int, _frame: object) -> None:
    """SIGTERM (or SIGINT, even where a shell ignores it): exit through the
    finally blocks, which stop every process started here."""
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    check_tools()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    os.sched_setaffinity(0, {TARGET_CPU})  # keep this script off the load CPU
    sizes = [int(s) for s in args.users.split(",") if s]
    limit = nofile_limit()
    if max(sizes) + 100 > limit:
        log(f"open-file limit {limit}: sizes above {limit - 100} users are skipped")
        sizes = [s for s in sizes if s + 100 <= limit]
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-"))
    log(f"logs in {tmp}")
    bench = None
    try:
        bench = Bench(tmp)
        res = run_sections(bench, args, sizes, perf_works())
    finally:
        if bench:
            bench.nginx.proc.stop(signal.SIGQUIT)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    log(f"done in {(time.monotonic() - STARTED) / 60:.1f} min")
    text = report(res, args, sizes)
    print(text)
    args.out.write_text(text + "\n")
    log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
