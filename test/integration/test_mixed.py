"""A stock Python worker and the worker under test in the same run."""

import pytest

from conftest import WORKER_IMPL, aggregated_count


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

    total = aggregated_count(master.csv_file("stats"))
    assert total > 0
    assert total == target.count()
    assert len(target.connections()) == users
    # the users each worker ran, as nginx saw them: one connection per user,
    # Python's requests sending its User-Agent, the C worker none (or its
    # own); with LW_WORKER_CMD=python both workers are Python workers
    agents = target.agents()
    python = {c for c in target.connections() if agents[c].startswith("python-requests/")}
    assert len(python) == (users // 2 if WORKER_IMPL == "c" else users), agents
    assert len(target.connections() - python) == (users // 2 if WORKER_IMPL == "c" else 0), agents
