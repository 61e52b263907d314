"""Resources: running out of file descriptors, and a memcheck run.

The fd test runs the worker under `prlimit --nofile=256:256` with 1,000
users, each of which holds its own connection: most cannot open one. The
valgrind test runs the non-ASan build (build/test-worker) under memcheck
for one short headless run.
"""

import shutil
import signal
import time

import pytest
import requests

from conftest import (AGGREGATED, HTTP_TIMEOUT, ROOT, aggregated_count, c_worker_only, log_lines, need_tool, poll,
                      stats_row)

pytestmark = [c_worker_only("the C worker's resource handling"), pytest.mark.parametrize("flavor", ["pypi"])]

FD_LIMIT = 256
USERS = 1000
EMFILE_TEXT = "Too many open files"


def test_out_of_file_descriptors(cluster, target):
    """1,000 users under a 256 open-file limit: no crash; requests that get
    no socket fail with a clear text (one failure row), one ERROR line and
    one exception to the master (its Exceptions tab) per minute, not one per
    request; the users that have a connection keep working and the master
    still gets stats (its successes equal nginx's count); the worker stops,
    and exits 0, normally."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(master, wrapper=["prlimit", f"--nofile={FD_LIMIT}:{FD_LIMIT}", "--"])
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(USERS, USERS)
    stats = poll(master.stats, lambda s: s["user_count"] == USERS, timeout=15)
    assert stats["user_count"] == USERS
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
    r = requests.get(master.web_url + "/exceptions", timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    exceptions = r.json()["exceptions"]
    assert [e["count"] for e in exceptions if EMFILE_TEXT in e["msg"]] == [1], exceptions
    assert "Sanitizer" not in worker.stderr()

    assert poll(master.workers, lambda ws: [w["state"] for w in ws] == ["ready"], timeout=10)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=5) == 0


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
