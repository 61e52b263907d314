"""Resources: users beyond what the worker can hold, running out of file
descriptors, and a memcheck run.

A master asking for a million users gets the users the worker can hold:
under `prlimit --nofile=256:256` (each user holds a connection) and under
an address-space limit set on the running worker (`prlimit --pid`). The fd
test runs BurstUsers, 4 connections each, under that open-file limit: many
requests cannot open one. The valgrind test runs the non-ASan build
(build/test-worker) under memcheck for one short headless run.
"""

import shutil
import signal
import subprocess
import time

import pytest
import requests

from conftest import (AGGREGATED, HTTP_TIMEOUT, ROOT, aggregated_count, c_worker_only, log_lines, need_tool, poll,
                      stats_row)

pytestmark = [c_worker_only("the C worker's resource handling"), pytest.mark.parametrize("flavor", ["pypi"])]

FD_LIMIT = 256
USERS = 1000
EMFILE_TEXT = "Too many open files"


def running_users(master, timeout=20):
    """The master's user count once it has settled (the same in two reads
    2.5 s apart: /stats/requests is cached for 2 s) with the worker running."""
    last = [None]

    def settled(stats):
        prev, last[0] = last[0], stats["user_count"]
        return stats["state"] == "running" and stats["user_count"] > 0 and prev == stats["user_count"]

    return poll(master.stats, settled, timeout=timeout, interval=2.5)["user_count"]


def master_exceptions(master) -> list[dict]:
    """The master's Exceptions tab: [{"count", "msg", "nodes", ...}]."""
    r = requests.get(master.web_url + "/exceptions", timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    return r.json()["exceptions"]


def test_out_of_file_descriptors(cluster, target):
    """1,000 BurstUsers (4 requests at once each: 4 connections per user)
    under a 256 open-file limit: the worker runs the users it has a
    descriptor for (about 200), and their bursts still run out: no crash;
    requests that get no socket fail with a clear text (one failure row),
    one ERROR line and one exception to the master (its Exceptions tab) per
    minute, not one per request; the requests that have a connection work
    and the master still gets stats (its successes equal nginx's count); the
    worker stops, and exits 0, normally."""
    master = cluster.master(["BurstUser"], stop_timeout=2)
    worker = cluster.worker(master, wrapper=["prlimit", f"--nofile={FD_LIMIT}:{FD_LIMIT}", "--"])
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(USERS, USERS)
    users = running_users(master)
    assert FD_LIMIT // 2 < users < FD_LIMIT, users
    time.sleep(4)
    assert worker.proc.alive(), "the worker died out of file descriptors"
    master.stop()

    def settled():
        rows = master.requests_csv()
        total = stats_row(rows, *AGGREGATED)
        return total and int(total["Request Count"]) - int(total["Failure Count"]) == target.count()

    poll(settled, bool, timeout=12)
    total = stats_row(master.requests_csv(), *AGGREGATED)
    requests_, failures_ = int(total["Request Count"]), int(total["Failure Count"])
    assert failures_ > 0, "no request ran out of file descriptors: the limit did not bite"
    assert requests_ - failures_ == target.count() > 0, "the users with a connection did not work"

    [row] = master.failures_csv()
    assert row["Error"].startswith("ConnectionError(") and EMFILE_TEXT in row["Error"], row
    assert "ulimit -n" in row["Error"], row  # says what to do about it
    assert int(row["Occurrences"]) == failures_

    errors = [line for line in log_lines(worker.stderr(), "ERROR") if EMFILE_TEXT in line]
    assert len(errors) == 1, f"want one ERROR line per minute, got {len(errors)}"
    exceptions = master_exceptions(master)
    assert [e["count"] for e in exceptions if EMFILE_TEXT in e["msg"]] == [1], exceptions
    assert "Sanitizer" not in worker.stderr()

    assert poll(master.workers, lambda ws: [w["state"] for w in ws] == ["ready"], timeout=10)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=5) == 0


MILLION = 1_000_000
CUT_TEXT = "users the master asked for"


def check_cut_reported_once(master, worker, users: int, why: str) -> None:
    """One ERROR line and one exception in the master's Exceptions tab say
    how many users of how many asked the worker runs, and why."""
    lines = [line for line in log_lines(worker.stderr(), "ERROR") if CUT_TEXT in line]
    assert len(lines) == 1, lines
    assert f"can run {users} of the {MILLION} users" in lines[0] and why in lines[0], lines[0]
    cut = [e for e in master_exceptions(master) if CUT_TEXT in e["msg"]]
    assert [e["count"] for e in cut] == [1], cut
    assert why in cut[0]["msg"]


