"""Tests of examples/opscore/locustfile.py: the Ops-Core scenarios' load
shapes, class selection, request bodies and failure texts, and a smoke run of
each shape on real headless masters.

Run with a Python that has Locust installed (the project's venv):

    .venv/bin/python -m pytest test/integration/test_opscore_shapes.py

What is tested:
  * the profiles as pure functions (users_at, spawn_rate, duration_s),
    time-scaled: user counts at the key times, linear and monotonic ramps,
    the end (None), Scenario 4's steps;
  * OpsCoreShape.tick() with fake runner/environment/stats objects: the
    profile, the class it selects, Scenario 4's stop rule (average response
    time of a critical endpoint over 2 s, overall error rate over 5%, both
    judged over the current step) and the one log line at the stop;
  * the master's dispatcher (this Locust and Debian's 2.12.1) gives the
    selected class all users and every other class 0, naming all four;
  * the requests a user sends, against a small recording HTTP stub started
    here: notify body, agentId equal to the path id, the workflow wrapper,
    the Bearer header, request names, "HTTP <status>: <detail>" failures, and
    that the API key never reaches a log;
  * a smoke run per master (this venv's Locust, Debian's /usr/bin/locust 2.12.1)
    with a Python worker, --scenario 0 --time-scale 0.03, against the stub: the
    user count follows the shape and the master ends the run by itself; and
    --scenario 4 against a stub that fails every request: the stress shape
    stops itself at its first level and logs why.

Every process started here runs in its own process group and is killed at
teardown. Every wait is bounded.
"""

import argparse
import csv
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

# conftest.py has imported requests (and so ssl) already; gevent's monkey
# patching that "import locust" does would now break ssl. Nothing here needs
# gevent: users are called directly, the dispatcher only yields its first
# spawn. The variable is removed again so child processes patch as usual.
_skip_patch_was_set = "LOCUST_SKIP_MONKEY_PATCH" in os.environ
os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
try:
    locust = pytest.importorskip("locust", reason="needs Locust installed (use the project's venv)")
finally:
    if not _skip_patch_was_set:
        del os.environ["LOCUST_SKIP_MONKEY_PATCH"]

from locust.env import Environment  # noqa: E402
from locust.util.load_locustfile import is_shape_class, is_user_class  # noqa: E402

from conftest import need_tool  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "examples" / "opscore" / "locustfile.py"
SAMPLE_WORKFLOW = ROOT / "examples" / "opscore" / "sample_workflow.json"
DEBIAN_LOCUST = Path("/usr/bin/locust")
DEBIAN_PYTHON = Path("/usr/bin/python3")

# Debian's Locust 2.12.1 as a worker: its __version__ is "", which its own
# master rejects. Give it one, then run Locust's main().
DEBIAN_WORKER_WRAPPER = (
    "import sys, locust.runners; locust.runners.__version__ = '2.12.1'; "
    "sys.argv[0] = 'locust'; from locust.main import main; main()"
)

STUB_KEY = "stub-key-7d1f0c2e9b"  # what the stub accepts; distinctive, to grep logs for

CLASS_NAMES = ["MixedUser", "QuickStateUser", "StateUpdateUser", "WorkflowUser"]
EXPECTED_CLASS = {0: "QuickStateUser", 1: "StateUpdateUser", 2: "WorkflowUser", 3: "MixedUser", 4: "MixedUser"}
# (start, peak, ramp s, hold s) at time scale 1, from the plan
PROFILES = {0: (1, 5, 60, 240), 1: (10, 500, 300, 900), 2: (10, 100, 180, 900), 3: (20, 300, 300, 1800)}

NAME_STATE = "/v1/opscore/agent/[id]/state"
NAME_WORKFLOW = "/v1/opscore/agent/[id]/workflow"
NAME_NOTIFY = "/v1/opscore/internal/agent/notify"


