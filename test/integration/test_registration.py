"""The worker registers with the master and stays registered."""

import time

import pytest


@pytest.mark.parametrize("via_env", [False, True], ids=["flags", "env"])
def test_worker_registers_ready(cluster, via_env):
    """--master-host/--master-port, or LOCUST_MASTER_NODE_HOST/PORT."""
    master = cluster.master(["HelloUser"])
    cluster.worker(master, via_env=via_env)

    workers = cluster.wait_registered(master)

    assert [w["state"] for w in workers] == ["ready"]
    stats = master.stats()
    assert stats["state"] == "ready"
    assert stats["user_count"] == 0


def test_worker_stays_ready_while_idle(cluster):
    """The master marks a worker missing ~5 s after its last heartbeat."""
    master = cluster.master(["HelloUser"])
    cluster.worker(master)
    first = cluster.wait_registered(master)
    assert len(first) == 1

    time.sleep(8)

    workers = master.workers()
    assert [(w["id"], w["state"]) for w in workers] == [(first[0]["id"], "ready")]
