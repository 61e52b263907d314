"""--max-rps and --request-increase-rate: users of constant(0) against nginx,
the rate read from nginx's own access log; standalone and under a stock
master with --processes 2 (each process gets half the cap)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, WORKER_DIR, c_worker_only, parse_csv

pytestmark = c_worker_only("the rate cap is the C worker's own")

BENCH_LOCUSTFILE = ROOT / "examples" / "bench" / "locustfile.py"


def standalone(procs, tmp_path, target, args, seconds):
    p = procs.start("capped", "c-worker",
                    [WORKER_DIR / "bench-worker", "--headless", "-u", "20", "-r", "100", "-t", f"{seconds}s",
                     "-H", target.url, "--only-summary", "--csv", tmp_path / "cap", "FastBenchUser"] + args,
                    {"ASAN_OPTIONS": "detect_leaks=1"})
    assert p.wait(seconds + 30) == 0, p.output_tail()
    return p


def test_max_rps_standalone(procs, target, tmp_path):
    """300/s for 4 s with 20 users that never wait: 1,200 requests (+15 of
    the bucket's first 50 ms), within 3 %, and the worker's count is the
    target's."""
    mark = target.mark()
    standalone(procs, tmp_path, target, ["--max-rps", "300"], 4)
    served = target.count(since=mark)
    assert 0.97 * 1200 <= served <= 1.03 * 1200 + 15, served
    rows = parse_csv(Path(f"{tmp_path}/cap_stats.csv").read_bytes().decode())
    assert int(next(r for r in rows if r["Name"] == "Aggregated")["Request Count"]) == served


def test_request_increase_rate(procs, target, tmp_path):
    """100/s more every second up to 300: about 100, 200, 300, 300 requests
    in the four seconds after the first one."""
    mark = target.mark()
    standalone(procs, tmp_path, target, ["--max-rps", "300", "--request-increase-rate", "100/1s"], 4)
    served = target.served(since=mark)
    t0 = min(s.time for s in served)
    per_second = Counter(int(s.time - t0) for s in served)
    for sec, want in ((0, 100), (1, 200), (2, 300)):
        assert abs(per_second[sec] - want) <= 0.1 * want + 3, per_second


@pytest.mark.parametrize("flavor", ["pypi"])
def test_max_rps_split_between_processes(cluster, target):
    """--processes 2 --max-rps 400 under a headless master: 400/s in all,
    and the master's count is the target's."""
    seconds = 5
    master = cluster.master(["FastBenchUser"], headless=True, users=20, rate=100, run_time=f"{seconds}s",
                            expect_workers=2, stop_timeout=2, locustfile=BENCH_LOCUSTFILE)
    mark = target.mark()
    cluster.worker(master, binary="bench-worker", locustfile=BENCH_LOCUSTFILE,
                   args=["--processes", "2", "--max-rps", "400"])
    assert master.wait_exit(timeout=60) is not None, master.proc.output_tail()
    served = target.served(since=mark)
    t0 = min(s.time for s in served)
    window = [s for s in served if 1 <= s.time - t0 < 4]   # after the ramp, before the stop
    assert abs(len(window) / 3 - 400) <= 0.05 * 400, len(window)
    rows = master.csv_file("stats")
    assert int(next(r for r in rows if r["Name"] == "Aggregated")["Request Count"]) == len(served)
