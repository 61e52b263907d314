"""Launch the Ops-Core stand-in with a single uvicorn worker, like upstream.

    python examples/opscore/standin/run.py --host 127.0.0.1 --port 8000 --redis-port 6379

Options become the stand-in's environment variables (OPSCORE_API_KEY,
REDIS_HOST, REDIS_PORT, LOG_LEVEL, OPSCORE_UPSTREAM_WORKFLOW_BUG and the
degradations' OPSCORE_CPU_WORK_*, OPSCORE_SLOW_REDIS_*); anything not
given keeps the value already in the environment, or the stand-in's default.
Redis must already be running.
"""

import argparse
import os
import sys
from pathlib import Path

import uvicorn

REPO_ROOT = Path(__file__).resolve().parents[3]
APP = "examples.opscore.standin.opscore_standin:app"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--redis-host", help="REDIS_HOST (default localhost)")
    p.add_argument("--redis-port", type=int, help="REDIS_PORT (default 6379)")
    p.add_argument("--api-key", help="OPSCORE_API_KEY (default test-api-key)")
    p.add_argument("--log-level", help="LOG_LEVEL (default INFO; WARNING: no per-request lines)")
    p.add_argument("--upstream-workflow-bug", action="store_true",
                   help="POST /workflow always answers 500, like upstream")
    p.add_argument("--cpu-work-ms", type=float,
                   help="OPSCORE_CPU_WORK_MS: CPU-bound mode, ms of CPU per agent request")
    p.add_argument("--slow-redis-ms", type=float,
                   help="OPSCORE_SLOW_REDIS_MS: slow-Redis mode, ms of Redis time per slowed call")
    p.add_argument("--degrade-above-agents", type=int,
                   help="OPSCORE_DEGRADE_ABOVE_AGENTS: the modes start once more agents than this have registered")
    p.add_argument("--slow-redis-share", type=float,
                   help="OPSCORE_SLOW_REDIS_SHARE: share of Redis calls slowed (0-1, default 1)")
    p.add_argument("--timeout-keep-alive", type=int, default=5,
                   help="seconds an idle keep-alive connection stays open (uvicorn's default, as upstream)")
    return p.parse_args(argv)


def export_env(args: argparse.Namespace) -> None:
    """The stand-in reads its settings from the environment at import."""
    for name, value in (("REDIS_HOST", args.redis_host), ("REDIS_PORT", args.redis_port),
                        ("OPSCORE_API_KEY", args.api_key), ("LOG_LEVEL", args.log_level),
                        ("OPSCORE_CPU_WORK_MS", args.cpu_work_ms),
                        ("OPSCORE_SLOW_REDIS_MS", args.slow_redis_ms),
                        ("OPSCORE_DEGRADE_ABOVE_AGENTS", args.degrade_above_agents),
                        ("OPSCORE_SLOW_REDIS_SHARE", args.slow_redis_share)):
        if value is not None:
            os.environ[name] = str(value)
    if args.upstream_workflow_bug:
        os.environ["OPSCORE_UPSTREAM_WORKFLOW_BUG"] = "1"


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    export_env(args)
    log_level = os.environ.get("LOG_LEVEL", "INFO").lower()
    uvicorn.run(APP, host=args.host, port=args.port, workers=1, app_dir=str(REPO_ROOT),
                log_level=log_level, timeout_keep_alive=args.timeout_keep_alive)


if __name__ == "__main__":
    main(sys.argv[1:])
