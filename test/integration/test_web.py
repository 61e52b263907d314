"""Runs driven through the master's web API, as a user of the web UI would."""

import time

from conftest import AGGREGATED, poll

SPAWN_RATE = 20  # above every user count here: each change is one dispatch step


def start(cluster, classes, **master_kwargs):
    master = cluster.master(classes, **master_kwargs)
    cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1, "the worker did not register"
    return master


def wait_users(master, users, timeout=10):
    """The master's stats once it reports `users` users, running."""
    return poll(master.stats, lambda s: s["user_count"] == users and s["state"] == "running", timeout)


def users_seen(target, seconds=1.0):
    """Users running now, as nginx sees them: each user has its own
    keep-alive connection, and a HelloUser or ChainUser (constant(0.2))
    sends on it several times a second."""
    now = time.time()
    return {s.connection for s in target.served() if s.time >= now - seconds}


def test_users_per_class_and_chained_request(cluster, target):
    master = start(cluster, ["HelloUser", "ChainUser"], stop_timeout=2)

    master.swarm(6, SPAWN_RATE)

    stats = wait_users(master, 6)
    assert stats["user_count"] == 6
    assert [w["user_count"] for w in stats["workers"]] == [6]
    want = {"HelloUser": 3, "ChainUser": 3}
    assert poll(master.users_per_class, lambda c: c == want, timeout=6) == want

    echoed = poll(lambda: target.count(method="POST", path="/echo"), lambda n: n >= 20, timeout=10)
    assert echoed >= 20, "ChainUser's chained POST /echo did not reach the target"
    # the same split as nginx saw it: a ChainUser's connection carries POSTs
    chain = {s.connection for s in target.served() if s.method == "POST"}
    assert len(chain) == 3 and len(target.connections()) == 6, (chain, target.connections())
    master.stop()

    counts, served = master.settled_counts(target)
    assert counts == served
    assert served[("POST", "/echo")] > 0
    assert served[("GET", "/")] > served[("POST", "/echo")]  # HelloUser's GETs too


def test_ramp_up_and_down(cluster, target):
    master = start(cluster, ["HelloUser"])

    for users in (10, 3, 8):
        master.swarm(users, SPAWN_RATE)

        stats = wait_users(master, users, timeout=6)  # /stats/requests lags up to 2 s
        assert stats["user_count"] == users
        assert [w["user_count"] for w in stats["workers"]] == [users]
        # and as the target sees it: that many connections sending now
        time.sleep(1.5)
        assert len(users_seen(target)) == users, f"nginx sees {len(users_seen(target))} users, want {users}"

    master.stop()
    time.sleep(1.5)
    assert users_seen(target) == set(), "requests after the stop"


def test_stop_then_start_again(cluster, target):
    master = start(cluster, ["HelloUser"], stop_timeout=1)

    for run in (1, 2):
        since = target.mark()
        master.swarm(4, SPAWN_RATE)
        assert wait_users(master, 4)["user_count"] == 4, f"run {run}"
        assert poll(lambda: target.count(since), lambda n: n >= 20, timeout=10) >= 20, f"run {run}: no traffic"

        master.stop()

        stats = poll(master.stats, lambda s: (s["state"], s["user_count"], [w["state"] for w in s["workers"]])
                     == ("stopped", 0, ["ready"]), timeout=10)
        assert stats["state"] == "stopped", f"run {run}"
        assert stats["user_count"] == 0, f"run {run}"
        assert [w["state"] for w in stats["workers"]] == ["ready"], f"run {run}"
        # the master clears its stats when a run starts: each run against its own traffic
        counts, served = master.settled_counts(target, since)
        assert counts == served, f"run {run}"
        assert served[AGGREGATED] > 0, f"run {run}"
        time.sleep(1)
        assert target.count(since) == served[AGGREGATED], f"run {run}: requests after the stop"
