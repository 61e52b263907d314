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

from conftest import AGGREGATED, c_worker_only, free_port, poll

pytestmark = c_worker_only("a stock Python worker does not register again by itself")

REJOIN_S = 10  # the worker must be registered again this long after the master is back
FREEZE_S = 10



def running_users(master, users, timeout=10):
    return poll(master.stats, lambda s: s["user_count"] == users and s["state"] == "running", timeout)


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
    """SIGSTOP the master for 10 s while 3 users run, then SIGCONT. A frozen
    master is not a lost one (nor is a network partition: see
    test_multihost.py): the worker keeps its connection, its node id and its
    users, as a Python worker does, and a 2.19+ master's silence is logged.
    After the resume the master lists the same worker, running 3 users; the
    whole run's count equals nginx's (reports held back during the freeze are
    delivered once, not lost, not doubled); then a fresh test on the same
    worker counts exactly."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(master)
    ids_before = [w["id"] for w in cluster.wait_registered(master)]
    assert len(ids_before) == 1
    master.swarm(3, 3)
    assert running_users(master, 3)["user_count"] == 3
    time.sleep(1)

    master.proc.send_signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        if master.flavor == "pypi":  # 2.19+ answers heartbeats: the silence shows
            silent = poll(worker.stderr, lambda e: "No heartbeat from the master" in e, timeout=9)
            assert "No heartbeat from the master" in silent, "the worker did not notice the silence"
        during = target.count()
        time.sleep(max(0.0, FREEZE_S - (time.monotonic() - frozen_at)))
        assert target.count() > during, "the users stopped while the master was frozen"
    finally:
        master.proc.send_signal(signal.SIGCONT)

    def healed(s):
        live = [w for w in s["workers"] if w["state"] != "missing"]
        return s["user_count"] == 3 and [w["id"] for w in live] == ids_before and \
            [w["state"] for w in live] == ["running"]

    stats = poll(master.stats, healed, timeout=15)
    assert healed(stats), f"not back as {ids_before} with 3 users: {stats['user_count']}, {stats['workers']}"
    assert "Lost the connection" not in worker.stderr()
    assert "Registering as a fresh worker" not in worker.stderr()
    time.sleep(2)
    master.stop()
    counts, served = master.settled_counts(target)
    assert counts == served
    assert worker.proc.alive(), "the worker exited"

    new_run_counts_right(cluster, master, target)
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
        # the worker stopped the old run's users before it registered
        assert "Registering as a fresh worker: stopping the 3 users" in worker.stderr()
        quiet = target.mark()
        time.sleep(1)
        assert target.count(quiet) == 0, "requests after the worker stopped its orphaned users"
    # nothing of the old test reaches the new master
    for _ in range(7):
        s = second.stats()
        assert s["user_count"] == 0, f"the new master counts {s['user_count']} users of the old test"
        total = [r for r in s["stats"] if r["name"] == "Aggregated"]
        assert not total or total[0]["num_requests"] == 0, f"old requests reached the new master: {total}"
        assert [w["user_count"] for w in s["workers"]] == [0]
        time.sleep(1)

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


@pytest.mark.parametrize("flavor", ["pypi"])
def test_spawn_during_stop_waits_for_it(cluster, fake_master, fault_server):
    """A spawn that arrives while a stop is still draining (requests in
    flight to a target that never answers) is handled after the stop, in
    order, as a Python worker handles messages: client_stopped and
    client_ready first, then spawning and spawning_complete of the new test,
    which then runs its 1 user."""
    blackhole = fault_server("blackhole")
    cluster.worker(fake_master)
    ready = fake_master.wait_registered()
    fake_master.spawn(ready, {"HelloUser": 2}, blackhole.url)
    assert fake_master.wait_for(lambda: blackhole.requests >= 2, 10), "no requests in flight"
    since = time.monotonic()
    fake_master.send_msg(ready.identity, "stop", None, ready.node_id)
    fake_master.send_msg(ready.identity, "spawn", fake_master.spawn_msg({"HelloUser": 1}, blackhole.url),
                         ready.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 15), \
        "the spawn sent during the stop was never applied"
    order = [m.type for m in fake_master.messages(since=since)
             if m.type in ("client_stopped", "client_ready", "spawning", "spawning_complete")]
    assert order[:2] == ["client_stopped", "client_ready"], order
    assert order.index("spawning_complete") > order.index("client_ready"), order
    done = fake_master.messages("spawning_complete", since=since)[0]
    assert done.data["user_classes_count"]["HelloUser"] == 1
