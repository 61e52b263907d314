"""Master faults: the master is frozen (SIGSTOP) during a run, stopped
(SIGTERM) or killed (SIGKILL) during a run and replaced, or started after
the worker.

Each time the worker, never restarted, registers again within 10 s; the
master can run a test on it; and no request is lost or counted twice (the
master's count equals nginx's). Restarts of an idle master (SIGTERM and
SIGKILL) are in test_master_restart.py; the `reconnect` message is in
test_bad_input.py (only a fake master can make a master send it on purpose).
On both masters: how a master treats a worker that comes back differs
between Locust versions.
"""

import signal
import time
from types import SimpleNamespace

import pytest

from conftest import AGGREGATED, c_worker_only, free_port, log_lines, poll

pytestmark = c_worker_only("a stock Python worker does not register again by itself")

REJOIN_S = 10  # the worker must be registered again this long after the master is back
FREEZE_S = 10



def running_users(master, users, timeout=10):
    return poll(master.stats, lambda s: s["user_count"] == users and s["state"] == "running", timeout)


def rejoined(worker, before: int) -> int:
    """INFO lines "Registered with the master" (the worker logs its first
    registration at DEBUG, a registration after a lost link at INFO)."""
    return sum("Registered with the master" in line for line in log_lines(worker.stderr(), "INFO")) - before


def new_run_counts_right(cluster, master, target, users=2, exact=True):
    """A fresh test on `master`: its counts equal nginx's for that run.
    exact=False: the master may hand some users to a worker it lists as
    missing (Locust 2.12.1 keeps dispatching to one for a minute), so only
    some of them run."""
    since = target.mark()
    master.swarm(users, users)
    if exact:
        assert running_users(master, users)["user_count"] == users
    else:
        assert poll(master.stats, lambda s: s["user_count"] > 0, timeout=10)["user_count"] > 0
    assert poll(lambda: target.count(since), lambda n: n >= 10, timeout=10) >= 10, "no traffic in the new run"
    master.stop()
    counts, served = master.settled_counts(target, since)
    assert counts == served
    assert served[AGGREGATED] > 0


def test_master_frozen_during_run(cluster, target):
    """SIGSTOP the master for 10 s while 3 users run, then SIGCONT. The
    worker notices the dead link (ZMTP heartbeats), keeps its users, and
    registers again within 10 s of the resume, without a restart. Then
    either the master re-dispatches the users and the run goes on (the
    worker came back under its node id before the master missed its
    heartbeats), or the master has ended the run (its last worker went
    missing) and the worker stops the users itself. Either way the whole
    run's count equals nginx's: reports held back during the freeze are
    delivered once, not lost, not doubled. Then the master runs a fresh test
    on the same worker with exact counts."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(3, 3)
    assert running_users(master, 3)["user_count"] == 3
    time.sleep(1)

    master.proc.send_signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        lost = poll(worker.stderr, lambda e: "Lost the connection to the master" in e, timeout=9)
        assert "Lost the connection to the master" in lost, "the worker did not notice the frozen master"
        during = target.count()
        time.sleep(max(0.0, FREEZE_S - (time.monotonic() - frozen_at)))
    finally:
        master.proc.send_signal(signal.SIGCONT)
    assert target.count() > during, "the users stopped while the master was frozen"

    # The master's ZeroMQ ROUTER may still hold the old connection under the
    # worker's node id when the new one arrives, and then ignores it; the
    # worker then registers under a fresh id (test_unacked_client_ready_...).
    assert poll(lambda: rejoined(worker, 0), lambda n: n >= 1, timeout=REJOIN_S) >= 1, \
        f"the worker did not register again within {REJOIN_S} s of the resume"

    orphans_stopped = "The master is not running a test; stopping 3 users"

    def settled(s):
        workers = [w["state"] for w in s["workers"] if w["state"] != "missing"]
        going_on = s["state"] == "running" and s["user_count"] == 3 and workers == ["running"]
        ended = s["state"] == "stopped" and workers == ["ready"] and orphans_stopped in worker.stderr()
        return going_on or ended

    stats = poll(master.stats, settled, timeout=10)
    assert settled(stats), f"neither re-dispatched nor ended: {stats['state']}, {stats['workers']}"
    if stats["state"] == "running":
        time.sleep(2)
        master.stop()
    counts, served = master.settled_counts(target)
    assert counts == served
    assert worker.proc.alive(), "the worker exited"

    # back under a fresh node id, the old one may still be listed as missing
    ghost = any(w["state"] == "missing" for w in master.workers())
    new_run_counts_right(cluster, master, target, exact=not ghost)
    assert worker.proc.alive(), "the worker exited"


@pytest.mark.parametrize("kill_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_master_stopped_during_run_and_replaced(cluster, target, kill_signal):
    """Stop the master while 3 users run, then start a new master on the
    same port. SIGTERM: the master says quit, and the worker (with
    --reconnect-on-quit) stops its users and waits. SIGKILL: the master says
    nothing; the worker keeps its users running, and once it is registered
    with the new (idle) master it stops the users that master does not know
    about. Either way the worker registers with the new master within 10 s
    of its start, without a restart, and runs the new master's test with
    counts equal to nginx's."""
    first = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(first, args=["--reconnect-on-quit"])
    assert len(cluster.wait_registered(first)) == 1
    first.swarm(3, 3)
    assert running_users(first, 3)["user_count"] == 3
    assert poll(target.count, lambda n: n >= 10, timeout=10) >= 10

    first.proc.send_signal(kill_signal)
    assert first.wait_exit(timeout=15) is not None
    if kill_signal == signal.SIGTERM:
        assert "The master quit; waiting for a master to connect" in \
            poll(worker.stderr, lambda e: "The master quit" in e, timeout=5)
        assert "Stopped all users" in poll(worker.stderr, lambda e: "Stopped all users" in e, timeout=5)
        quiet = target.mark()
        time.sleep(1)
        assert target.count(quiet) == 0, "the users kept running after the master's quit"
    else:
        before = target.count()
        time.sleep(1)
        assert target.count() > before, "the users stopped when the master died"

    second = cluster.master(["HelloUser"], port=first.port, stop_timeout=2)
    back = time.monotonic()
    workers = poll(second.workers, lambda ws: len(ws) == 1, timeout=REJOIN_S)
    assert len(workers) == 1, f"the worker did not register with the new master within {REJOIN_S} s"
    assert time.monotonic() - back <= REJOIN_S + 1
    assert len(cluster.wait_registered(second, timeout=10)) == 1
    if kill_signal == signal.SIGKILL:
        # the new master runs no test: the worker stops the old run's users
        assert "The master is not running a test; stopping 3 users" in worker.stderr()
        time.sleep(0.5)
        quiet = target.mark()
        time.sleep(1)
        assert target.count(quiet) == 0, "requests after the worker stopped its orphaned users"

    new_run_counts_right(cluster, second, target, users=3)
    assert worker.proc.alive(), "the worker exited"


