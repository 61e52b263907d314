"""make plan's command line (PLAN_ARGS): which scenarios, how fast, which
load generators, what to run against and what to watch."""

from __future__ import annotations

import argparse
import math
import os

from .scenarios import SCENARIO_NUMBERS


def scenario_list(text: str) -> list[int]:
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of scenario numbers: {text!r}") from None
    bad = [n for n in numbers if n not in SCENARIO_NUMBERS]
    if bad or not numbers:
        raise argparse.ArgumentTypeError(f"scenarios are 0-4, not {text!r}")
    return sorted(set(numbers))


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def non_negative(text: str) -> float:
    if text.strip() in ("0", "0.0"):
        return 0.0
    return positive(text)


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_plan.py",
        description="Run the Ops-Core load-testing plan: scenarios, monitoring, analysis, findings report.")
    run = p.add_argument_group("what to run")
    run.add_argument("--scenarios", type=scenario_list, default=list(SCENARIO_NUMBERS),
                     help="comma-separated scenario numbers, run in order (default 0,1,2,3,4)")
    run.add_argument("--time-scale", type=positive, default=1.0,
                     help="multiply every duration of the profiles by this, as the locustfile's "
                          "--time-scale (default 1: the plan's own lengths)")
    run.add_argument("--stress-max-users", type=int, default=1000,
                     help="Scenario 4 ends after its step at this many users if nothing broke (default 1000)")
    run.add_argument("--workers", type=int, default=1, help="C worker processes (default 1)")
    run.add_argument("--python-workers", type=int, default=0, help="stock Python workers too (default 0)")
    run.add_argument("--http-client", choices=["curl", "fast"], help="the C workers' HTTP client")
    run.add_argument("--out", help="run folder (default results/plan-YYYYmmdd-HHMMSS)")
    run.add_argument("--interval", type=positive, default=1.0, help="seconds between samples (default 1)")
    run.add_argument("--report-only", metavar="RUN_FOLDER",
                     help="do not run anything: analyse an earlier run folder again and rewrite its findings")

    target = p.add_argument_group("the target (default: the stand-in, started here with Redis)")
    target.add_argument("--url", default=os.environ.get("OPSCORE_URL") or None,
                        help="a real Ops-Core (default: env OPSCORE_URL); nothing is started for the target")
    target.add_argument("--cpu-work-ms", type=non_negative, default=0.0,
                        help="stand-in CPU-bound mode: ms of CPU per agent request in the API process")
    target.add_argument("--slow-redis-ms", type=non_negative, default=0.0,
                        help="stand-in slow-Redis mode: ms of Redis time on a share of the agent requests' Redis calls")
    target.add_argument("--degrade-above-agents", type=int, default=0,
                        help="the stand-in's degradations start once more agents than this have registered "
                             "(default 0: from the start)")
    target.add_argument("--slow-redis-share", type=positive, default=1.0,
                        help="the share (0-1] of Redis calls slowed (default 1)")
    target.add_argument("--upstream-workflow-bug", action="store_true",
                        help="the stand-in answers POST /workflow with upstream's 500")

    watch = p.add_argument_group("what to watch (with --url / OPSCORE_URL)")
    watch.add_argument("--docker-socket", default="/var/run/docker.sock",
                       help="the Docker Engine API socket (default /var/run/docker.sock)")
    watch.add_argument("--service-container", help="Ops-Core's container name, as `docker stats` takes")
    watch.add_argument("--redis-container", help="Redis's container name")
    watch.add_argument("--service-pid", type=int, help="Ops-Core's local process id")
    watch.add_argument("--service-process", help="Ops-Core's local process name (or a word of its command line)")
    watch.add_argument("--redis-pid", type=int, help="Redis's local process id")
    watch.add_argument("--redis-process", help="Redis's local process name")
    watch.add_argument("--redis-addr", type=host_port,
                       help="HOST:PORT of Redis for INFO (password: env REDIS_PASSWORD)")
    watch.add_argument("--service-log", help="Ops-Core's log file (default with a container: its docker logs)")
    watch.add_argument("--service-cores", type=positive, default=1.0,
                       help="cores Ops-Core can use: 1 for uvicorn's single worker (default 1)")
    return p


def parse(argv: list[str]) -> argparse.Namespace:
    p = parser()
    opts = p.parse_args(argv)
    if opts.workers < 0 or opts.python_workers < 0 or opts.workers + opts.python_workers == 0:
        p.error("need at least one worker (--workers / --python-workers)")
    if opts.stress_max_users < 300:
        p.error("--stress-max-users must be at least 300, Scenario 4's opening load")
    if opts.slow_redis_share > 1:
        p.error("--slow-redis-share is a share between 0 and 1")
    if opts.url and not opts.url.startswith(("http://", "https://")):
        p.error(f"OPSCORE_URL / --url must start with http:// or https://, not {opts.url!r}")
    return opts
