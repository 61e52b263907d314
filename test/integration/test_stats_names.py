"""Long request names in the master's stats table (LongNameUser): kept
whole up to the worker's bound (8,192 bytes), cut between characters past
it."""

import time

import requests

from conftest import HTTP_TIMEOUT, c_worker_only, parse_csv, poll

pytestmark = c_worker_only("the C worker's bound on names")

EURO = "\u20ac"
LONG = ["/long/x" + EURO * 100 + "/1", "/long/x" + EURO * 100 + "/2"]
HUGE = "/huge/" + EURO * 3000
HUGE_KEPT = "/huge/" + EURO * 2728  # 8,190 bytes: the last euro sign that fits in 8,192


def test_long_names_are_whole_rows(cluster, target):
    """Two names of 307 bytes that share their first 255 are two rows, each
    whole (the worker used to cut names at 255 bytes: one merged row, its
    name ending in half a euro sign, shown as U+FFFD); a name of 9,006
    bytes is one row cut to 8,190 bytes, after a whole character. Every
    row counts what nginx served under it, and the one cut is logged once."""
    master = cluster.master(["LongNameUser"], stop_timeout=2)
    worker = cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(2, 2)
    poll(master.stats, lambda s: s["user_count"] == 2, timeout=10)
    time.sleep(3)
    master.stop()

    def rows():
        # the master sends the CSV as UTF-8 without saying so: decode it as such
        r = requests.get(master.web_url + "/stats/requests/csv", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return {row["Name"]: int(row["Request Count"]) for row in parse_csv(r.content.decode("utf-8"))
                if row["Name"] != "Aggregated"}

    settled = poll(rows, lambda r: sum(r.values()) == target.count(), timeout=12)
    assert set(settled) == {LONG[0], LONG[1], HUGE_KEPT}, [(len(n.encode()), n[-8:]) for n in settled]
    assert all(n > 0 for n in settled.values()), settled
    assert sum(settled.values()) == target.count()
    assert not any("\ufffd" in name for name in settled)
    assert len(HUGE_KEPT.encode()) == 8190
    assert master.failures_csv() == []
    cuts = [line for line in worker.stderr().splitlines() if "is cut to 8190 bytes" in line]
    assert len(cuts) == 1, cuts