def load_module():
    spec = importlib.util.spec_from_file_location("opscore_locustfile", LOCUSTFILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


lf = load_module()


# --------------------------------------------------------------------------
# processes and the recording stub

# A stand-in for Ops-Core's routes, just enough for the locustfile: notify
# 200 (no auth), POST state 202, GET state 200, POST workflow 202, 401 with
# Ops-Core's detail for a wrong key. Every request is appended to a JSON-lines
# file (method, path, body, whether the Bearer key was right: never the key).
STUB_SERVER = r"""
import json, os, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1], sys.argv[2]
key = os.environ["STUB_API_KEY"]
lock = threading.Lock()
agent_re = re.compile(r"^/v1/opscore/agent/([^/]+)/(state|workflow)$")

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        auth_ok = self.headers.get("Authorization") == "Bearer " + key
        with lock, open(log_file, "a") as f:
            f.write(json.dumps({"method": method, "path": self.path, "body": body, "auth_ok": auth_ok,
                                "content_type": self.headers.get("Content-Type")}) + "\n")
        m = agent_re.match(self.path)
        if os.environ.get("STUB_MODE") == "fail":
            status, out = 500, {"detail": "Internal Server Error"}
        elif method == "POST" and self.path == "/v1/opscore/internal/agent/notify":
            status, out = 200, {"status": "success", "message": "registered"}
        elif m is None:
            status, out = 404, {"detail": "Not Found"}
        elif not auth_ok:
            status, out = 401, {"detail": "Invalid authentication credentials"}
        elif m.group(2) == "state" and method == "POST":
            status, out = 202, {"status": "success", "message": "State update accepted"}
        elif m.group(2) == "state" and method == "GET":
            status, out = 200, {"agentId": m.group(1), "state": "UNKNOWN", "details": None,
                                "timestamp": "2025-01-01T00:00:00Z"}
        elif m.group(2) == "workflow" and method == "POST":
            status, out = 202, {"sessionId": "s", "workflowId": "sample_workflow_id",
                                "message": "Workflow triggered successfully"}
        else:
            status, out = 405, {"detail": "Method Not Allowed"}
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

ThreadingHTTPServer.request_queue_size = 1024
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
"""


class Procs:
    """Child processes, each in its own process group, output in files."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, argv: list, env: dict | None = None) -> subprocess.Popen:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        if not _skip_patch_was_set:
            full_env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
        with open(self.log_dir / f"{name}.out", "wb") as out:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                cwd=ROOT,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def kill_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def procs(tmp_path):
    p = Procs(tmp_path)
    yield p
    p.kill_all()


class Stub:
    def __init__(self, procs: Procs, tmp_path: Path, mode: str = "ok"):
        self.log_file = tmp_path / "stub-requests.jsonl"
        port_file = tmp_path / "stub.port"
        self.proc = procs.start(
            "stub",
            [sys.executable, "-c", STUB_SERVER, port_file, self.log_file],
            env={"STUB_API_KEY": STUB_KEY, "STUB_MODE": mode},
        )
        deadline = time.monotonic() + 10
        while not port_file.exists():
            assert self.proc.poll() is None, "stub server died"
            assert time.monotonic() < deadline, "stub server did not start within 10 s"
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{int(port_file.read_text())}"

    def requests(self) -> list[dict]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines() if line.strip()]


@pytest.fixture
def stub(procs, tmp_path):
    return Stub(procs, tmp_path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# fakes for the shape: just what OpsCoreShape reads


class FakeEntry:
    def __init__(self, requests=0, failures=0, avg_ms=0.0):
        self.num_requests = requests
        self.num_failures = failures
        self.total_response_time = avg_ms * requests

    def add(self, requests, failures=0, avg_ms=10.0):
        self.num_requests += requests
        self.num_failures += failures
        self.total_response_time += avg_ms * requests


class FakeStats:
    """entries keyed by (name, method), like locust's RequestStats; total is
    kept as the sum of the entries."""

    def __init__(self):
        self.entries: dict = {}
        self.total = FakeEntry()

    def add(self, method, name, requests, failures=0, avg_ms=10.0):
        self.entries.setdefault((name, method), FakeEntry()).add(requests, failures, avg_ms)
        self.total.add(requests, failures, avg_ms)

    def healthy_traffic(self, seconds=60):
        """A minute of MixedUser-like traffic at 100 RPS: fast, 1% failures."""
        n = 100 * seconds
        self.add("POST", NAME_STATE, int(n * 0.80), failures=int(n * 0.01), avg_ms=50)
        self.add("GET", NAME_STATE, int(n * 0.15), avg_ms=30)
        self.add("POST", NAME_WORKFLOW, int(n * 0.05), avg_ms=120)


class FakeRunner:
    def __init__(self, scenario=None, time_scale=None, user_count=0):
        options = argparse.Namespace()
        if scenario is not None:
            options.scenario = scenario
        if time_scale is not None:
            options.time_scale = time_scale
        self.environment = argparse.Namespace(parsed_options=options)
        self.stats = FakeStats()
        self.user_count = user_count


def make_shape(scenario, time_scale=1.0, user_count=0):
    shape = lf.OpsCoreShape()
    shape.runner = FakeRunner(scenario, time_scale, user_count)
    shape.now = 0.0
    shape.get_run_time = lambda: shape.now
    return shape


def tick_at(shape, t):
    shape.now = t
    return shape.tick()


# --------------------------------------------------------------------------
# profiles as pure functions


@pytest.mark.parametrize("scenario", [0, 1, 2, 3])
@pytest.mark.parametrize("ts", [1.0, 0.01])
def test_ramp_and_hold_key_times(scenario, ts):
    start, peak, ramp, hold = PROFILES[scenario]
    users = lambda t: lf.users_at(scenario, t * ts, ts)  # noqa: E731  (t in unscaled seconds)
    assert users(0) == start
    assert users(ramp / 2) == start + (peak - start) // 2
    assert users(ramp * 0.999) < peak
    assert users(ramp) == peak
    assert users(ramp + hold / 2) == peak
    assert users(ramp + hold - 1) == peak
    assert users(ramp + hold) is None
    assert users(ramp + hold + 1000) is None
    assert lf.duration_s(scenario, ts) == pytest.approx((ramp + hold) * ts)


@pytest.mark.parametrize("scenario", [0, 1, 2, 3])
def test_ramps_are_linear_and_monotonic(scenario):
    start, peak, ramp, hold = PROFILES[scenario]
    ts = 0.05
    previous = start
    for i in range(2000):
        t = i * (ramp + hold) * ts / 2000
        u = lf.users_at(scenario, t, ts)
        assert u is not None and start <= u <= peak
        assert u >= previous, f"ramp goes down at t={t}"
        if t < ramp * ts:
            exact = start + (peak - start) * t / (ramp * ts)
            assert exact - 1 < u <= exact + 1e-9
        previous = u


@pytest.mark.parametrize("scenario", [0, 1, 2, 3])
@pytest.mark.parametrize("ts", [1.0, 0.1, 0.01])
def test_spawn_rate_follows_the_ramp(scenario, ts):
    start, peak, ramp, _hold = PROFILES[scenario]
    rate = lf.spawn_rate(scenario, ts)
    assert rate >= 1
    assert rate >= (peak - start) / (ramp * ts)  # the master keeps up with the ramp
    assert rate >= start  # the opening users start within about a second


def test_stress_steps():
    for ts in (1.0, 0.01):
        step = 300 * ts
        assert lf.users_at(4, 0, ts) == 300
        assert lf.users_at(4, step * 0.999, ts) == 300
        assert lf.users_at(4, step, ts) == 350
        assert lf.users_at(4, step * 2.5, ts) == 400
        assert lf.users_at(4, step * 10, ts) == 800
    assert lf.duration_s(4) is None
    assert lf.spawn_rate(4, 1.0) == 50
    assert lf.spawn_rate(4, 0.01) == pytest.approx(5000)


# --------------------------------------------------------------------------
# the shape: profile and class selection


def test_module_has_four_user_classes_and_one_shape():
    users = sorted(name for name, value in vars(lf).items() if is_user_class(value))
    assert users == CLASS_NAMES
    shapes = [name for name, value in vars(lf).items() if is_shape_class(value)]
    assert shapes == ["OpsCoreShape"]
    for name in CLASS_NAMES:
        assert getattr(lf, name).weight == 1
    for name, (lo, hi) in {"QuickStateUser": (1, 2), "StateUpdateUser": (5, 10), "WorkflowUser": (30, 60),
                           "MixedUser": (1, 5)}.items():
        samples = [getattr(lf, name).wait_time(None) for _ in range(200)]
        assert lo <= min(samples) and max(samples) <= hi


def test_mixed_user_task_weights():
    tasks = [t.__name__ for t in lf.MixedUser.tasks]
    assert tasks.count("state_update") == 80
    assert tasks.count("state_read") == 15
    assert tasks.count("trigger_workflow") == 5


@pytest.mark.parametrize("scenario", [0, 1, 2, 3])
def test_shape_follows_profile_and_stops(scenario):
    start, peak, ramp, hold = PROFILES[scenario]
    ts = 0.01
    shape = make_shape(scenario, ts)
    rate = lf.spawn_rate(scenario, ts)
    cls = getattr(lf, EXPECTED_CLASS[scenario])
    assert tick_at(shape, 0) == (start, rate, [cls])
    assert tick_at(shape, ramp * ts / 2) == (start + (peak - start) // 2, rate, [cls])
    assert tick_at(shape, ramp * ts) == (peak, rate, [cls])
    assert tick_at(shape, (ramp + hold) * ts - 0.01) == (peak, rate, [cls])
    assert tick_at(shape, (ramp + hold) * ts) is None
    assert tick_at(shape, 0) is None  # stays stopped until the next test starts
    shape.reset_time()
    shape.get_run_time = lambda: shape.now
    assert tick_at(shape, 0) == (start, rate, [cls])


@pytest.mark.parametrize("scenario", [0, 1, 2, 3, 4])
def test_shape_selects_one_class(scenario):
    result = make_shape(scenario).tick()
    assert [c.__name__ for c in result[2]] == [EXPECTED_CLASS[scenario]]


def test_scenario_from_env_when_options_lack_it(monkeypatch):
    monkeypatch.setenv("OPSCORE_SCENARIO", "2")
    monkeypatch.setenv("OPSCORE_TIME_SCALE", "0.5")
    shape = make_shape(None, None)
    users, rate, classes = shape.tick()
    assert (users, classes) == (10, [lf.WorkflowUser])
    assert shape.time_scale == 0.5
    monkeypatch.delenv("OPSCORE_SCENARIO")
    monkeypatch.delenv("OPSCORE_TIME_SCALE")
    shape = make_shape(None, None)
    assert shape.tick()[2] == [lf.QuickStateUser]  # the default is Scenario 0
    assert shape.time_scale == 1.0


def test_command_line_options():
    parser = locust.argument_parser.get_parser()
    args = parser.parse_args(["-f", str(LOCUSTFILE), "--scenario", "3", "--time-scale", "0.1"])
    assert (args.scenario, args.time_scale) == (3, 0.1)
    with pytest.raises(SystemExit):
        parser.parse_args(["-f", str(LOCUSTFILE), "--scenario", "5"])
    with pytest.raises(SystemExit):
        parser.parse_args(["-f", str(LOCUSTFILE), "--time-scale", "0"])


def test_dispatcher_names_every_class_on_this_locust():
    from locust.dispatch import UsersDispatcher
    from locust.runners import WorkerNode

    classes = [getattr(lf, n) for n in CLASS_NAMES]
    for scenario in range(5):
        _users, _rate, selected = make_shape(scenario).tick()
        dispatcher = UsersDispatcher(worker_nodes=[WorkerNode("a"), WorkerNode("b")], user_classes=classes)
        dispatcher.new_dispatch(target_user_count=6, spawn_rate=6, user_classes=selected)
        spawn = next(iter(dispatcher))
        for worker in ("a", "b"):
            expected = {n: 0 for n in CLASS_NAMES}
            expected[EXPECTED_CLASS[scenario]] = 3
            assert spawn[worker] == expected


DISPATCH_CHECK = r"""
import importlib.util, json, sys
from locust.dispatch import UsersDispatcher
from locust.runners import WorkerNode
spec = importlib.util.spec_from_file_location("opscore_locustfile", sys.argv[1])
m = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = m
spec.loader.exec_module(m)
classes = [m.QuickStateUser, m.StateUpdateUser, m.WorkflowUser, m.MixedUser]
out = {}
for scenario in range(5):
    d = UsersDispatcher(worker_nodes=[WorkerNode("a")], user_classes=classes)
    d.new_dispatch(target_user_count=4, spawn_rate=4, user_classes=[m.SCENARIOS[scenario].user_class])
    out[scenario] = next(iter(d))["a"]
print(json.dumps(out))
"""


def test_dispatcher_names_every_class_on_debian_2_12_1():
    need_tool(DEBIAN_PYTHON.exists() and DEBIAN_LOCUST.exists(), "Debian's Locust (/usr/bin/locust)")
    out = subprocess.run(
        [str(DEBIAN_PYTHON), "-c", DISPATCH_CHECK, str(LOCUSTFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    spawns = json.loads(out.stdout.strip().splitlines()[-1])
    for scenario in range(5):
        expected = {n: 0 for n in CLASS_NAMES}
        expected[EXPECTED_CLASS[scenario]] = 4
        assert spawns[str(scenario)] == expected


# --------------------------------------------------------------------------
# Scenario 4's stop rule


def test_stress_healthy_keeps_stepping(caplog):
    caplog.set_level(logging.INFO, logger="opscore")
    ts = 0.01
    step = 300 * ts
    shape = make_shape(4, ts, user_count=300)
    rate = lf.spawn_rate(4, ts)
    assert tick_at(shape, 0) == (300, rate, [lf.MixedUser])
    for k in range(1, 6):
        shape.runner.stats.healthy_traffic()
        assert tick_at(shape, k * step - 0.001) == (300 + 50 * (k - 1), rate, [lf.MixedUser])
        assert tick_at(shape, k * step) == (300 + 50 * k, rate, [lf.MixedUser])
    assert "stopping" not in caplog.text
    assert "step 0 (300 users) done" in caplog.text


def run_until_stop(shape, slow_step, add_bad_traffic, ts=0.01):
    """Healthy steps, then bad traffic in step slow_step; returns the tick
    results of the step in which the traffic went bad."""
    step = 300 * ts
    tick_at(shape, 0)
    for k in range(slow_step):
        shape.runner.stats.healthy_traffic()
        assert tick_at(shape, (k + 1) * step) is not None
    shape.runner.user_count = 300 + 50 * slow_step
    shape.runner.stats.healthy_traffic(seconds=1)
    assert tick_at(shape, slow_step * step + step / 3) is not None  # still healthy
    add_bad_traffic(shape.runner.stats)
    return tick_at(shape, slow_step * step + step / 2)


def stop_lines(caplog):
    return [r.getMessage() for r in caplog.records if "stopping at" in r.getMessage()]


@pytest.mark.parametrize("method,name", [("POST", NAME_STATE), ("GET", NAME_STATE), ("POST", NAME_WORKFLOW)])
def test_stress_stops_when_a_critical_endpoint_is_slow(caplog, method, name):
    caplog.set_level(logging.INFO, logger="opscore")
    shape = make_shape(4, 0.01)

    def slow(stats):
        # enough slow requests to pull this step's average of that endpoint over 2 s
        stats.add(method, name, 500, avg_ms=12000)

    assert run_until_stop(shape, 1, slow) is None
    lines = stop_lines(caplog)
    assert len(lines) == 1
    assert "at 350 users (350 running)" in lines[0]
    assert re.search(r"\d+\.\d RPS", lines[0])
    assert f"average response time of {method} {name}" in lines[0]
    assert "\n" not in lines[0]
    assert tick_at(shape, 100) is None  # stays stopped


def test_stress_stops_on_error_rate(caplog):
    caplog.set_level(logging.INFO, logger="opscore")
    shape = make_shape(4, 0.01)

    def failing(stats):
        stats.add("POST", NAME_STATE, 2000, failures=2000, avg_ms=5)

    assert run_until_stop(shape, 2, failing) is None
    lines = stop_lines(caplog)
    assert len(lines) == 1
    assert "at 400 users" in lines[0]
    assert "error rate" in lines[0] and "> 5%" in lines[0]
    assert "average response time" not in lines[0]


def test_stress_thresholds_are_strict_and_need_samples():
    key_state = ("POST", NAME_STATE)
    ok = {key_state: lf.Counters(100, 0, 100 * 2000.0), lf.TOTAL: lf.Counters(100, 5, 100 * 2000.0)}
    assert lf.stop_reasons(ok) == []  # exactly 2 s and exactly 5% are still fine
    slow = {key_state: lf.Counters(100, 0, 100 * 2001.0), lf.TOTAL: lf.Counters(100, 0, 100 * 2001.0)}
    assert len(lf.stop_reasons(slow)) == 1
    failing = {lf.TOTAL: lf.Counters(1000, 51, 1000.0)}
    assert len(lf.stop_reasons(failing)) == 1
    few = {key_state: lf.Counters(19, 19, 19 * 9000.0), lf.TOTAL: lf.Counters(19, 19, 19 * 9000.0)}
    assert lf.stop_reasons(few) == []  # under 20 requests: not judged yet
    notify_slow = {("POST", NAME_NOTIFY): lf.Counters(100, 0, 100 * 9000.0), lf.TOTAL: lf.Counters(100, 0, 0.0)}
    assert lf.stop_reasons(notify_slow) == []  # registration is not a critical endpoint


def test_stress_window_is_the_current_step():
    base = {lf.TOTAL: lf.Counters(1000, 100, 1000 * 10.0), ("POST", NAME_STATE): lf.Counters(800, 100, 8000.0)}
    now = {lf.TOTAL: lf.Counters(2000, 110, 20000.0), ("POST", NAME_STATE): lf.Counters(1600, 110, 16000.0)}
    win = lf.window(base, now)
    assert win[lf.TOTAL] == lf.Counters(1000, 10, 10000.0)
    assert lf.stop_reasons(win) == []  # 10% errors overall, but 1% in this step
    # stats reset in between (counters went down): the window is what came since
    after_reset = {lf.TOTAL: lf.Counters(50, 0, 500.0)}
    assert lf.window(base, after_reset)[lf.TOTAL] == lf.Counters(50, 0, 500.0)


def test_snapshot_reads_locust_stats():
    env = Environment(user_classes=[lf.MixedUser])
    env.stats.log_request("POST", NAME_STATE, 100, 10)
    env.stats.log_request("POST", NAME_STATE, 300, 10)
    env.stats.log_error("POST", NAME_STATE, "HTTP 500: x")
    env.stats.log_request("POST", NAME_NOTIFY, 50, 10)
    snap = lf.snapshot(env.stats)
    assert snap[("POST", NAME_STATE)] == lf.Counters(2, 1, 400.0)
    assert snap[("GET", NAME_STATE)] == lf.Counters()
    assert snap[lf.TOTAL] == lf.Counters(3, 1, 450.0)
    assert (NAME_STATE, "GET") not in env.stats.entries  # reading does not create entries


# --------------------------------------------------------------------------
# requests and bodies, against the recording stub


def run_user(monkeypatch, stub, cls, key):
    monkeypatch.setenv("OPSCORE_API_KEY", key)
    monkeypatch.setattr(cls, "host", stub.url)
    env = Environment(user_classes=[cls])

    def record(request_type, name, response_time, response_length, exception=None, **_kwargs):
        # what a runner does with each request; no runner is started here
        env.stats.log_request(request_type, name, response_time, response_length)
        if exception is not None:
            env.stats.log_error(request_type, name, exception)

    env.events.request.add_listener(record)
    user = cls(env)
    user.on_start()
    user.post_state()
    user.get_state()
    user.post_workflow()
    return env, user


def test_request_bodies_and_names(monkeypatch, stub):
    env, user = run_user(monkeypatch, stub, lf.MixedUser, STUB_KEY)
    reqs = stub.requests()
    assert [(r["method"], r["path"].replace(user.agent_id, "ID")) for r in reqs] == [
        ("POST", "/v1/opscore/internal/agent/notify"),
        ("POST", "/v1/opscore/agent/ID/state"),
        ("GET", "/v1/opscore/agent/ID/state"),
        ("POST", "/v1/opscore/agent/ID/workflow"),
    ]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", user.agent_id)
    assert all(r["auth_ok"] for r in reqs)

    notify = json.loads(reqs[0]["body"])
    aid = user.agent_id
    assert notify == {
        "event_type": "REGISTER",
        "agent_details": {
            "agentId": aid,
            "agentName": f"LoadTestAgent-{aid}",
            "version": "1.0",
            "capabilities": ["state_reporting", "test_capability", "another_capability"],
            "contactEndpoint": f"http://fake-agent-{aid}.local/run",
            "metadata": {"load_test_user": aid},
        },
    }

    state = json.loads(reqs[1]["body"])
    assert set(state) == {"agentId", "timestamp", "state", "details"}
    assert state["agentId"] == aid == reqs[1]["path"].split("/")[4]
    stamp = datetime.fromisoformat(state["timestamp"])
    assert stamp.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60
    assert state["state"] in ("idle", "active", "error", "finished")
    assert isinstance(state["details"], dict) and len(json.dumps(state["details"])) < 200
    assert reqs[1]["content_type"] == "application/json"

    assert reqs[2]["body"] == ""
    workflow = json.loads(reqs[3]["body"])
    assert workflow == {"workflowDefinition": json.loads(SAMPLE_WORKFLOW.read_text())}
    assert "tasks" not in workflow  # wrapped, not the bare definition

    names = {(method, name): e.num_requests for (name, method), e in env.stats.entries.items()}
    assert names == {("POST", NAME_NOTIFY): 1, ("POST", NAME_STATE): 1, ("GET", NAME_STATE): 1,
                     ("POST", NAME_WORKFLOW): 1}
    assert env.stats.total.num_failures == 0


def test_unexpected_status_is_a_failure_naming_status_and_detail(monkeypatch, stub):
    env, _user = run_user(monkeypatch, stub, lf.MixedUser, "wrong-key-for-this-test")
    failures = {(method, name): e.num_failures for (name, method), e in env.stats.entries.items()}
    assert failures == {("POST", NAME_NOTIFY): 0, ("POST", NAME_STATE): 1, ("GET", NAME_STATE): 1,
                        ("POST", NAME_WORKFLOW): 1}
    errors = [str(e.error) for e in env.stats.errors.values()]
    assert errors and all("HTTP 401: Invalid authentication credentials" in e for e in errors)


def test_failure_text():
    assert lf.failure_text(404, '{"detail":"Agent not found: x"}') == "HTTP 404: Agent not found: x"
    text = lf.failure_text(422, '{"detail":[{"loc":["body","state"],"msg":"Field required"}]}')
    assert text.startswith("HTTP 422: [") and "Field required" in text
    assert lf.failure_text(502, "<html>bad gateway</html>") == "HTTP 502: <html>bad gateway</html>"
    assert lf.failure_text(500, "") == "HTTP 500: "


def test_api_key_is_never_logged(monkeypatch, stub, caplog):
    secret = "never-log-me-5b8e2c"
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPSCORE_SCENARIO", "4")
    shape = make_shape(None, None)
    shape.tick()
    lf.log_scenario(argparse.Namespace(runner=None, shape_class=shape, parsed_options=None))
    env, _user = run_user(monkeypatch, stub, lf.MixedUser, secret)  # rejected: failures are logged too
    env2, _user2 = run_user(monkeypatch, stub, lf.QuickStateUser, STUB_KEY)
    assert caplog.text  # something was logged
    assert secret not in caplog.text and STUB_KEY not in caplog.text
    for e in list(env.stats.errors.values()) + list(env2.stats.errors.values()):
        assert secret not in str(e.error)


# --------------------------------------------------------------------------
# smoke runs on real masters

SMOKE_TIME_SCALE = 0.03  # Scenario 0: 1 -> 5 users over 1.8 s, 9 s in all
SMOKE_TOTAL_S = 300 * SMOKE_TIME_SCALE
SMOKE_HOLD_S = 240 * SMOKE_TIME_SCALE
SMOKE_TIMEOUT = 40  # seconds for a whole run, master start to exit


def master_and_worker_argv(kind: str):
    if kind == "pypi":
        locust_cmd = [sys.executable, "-m", "locust"]
        return locust_cmd, locust_cmd
    need_tool(DEBIAN_LOCUST.exists() and DEBIAN_PYTHON.exists(), "Debian's Locust (/usr/bin/locust)")
    return [DEBIAN_LOCUST], [DEBIAN_PYTHON, "-c", DEBIAN_WORKER_WRAPPER]


def run_headless(kind, procs, stub, tmp_path, scenario, time_scale, timeout=SMOKE_TIMEOUT):
    """A headless master and one Python worker; waits (bounded) for the master
    to end the run by itself. Returns (master exit code, seconds, master log,
    worker log)."""
    master_cmd, worker_cmd = master_and_worker_argv(kind)
    port = free_port()
    env = {"OPSCORE_API_KEY": STUB_KEY}
    common = ["-f", LOCUSTFILE]
    started = time.monotonic()
    master = procs.start(
        "master",
        master_cmd
        + common
        + [
            "--master", "--headless", "--expect-workers", "1",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
            "--host", stub.url,
            "--scenario", scenario, "--time-scale", time_scale,
            "--csv", tmp_path / "run", "--csv-full-history",
        ],
        env=env,
    )
    worker = procs.start(
        "worker",
        worker_cmd + common + ["--worker", "--master-host", "127.0.0.1", "--master-port", port],
        env=env,
    )
    try:
        master.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    elapsed = time.monotonic() - started
    master_log = (tmp_path / "master.out").read_text(errors="replace")
    assert master.poll() is not None, f"the master did not end the run by itself within {timeout} s:\n{master_log}"
    try:
        worker.wait(timeout=10)  # the master's quit ends the worker
    except subprocess.TimeoutExpired:
        pass
    worker_log = (tmp_path / "worker.out").read_text(errors="replace")
    assert "Traceback" not in worker_log and "KeyError" not in worker_log, worker_log
    assert "Shape test stopping" in master_log, master_log
    for path in tmp_path.iterdir():
        if path.is_file() and path.name != stub.log_file.name:
            assert STUB_KEY not in path.read_text(errors="replace"), f"API key in {path.name}"
    return master.returncode, elapsed, master_log, worker_log


def aggregated_history(path: Path) -> list[tuple[float, int]]:
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    return [(float(r["Timestamp"]), int(r["User Count"])) for r in rows]


@pytest.mark.parametrize("kind", ["pypi", "debian"])
def test_smoke_scenario_0_runs_its_shape_and_stops(kind, procs, stub, tmp_path):
    code, elapsed, master_log, worker_log = run_headless(kind, procs, stub, tmp_path, 0, SMOKE_TIME_SCALE)
    assert code == 0, f"master exit {code}:\n{master_log}\n--- worker:\n{worker_log}"
    assert master_log.count("Ops-Core scenario 0 (QuickStateUser)") == 1
    assert "profile complete" in master_log
    assert elapsed >= SMOKE_TOTAL_S, "the run ended before the profile did"
    # the worker was told about every class, with all users in the selected one
    spawned = re.findall(r"All users spawned: (\{.*?\})", master_log)
    assert spawned, master_log
    assert json.loads(spawned[-1]) == {"MixedUser": 0, "QuickStateUser": 5, "StateUpdateUser": 0, "WorkflowUser": 0}

    history = aggregated_history(tmp_path / "run_stats_history.csv")
    counts = [c for _t, c in history]
    assert max(counts) == 5, counts
    first_running = next(i for i, c in enumerate(counts) if c > 0)
    assert counts[first_running] <= 3, counts  # it starts low and ramps
    ramp = counts[first_running:counts.index(5) + 1]
    assert ramp == sorted(ramp), counts  # monotonic ramp
    assert len(set(ramp)) >= 2, counts
    at_five = [t for t, c in history if c == 5]
    assert at_five[-1] - at_five[0] >= SMOKE_HOLD_S * 0.6, history  # the hold lasts

    # requests really went out, with matching ids and the right key
    reqs = stub.requests()
    states = [r for r in reqs if r["method"] == "POST" and r["path"].endswith("/state")]
    assert len([r for r in reqs if r["path"] == NAME_NOTIFY]) == 5
    assert states and all(json.loads(r["body"])["agentId"] == r["path"].split("/")[4] for r in states)
    assert all(r["auth_ok"] for r in reqs)


@pytest.mark.parametrize("kind", ["pypi", "debian"])
def test_smoke_scenario_4_stops_itself_on_errors(kind, procs, tmp_path):
    """Every request fails (HTTP 500): the stress shape must stop at its first
    level, logging the load and the reason, and the master must quit."""
    stub = Stub(procs, tmp_path, mode="fail")
    code, elapsed, master_log, _worker_log = run_headless(kind, procs, stub, tmp_path, 4, 0.01, timeout=30)
    assert code == 1  # a headless master exits 1 when requests failed
    lines = [line for line in master_log.splitlines() if "Ops-Core scenario 4 stopping at" in line]
    assert len(lines) == 1, master_log
    assert re.search(r"stopping at 300 users \(\d+ running\), \d+\.\d RPS over the current step: "
                     r"error rate 100\.0% \(\d+/\d+\) > 5%", lines[0]), lines[0]
    assert "step 0 (300 users) done" not in master_log  # stopped within the first step (3 s)
    assert elapsed < 25
