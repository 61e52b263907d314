"""The worker registers with the master and stays registered."""

import time

from conftest import poll


def test_worker_registers_ready(cluster):
    master = cluster.master(["HelloUser"])
    cluster.worker(master)

    workers = cluster.wait_registered(master)

    assert [w["state"] for w in workers] == ["ready"]
    stats = master.stats()
    assert stats["state"] == "ready"
    assert stats["user_count"] == 0
