"""Signals: a second SIGTERM or SIGINT during the shutdown the first one
began ends the worker at once.

The first signal's behaviour (quit to the master, exit 0 within 2 s, a final
stats report the master counts) is in test_quit.py; --processes (a killed
child is reported and the others keep running; stopping the parent stops
every child) is in test_processes.py.
"""

import signal
import time

import pytest

from conftest import c_worker_only

pytestmark = [c_worker_only("the C worker's shutdown"), pytest.mark.parametrize("flavor", ["pypi"])]

ATTEMPTS = 3  # the second signal has a 0.3 s window: retry if the test was too slow to hit it


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_second_signal_exits_at_once(cluster, fake_master, fault_server, sig):
    """Users wait on a target that never answers, so the first signal's
    shutdown has requests to drain (0.3 s). A second signal within that
    drain must end the process immediately (exit code 1, "Second signal"),
    not wait for the drain. If the worker was already gone before the test
    could send the second signal, the attempt proves nothing: try again."""
    server = fault_server("blackhole")
    outcomes = []
    for attempt in range(ATTEMPTS):
        since = time.monotonic()
        worker = cluster.worker(fake_master)
        ready = fake_master.wait_registered(since=since)
        seen = server.requests
        fake_master.spawn(ready, {"HelloUser": 3}, server.url)
        assert fake_master.wait_for(lambda: server.requests >= seen + 3, 10), "requests did not reach the target"

        worker.proc.send_signal(sig)
        deadline = time.monotonic() + 2
        while "stopping users and exiting" not in worker.stderr() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert "stopping users and exiting" in worker.stderr(), "the first signal did not start a shutdown"
        if not worker.proc.alive():
            outcomes.append(f"attempt {attempt}: exited ({worker.proc.returncode}) before the second signal")
            continue
        sent = time.monotonic()
        worker.proc.send_signal(sig)
        code = worker.proc.wait(timeout=2)
        took = time.monotonic() - sent
        if code == 0 and "Second signal" not in worker.stderr():
            # the first shutdown finished before the second signal arrived
            outcomes.append(f"attempt {attempt}: exit 0 {took:.3f} s after the second signal, no 'Second signal'")
            continue
        assert code == 1, f"exit code {code} after a second signal"
        assert "Second signal: exiting now" in worker.stderr()
        assert took < 0.25, f"{took:.3f} s from the second signal to the exit"
        return
    pytest.fail("the second signal never ended the worker at once:\n" + "\n".join(outcomes))
