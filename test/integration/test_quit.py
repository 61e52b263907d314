"""The worker's exit: when the master quits, and on SIGTERM or SIGINT."""

import signal
import time

import pytest

from conftest import WORKER_IMPL, aggregated_count, poll


def test_worker_exits_0_when_headless_run_ends(cluster, target):
    """The master's quit at the end of a headless run: the worker exits 0,
    and its final stats report made the master's CSV (its count equals
    nginx's) - with a C worker, which counts the requests in flight."""
    master = cluster.master(["HelloUser"], headless=True, users=2, rate=2, run_time="3s", expect_workers=1)
    worker = cluster.worker(master)

    assert master.wait_exit(timeout=45) is not None, "the headless master did not finish"

    assert worker.proc.wait(timeout=5) == 0
    if WORKER_IMPL == "c":
        total = aggregated_count(master.csv_file("stats"))
        assert total > 0
        assert total == target.count()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_signalled_worker_exits_0_and_master_removes_it(cluster, target, sig):
    master = cluster.master(["HelloUser"])
    worker = cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(2, 2)
    assert poll(master.stats, lambda s: s["user_count"] == 2, timeout=10)["user_count"] == 2
    time.sleep(1)  # between two 3 s reports: the final report has requests of its own

    worker.proc.send_signal(sig)

    assert worker.proc.wait(timeout=2) == 0
    # A worker that just went silent would be listed as "missing" for a
    # minute; one that said quit is removed at once.
    assert poll(master.workers, lambda ws: ws == [], timeout=5) == []
    assert poll(master.stats, lambda s: s["user_count"] == 0, timeout=5)["user_count"] == 0
    if WORKER_IMPL == "c":
        # the final stats report reached the master: every request nginx
        # served is counted (a Python worker drops requests in flight)
        served = target.count()
        assert served > 0
        assert poll(lambda: aggregated_count(master.requests_csv()), lambda n: n == served, timeout=3) == served
