"""The C worker's two HTTP clients: libcurl (each class's default, like
HttpUser) and the fast HTTP/1.1 client (LW_CLIENT_FAST or --http-client
fast, like FastHttpUser).

Both must give the user the same session (cookies, redirects, headers,
bodies, response checks), the same counts (the master's equal the
target's) and the same failure rows, so that a test plan reads the same
whichever client ran it. test_faults_target.py runs every target fault
through both; the tests imported from test_headless.py and test_web.py
below run again here through the fast client.
"""

import pytest

from conftest import AGGREGATED, aggregated_count, c_worker_only, closed_port, poll, stats_row
from test_headless import (run_headless, test_failures_grouped_by_name_and_error,  # noqa: F401
                           test_request_count_equals_target_count)
from test_web import test_users_per_class_and_chained_request  # noqa: F401

pytestmark = [c_worker_only("the C worker's HTTP clients"),
              pytest.mark.parametrize("flavor", ["pypi"])]


@pytest.fixture
def http_client() -> str:
    """Here the fast client, unless a test names its clients."""
    return "fast"


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_session_cookie_and_redirect(cluster, target):
    """SessionUser logs in (nginx sets a session cookie), then asks /whoami
    (401 without the cookie; the body is the cookie, checked against the
    user's own) and /moved (302 to /whoami). Every user keeps its own
    cookie, redirects are followed with it, a redirected request is one
    request in stats under its own name, and nothing fails."""
    users = 4
    master, _ = run_headless(cluster, ["SessionUser"], users, 5)

    stats = master.csv_file("stats")
    assert master.csv_file("failures") == []
    assert target.count(path="/whoami", status=401) == 0, "a request went without the session cookie"
    logins = [s for s in target.served() if s.path.startswith("/login?user=")]
    assert int(stats_row(stats, "GET", "/login")["Request Count"]) == users == len(logins)
    moved = target.count(path="/moved", status=302)
    assert moved > 0
    assert int(stats_row(stats, "GET", "/moved")["Request Count"]) == moved
    whoami = int(stats_row(stats, "GET", "/whoami")["Request Count"])
    assert whoami > 0
    assert whoami + moved == target.count(path="/whoami", status=200)
    assert len(target.connections()) == users, "one keep-alive connection per user"


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_large_chunked_bodies(cluster, fault_server):
    """A target answering every request with a 100,000-byte chunked body
    (chunks of 1 byte to tens of KB, many socket reads each): BodyUser's
    response check sees every byte, nothing fails, the connection is kept
    (one per user), and the master's average content size is the body's."""
    server = fault_server("chunked")
    users = 3
    master = cluster.master(["BodyUser"], host=server.url, stop_timeout=3)
    cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(users, users)
    poll(master.requests_csv, lambda rows: aggregated_count(rows) >= 30, timeout=20)
    master.stop()
    rows = poll(master.requests_csv, lambda rows: aggregated_count(rows) == server.answered, timeout=10)

    assert master.failures_csv() == []
    row = stats_row(rows, "GET", "/big")
    assert int(row["Request Count"]) == server.answered == server.requests
    assert float(row["Average Content Size"]) == 100_000
    assert server.connections == users


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_body_without_content_type(cluster, target):
    """ChainUser POSTs "x" to /echo without a Content-Type, as Python
    requests does with data="x"; nginx answers 415 to any Content-Type.
    Neither client adds one (libcurl would send form-urlencoded), so
    every POST is a 200 and nothing fails."""
    master, _ = run_headless(cluster, ["ChainUser"], 2, 3)

    posts = target.count(method="POST", path="/echo")
    assert posts > 0
    assert target.count(method="POST", path="/echo", status=200) == posts
    assert master.csv_file("failures") == []


def one_fleet_two_clients(cluster, classes, host, users=4, worker_args=(), settled=None):
    """One master, two C workers: one on libcurl, one on the fast client.
    Returns the master after its stats have settled."""
    master = cluster.master(classes, host=host, stop_timeout=3)
    for client in ("curl", "fast"):
        cluster.worker(master, args=["--http-client", client] + list(worker_args))
    assert len(cluster.wait_registered(master, 2)) == 2
    master.swarm(users, users)
    poll(master.requests_csv, settled or (lambda rows: aggregated_count(rows) >= 20), timeout=20)
    master.stop()
    return master


@pytest.mark.parametrize("fault", ["refused", "http-500", "timeout"])
def test_both_clients_give_the_same_failure_rows(cluster, fault_server, fault):
    """A fleet of a libcurl worker and a fast-client worker against a
    failing target: the master shows one failure row per error, not one per
    client, so the two clients' error texts are the same."""
    if fault == "refused":
        master = one_fleet_two_clients(cluster, ["HelloUser"], f"http://127.0.0.1:{closed_port()}")
        want = "ConnectionError("
    elif fault == "http-500":
        master = one_fleet_two_clients(cluster, ["NamedFailUser"], cluster.target.url)
        want = "HTTPError('500 Server Error: Internal Server Error for url: /fail?id=[id]')"
    else:
        server = fault_server("blackhole")
        master = one_fleet_two_clients(cluster, ["HelloUser"], server.url, worker_args=["--request-timeout", "0.5"],
                                       settled=lambda rows: aggregated_count(rows) >= 8)
        want = "Timeout("

    rows = poll(master.failures_csv, lambda r: r != [], timeout=10)
    assert len(rows) == 1, f"one row per error, not per client: {rows}"
    assert rows[0]["Error"].startswith(want), rows[0]["Error"]
    total = stats_row(master.requests_csv(), *AGGREGATED)
    assert int(rows[0]["Occurrences"]) == int(total["Failure Count"]) == int(total["Request Count"])
    # both clients' failures are in that row: the master counted requests
    # from each of the two workers
    counted = {}
    for worker_id, report in master.worker_reports():
        counted[worker_id] = counted.get(worker_id, 0) + report["num_requests"]
    assert len(counted) == 2 and all(n > 0 for n in counted.values()), counted
    assert sum(counted.values()) == int(total["Request Count"]), counted
