"""examples/redis: build/redis-worker load-tests a real redis-server (started
here on 127.0.0.1) through lw_record, task holds, a timer and the user's
loop; a stock master's counts per command equal Redis's own INFO
commandstats calls, and the agents' keys carry the worker's index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis

from conftest import ROOT, WORKER_DIR, c_worker_only, free_port, parse_csv, poll

pytestmark = c_worker_only("examples/redis is a C worker")

LOCUSTFILE = ROOT / "examples" / "redis" / "locustfile.py"
COMMANDS = ("GET", "SET", "HSET")


@pytest.fixture
def redis_server(procs, tmp_path):
    port = free_port()
    procs.start("redis", "target", ["/usr/bin/redis-server", "--port", port, "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", tmp_path])
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    poll(lambda: _ping(client), bool, timeout=10)
    client.config_resetstat()
    return port, client


def _ping(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def redis_calls(client) -> dict[str, int]:
    stats = client.info("commandstats")
    return {c: stats.get(f"cmdstat_{c.lower()}", {}).get("calls", 0) for c in COMMANDS}


def counts_by_type(rows) -> dict[str, int]:
    out = {c: 0 for c in COMMANDS}
    for r in rows:
        if r["Name"] != "Aggregated":
            out[r["Type"]] += int(r["Request Count"])
    return out


@pytest.mark.parametrize("flavor", ["pypi"])
def test_master_counts_equal_redis_commandstats(cluster, redis_server):
    port, client = redis_server
    master = cluster.master(["AgentUser", "SessionUser"], headless=True, users=8, rate=8, run_time="6s",
                            expect_workers=1, stop_timeout=3, locustfile=LOCUSTFILE, host=None,
                            extra_args=["--redis-port", str(port)])
    worker = cluster.worker(master, binary="redis-worker", locustfile=LOCUSTFILE)
    assert master.wait_exit(timeout=60) is not None, master.proc.output_tail()
    rows = master.csv_file("stats")
    counts = counts_by_type(rows)
    assert counts == redis_calls(client), (rows, worker.stderr()[-3000:])
    assert all(counts[c] > 0 for c in COMMANDS), counts
    assert all(r["Failure Count"] == "0" for r in rows), rows
    # Ops-Core's key layout, agents named after the worker's index (0)
    keys = [k.decode() for k in client.scan_iter("agent:*")]
    assert keys and all(re.fullmatch(r"agent:lw0-[0-9a-f]{8}:(registration|latest_state)", k) for k in keys), keys
    assert master.csv_file("failures") == []


def test_standalone_counts_equal_redis_commandstats(procs, redis_server, tmp_path):
    """Without a master: the worker's own _stats.csv equals Redis's counts;
    a standalone run is worker index 0."""
    port, client = redis_server
    env = {"REDIS_PORT": str(port), "ASAN_OPTIONS": "detect_leaks=1"}
    p = procs.start("redis-standalone", "c-worker",
                    [WORKER_DIR / "redis-worker", "--headless", "-u", "6", "-r", "6", "-t", "3s", "-s", "3",
                     "--only-summary", "--csv", tmp_path / "r"], env)
    assert p.wait(40) == 0, p.output_tail()
    rows = parse_csv(Path(f"{tmp_path}/r_stats.csv").read_bytes().decode())
    assert counts_by_type(rows) == redis_calls(client)
    assert all(k.decode().startswith("agent:lw0-") for k in client.scan_iter("agent:*"))


def test_redis_down_is_a_failure_not_a_crash(procs, tmp_path):
    """No Redis listening: every command is a failure with a ConnectionError,
    the run ends with exit code 1."""
    env = {"REDIS_PORT": str(free_port()), "ASAN_OPTIONS": "detect_leaks=1"}
    p = procs.start("redis-down", "c-worker",
                    [WORKER_DIR / "redis-worker", "--headless", "-u", "2", "-r", "2", "-t", "2s",
                     "--only-summary", "--csv", tmp_path / "d"], env)
    assert p.wait(40) == 1, p.output_tail()
    failures = parse_csv(Path(f"{tmp_path}/d_failures.csv").read_bytes().decode())
    assert failures and all("ConnectionError" in f["Error"] for f in failures), failures