@pytest.mark.parametrize("flavor", ["pypi"])
def test_master_started_after_worker(cluster, target):
    """The worker starts first and keeps trying; a master that starts 3 s
    later on that port gets it registered within 10 s and runs a test with
    exact counts."""
    port = free_port()
    worker = cluster.worker(SimpleNamespace(port=port, flavor="pypi"))
    time.sleep(3)
    assert worker.proc.alive(), "the worker gave up without a master"

    master = cluster.master(["HelloUser"], port=port, stop_timeout=2)
    assert len(cluster.wait_registered(master, timeout=REJOIN_S)) == 1, \
        f"the worker did not register within {REJOIN_S} s of the master's start"

    new_run_counts_right(cluster, master, target, users=3)
    assert worker.proc.alive(), "the worker exited"


@pytest.mark.parametrize("flavor", ["pypi"])
def test_unacked_client_ready_gets_fresh_node_id(cluster, fake_master, target):
    """What a master that came back from a freeze can look like to the
    worker: the link is up but client_ready is never acked, because the
    master's ROUTER still holds the worker's node id on the old connection.
    A fake master plays it: after a `reconnect`, it ignores client_ready from
    the old id. The worker must give up on that id (after 6 s, by its own
    design) and register under a fresh one, within 10 s."""
    worker = cluster.worker(fake_master)
    assert fake_master.wait_for(lambda: fake_master.messages("client_ready"), 10)
    old = fake_master.messages("client_ready")[0]
    fake_master.pump(1.0)

    fake_master.auto_ack = False
    since = time.monotonic()
    fake_master.send_msg(old.identity, "reconnect", None, old.node_id)

    def fresh():
        return [m for m in fake_master.messages("client_ready", since=since) if m.node_id != old.node_id]

    # (the client_ready under the old id may not even reach the fake master:
    # its ROUTER may still hold the old connection under that id, the very
    # case this plays)
    assert fake_master.wait_for(fresh, REJOIN_S), \
        f"still client_ready as the old node id {REJOIN_S} s later: " + \
        str([round(m.at - since, 1) for m in fake_master.messages("client_ready", since=since)])
    new = fresh()[0]
    fake_master.send_msg(new.identity, "ack", {"index": 1}, new.node_id)
    fake_master.send_msg(new.identity, "spawn", fake_master.spawn_msg({"HelloUser": 1}, target.url), new.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 10)
    assert worker.proc.alive()
