"""Target faults: the target refuses, never answers, resets, closes idle
keep-alive connections, or answers with HTML error pages.

Each run goes through the PyPI master's web API (the master version does not
matter here): swarm, let the fault play for a few seconds, stop with a stop
timeout so that requests in flight finish and are counted, then read the
master's failures and stats CSV. Every fault must give failures with a
readable error text, grouped the way Locust groups them (one row of the
failures CSV per distinct error), counted once each (the master's count
equals the requests the target read), and users must keep their wait times
(no hot loop: the request count stays under users * run time / wait). The
worker stays up throughout.
"""

import re
import time
from collections import Counter

import pytest

from conftest import (AGGREGATED, WORKER_IMPL, Target, aggregated_count, c_worker_only, closed_port,
                      counts_by_request, poll, stats_row)

# every fault through both HTTP clients of the C worker (a stock Python
# worker ignores the setting)
pytestmark = [pytest.mark.parametrize("flavor", ["pypi"]),
              pytest.mark.parametrize("http_client", ["curl", "fast"])]

HELLO_WAIT = 0.2  # HelloUser waits constant(0.2)
# a refused connect, as both clients of the C worker report it
# (libcurl's text, with its "after N ms" left out), Python's repr quoting
REFUSED = 'ConnectionError("Failed to connect to 127.0.0.1 port {port}: Couldn\'t connect to server")'


class Run:
    """The master's CSV tables after a run, and how long the users ran."""

    def __init__(self, master, worker, seconds):
        self.master, self.worker, self.seconds = master, worker, seconds

    def stats(self):
        return self.master.requests_csv()

    def failures(self):
        return self.master.failures_csv()


def run(cluster, classes, users, seconds, host, worker_args=None, settled=None):
    """Swarm `users` (all at once) against host for `seconds`, then stop
    (stop timeout 3 s: tasks in hand finish and are counted). settled(rows)
    says when the master's stats CSV has every report it waits for (workers
    report every 3 s); by default, any request at all."""
    master = cluster.master(classes, host=host, stop_timeout=3)
    worker = cluster.worker(master, args=worker_args)
    assert len(cluster.wait_registered(master)) == 1, "the worker did not register"
    started = time.monotonic()
    master.swarm(users, users)
    time.sleep(seconds)
    master.stop()
    ran = time.monotonic() - started
    poll(master.requests_csv, settled or (lambda rows: aggregated_count(rows) > 0), timeout=15)
    assert worker.proc.alive(), "the worker exited"
    return Run(master, worker, ran)


def most_requests(users, seconds, seconds_per_task):
    """A bound on the requests of users that each take seconds_per_task per
    task (wait included) for `seconds`."""
    return int(users * (seconds / seconds_per_task + 2))


def only_failure_row(result, method="GET", name="/"):
    failures = result.failures()
    assert len(failures) == 1, f"want one failure row (one distinct error), got {len(failures)}: {failures}"
    row = failures[0]
    assert (row["Method"], row["Name"]) == (method, name), row
    return row


# curl's error texts carry how long the attempt took ("after 0 ms", "after
# 1001 milliseconds"): python-requests' texts for the same errors do not.
ELAPSED = re.compile(r"\d+ (ms|milliseconds)\b")


def failure_rows_up_to_timing(result, method="GET", name="/"):
    """The failure rows as {error text with elapsed times masked: total
    occurrences}, for rows that differ only in an elapsed time."""
    merged = Counter()
    for row in result.failures():
        assert (row["Method"], row["Name"]) == (method, name), row
        merged[ELAPSED.sub("N ms", row["Error"])] += int(row["Occurrences"])
    return dict(merged)


def all_failed(result):
    """The Aggregated row; every request in it failed."""
    total = stats_row(result.stats(), *AGGREGATED)
    assert total is not None
    assert int(total["Request Count"]) > 0
    assert int(total["Failure Count"]) == int(total["Request Count"]), total
    return int(total["Request Count"])


def test_connection_refused(cluster):
    """--host points at a closed port: every request is a ConnectionError
    and users still wait between tasks."""
    users = 3
    port = closed_port()
    result = run(cluster, ["HelloUser"], users, 3, f"http://127.0.0.1:{port}")

    total = all_failed(result)
    [(error, count)] = failure_rows_up_to_timing(result).items()
    if WORKER_IMPL == "c":  # the same text from both clients, naming the address
        assert error == REFUSED.format(port=port), error
    else:  # Locust: ConnectionRefusedError(111, 'Connection refused')
        assert error.startswith("ConnectionRefusedError("), error
    assert count == total
    # a refused connect fails in microseconds: only the wait keeps the rate
    # down, to one task per 0.2 s per user (with the C worker at least one
    # per 0.4 s: nothing stalls; a Python worker's refusals take longer)
    assert total <= most_requests(users, result.seconds, HELLO_WAIT)
    if WORKER_IMPL == "c":
        assert users * result.seconds / (2 * HELLO_WAIT) <= total, total



