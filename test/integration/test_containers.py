"""The container image and examples/opscore/compose.yaml, end to end.

make image, then the compose file with 2 C workers (alone, and with its
Python worker) on networks the test creates with --internal (no route
out): Ops-Core Scenario 3 at 1/100 of its length, headless. The master's
own CSV file (copied out of its container) must match the stand-in's own
access log: exactly with C workers alone (a stock Python worker drops
its requests in flight uncounted when the run ends, though they may have
been served). Then each deployment's worker command line on a real master.
Everything the test created (containers, networks, volumes) goes at the
end, pass or fail. Skips when Docker cannot run here (fails under CI=true).
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from docker_fixtures import (DOCKER_TIMEOUT, ROOT, InternalNetwork, build_image, compose_command,
                             docker, remove_containers, require_docker, started_at, timed_log, unique)

COMPOSE_FILE = ROOT / "examples" / "opscore" / "compose.yaml"
STATE = "/v1/opscore/agent/[id]/state"
WORKFLOW = "/v1/opscore/agent/[id]/workflow"
NOTIFY = "/v1/opscore/internal/agent/notify"
ACCESS = re.compile(r'"(GET|POST) (/v1/\S+) HTTP/1\.1" (\d+)')
# a stock Python worker (requests) sometimes sends on a keep-alive connection
# the stand-in (uvicorn, 5 s idle timeout) has just closed, and reports it;
# those never reach the service (the C worker sends them again, counted once)
PYTHON_RACE = ("ConnectionResetError", "RemoteDisconnected", "ConnectionAbortedError")
RUN_TIMEOUT = 90   # seconds for the whole headless run, workers included


@pytest.fixture(scope="module")
def image():
    require_docker()
    return build_image()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComposeProject:
    """examples/opscore/compose.yaml as one project, its two networks
    replaced by internal networks this test created."""

    def __init__(self, tmp_path: Path, image: str, env: dict):
        self.name = unique("lwtest").replace("-", "")
        self.nets = {"load": InternalNetwork(), "ui": InternalNetwork()}
        override = tmp_path / "compose.internal.yaml"
        override.write_text("networks:\n" + "".join(
            f"  {key}:\n    external: true\n    name: {net.name}\n" for key, net in self.nets.items()))
        self.base = compose_command() + ["-p", self.name, "-f", str(COMPOSE_FILE), "-f", str(override)]
        self.env = dict(os.environ, LW_IMAGE=image, WEB_PORT=str(free_port()), **env)

    def run(self, *args: str, timeout: float = DOCKER_TIMEOUT) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.base + list(args), env=self.env, cwd=COMPOSE_FILE.parent,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"{' '.join(args)}: {proc.stderr[-2000:]}"
        return proc

    def containers(self, service: str) -> list[str]:
        return self.run("ps", "-q", service).stdout.split()

    def down(self) -> None:
        try:
            subprocess.run(self.base + ["down", "-v", "--remove-orphans", "-t", "5"], env=self.env,
                           cwd=COMPOSE_FILE.parent, capture_output=True, timeout=DOCKER_TIMEOUT)
        finally:
            remove_containers(f"com.docker.compose.project={self.name}")
            for net in self.nets.values():
                net.remove()


def exit_code(container: str) -> int | None:
    """The container's exit code, None while it runs."""
    state = docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container).stdout.split()
    return int(state[1]) if state[0] == "exited" else None


def wait_exited(container: str, timeout: float, watch: str | None = None) -> int:
    """The container's exit code once it has exited; fails after timeout,
    or at once if the container `watch` exits with an error meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = exit_code(container)
        if code is not None:
            return code
        if watch and exit_code(watch) not in (None, 0):
            pytest.fail(f"{watch} exited {exit_code(watch)}:\n{logs(watch)[-2000:]}", pytrace=False)
        time.sleep(1)
    pytest.fail(f"container {container} still running after {timeout} s", pytrace=False)


def logs(container: str) -> str:
    proc = docker("logs", container)
    return proc.stdout + proc.stderr


def master_stats(master: str, tmp_path: Path) -> tuple[dict, list]:
    """The master's own CSV files, copied out of its (stopped) container."""
    for name in ("opscore_stats.csv", "opscore_failures.csv"):
        docker("cp", f"{master}:/tmp/{name}", str(tmp_path / name))
    with open(tmp_path / "opscore_stats.csv", newline="") as f:
        stats = {(r["Type"], r["Name"]): r for r in csv.DictReader(f)}
    with open(tmp_path / "opscore_failures.csv", newline="") as f:
        failures = list(csv.DictReader(f))
    return stats, failures


