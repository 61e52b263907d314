"""The any-protocol API (lw_record, lw_task_hold/release, lw_timer_after,
lw_worker_index) through the test worker's RecordUser and NullNameUser,
under a stock master and standalone."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import WORKER_DIR, c_worker_only, parse_csv

pytestmark = c_worker_only("the C API")


def rows_by_name(rows):
    return {(r["Type"], r["Name"]): r for r in rows}


@pytest.mark.parametrize("flavor", ["pypi", "debian"])
def test_records_reach_the_master(cluster):
    """Each task records a success named after the worker's index from the
    master's ack, holds the task for 50 ms on a timer, then records a
    failure: the master's rows count both the same, under the index 0."""
    master = cluster.master(["RecordUser"], headless=True, users=2, rate=2, run_time="4s", expect_workers=1,
                            stop_timeout=2, host=None)
    worker = cluster.worker(master)
    assert master.wait_exit(timeout=60) is not None, master.proc.output_tail()
    rows = rows_by_name(master.csv_file("stats"))
    ok, late = rows[("CUSTOM", "worker-0")], rows[("CUSTOM", "timed")]
    assert int(ok["Request Count"]) == int(late["Request Count"]) > 0, (rows, worker.stderr()[-2000:])
    assert ok["Failure Count"] == "0" and late["Failure Count"] == late["Request Count"]
    # the recorded times, bucketed as Locust buckets them
    assert ok["50%"] == "5" and late["50%"] == "50"
    failures = master.csv_file("failures")
    # Locust 2.12.1's master writes repr() of the text
    text = "Boom('late')"
    assert [(f["Name"], f["Error"]) for f in failures] in ([("timed", text)], [("timed", repr(text))])


def test_null_name_is_an_exception_not_a_crash(procs, tmp_path):
    p = procs.start("null-name", "c-worker", [WORKER_DIR / "test-worker", "--headless", "-u", "1", "-t", "1s",
                                             "--csv", tmp_path / "n", "NullNameUser"],
                    {"ASAN_OPTIONS": "detect_leaks=1"})
    assert p.wait(30) == 1, p.output_tail()
    exceptions = parse_csv(Path(f"{tmp_path}/n_exceptions.csv").read_bytes().decode())
    assert len(exceptions) == 1 and "lw_record: the name is NULL" in exceptions[0]["Message"], exceptions
    assert int(exceptions[0]["Count"]) >= 1
    assert "ERROR/locust.user: NullNameUser: lw_record: the name is NULL" in p.stderr()
    rows = parse_csv(Path(f"{tmp_path}/n_stats.csv").read_bytes().decode())
    assert [r["Name"] for r in rows] == ["Aggregated"] and rows[0]["Request Count"] == "0"