@c_worker_only("checks the C worker's error texts")
def test_connection_refused_is_one_failure_row(cluster):
    """Every refused request is the same error: one row of the failures CSV,
    its text without a duration in it."""
    result = run(cluster, ["HelloUser"], 1, 1, f"http://127.0.0.1:{closed_port()}")

    row = only_failure_row(result)
    assert not ELAPSED.search(row["Error"]), row["Error"]


@c_worker_only("--request-timeout is the C worker's flag")
def test_unanswered_requests_time_out(cluster, fault_server):
    """A target that accepts and reads but never answers: with
    --request-timeout 1 each request fails as a Timeout after 1 s, each
    counted once (the master's count equals the requests the server read)."""
    server = fault_server("blackhole")
    users = 3
    result = run(cluster, ["HelloUser"], users, 4, server.url, worker_args=["--request-timeout", "1"],
                 settled=lambda rows: aggregated_count(rows) == server.requests)

    total = all_failed(result)
    [(error, count)] = failure_rows_up_to_timing(result).items()
    assert error.startswith("Timeout("), error
    assert count == total
    assert total == server.requests
    # each task takes the 1 s timeout plus the 0.2 s wait: 4 s of swarm
    # give each user 3-4 tasks (4 s / 1.2 s), the stop's drain one more
    assert users * 3 <= total <= users * 5, total
    # the master's response times of these failures are the timeout's length
    row = stats_row(result.stats(), "GET", "/")
    assert 950 <= float(row["Min Response Time"]), row
    assert float(row["Max Response Time"]) <= 1300, row


@c_worker_only("checks the C worker's error texts")
def test_request_timeout_is_one_failure_row(cluster, fault_server):
    """Every timed-out request is the same error: one row of the failures
    CSV, its text without a duration in it."""
    server = fault_server("blackhole")
    result = run(cluster, ["HelloUser"], 1, 1, server.url, worker_args=["--request-timeout", "0.5"])

    row = only_failure_row(result)
    assert not ELAPSED.search(row["Error"]), row["Error"]


def test_connection_reset(cluster, fault_server):
    """A target that reads the request and resets the connection (SO_LINGER
    0): one ConnectionError row, each request counted once."""
    server = fault_server("reset")
    users = 3
    result = run(cluster, ["HelloUser"], users, 3, server.url,
                 settled=lambda rows: aggregated_count(rows) == server.requests)

    total = all_failed(result)
    row = only_failure_row(result)
    # C: ConnectionError('Recv failure: ...'); Locust: ConnectionResetError(104, ...)
    assert row["Error"].startswith("Connection"), row["Error"]
    assert "reset" in row["Error"].lower(), row["Error"]
    assert int(row["Occurrences"]) == total
    assert total == server.requests
    assert total <= most_requests(users, result.seconds, HELLO_WAIT)


@c_worker_only("checks the C worker's connection reuse")
def test_idle_connection_closed_by_server_is_retried(cluster, procs, tmp_path):
    """nginx closes keep-alive connections idle for 5 s; IdleUser waits
    5.5-6 s between requests, so every request after a user's first finds
    its connection closed. Each must go out on a fresh connection, not be
    reported as a failure: zero failures and the master's count equals
    nginx's."""
    target = Target(procs, tmp_path / "nginx-idle", keepalive_timeout="5s")
    users = 4
    result = run(cluster, ["IdleUser"], users, 7.5, target.url,
                 settled=lambda rows: counts_by_request(rows) == target.counts_by_request())

    assert result.failures() == []
    served = target.counts_by_request()
    assert counts_by_request(result.stats()) == served
    # every user made 2 requests (t = 0 and ~5.75 s), each on a new connection
    assert served[AGGREGATED] >= 2 * users, served
    assert len(target.connections()) == served[AGGREGATED], "a connection idle for 5 s was reused"
    assert served[AGGREGATED] <= most_requests(users, result.seconds, 5.5)