@pytest.mark.parametrize("python_workers", [0, 1], ids=["c-only", "mixed"])
def test_compose_scenario3_counts_match_standin(python_workers, image, tmp_path):
    """2 C workers, alone or with the compose file's Python worker."""
    # Scenario 3 at 1/100: 20 -> 300 users in 3 s, 18 s at 300, then the
    # headless master quits and so do its workers
    workers = 2 + python_workers
    project = ComposeProject(tmp_path, image, {"SCENARIO": "3", "TIME_SCALE": "0.01",
                                               "HEADLESS": "true", "EXPECT_WORKERS": str(workers)})
    try:
        project.run("up", "-d", "--scale", "c-worker=2", "--scale", f"py-worker={python_workers}")
        master, = project.containers("master")
        c_workers = project.containers("c-worker")
        assert len(c_workers) == 2
        all_workers = c_workers + project.containers("py-worker")
        master_exit = wait_exited(master, RUN_TIMEOUT)
        master_log = logs(master)
        assert f"{workers} workers connected" in master_log, master_log[-3000:]
        for worker in all_workers:   # each quits when the master does
            assert wait_exited(worker, 20) == 0, logs(worker)[-3000:]
        stats, failures = master_stats(master, tmp_path)
        # a headless master exits 1 after any failure: in a mixed fleet that
        # may be the Python worker's keep-alive race (checked below)
        python_races = python_workers and failures and all(
            any(k in r["Error"] for k in PYTHON_RACE) for r in failures)
        assert master_exit == (1 if python_races else 0), master_log[-3000:]
        opscore, = project.containers("opscore")
        time.sleep(0.5)   # the last access lines
        served = [m for m in ACCESS.finditer(logs(opscore))]
        c_logs = [logs(w) for w in c_workers]
    finally:
        project.down()

    # both C workers ran users; the master split 300 users over the workers
    for text in c_logs:
        users = [int(n) for n in re.findall(r"Spawning complete: (\d+) users", text)]
        assert users and 0 < max(users) < 300, text[-2000:]
    posts = int(stats[("POST", STATE)]["Request Count"])
    gets = int(stats[("GET", STATE)]["Request Count"])
    flows = int(stats[("POST", WORKFLOW)]["Request Count"])
    tasks = posts + gets + flows
    assert tasks > 500, stats
    assert abs(posts / tasks - 0.80) < 0.04, (posts, gets, flows)
    assert abs(gets / tasks - 0.15) < 0.04, (posts, gets, flows)
    assert int(stats[("POST", NOTIFY)]["Request Count"]) >= 300   # one per user
    assert all(m.group(3) in ("200", "202") for m in served)
    total = stats[("", "Aggregated")]
    counted = int(total["Request Count"])
    if not python_workers:
        # C workers count exactly what the service served
        assert int(total["Failure Count"]) == 0, failures
        assert counted == len(served)
        return
    # a stock Python worker's failures here are its keep-alive races, which
    # never reach the service; and at the end it drops its requests in
    # flight uncounted, but they may have been served: at most one per user
    assert all(any(k in r["Error"] for k in PYTHON_RACE) for r in failures), failures
    reached = counted - int(total["Failure Count"])
    assert reached <= len(served) <= reached + 300, (counted, total["Failure Count"], len(served))


# --------------------------------------------------------------------------
# one worker container on a real master: the command lines deployments use

HELLO = "examples/hello/locustfile.py"
VECTORS = {
    # AbdelrhmanHamouda/locust-k8s-operator: <worker.command> --worker
    # --master-port=5557 --master-host=<service> [extraArgs], as args
    "k8s-operator": ([], ["--locustfile", "/lotest/src/locustfile.py", "--worker", "--master-port=5557",
                          "--master-host=master"], {}),
    # locustio's operator: --worker --master-host <service>, then the
    # master's own arguments
    "locust-operator": ([], ["--worker", "--master-host", "master", "-f", "x.py", "--headless", "--users",
                             "300", "--spawn-rate", "10", "--run-time", "5m"], {}),
    # deliveryhero stable/locust: sh /config/docker-entrypoint.sh --worker,
    # that script execs loadtest.locustCmd "$@"; settings in LOCUST_* env
    "chart": (["--entrypoint", "sh"], ["-c", 'set -eu; exec /usr/local/bin/locust $@', "sh", "--worker"],
              {"LOCUST_HOST": "http://target:8000", "LOCUST_MASTER_NODE_HOST": "master",
               "LOCUST_MASTER_NODE_PORT": "5557", "LOCUST_LOGLEVEL": "INFO",
               "LOCUST_LOCUSTFILE": "/mnt/locust/main.py"}),
    # no arguments at all: LOCUST_MODE_WORKER=true picks the worker
    "env-only": ([], [], {"LOCUST_MODE_WORKER": "true", "LOCUST_MASTER_NODE_HOST": "master"}),
}
SERVED = re.compile(r'"GET / HTTP/1\.[01]" 200')


