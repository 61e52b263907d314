"""A stock Python worker and the worker under test in the same run."""

import pytest

from conftest import aggregated_count


# Only the PyPI master: Debian's 2.12.1 master rejects its own stock workers
# (empty __version__), and a PyPI worker under a 2.12.1 master would be a
# version mismatch.
@pytest.mark.parametrize("flavor", ["pypi"])
def test_python_and_c_worker_share_a_run(cluster, target):
    users = 10
    master = cluster.master(["HelloUser"], headless=True, users=users, rate=users, run_time="6s",
                            expect_workers=2, stop_timeout=2)
    cluster.worker(master, impl="python")
    cluster.worker(master)

    assert master.wait_exit(timeout=60) is not None, "the headless master did not finish"

    # the most users each worker reported running, from the master's log
    peak = {}
    for worker_id, report in master.worker_reports():
        peak[worker_id] = max(peak.get(worker_id, 0), report["user_count"])
    assert sorted(peak.values()) == [users // 2, users // 2], peak
    total = aggregated_count(master.csv_file("stats"))
    assert total > 0
    assert total == target.count()
    assert len(target.connections()) == users