@c_worker_only("checks the C worker's connection reuse")
def test_connection_dropped_on_reuse_is_retried(cluster, fault_server):
    """The race the idle case avoids: the server closes a keep-alive
    connection, unanswered, just as the client sends the next request on it.
    Nothing of the response was received, so the request is retried once on
    a fresh connection, not reported: zero failures, and the master's count
    equals the requests the server answered."""
    server = fault_server("close-reused")
    users = 3
    result = run(cluster, ["HelloUser"], users, 3, server.url,
                 settled=lambda rows: aggregated_count(rows) >= server.answered)

    assert server.requests > server.answered, "no request came on a reused connection"
    assert result.failures() == []
    assert aggregated_count(result.stats()) == server.answered > 0
    assert server.connections == server.answered
    assert server.answered <= most_requests(users, result.seconds, HELLO_WAIT)


# nginx's own HTML error pages, a status picked at random per request
HTML_ERRORS_ROOT = """\
if ($request_id ~ "^[0-4]") {
                return 500;
            }
            if ($request_id ~ "^[5-9]") {
                return 502;
            }
            return 503;"""


HTTP_ERROR = re.compile(r"^HTTPError\('(\d{3}) Server Error: (.+) for url: (.+)'\)$")


def test_server_errors_with_html_bodies(cluster, procs, tmp_path):
    """A target answering 500, 502 and 503 with HTML error pages: one failure
    row per status, the text Python requests' HTTPError gives (status,
    reason phrase and URL, never the HTML body), each with nginx's count for
    that status."""
    target = Target(procs, tmp_path / "nginx-html", root=HTML_ERRORS_ROOT)
    users = 3
    result = run(cluster, ["HelloUser"], users, 3, target.url,
                 settled=lambda rows: aggregated_count(rows) == target.count())

    total = all_failed(result)
    assert total == target.count()
    by_status = {}
    for row in result.failures():
        assert (row["Method"], row["Name"]) == ("GET", "/"), row
        m = HTTP_ERROR.match(row["Error"])
        assert m, f"not an HTTPError text: {row['Error']!r}"
        status, reason, url = m.groups()
        assert status not in by_status, f"two rows for {status}"
        # the request's name, as Locust writes it (test_failures_of_one_name_are_one_row)
        assert url == "/", url
        by_status[status] = (reason, int(row["Occurrences"]))
    assert by_status == {
        "500": ("Internal Server Error", target.count(status=500)),
        "502": ("Bad Gateway", target.count(status=502)),
        "503": ("Service Temporarily Unavailable", target.count(status=503)),
    }
    assert all(count > 0 for _, count in by_status.values()), by_status
    assert total <= most_requests(users, result.seconds, HELLO_WAIT)


def test_failures_of_one_name_are_one_row(cluster, target):
    """NamedFailUser requests /fail?id=<0-999> (500) under one name: like
    Locust, one failure row for that name and error, its text naming the
    request's name, not each URL."""
    result = run(cluster, ["NamedFailUser"], 3, 2, "target",
                 settled=lambda rows: aggregated_count(rows) == target.count())

    served = [s for s in target.served() if s.path.startswith("/fail?id=")]
    assert len({s.path for s in served}) > 1, "too few distinct URLs to tell"
    row = only_failure_row(result, name="/fail?id=[id]")
    assert row["Error"] == "HTTPError('500 Server Error: Internal Server Error for url: /fail?id=[id]')"
    assert int(row["Occurrences"]) == len(served) == all_failed(result)


def test_sub_millisecond_and_absurd_timeouts(cluster, fault_server):
    """A request timeout of 0.4 ms against a target that never answers is a
    timeout of 1 ms (used to: rounded to 0, which libcurl reads as none, so
    the request hung), on both clients; a timeout of -1 s or of infinity is
    refused before anything is sent, in one ValueError row each."""
    blackhole = fault_server("blackhole")
    master = cluster.master(["TinyTimeoutUser", "BadTimeoutUser"], host=blackhole.url, stop_timeout=1)
    cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(2, 2)

    def rows():
        out = {}
        for r in master.failures_csv():
            key = (r["Name"], r["Error"].split("(")[0])
            out[key] = out.get(key, 0) + int(r["Occurrences"])
        return out

    got = poll(rows, lambda f: f.get(("/tiny", "Timeout"), 0) >= 3 and f.get(("/neg", "ValueError"), 0) >= 3
               and f.get(("/inf", "ValueError"), 0) >= 3, 15)
    assert got.get(("/tiny", "Timeout"), 0) >= 3, got
    assert got.get(("/neg", "ValueError"), 0) >= 3 and got.get(("/inf", "ValueError"), 0) >= 3, got
    texts = {r["Error"] for r in master.failures_csv() if r["Name"] != "/tiny"}
    assert texts == {"ValueError('Attempted to set timeout to -1, but the timeout must be more than 0 and at "
                     "most 86400 seconds.')",
                     "ValueError('Attempted to set timeout to inf, but the timeout must be more than 0 and at "
                     "most 86400 seconds.')"}, texts
    master.stop()
