"""What the master's user sets besides user counts, followed by C workers
as by Python workers: the web UI's class picker (update_user_class: tasks
selected by name, a class host, fixed_count and the choice of classes),
`--tags` / `--exclude-tags`, and a locustfile's own option read by C user
code (lw_option). The master is stock Locust running
examples/opscore/locustfile.py; the target is nginx with the Ops-Core routes,
and every check reads the master's web API or CSV and nginx's own log.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter

import pytest
import requests

from conftest import (HTTP_TIMEOUT, MASTER_EXECUTABLES, OPSCORE_LOCATIONS, ROOT, WORKER_DIR, WORKER_IMPL,
                      Target, c_worker_only, poll)

pytestmark = c_worker_only("checks what C workers do with the master's settings")

OPSCORE = ROOT / "examples" / "opscore"
NO_SHAPE = ROOT / "test" / "integration" / "locustfile_opscore_classes.py"
KIND = re.compile(r"^/v1/opscore/(?:agent/([^/]+)/(state|workflow)|internal/agent/(notify))$")


def kinds(target: Target, since: int = 0) -> Counter:
    """(method, state|workflow|notify) -> requests served."""
    out = Counter()
    for s in target.served(since):
        m = KIND.match(s.path)
        assert m, s.path
        out[(s.method, m.group(2) or m.group(3))] += 1
    return out


@pytest.fixture
def opscore_target(procs, tmp_path) -> Target:
    return Target(procs, tmp_path / "opscore-nginx", locations=OPSCORE_LOCATIONS)


def edit_class(master, settings: dict) -> None:
    r = requests.post(master.web_url + "/user", data=json.dumps(settings),
                      headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
    assert r.status_code in (200, 201), r.text


def swarm(master, users: int, classes: list[str], host: str | None = None) -> None:
    form = {"user_count": users, "spawn_rate": users, "user_classes": classes, "shape_class": "Default"}
    if host is not None:
        form["host"] = host
    r = requests.post(master.web_url + "/swarm", timeout=HTTP_TIMEOUT, data=form)
    r.raise_for_status()
    assert r.json().get("success"), r.text


def running(master, users: int) -> dict:
    stats = poll(master.stats, lambda s: s["user_count"] == users and s["state"] == "running", 15)
    assert stats["user_count"] == users, stats
    return stats


@pytest.mark.parametrize("flavor", ["pypi"])
@pytest.mark.parametrize("example", ["hello", "opscore", "redis"])
def test_task_names_match_the_locustfile(example, flavor):
    """The rule of the examples: the same classes, task names, tags' tasks
    and weights as their locustfile (the class picker speaks in task names).
    `--show-task-ratio-json` of the binary equals `locust`'s."""
    py = subprocess.run([MASTER_EXECUTABLES[flavor], "-f", "locustfile.py", "--show-task-ratio-json"],
                        cwd=ROOT / "examples" / example, capture_output=True, text=True, timeout=60)
    assert py.returncode == 0, py.stderr
    c = subprocess.run([WORKER_DIR / f"{example}-worker", "--show-task-ratio-json"],
                       capture_output=True, text=True, timeout=10)
    assert c.returncode == 0, c.stderr
    assert json.loads(c.stdout) == json.loads(py.stdout)


@pytest.mark.parametrize("flavor", ["pypi"])
@pytest.mark.parametrize("client", ["curl", "fast"])
def test_class_picker_selects_tasks_of_running_users(cluster, opscore_target, client):
    """MixedUser runs; the class picker then restricts it to state_read: the
    running users switch at once (as Python users do), and nginx serves no
    POST /state and no workflow from then on. Then a class host: it counts
    when the test has no host of its own (a Python worker overwrites class
    hosts with the test's at each spawn), for users started after the edit,
    as with Python's HttpUser."""
    master = cluster.master([], locustfile=OPSCORE / "locustfile.py", host=opscore_target.url,
                            extra_args=["--class-picker"], stop_timeout=2)
    worker = cluster.worker(master, binary="opscore-worker", args=["--http-client", client])
    assert len(cluster.wait_registered(master)) == 1
    swarm(master, 4, ["MixedUser"])
    running(master, 4)
    before = poll(lambda: kinds(opscore_target), lambda k: k[("POST", "state")] >= 3, 15)
    assert before[("POST", "state")] >= 3, before

    edit_class(master, {"user_class_name": "MixedUser", "tasks": ["state_read"]})
    assert poll(worker.stderr, lambda e: "MixedUser now runs 1 of its 3 tasks" in e, 10)
    since = opscore_target.mark()
    got = poll(lambda: kinds(opscore_target, since), lambda k: k[("GET", "state")] >= 8, 30)
    assert got[("GET", "state")] >= 8, got
    assert got[("POST", "state")] == 0 and got[("POST", "workflow")] == 0, got

    other = Target(cluster.procs, cluster.tmp_path / "other-nginx", locations=OPSCORE_LOCATIONS)
    edit_class(master, {"user_class_name": "MixedUser", "tasks": ["state_read"], "host": other.url})
    swarm(master, 6, ["MixedUser"])   # the test's host still set: the class host does not count
    running(master, 6)
    time.sleep(2)
    assert kinds(other) == Counter(), "the class host overrode the test's"
    master.stop()
    swarm(master, 2, ["MixedUser"], host="")   # a new test without a host: the class's counts
    running(master, 2)
    at_other = poll(lambda: kinds(other), lambda k: k[("POST", "notify")] == 2 and k[("GET", "state")] > 0, 20)
    assert at_other[("POST", "notify")] == 2, at_other
    assert at_other[("POST", "state")] == 0, at_other
    master.stop()
    assert worker.proc.alive()


