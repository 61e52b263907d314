"""User classes in Lua (build/lua-worker): the same runs as the C workers,
against real stock masters and real targets (the stand-in Ops-Core on Redis,
nginx), through both HTTP clients. Numbers come from the masters' CSV files
and web API and from the targets' own access logs.
"""

from __future__ import annotations

import csv
import json
import html
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import AGGREGATED, HTTP_TIMEOUT, ROOT, WORKER_DIR, Master, poll, stats_row
from opscore_fixtures import Process, free_port
from test_opscore_run import (LOCUSTFILE, MASTERS, NOTIFY, STATE, WORKFLOW,  # noqa: F401
                              opscore, served)

OPSCORE_LUA = ROOT / "examples" / "opscore" / "opscore.lua"
HELLO_LUA = ROOT / "examples" / "hello" / "hello.lua"
LUA_WORKER = WORKER_DIR / "lua-worker"

# The master's side of the scripts below: class names and waits.
ERRORS_LOCUSTFILE = """\
from locust import HttpUser, constant, task


class ErrorUser(HttpUser):
    wait_time = constant(0.1)

    @task
    def work(self):
        pass


class LoopUser(HttpUser):
    wait_time = constant(0.1)

    @task
    def work(self):
        pass


class MissingUser(HttpUser):
    wait_time = constant(0.1)

    @task
    def work(self):
        pass
"""

# Every second task of ErrorUser fails at line 12, after its request;
# every third task of LoopUser never yields after its request.
ERRORS_LUA = """\
local lw = require "lw"

local ErrorUser = lw.user("ErrorUser", {wait_time = lw.constant(0.1)})
ErrorUser.tasks = {"work"}

function ErrorUser:work()
    self.n = (self.n or 0) + 1
    local r = self.client:get("/")
    assert(r.status == 200, "status " .. r.status)
    if self.n % 2 == 0 then
        local missing = nil
        return missing.field
    end
end

local LoopUser = lw.user("LoopUser", {wait_time = lw.constant(0.1)})
LoopUser.tasks = {"work"}

function LoopUser:work()
    self.n = (self.n or 0) + 1
    self.client:get("/")
    if self.n % 3 == 0 then
        local x = 0
        while true do x = x + 1 end
    end
end
"""


def lua_worker_argv(script: Path, port: int, client: str | None) -> list[str]:
    argv = [str(LUA_WORKER), str(script), "--master-host", "127.0.0.1", "--master-port", str(port)]
    return argv + (["--http-client", client] if client else [])


def run_opscore(master: str, tmp_path: Path, url: str, scenario: int, scale: float,
                workers: list[str], client: str | None = None, timeout: float = 100) -> dict:
    """One headless Ops-Core scenario; workers: "lua", "c", "python" in any
    mix. Returns the stats rows keyed by (method, name), the failures rows
    and each worker's log."""
    port = free_port()
    prefix = tmp_path / f"s{scenario}"
    master_proc = Process("master", MASTERS[master] + [
        "-f", str(LOCUSTFILE), "--master", "--headless", "--expect-workers", str(len(workers)),
        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
        "--host", url, "--scenario", str(scenario), "--time-scale", str(scale),
        "--csv", str(prefix)], tmp_path, cwd=ROOT)
    procs = []
    for i, kind in enumerate(workers):
        if kind == "lua":
            argv = lua_worker_argv(OPSCORE_LUA, port, client)
        elif kind == "c":
            argv = [str(WORKER_DIR / "opscore-worker"), "--master-host", "127.0.0.1", "--master-port", str(port)]
        else:
            argv = MASTERS[master] + ["-f", str(LOCUSTFILE), "--worker", "--master-host", "127.0.0.1",
                                      "--master-port", str(port)]
        procs.append(Process(f"{kind}-worker{i}", argv, tmp_path, env=dict(os.environ), cwd=ROOT))
    try:
        master_proc.popen.wait(timeout)
        for p in procs:
            p.popen.wait(15)
    finally:
        master_proc.stop()
        for p in procs:
            p.stop()
    assert master_proc.popen.returncode in (0, 1), master_proc.log()[-3000:]
    for kind, p in zip(workers, procs):
        if kind != "python":
            assert p.popen.returncode == 0, p.log()[-3000:]
            assert "Sanitizer" not in p.log(), p.log()
    with open(f"{prefix}_stats.csv", newline="") as f:
        stats = {(r["Type"], r["Name"]): r for r in csv.DictReader(f)}
    with open(f"{prefix}_failures.csv", newline="") as f:
        failures = list(csv.DictReader(f))
    return {"stats": stats, "failures": failures, "logs": [p.log() for p in procs]}


