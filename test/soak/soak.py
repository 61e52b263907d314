#!/usr/bin/env python3
"""soak.py - a long run at scale, watching the worker's memory.

`make soak` (not part of `make check`): build/opscore-worker (the release
build, not ASan) runs 2,000 MixedUser users, the Ops-Core Scenario 3 pacing
(between(1, 5), 80% POST state / 15% GET state / 5% POST workflow, each user
registering its agent first), for SOAK_SECONDS (default 600), driven by a
headless stock Locust master (PyPI's). The target is nginx answering the
Ops-Core routes with the statuses the worker expects (about 670 requests/s:
the worker is what is measured, not the target); SOAK_TARGET=standin uses
the stand-in Ops-Core (examples/opscore/standin, FastAPI on Redis) instead,
which may not keep up on a small machine.

The worker's RSS is sampled every 10 s (/proc/<pid>/status). After the
warm-up (minute 2, or the first third of a shorter run), the RSS must not
grow by more than 5 %: the median of the last three samples against the
median of the first three after the warm-up. Also checked: every user was
spawned, no request failed, and the master's request count equals what the
target served (nginx only). Exit code 0 when all hold, 1 otherwise; the
samples are printed as a table.

SOAK_WORKER=lua runs the same classes in Lua instead: build/lua-worker
with examples/opscore/opscore.lua.

Environment: SOAK_SECONDS (default 600), SOAK_USERS (default 2000),
SOAK_TARGET (nginx or standin), SOAK_HTTP_CLIENT (curl or fast: the worker's
--http-client; default the classes' own, libcurl), SOAK_KEEP=1 keeps the
temporary directory.
Everything listens on 127.0.0.1 and every process started here is killed at
exit.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "test" / "integration"))

from conftest import AGGREGATED, OPSCORE_LOCATIONS, Master, Procs, Target, parse_csv, stats_row  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
USERS = int(os.environ.get("SOAK_USERS", "2000"))
TARGET = os.environ.get("SOAK_TARGET", "nginx")
HTTP_CLIENT = os.environ.get("SOAK_HTTP_CLIENT", "")
SAMPLE_S = 10
WARMUP_S = min(120, SECONDS // 3)
MAX_GROWTH = 0.05
SPAWN_RATE = 200
LUA = os.environ.get("SOAK_WORKER", "c") == "lua"
WORKER = ROOT / "build" / ("lua-worker" if LUA else "opscore-worker")
WORKER_ARGS = [ROOT / "examples" / "opscore" / "opscore.lua"] if LUA else []




def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def main() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 16384) if hard != resource.RLIM_INFINITY else 16384
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < USERS + 256:
        print(f"soak: the open-file limit ({want}) is too low for {USERS} users", file=sys.stderr)
        return 1
    if not WORKER.exists():
        print(f"soak: {WORKER} is missing: make {WORKER.relative_to(ROOT)}", file=sys.stderr)
        return 1

    tmp = Path(tempfile.mkdtemp(prefix="lw-soak-"))
    procs = Procs(tmp)
    extra = []
    try:
        if TARGET == "standin":
            from opscore_fixtures import RedisServer, StandIn

            redis_server = RedisServer(tmp)
            extra.append(redis_server)
            standin = StandIn(redis_server.port, tmp)
            extra.append(standin)
            url, target = standin.url, None
        else:
            target = Target(procs, tmp / "nginx", locations=OPSCORE_LOCATIONS, connections=max(4096, 2 * USERS))
            url = target.url

        print(f"soak: {USERS} MixedUser users ({WORKER.name}) for {SECONDS} s against {TARGET} ({url}), "
              f"HTTP client: {HTTP_CLIENT or 'curl (default)'}; "
              f"RSS every {SAMPLE_S} s, warm-up {WARMUP_S} s, at most {MAX_GROWTH:.0%} growth after it")
        master = Master(procs, "pypi", tmp / "master", HERE / "locustfile.py", ["MixedUser"], url, headless=True,
                        users=USERS, rate=SPAWN_RATE, run_time=f"{SECONDS}s", expect_workers=1, stop_timeout=5,
                        port=None, extra_args=["--only-summary"])
        client = ["--http-client", HTTP_CLIENT] if HTTP_CLIENT else []
        worker = procs.start(WORKER.name, "c-worker", [WORKER] + WORKER_ARGS + [
            "--master-host", "127.0.0.1", "--master-port", master.port] + client)
        start = time.monotonic()
        samples: list[tuple[float, int]] = []
        print(f"{'t (s)':>7} {'RSS (MiB)':>10}")
        next_at = start + SAMPLE_S
        while master.proc.alive() and time.monotonic() - start < SECONDS + 90:
            if not worker.alive():
                if "The master sent quit" not in worker.stderr():
                    print(f"soak: the worker exited early (code {worker.returncode}):\n{worker.output_tail()}")
                    return 1
                break
            now = time.monotonic()
            if now >= next_at:
                try:
                    rss = rss_bytes(worker.pid)
                except (OSError, RuntimeError):
                    break
                samples.append((now - start, rss))
                print(f"{now - start:7.0f} {rss / 2**20:10.1f}", flush=True)
                next_at += SAMPLE_S
            time.sleep(0.5)
        if master.proc.wait(30) is None:
            print("soak: the master did not finish")
            return 1
        code = worker.wait(30)

        problems = []
        if code != 0:
            problems.append(f"the worker exited with code {code}")
        if f"Spawning complete: {USERS} users" not in worker.stderr():
            problems.append(f"the worker never ran all {USERS} users")
        after = [rss for t, rss in samples if t >= WARMUP_S]
        if len(after) < 6:
            problems.append(f"only {len(after)} RSS samples after the warm-up: run longer")
        else:
            base, last = statistics.median(after[:3]), statistics.median(after[-3:])
            growth = last / base - 1
            print(f"soak: RSS after warm-up {base / 2**20:.1f} MiB -> {last / 2**20:.1f} MiB "
                  f"({growth:+.1%}; max {max(after) / 2**20:.1f} MiB; "
                  f"{base / USERS / 1024:.1f} KiB per user)")
            if growth > MAX_GROWTH:
                problems.append(f"RSS grew {growth:.1%} after the warm-up (limit {MAX_GROWTH:.0%})")
        stats = parse_csv(Path(f"{master.csv_prefix}_stats.csv").read_text())
        total = stats_row(stats, *AGGREGATED)
        requests_, failures = int(total["Request Count"]), int(total["Failure Count"])
        print(f"soak: {requests_} requests ({requests_ / SECONDS:.0f}/s), {failures} failures")
        if failures:
            problems.append(f"{failures} failed requests: "
                            f"{Path(f'{master.csv_prefix}_failures.csv').read_text()[:2000]}")
        if target is not None:
            time.sleep(0.5)  # the last access log lines
            served = target.count()
            print(f"soak: nginx served {served}")
            if served != requests_:
                problems.append(f"the master counted {requests_} requests, nginx served {served}")
        for p in problems:
            print(f"soak: FAIL: {p}")
        if not problems:
            print("soak: PASS")
        return 1 if problems else 0
    finally:
        procs.stop_all()
        for e in extra:
            e.stop()
        if os.environ.get("SOAK_KEEP"):
            print(f"soak: logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
