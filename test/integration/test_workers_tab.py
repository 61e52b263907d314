"""What the master's Workers tab shows of a C worker, read from its web API
(/stats/requests "workers")."""

import re
import time

import requests

from conftest import HTTP_TIMEOUT, c_worker_only, poll

# (a stock 2.47 Python worker here reports 0.0 throughout: the test's
# "used some CPU" check cannot hold for it)
pytestmark = c_worker_only("the C worker's heartbeat")

USERS = 30


def test_cpu_usage_has_one_decimal(cluster, target):
    """The CPU usage of each heartbeat, as the master's web API gives it to
    the Workers tab, has at most one decimal, as psutil's cpu_percent()
    rounds it for a Python worker (it used to be sent at full precision:
    0.028944453278598868). Sampled for 10 s while 30 users run, so that the
    value is not 0 and would show its digits."""
    master = cluster.master(["HelloUser"], stop_timeout=1)
    cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(USERS, USERS)
    poll(master.stats, lambda s: s["user_count"] == USERS, timeout=10)

    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = requests.get(master.web_url + "/stats/requests", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        raw = re.findall(r'"cpu_usage":\s*([-0-9.eE+]+)', r.text)
        assert len(raw) == len(r.json()["workers"]) == 1, r.text
        seen += raw
        time.sleep(2.1)  # the master caches /stats/requests for 2 s

    nonzero = [text for text in seen if float(text) != 0.0]
    assert nonzero, f"the worker used no CPU with {USERS} users running: {seen}"
    too_precise = [text for text in seen if "e" in text.lower() or len(text.partition(".")[2]) > 1]
    assert not too_precise, f"cpu_usage with more than one decimal: {too_precise}"
    master.stop()