@pytest.mark.parametrize("master,client", [("pypi", "curl"), ("debian", "curl"),
                                           ("pypi", "fast"), ("debian", "fast")])
def test_lua_scenario3_mix_and_counts(master, client, tmp_path, opscore):
    """Scenario 3 at 1/100 of its length (20 -> 300 users in 3 s, 18 s at
    peak) with opscore.lua: 80/15/5, no failure, every user registered, and
    the master counts what the stand-in served."""
    result = run_opscore(master, tmp_path, opscore.url, 3, 0.01, ["lua"], client)
    stats = result["stats"]
    posts = int(stats[("POST", STATE)]["Request Count"])
    gets = int(stats[("GET", STATE)]["Request Count"])
    flows = int(stats[("POST", WORKFLOW)]["Request Count"])
    tasks = posts + gets + flows
    assert tasks > 500, stats
    assert abs(posts / tasks - 0.80) < 0.04, (posts, gets, flows)
    assert abs(gets / tasks - 0.15) < 0.04, (posts, gets, flows)
    assert abs(flows / tasks - 0.05) < 0.03, (posts, gets, flows)
    assert int(stats[("POST", NOTIFY)]["Request Count"]) >= 300   # one per user
    total = stats[("", "Aggregated")]
    assert int(total["Failure Count"]) == 0, result["failures"]
    assert int(total["Request Count"]) == served(opscore)


def test_lua_wrong_key_gives_the_c_workers_failure_rows(tmp_path, opscore):
    """OPSCORE_API_KEY wrong: every POST state fails with the text the C and
    Python workers give, in one row; the key never shows."""
    os.environ["OPSCORE_API_KEY"] = "not-the-key"
    try:
        result = run_opscore("pypi", tmp_path, opscore.url, 0, 0.03, ["lua"])
    finally:
        del os.environ["OPSCORE_API_KEY"]
    posts = result["stats"][("POST", STATE)]
    assert int(posts["Request Count"]) > 0
    assert posts["Failure Count"] == posts["Request Count"]
    rows = [r for r in result["failures"] if r["Name"] == STATE]
    assert len(rows) == 1, result["failures"]
    assert rows[0]["Error"] == "CatchResponseError('HTTP 401: Invalid authentication credentials')", rows
    assert not any("not-the-key" in r["Error"] for r in result["failures"])


def test_mixed_fleet_c_lua_python_one_row_per_endpoint(tmp_path, opscore):
    """A C worker, a Lua worker and a stock Python worker on one master: one
    row per endpoint, and the C and Lua workers both ran users."""
    result = run_opscore("pypi", tmp_path, opscore.url, 3, 0.005, ["c", "lua", "python"])
    rows = set(result["stats"])
    assert rows == {("POST", STATE), ("GET", STATE), ("POST", WORKFLOW), ("POST", NOTIFY),
                    ("", "Aggregated")}, rows
    # as in test_opscore_run: the only failures allowed are the stock Python
    # worker's race with the stand-in's keep-alive timeout
    python_race = ("ConnectionResetError", "RemoteDisconnected", "ConnectionAbortedError")
    assert all(any(k in r["Error"] for k in python_race) for r in result["failures"]), result["failures"]
    for log in result["logs"][:2]:
        users = [int(n) for n in re.findall(r"Spawning complete: (\d+) users", log)]
        assert users and 0 < max(users) < 300, users