class Containers:
    """Containers on one internal network, all removed by remove()."""

    def __init__(self, image: str):
        self.image = image
        self.net = InternalNetwork()
        self.label = f"lw-run={self.net.name}"
        self.names: dict[str, str] = {}

    def start(self, alias: str, args: list[str], env: dict | None = None, opts: list[str] | None = None) -> str:
        name = f"{self.net.name}-{alias}"
        env_opts = [x for k, v in (env or {}).items() for x in ("-e", f"{k}={v}")]
        docker("run", "-d", "--name", name, "--label", "lw-test=1", "--label", self.label,
               "--network", self.net.name, "--network-alias", alias, *env_opts, *(opts or []),
               self.image, *args)
        self.names[alias] = name
        return name

    def target(self) -> str:
        """python's http.server: one access-log line per request served."""
        return self.start("target", ["-m", "http.server", "8000"], opts=["--entrypoint", "python"])

    def remove(self) -> None:
        remove_containers(self.label)
        self.net.remove()


@pytest.mark.parametrize("vector", list(VECTORS))
def test_deployment_command_lines_run_a_test(vector, image, tmp_path):
    """Each deployment's exact worker argv and env, through the image's
    entrypoint: the C worker joins a headless master, runs its users and
    quits with it; the master's count equals what the target served."""
    opts, args, env = VECTORS[vector]
    run = Containers(image)
    try:
        target = run.target()
        master = run.start("master", ["-f", HELLO, "--master", "--headless", "-u", "4", "-r", "4", "-t", "6s",
                                      "--expect-workers", "1", "--host", "http://target:8000", "--csv", "/tmp/m"])
        worker = run.start("worker", args, env={"LW_WORKER": "hello", **env}, opts=opts)
        assert wait_exited(master, 60, watch=worker) == 0, logs(master)[-3000:] + logs(worker)[-3000:]
        assert wait_exited(worker, 20) == 0, logs(worker)[-3000:]
        docker("cp", f"{master}:/tmp/m_stats.csv", str(tmp_path / "m_stats.csv"))
        served = len(SERVED.findall(logs(target)))
        worker_log = logs(worker)
    finally:
        run.remove()
    assert "Starting Locust worker" in worker_log, worker_log   # the C worker, not Python's
    with open(tmp_path / "m_stats.csv", newline="") as f:
        total = {r["Name"]: r for r in csv.DictReader(f)}["Aggregated"]
    assert int(total["Failure Count"]) == 0, total
    assert int(total["Request Count"]) == served > 0


def test_worker_container_registers_and_quits_on_sigterm(image):
    """A fresh worker container registers with a running master; docker stop
    (SIGTERM) reaches the worker, which tells the master it quits and exits
    0 well before docker's SIGKILL. Prints the start-to-registered time."""
    run = Containers(image)
    try:
        master = run.start("master", ["-f", HELLO, "--master"])
        wait_for_line(master, "Starting web interface", 30)
        before_run = datetime.now(timezone.utc)
        worker = run.start("worker", ["--worker", "--master-host", "master"], env={"LW_WORKER": "hello"})
        node = wait_for_line(worker, "connecting to master:5557 as ", 15)[1].split(" as ")[-1].strip()
        ready = wait_for_line(master, f"{node} (index 0) reported as ready", 15)
        registered_s = (ready[0] - started_at(worker)).total_seconds()
        run_to_registered_s = (ready[0] - before_run).total_seconds()
        t0 = time.monotonic()
        docker("stop", "-t", "10", worker)
        stop_s = time.monotonic() - t0
        exit_code = int(docker("inspect", "-f", "{{.State.ExitCode}}", worker).stdout)
        quit_line = wait_for_line(master, f"Worker '{node}' (index 0) quit", 10)
    finally:
        run.remove()
    print(f"\nworker container: start to registered {registered_s:.2f} s "
          f"(docker run to registered {run_to_registered_s:.2f} s), docker stop {stop_s:.2f} s")
    assert exit_code == 0 and stop_s < 5, (exit_code, stop_s)
    assert registered_s < 10
    assert quit_line


def wait_for_line(container: str, text: str, timeout: float):
    """The first (time, line) of the container's output containing text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for stamp, line in timed_log(container):
            if text in line:
                return stamp, line
        time.sleep(0.2)
    pytest.fail(f"no line {text!r} from {container} within {timeout} s:\n{logs(container)[-2000:]}",
                pytrace=False)