@pytest.mark.parametrize("flavor", ["pypi"])
def test_class_picker_with_mixed_fleet_and_fixed_count(cluster, opscore_target):
    """A C and a Python worker under the same class-picker edit (MixedUser
    restricted to state_read) and a fixed_count of 1 for WorkflowUser: both
    workers run users, nginx serves no POST /state, and the master's own
    dispatch puts exactly 1 user in WorkflowUser out of 5."""
    master = cluster.master([], locustfile=OPSCORE / "locustfile.py", host=opscore_target.url,
                            extra_args=["--class-picker"], stop_timeout=2)
    cluster.worker(master, binary="opscore-worker")
    cluster.worker(master, impl="python", locustfile=OPSCORE / "locustfile.py")
    assert len(cluster.wait_registered(master, count=2)) == 2
    edit_class(master, {"user_class_name": "MixedUser", "tasks": ["state_read"]})
    edit_class(master, {"user_class_name": "WorkflowUser", "fixed_count": 1})
    since = opscore_target.mark()
    swarm(master, 5, ["MixedUser", "WorkflowUser"])
    stats = running(master, 5)
    assert sorted(w["user_count"] for w in stats["workers"]) in ([2, 3],), stats["workers"]
    r = requests.get(master.web_url + "/tasks", timeout=HTTP_TIMEOUT).json()["per_class"]
    assert round(r["WorkflowUser"]["ratio"] * 5) == 1 and round(r["MixedUser"]["ratio"] * 5) == 4, r
    got = poll(lambda: kinds(opscore_target, since), lambda k: k[("GET", "state")] >= 10, 30)
    assert got[("GET", "state")] >= 10, got
    assert got[("POST", "state")] == 0, got
    assert got[("POST", "notify")] == 5, got
    master.stop()


@pytest.mark.parametrize("client", ["curl", "fast"])
@pytest.mark.parametrize("tags,expect", [
    (["--tags", "read"], {"state_read"}),
    (["--exclude-tags", "write"], {"state_read"}),
    (["--tags", "state", "--exclude-tags", "read"], {"state_update"}),
], ids=["tags", "exclude-tags", "both"])
def test_tags_filter_tasks(cluster, opscore_target, client, tags, expect):
    """Headless runs of MixedUser with the master's --tags / --exclude-tags
    (both masters): only the tasks the tags let through reach nginx."""
    master = cluster.master(["MixedUser"], locustfile=NO_SHAPE, host=opscore_target.url,
                            headless=True, users=4, rate=4, run_time="6s", expect_workers=1, stop_timeout=2,
                            extra_args=tags)
    worker = cluster.worker(master, binary="opscore-worker", args=["--http-client", client])
    assert master.wait_exit(40) is not None, "the headless run did not end"
    got = kinds(opscore_target)
    seen = {name for name, key in (("state_update", ("POST", "state")), ("state_read", ("GET", "state")),
                                   ("trigger_workflow", ("POST", "workflow"))) if got[key]}
    assert seen == expect, (got, worker.stderr()[-2000:])
    assert got[("POST", "notify")] == 4


@pytest.mark.parametrize("client", ["curl", "fast"])
def test_custom_option_reaches_c_code(cluster, opscore_target, client):
    """The locustfile's own --agent-prefix, given to the master only, reaches
    the C tasks through lw_option: every agent id nginx sees starts with it."""
    master = cluster.master(["MixedUser"], locustfile=NO_SHAPE, host=opscore_target.url,
                            headless=True, users=3, rate=3, run_time="4s", expect_workers=1, stop_timeout=2,
                            extra_args=["--agent-prefix", "lt-c-"])
    cluster.worker(master, binary="opscore-worker", args=["--http-client", client])
    assert master.wait_exit(40) is not None, "the headless run did not end"
    ids = {m.group(1) for m in (KIND.match(s.path) for s in opscore_target.served()) if m and m.group(1)}
    assert len(ids) == 3, ids
    assert all(i.startswith("lt-c-") and len(i) == 5 + 36 for i in ids), ids