# --------------------------------------------------------------------------
# hello.lua and the error cases, on nginx through the conftest harness


@pytest.mark.parametrize("client", ["curl", "fast"])
def test_hello_lua_counts_what_nginx_served(cluster, target, tmp_path, client):
    script_master = ROOT / "examples" / "hello" / "locustfile.py"
    master = cluster.master(["HelloUser"], locustfile=script_master, stop_timeout=5)
    cluster.worker(master, binary="lua-worker", args=[str(HELLO_LUA), "--http-client", client])
    cluster.wait_registered(master)
    master.swarm(5, 5)
    poll(target.count, lambda n: n >= 15, timeout=20)
    master.stop()
    rows, counts = master.settled_counts(target)
    assert rows == counts, (rows, counts)
    assert rows[("GET", "/")] >= 15
    assert not master.failures_csv()


ASYNC_LUA = """\
local lw = require "lw"

local HelloUser = lw.user("HelloUser", {wait_time = lw.constant(0.2)})
HelloUser.tasks = {"work"}

local function must_be_200(r)
    if r.status ~= 200 then r:failure("not 200") end
end

function HelloUser:work()
    local a = self.client:async("GET", "/", {check = must_be_200})
    local b = self.client:async("GET", "/", {check = must_be_200})
    assert(a:wait().status == 200 and b:wait().status == 200)
    self.client:get("/")
end
"""


@pytest.mark.parametrize("client", ["curl", "fast"])
def test_async_requests_in_flight_together(cluster, target, tmp_path, client):
    """Two async requests per task, then a plain one: every request counted
    once (equal to nginx's log), no failure or exception, and each user
    needed two connections (the two requests were in flight together)."""
    script = tmp_path / "async.lua"
    script.write_text(ASYNC_LUA)
    master = cluster.master(["HelloUser"], locustfile=ROOT / "examples" / "hello" / "locustfile.py",
                            stop_timeout=5)
    worker = cluster.worker(master, binary="lua-worker", args=[str(script), "--http-client", client])
    cluster.wait_registered(master)
    master.swarm(3, 3)
    poll(target.count, lambda n: n >= 60, timeout=20)
    master.stop()
    rows, counts = master.settled_counts(target)
    assert rows == counts, (rows, counts)
    assert not master.failures_csv()
    assert not exceptions(master)
    assert len(target.connections()) >= 6, target.connections()
    assert "Sanitizer" not in worker.stderr()


def errors_cluster(cluster, tmp_path, client: str | None = None, env: dict | None = None):
    locustfile = tmp_path / "errors_master.py"
    locustfile.write_text(ERRORS_LOCUSTFILE)
    script = tmp_path / "errors.lua"
    script.write_text(ERRORS_LUA)
    master = cluster.master([], locustfile=locustfile, stop_timeout=5)
    args = [str(script)] + (["--http-client", client] if client else [])
    worker = cluster.worker(master, binary="lua-worker", args=args, env=env)
    cluster.wait_registered(master)
    return master, worker


