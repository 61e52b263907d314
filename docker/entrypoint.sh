#!/bin/sh
# entrypoint.sh - the image's `locust` command: one image for master and workers.
#
# With `--worker` among the arguments, or LOCUST_MODE_WORKER=true, it execs
# the C worker that LW_WORKER names, with the same arguments (the workers
# take Locust's whole command line and its LOCUST_* variables):
#   LW_WORKER=opscore   /opt/lw/bin/opscore-worker (the image's default)
#   LW_WORKER=hello     /opt/lw/bin/hello-worker
#   LW_WORKER=/path     a worker binary of your own, added to the image
#   LW_WORKER=python    a stock Locust (Python) worker
# Anything else runs Locust itself (master, web UI, standalone, --help).
# exec: the worker or Locust replaces this shell, so SIGTERM reaches it.
set -eu

LOCUST=/opt/venv/bin/locust
worker=false
case "${LOCUST_MODE_WORKER:-}" in
    [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | 1) worker=true ;;
esac
for arg in "$@"; do
    case "$arg" in
        --worker) worker=true ;;
    esac
done
[ "$worker" = true ] || exec "$LOCUST" "$@"

name=${LW_WORKER:-opscore}
case "$name" in
    python) exec "$LOCUST" "$@" ;;
    */*) bin=$name ;;
    *) bin=/opt/lw/bin/$name-worker ;;
esac
if [ ! -x "$bin" ]; then
    echo "entrypoint: LW_WORKER=$name: no worker binary $bin (the image has: hello, opscore, python)" >&2
    exit 2
fi
exec "$bin" "$@"
