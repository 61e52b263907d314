"""The master's Logs tab lists a C worker's log lines as it lists a Python
worker's (Locust 2.29+ takes a `logs` message every 10 s); a 2.12.1 master,
which would warn about every such message, never gets one."""

import time

import requests

from conftest import HTTP_TIMEOUT, c_worker_only, poll

pytestmark = c_worker_only("checks the C worker's logs message")


def worker_logs(master) -> dict:
    r = requests.get(master.web_url + "/logs", timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    return r.json()["workers"]


def run_a_test(cluster, master, users=2):
    master.swarm(users, users)
    stats = poll(master.stats, lambda s: s["user_count"] == users and s["state"] == "running", 15)
    assert stats["user_count"] == users


def test_logs_tab_lists_the_worker_lines(cluster, flavor):
    master = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(master)
    ids = [w["id"] for w in cluster.wait_registered(master)]
    run_a_test(cluster, master)
    if flavor == "debian":
        time.sleep(12)  # more than one 10 s interval after the ramp-up
        assert "Unknown message type" not in master.log(), master.log()[-2000:]
        return
    logs = poll(lambda: worker_logs(master), lambda w: any("Spawning complete" in line
                                                            for line in w.get(ids[0], [])), 25)
    lines = logs.get(ids[0], [])
    assert any("Spawning complete: 2 users" in line for line in lines), logs
    assert all(line.startswith("[") and any(f"/{lvl}/" in line for lvl in ("DEBUG", "INFO", "WARNING", "ERROR"))
               for line in lines), lines
    # the lines are the worker's own, as it wrote them
    own = worker.stderr().splitlines()
    assert all(line in own for line in lines)