def exceptions(master: Master) -> list[dict]:
    r = requests.get(master.web_url + "/exceptions", timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    # 2.12.1 sends the text HTML-escaped
    return [dict(e, msg=html.unescape(e["msg"])) for e in r.json()["exceptions"]]


@pytest.mark.parametrize("client", ["curl", "fast"])
def test_runtime_error_is_an_exception_with_traceback_and_the_user_goes_on(
        cluster, target, tmp_path, client):
    master, worker = errors_cluster(cluster, tmp_path, client)
    master.swarm(6, 6)   # 2 of each class
    poll(target.count, lambda n: n >= 40, timeout=30)
    excs = poll(lambda: exceptions(master),
                lambda es: any("attempt to index" in e["msg"] for e in es), timeout=15)
    [exc] = [e for e in excs if "attempt to index" in e["msg"]]
    # file:line of the failing statement, then the Lua traceback
    assert re.search(r"errors\.lua:12: attempt to index (local 'missing' )?\(?a nil value", exc["msg"]), exc
    assert "stack traceback:" in exc["msg"], exc
    assert re.search(r"errors\.lua:12: in function <\S*errors\.lua:6>", exc["msg"]), exc
    assert exc["count"] >= 5, exc
    master.stop()
    rows, counts = master.settled_counts(target)
    assert rows == counts, (rows, counts)
    # the users went on after each error
    assert rows[("GET", "/")] >= 40
    assert not master.failures_csv()
    assert "Sanitizer" not in worker.stderr()


def test_endless_loop_is_stopped_and_heartbeats_stay_on_time(cluster, target, tmp_path):
    """LoopUser's every third task never yields: the instruction limit stops
    it with a clear exception, the users go on, the master keeps seeing the
    worker (no missed heartbeat) and counts what nginx served."""
    master, worker = errors_cluster(cluster, tmp_path)
    master.swarm(6, 6)
    started = time.monotonic()
    excs = poll(lambda: exceptions(master),
                lambda es: any("endless loop" in e["msg"] for e in es), timeout=20)
    [exc] = [e for e in excs if "endless loop" in e["msg"]]
    assert "Lua instructions without waiting for a response" in exc["msg"], exc
    # the traceback names the loop's line
    assert "stack traceback:" in exc["msg"] and "errors.lua:24:" in exc["msg"], exc
    poll(master.workers, lambda ws: [w["state"] for w in ws] == ["running"], timeout=10)
    # 10 s more of loops: the worker stays a running worker of the master
    while time.monotonic() - started < 12:
        assert [w["state"] for w in master.workers()] == ["running"], master.workers()
        time.sleep(1)
    loop_exc = [e for e in exceptions(master) if "endless loop" in e["msg"]][0]
    assert loop_exc["count"] >= 10, loop_exc
    master.stop()
    rows, counts = master.settled_counts(target)
    assert rows == counts, (rows, counts)
    assert rows[("GET", "/")] >= 60
    log = master.log()
    assert "heartbeat" not in log.lower() and "missing" not in log.lower(), log[-2000:]
    assert "Sanitizer" not in worker.stderr()


def test_class_the_script_lacks_is_reported_like_a_missing_c_class(cluster, target, tmp_path):
    locustfile = tmp_path / "errors_master.py"
    locustfile.write_text(ERRORS_LOCUSTFILE)
    script = tmp_path / "only_error_user.lua"
    script.write_text(ERRORS_LUA.split("local LoopUser")[0])
    master = cluster.master([], locustfile=locustfile, stop_timeout=5)
    worker = cluster.worker(master, binary="lua-worker", args=[str(script)])
    cluster.wait_registered(master)
    master.swarm(3, 3)
    excs = poll(lambda: exceptions(master),
                lambda es: sum("does not have it" in e["msg"] for e in es) == 2, timeout=20)
    named = sorted(re.search(r"User class '(\w+)'", e["msg"]).group(1)
                   for e in excs if "does not have it" in e["msg"])
    assert named == ["LoopUser", "MissingUser"], excs
    poll(target.count, lambda n: n >= 5, timeout=20)
    assert worker.proc.alive()


BAD_SCRIPTS = {
    "syntax": ("local lw = require 'lw'\nlocal x = = 1\n", r"^\S*bad\.lua:2: unexpected symbol near '='$"),
    "runtime": ("local lw = require 'lw'\n\nlw.nothing()\n", r"^\S*bad\.lua:3: attempt to call field 'nothing'"),
    "no class": ("local lw = require 'lw'\n", r"declares no user class"),
    "no tasks": ("local lw = require 'lw'\nlw.user('A', {})\n", r"user class 'A' has no tasks"),
    "unknown method": ("local lw = require 'lw'\nlw.user('A', {tasks = {'nope'}})\n",
                       r"user class 'A': task 'nope' is not a method of the class"),
    "bad wait": ("local lw = require 'lw'\nlw.user('A', {wait_time = 3, tasks = {function() end}})\n",
                 r"user class 'A': wait_time must be"),
    "bad between": ("local lw = require 'lw'\nlw.between(5, 1)\n", r"bad\.lua:2: between: invalid arguments"),
    "twice": ("local lw = require 'lw'\nlw.user('A')\nlw.user('A')\n", r"'A' is declared twice"),
    "bad client": ("local lw = require 'lw'\nlw.user('A', {client = 'x', tasks = {function() end}})\n",
                   r"client must be \"curl\" or \"fast\""),
    "missing file": (None, r"cannot open \S*bad\.lua"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCRIPTS))
def test_bad_script_is_one_line_and_exit_2(tmp_path, case):
    text, pattern = BAD_SCRIPTS[case]
    script = tmp_path / "bad.lua"
    if text is not None:
        script.write_text(text)
    p = subprocess.run([str(LUA_WORKER), str(script), "--master-port", "1"], capture_output=True,
                       text=True, timeout=20)
    assert p.returncode == 2, p
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"{LUA_WORKER}: error: "), lines
    assert re.search(pattern, lines[0].split(": error: ", 1)[1]), lines[0]


