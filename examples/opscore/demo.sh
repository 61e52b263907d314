#!/usr/bin/env bash
# demo.sh - one command from nothing to a load-test report against Ops-Core.
#
# Starts Redis and the stand-in Ops-Core (unless OPSCORE_URL points at a real
# one), a headless stock Locust master running Scenario 0 shortened to about a
# minute, and one build/opscore-worker. Prints the master's summary, leaves its
# CSV files and HTML report in a folder it names, and stops everything it
# started, also on Ctrl-C.
#
# Environment: OPSCORE_URL (use this Ops-Core, start nothing for the target),
# OPSCORE_API_KEY (default test-api-key), DEMO_SCENARIO (default 0),
# DEMO_TIME_SCALE (default 0.2: Scenario 0's 5 minutes become 1 minute),
# DEMO_OUT (output folder), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${VENV:-.venv}
SCENARIO=${DEMO_SCENARIO:-0}
SCALE=${DEMO_TIME_SCALE:-0.2}
OUT=${DEMO_OUT:-results/demo-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
pids=()

cleanup() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${pids[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

free_port() {
    "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() {   # url, seconds
    for _ in $(seq 1 $(( $2 * 10 ))); do
        if "$VENV/bin/python" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "demo: $1 did not answer within $2 s" >&2
    return 1
}

start_target() {
    local redis_port port
    redis_port=$(free_port)
    port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no > "$OUT/redis.log" 2>&1 &
    pids+=($!)
    LOG_LEVEL=WARNING "$VENV/bin/python" examples/opscore/standin/run.py \
        --host 127.0.0.1 --port "$port" --redis-port "$redis_port" > "$OUT/opscore.log" 2>&1 &
    pids+=($!)
    OPSCORE_URL="http://127.0.0.1:$port"
    wait_http "$OPSCORE_URL/health" 20
    echo "demo: stand-in Ops-Core at $OPSCORE_URL (Redis on 127.0.0.1:$redis_port)"
}

if [ -z "${OPSCORE_URL:-}" ]; then
    start_target
else
    echo "demo: using the Ops-Core at $OPSCORE_URL"
fi

master_port=$(free_port)
"$VENV/bin/locust" -f examples/opscore/locustfile.py --master --headless \
    --master-bind-host 127.0.0.1 --master-bind-port "$master_port" \
    --expect-workers 1 --host "$OPSCORE_URL" \
    --scenario "$SCENARIO" --time-scale "$SCALE" \
    --csv "$OUT/opscore" --html "$OUT/report.html" > "$OUT/master.log" 2>&1 &
master=$!
pids+=($master)
build/opscore-worker --master-host 127.0.0.1 --master-port "$master_port" \
    > "$OUT/worker.log" 2>&1 &
pids+=($!)
echo "demo: Scenario $SCENARIO at time scale $SCALE; master and worker running (logs in $OUT)"

status=0
wait "$master" || status=$?
"$VENV/bin/python" examples/opscore/summary.py "$OUT/opscore_stats.csv"
echo "demo: results in $OUT (opscore_stats.csv, opscore_failures.csv, report.html)"
exit "$status"