def check_heartbeats_and_counts(master, worker, target, users: int) -> None:
    """The master never missed a heartbeat, lists the worker running the
    users it says it runs; after a stop, no failure and counts equal nginx's;
    SIGTERM ends the worker with 0."""
    assert "failed to send heartbeat" not in master.log(), master.log()[-3000:]
    [w] = master.workers()
    assert w["state"] == "running" and w["user_count"] == users, w
    master.stop()
    counts, served = master.settled_counts(target)
    assert counts == served and sum(served.values()) > 0
    assert master.failures_csv() == []
    assert poll(master.workers, lambda ws: [w["state"] for w in ws] == ["ready"], timeout=10)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=10) == 0


def test_million_users_capped_by_open_files(cluster, target):
    """A master asks for 1,000,000 HelloUsers of a worker under a 256
    open-file limit (it used to try them all: out of descriptors, then of
    memory): the worker runs the users it has a descriptor for (256 less the
    ones it holds and a reserve of 32), says so once in its log and the
    Exceptions tab (with what to do), reports that count to the master,
    keeps its heartbeats on time, and its users' requests all succeed."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(master, wrapper=["prlimit", f"--nofile={FD_LIMIT}:{FD_LIMIT}", "--"])
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(MILLION, MILLION)
    users = running_users(master, timeout=60)
    assert FD_LIMIT // 2 < users <= FD_LIMIT - 32, users
    time.sleep(4)
    check_cut_reported_once(master, worker, users, f"open-file limit is {FD_LIMIT}")
    assert "ulimit -n" in log_lines(worker.stderr(), "ERROR")[0]
    check_heartbeats_and_counts(master, worker, target, users)


def vm_size_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1])
    raise AssertionError("no VmSize")


def test_million_users_capped_by_memory(cluster, target):
    """A master asks for 1,000,000 IdleUsers of a worker (the non-ASan
    build) whose address space is limited to what it uses idle plus 96 MB
    (`prlimit --pid`, RLIMIT_AS): the worker runs the users its memory guard
    allows (48 KB per libcurl user out of 80 % of what is left: 1,638; 16
    KB per fast-client user with LW_HTTP_CLIENT=fast: 4,915),
    none fails for lack of memory, it says so once in its log and the
    Exceptions tab, reports that count to the master and keeps its
    heartbeats on time."""
    binary = ROOT / "build" / "test-worker"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it (make all)", pytrace=False)
    master = cluster.master(["IdleUser"], stop_timeout=8)
    worker = cluster.worker(master, binary=binary)
    assert len(cluster.wait_registered(master)) == 1
    limit = (vm_size_kb(worker.proc.pid) + 96 * 1024) * 1024
    subprocess.run(["prlimit", "--pid", str(worker.proc.pid), f"--as={limit}:{limit}"], check=True)
    master.swarm(MILLION, MILLION)
    users = running_users(master, timeout=60)
    per_user_kb = 16 if cluster.http_client == "fast" else 48  # worker/capacity.h
    estimate = 96 * 1024 * 0.8 / per_user_kb
    assert estimate / 2 < users <= estimate, users
    time.sleep(4)
    check_cut_reported_once(master, worker, users, "(the address-space limit, RLIMIT_AS)")
    assert "out of memory" not in worker.stderr()
    check_heartbeats_and_counts(master, worker, target, users)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_valgrind_memcheck_clean(cluster, target):
    """One headless run (5 s, one user of each of HelloUser, FailUser and
    ChainUser: successes, failures, response callbacks, chained requests)
    with the non-ASan worker under valgrind memcheck: no memory error, no
    definite leak (valgrind's --error-exitcode), exit 0 on the master's
    quit, and the counts right."""
    need_tool(shutil.which("valgrind") is not None, "valgrind")
    binary = ROOT / "build" / "test-worker"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it (make all)", pytrace=False)
    classes = ["HelloUser", "FailUser", "ChainUser"]
    master = cluster.master(classes, headless=True, users=3, rate=3, run_time="5s", expect_workers=1,
                            stop_timeout=2)
    worker = cluster.worker(master, binary=binary, wrapper=[
        "valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
        "--show-leak-kinds=definite", "--track-fds=no"])

    assert master.wait_exit(timeout=90) is not None, "the headless master did not finish"
    code = worker.proc.wait(timeout=60)
    assert code == 0, f"valgrind/worker exit code {code} (99: memcheck errors)\n{worker.stderr()[-6000:]}"
    assert "ERROR SUMMARY: 0 errors" in worker.stderr()
    total = aggregated_count(master.csv_file("stats"))
    assert total > 0
    assert total == target.count()