def test_no_script_is_a_usage_line_and_worker_options_pass_through(tmp_path):
    p = subprocess.run([str(LUA_WORKER)], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and p.stderr.startswith("usage: "), p
    p = subprocess.run([str(LUA_WORKER), str(OPSCORE_LUA), "--list"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p
    assert p.stdout.split() == ["Available", "Users:", "QuickStateUser", "StateUpdateUser",
                                "WorkflowUser", "MixedUser"], p.stdout
    p = subprocess.run([str(LUA_WORKER), "--list", "-f", str(HELLO_LUA)], capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == 0 and p.stdout.split()[2:] == ["HelloUser"], p
    p = subprocess.run([str(LUA_WORKER), str(HELLO_LUA), "--processes", "x"], capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == 2 and "--processes" in p.stderr, p


# --------------------------------------------------------------------------
# memory at scale: 2,000 Lua users (the long run: SOAK_WORKER=lua make soak)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def test_soak_2000_lua_users_short_flat_rss(procs, tmp_path):
    """2,000 MixedUser users of opscore.lua (the release build: ASan's
    quarantine would hide the worker's own memory) on nginx answering the
    Ops-Core routes, 70 s: after a 30 s warm-up the RSS grows by at most 5 %,
    every user ran, nothing failed, and the master counts what nginx served."""
    sys.path.insert(0, str(ROOT / "test" / "soak"))
    from soak import OPSCORE_LOCATIONS
    from conftest import Target
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if min(hard, 16384) < 4600:
        pytest.skip("the open-file limit is too low for 2,000 users")
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
    binary = ROOT / "build" / "lua-worker"
    target = Target(procs, tmp_path / "nginx-soak", locations=OPSCORE_LOCATIONS, connections=4096)
    seconds = 70
    master = Master(procs, "pypi", tmp_path / "master-soak", ROOT / "test" / "soak" / "locustfile.py",
                    ["MixedUser"], target.url, headless=True, users=2000, rate=200, run_time=f"{seconds}s",
                    expect_workers=1, stop_timeout=5, port=None, extra_args=["--only-summary"])
    worker = procs.start("lua-worker", "c-worker", [binary, OPSCORE_LUA, "--master-host", "127.0.0.1",
                                                    "--master-port", master.port])
    start = time.monotonic()
    samples = []
    while master.proc.alive() and time.monotonic() - start < seconds + 30 and worker.alive():
        t = time.monotonic() - start
        if t >= 30 and len(samples) < (t - 30) / 3 + 1:
            samples.append(rss_bytes(worker.pid))
        time.sleep(0.5)
    assert master.proc.wait(30) is not None
    assert worker.wait(30) == 0, worker.output_tail()
    assert "Spawning complete: 2000 users" in worker.stderr()
    assert len(samples) >= 10, samples
    base, last = statistics.median(samples[:3]), statistics.median(samples[-3:])
    print(f"RSS after the warm-up, KiB: {[s // 1024 for s in samples]}")
    assert last / base - 1 <= 0.05, [s // 1024 for s in samples]
    stats = Master.csv_file(master, "stats")
    total = stats_row(stats, *AGGREGATED)
    assert int(total["Failure Count"]) == 0
    time.sleep(0.5)
    assert int(total["Request Count"]) == target.count() > 2000


# --------------------------------------------------------------------------
# the master's settings: task names, tags, a locustfile's own option


@pytest.mark.parametrize("example", ["hello", "opscore"])
def test_task_names_and_ratios_match_the_locustfile(example):
    """The examples' rule holds for the Lua scripts too: --show-task-ratio-json
    of lua-worker with the script equals `locust`'s with the locustfile (the
    class picker selects tasks by these names)."""
    from conftest import MASTER_EXECUTABLES
    py = subprocess.run([MASTER_EXECUTABLES["pypi"], "-f", "locustfile.py", "--show-task-ratio-json"],
                        cwd=ROOT / "examples" / example, capture_output=True, text=True, timeout=60)
    assert py.returncode == 0, py.stderr
    script = ROOT / "examples" / example / f"{example}.lua"
    lua = subprocess.run([LUA_WORKER, script, "--show-task-ratio-json"], capture_output=True, text=True,
                         timeout=10)
    assert lua.returncode == 0, lua.stderr
    assert json.loads(lua.stdout) == json.loads(py.stdout)


@pytest.mark.parametrize("tags,expect", [
    (["--tags", "read"], {"state_read"}),
    (["--exclude-tags", "write"], {"state_read"}),
    (["--tags", "state", "--exclude-tags", "read", "--agent-prefix", "lt-lua-"], {"state_update"}),
], ids=["tags", "exclude-tags", "both-and-prefix"])
def test_tags_and_option_reach_lua_tasks(cluster, procs, tmp_path, tags, expect):
    """Headless MixedUser runs of opscore.lua with the master's --tags /
    --exclude-tags: only the tasks the tags let through reach nginx; the
    locustfile's --agent-prefix reaches the script (self:option)."""
    from conftest import OPSCORE_LOCATIONS, Target
    from test_master_settings import KIND, NO_SHAPE, kinds
    target = Target(procs, tmp_path / "opscore-nginx", locations=OPSCORE_LOCATIONS)
    master = cluster.master(["MixedUser"], locustfile=NO_SHAPE, host=target.url, headless=True, users=4,
                            rate=4, run_time="6s", expect_workers=1, stop_timeout=2, extra_args=tags)
    worker = cluster.worker(master, binary="lua-worker", args=[str(OPSCORE_LUA)])
    assert master.wait_exit(40) is not None, "the headless run did not end"
    got = kinds(target)
    seen = {name for name, key in (("state_update", ("POST", "state")), ("state_read", ("GET", "state")),
                                   ("trigger_workflow", ("POST", "workflow"))) if got[key]}
    assert seen == expect, (got, worker.stderr()[-2000:])
    assert got[("POST", "notify")] == 4
    ids = {m.group(1) for m in (KIND.match(s.path) for s in target.served()) if m and m.group(1)}
    prefix = "lt-lua-" if "--agent-prefix" in tags else ""
    assert ids and all(i.startswith(prefix) and len(i) == len(prefix) + 36 for i in ids), (ids, got)
