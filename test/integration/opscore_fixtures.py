"""Helpers for tests against the Ops-Core stand-in
(examples/opscore/standin): a throw-away redis-server and a stand-in uvicorn
process, each on a free loopback port, plus a small HTTP client for it.

Every process runs in its own process group, every wait is bounded, and
stop() always kills what start() started. Import these from a test module;
they are kept out of conftest.py on purpose.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
STANDIN_APP = "examples.opscore.standin.opscore_standin:app"
SAMPLE_WORKFLOW = ROOT / "examples" / "opscore" / "sample_workflow.json"
REDIS_SERVER = "/usr/bin/redis-server"
API_KEY = "test-api-key"
HTTP_TIMEOUT = 10  # seconds, for every request to the stand-in
START_TIMEOUT = 20  # seconds, for a process to become ready

NOTIFY = "/v1/opscore/internal/agent/notify"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               alive: Optional[Callable[[], bool]] = None) -> None:
    """Poll check() until it is true; fail after timeout or if alive() turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: the process exited")
        try:
            if check():
                return
        except (OSError, redis.RedisError, requests.RequestException):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what}: not ready after {timeout} s")


class Process:
    """A child process in its own process group, output to a log file."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: Optional[dict] = None,
                 cwd: Optional[Path] = None):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "wb") as out:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, cwd=cwd, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 5) -> None:
        """SIGTERM the group, then SIGKILL it if it lingers."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.popen.poll() is not None:
                return
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue


class RedisServer:
    """A fresh, non-persistent redis-server on a free loopback port."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.proc = Process(f"redis-{self.port}", [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no"], log_dir)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True,
                                  socket_timeout=HTTP_TIMEOUT)
        try:
            wait_until(self.client.ping, START_TIMEOUT, "redis-server", self.proc.alive)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        self.client.close()
        self.proc.stop()


class StandIn:
    """The stand-in under uvicorn (single worker) on a free loopback port,
    talking to the given Redis. extra_env adds or overrides variables."""

    def __init__(self, redis_port: int, log_dir: Path, extra_env: Optional[dict] = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {name: value for name, value in os.environ.items() if name != "OPSCORE_UPSTREAM_WORKFLOW_BUG"}
        env.update({"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port),
                    "OPSCORE_API_KEY": API_KEY, "LOG_LEVEL": "WARNING"})
        env.update(extra_env or {})
        self.proc = Process(f"standin-{self.port}", [
            sys.executable, "-m", "uvicorn", STANDIN_APP,
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"], log_dir, env=env, cwd=ROOT)
        self.http = requests.Session()
        try:
            wait_until(lambda: self.http.get(self.url + "/health", timeout=1).status_code == 200,
                       START_TIMEOUT, "stand-in", self.proc.alive)
        except Exception:
            log = self.proc.log()
            self.stop()
            raise RuntimeError(f"the stand-in did not start; its output:\n{log}")

    def stop(self) -> None:
        self.http.close()
        self.proc.stop()

    # -- HTTP

    def request(self, method: str, path: str, *, key: Optional[str] = API_KEY,
                authorization: Optional[str] = None, **kwargs) -> requests.Response:
        """A request with "Authorization: Bearer <key>" (key=None: no header,
        authorization=...: that exact header value). Every response must
        carry X-Process-Time with a non-negative number of seconds."""
        headers = dict(kwargs.pop("headers", {}))
        if authorization is not None:
            headers["Authorization"] = authorization
        elif key is not None:
            headers["Authorization"] = f"Bearer {key}"
        resp = self.http.request(method, self.url + path, headers=headers, timeout=HTTP_TIMEOUT, **kwargs)
        timing = resp.headers.get("X-Process-Time")
        assert timing is not None, f"no X-Process-Time on {method} {path} -> {resp.status_code}"
        assert float(timing) >= 0
        return resp

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def register(self, agent_id: Optional[str] = None, **details) -> str:
        """Register an agent (a fresh UUID4 by default); return its id."""
        agent_id = agent_id or str(uuid.uuid4())
        resp = self.post(NOTIFY, key=None, json=register_payload(agent_id, **details))
        assert resp.status_code == 200, resp.text
        return agent_id


def register_payload(agent_id: str, event_type: str = "REGISTER", **details) -> dict:
    """The notify body every upstream locustfile sends."""
    agent_details = {
        "agentId": agent_id,
        "agentName": f"LoadTestAgent-{agent_id}",
        "version": "1.0",
        "capabilities": ["state_reporting"],
        "contactEndpoint": f"http://fake-agent-{agent_id}.local/run",
        "metadata": {"load_test_user": agent_id},
        **details,
    }
    return {"event_type": event_type, "agent_details": agent_details}


def state_payload(agent_id: str, state: str = "active",
                  timestamp: str = "2025-04-21T15:16:01.894000+00:00", **extra) -> dict:
    """The POST /state body of upstream's Scenario 0 locustfile."""
    return {"agentId": agent_id, "timestamp": timestamp, "state": state,
            "details": {"load_test": True, "user": f"user-{agent_id}"}, **extra}
