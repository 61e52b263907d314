"""The master restarts on the same port: the worker registers with the new
one by itself, and a run on the new master counts right."""

import signal

import pytest

from conftest import AGGREGATED, WORKER_IMPL, poll


@pytest.mark.parametrize("kill_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_worker_follows_master_restart(cluster, target, kill_signal):
    first = cluster.master(["HelloUser"])
    # On SIGTERM the master sends quit to its workers before it exits; a C
    # worker that is to outlive it is started with --reconnect-on-quit.
    # SIGKILL gives the master no chance to say anything.
    args = ["--reconnect-on-quit"] if kill_signal == signal.SIGTERM and WORKER_IMPL == "c" else []
    worker = cluster.worker(first, args=args)
    assert len(cluster.wait_registered(first)) == 1

    first.proc.send_signal(kill_signal)
    assert first.wait_exit(timeout=15) is not None, "the first master did not exit"

    second = cluster.master(["HelloUser"], port=first.port, stop_timeout=2)
    if WORKER_IMPL == "python":
        # A stock Python worker never registers again by itself (it quits on
        # the master's quit, or stays orphaned): replace it, so that the rest
        # of the test still exercises the harness.
        worker.proc.kill_group()
        worker = cluster.worker(second)

    workers = cluster.wait_registered(second, timeout=10)  # registered again within 10 s
    assert [w["state"] for w in workers] == ["ready"]
    assert worker.proc.alive(), "the worker exited"

    since = target.mark()
    second.swarm(3, 3)
    stats = poll(second.stats, lambda s: s["user_count"] == 3, timeout=10)
    assert stats["user_count"] == 3
    assert poll(lambda: target.count(since), lambda n: n >= 15, timeout=10) >= 15
    second.stop()

    counts, served = second.settled_counts(target, since)
    assert counts == served
    assert served[AGGREGATED] > 0
