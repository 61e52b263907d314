"""The container image and examples/opscore/compose.yaml, end to end.

make image, then the compose file with 2 C workers and one Python worker
on networks the test creates with --internal (no route out): Ops-Core
Scenario 3 at 1/100 of its length, headless. The master's own CSV file
(copied out of its container) must match the stand-in's own access log.
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
from pathlib import Path

import pytest

from docker_fixtures import (DOCKER_TIMEOUT, ROOT, InternalNetwork, build_image, compose_command,
                             docker, remove_containers, require_docker, unique)

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


def wait_exited(container: str, timeout: float) -> int:
    """The container's exit code once it has exited; fails after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container).stdout.split()
        if state[0] == "exited":
            return int(state[1])
        time.sleep(1)
    pytest.fail(f"container {container[:12]} still running after {timeout} s", pytrace=False)


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


def test_compose_scenario3_counts_match_standin(image, tmp_path):
    # Scenario 3 at 1/100: 20 -> 300 users in 3 s, 18 s at 300, then the
    # headless master quits and so do its workers
    project = ComposeProject(tmp_path, image, {"SCENARIO": "3", "TIME_SCALE": "0.01",
                                               "HEADLESS": "true", "EXPECT_WORKERS": "3"})
    try:
        project.run("up", "-d", "--scale", "c-worker=2")
        master, = project.containers("master")
        c_workers = project.containers("c-worker")
        assert len(c_workers) == 2
        py_worker, = project.containers("py-worker")
        master_exit = wait_exited(master, RUN_TIMEOUT)
        master_log = logs(master)
        assert master_exit == 0, master_log[-3000:]
        assert "3 workers connected" in master_log, master_log[-3000:]
        for worker in c_workers + [py_worker]:   # each quits when the master does
            assert wait_exited(worker, 20) == 0, logs(worker)[-3000:]
        stats, failures = master_stats(master, tmp_path)
        opscore, = project.containers("opscore")
        time.sleep(0.5)   # the last access lines
        served = [m for m in ACCESS.finditer(logs(opscore))]
        c_logs = [logs(w) for w in c_workers]
    finally:
        project.down()

    # both C workers ran users; the master split 300 users over 3 workers
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
    assert all(any(k in r["Error"] for k in PYTHON_RACE) for r in failures), failures
    total = stats[("", "Aggregated")]
    # every request the master counted reached the stand-in, except the
    # Python worker's races above, which never left its side
    assert int(total["Request Count"]) - int(total["Failure Count"]) == len(served)
    assert all(m.group(3) in ("200", "202") for m in served)
