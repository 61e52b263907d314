"""Headless runs: the master's final CSV files against the target's access log."""

import pytest

from conftest import HELLO_LOCUSTFILE, LOCUSTFILE, aggregated_count, c_worker_only, stats_row


def run_headless(cluster, classes, users, seconds, locustfile=LOCUSTFILE, binary="test-worker",
                 master_host="target", worker_args=None, worker_env=None):
    """One headless master (-u users -r users -t seconds) and one worker.
    Waits for the master to finish; returns (master, worker)."""
    master = cluster.master(classes, headless=True, users=users, rate=users, run_time=f"{seconds}s",
                            expect_workers=1, stop_timeout=2, locustfile=locustfile, host=master_host)
    worker = cluster.worker(master, binary=binary, locustfile=locustfile, args=worker_args, env=worker_env)
    assert master.wait_exit(timeout=seconds + 45) is not None, "the headless master did not finish"
    return master, worker


def test_request_count_equals_target_count(cluster, target):
    users, seconds, wait = 5, 10, 0.2  # HelloUser waits constant(0.2)

    master, _ = run_headless(cluster, ["HelloUser"], users, seconds)

    assert master.proc.returncode == 0
    stats = master.csv_file("stats")
    total = aggregated_count(stats)
    served = target.count()
    assert total > 0
    assert total == served
    root = stats_row(stats, "GET", "/")
    assert root is not None and int(root["Request Count"]) == target.count(method="GET", path="/", status=200)
    assert stats_row(stats, "", "Aggregated")["Failure Count"] == "0"
    assert master.csv_file("failures") == []
    # constant(0.2): no user can have done more than one task per 0.2 s,
    # and each did at least one per 0.3 s (nginx answers in well under 0.1 s)
    assert users * seconds / (wait + 0.1) <= total <= users * (seconds / wait + 2), total
    # each user has its own session: one keep-alive connection per user
    assert len(target.connections()) == users


def test_failures_grouped_by_name_and_error(cluster, target):
    master, _ = run_headless(cluster, ["FailUser"], users=3, seconds=6)

    failures = master.csv_file("failures")
    stats = master.csv_file("stats")

    def failure_row(name, error_part):
        rows = [r for r in failures if r["Method"] == "GET" and r["Name"] == name and error_part in r["Error"]]
        assert len(rows) == 1, f"want one failure row for GET {name} with {error_part!r}: {failures}"
        return rows[0]

    expected = {  # name: (text in the error, status nginx served)
        "/fail": ("500", 500),
        "/notfound": ("404", 404),
        "/": ("no nope in body", 200),
    }
    for name, (error_part, status) in expected.items():
        served = target.count(method="GET", path=name, status=status)
        assert served > 0, f"nginx served no GET {name}"
        assert int(failure_row(name, error_part)["Occurrences"]) == served, name
        # failures are requests too
        row = stats_row(stats, "GET", name)
        assert row is not None, f"no stats row for GET {name}"
        assert int(row["Request Count"]) == served, name
        assert int(row["Failure Count"]) == served, name

    assert len(failures) == len(expected), failures
    total = stats_row(stats, "", "Aggregated")
    assert int(total["Request Count"]) == int(total["Failure Count"]) == target.count()


def test_hello_example(cluster, target):
    """examples/hello: its locustfile on the master, build/hello-worker as the worker."""
    users, seconds, wait = 2, 4, 1  # examples/hello waits constant(1)

    master, _ = run_headless(cluster, ["HelloUser"], users, seconds, locustfile=HELLO_LOCUSTFILE,
                             binary="hello-worker")

    assert master.proc.returncode == 0
    total = aggregated_count(master.csv_file("stats"))
    assert total == target.count(method="GET", path="/", status=200) == target.count()
    # constant(1): one task a second per user, the first at once
    assert users * (seconds - 1) <= total <= users * (seconds / wait + 2), total


@c_worker_only("a Python worker takes the host from the spawn message even when it is empty")
@pytest.mark.parametrize("via_env", [False, True], ids=["flag", "env"])
def test_host_from_worker_when_master_has_none(cluster, target, via_env):
    """--host or LOCUST_HOST on the worker, used when the master sends no host."""
    master, _ = run_headless(cluster, ["HelloUser"], users=2, seconds=3, master_host=None,
                             worker_args=[] if via_env else ["--host", target.url],
                             worker_env={"LOCUST_HOST": target.url} if via_env else None)

    total = aggregated_count(master.csv_file("stats"))
    assert total > 0
    assert total == target.count()
