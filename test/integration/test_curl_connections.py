"""Each user's own keep-alive connection, counted by the target: the curl
client keeps a paced user's plain-HTTP connection itself
(worker/curl_conn.c), out of libcurl's connection cache, and must still give
every user one connection of its own across requests and same-origin
redirects, as Python's HttpUser keeps its session's, and replace one the
server closes without a failed request. The fast client runs the same
checks.

OwnConnUser (constant(1): a paced user) names itself in every URL
(/own/<n>, /own-moved/<n>) and nginx logs its connection serial number with
every request, so the target's own log says whose connection each request
came on.
"""

import math
from collections import defaultdict

import pytest

from conftest import Target, aggregated_count, c_worker_only, stats_row
from test_faults_target import run
from test_headless import run_headless

pytestmark = [c_worker_only("the C worker's own connections"),
              pytest.mark.parametrize("flavor", ["pypi"]),
              pytest.mark.parametrize("http_client", ["curl", "fast"])]

OWN_LOCATIONS = """\
        location /own/ {{
            {limit}return 200 "own";
        }}
        location /own-moved/ {{
            {limit}rewrite ^/own-moved/(.*)$ /own/$1 redirect;
        }}"""


@pytest.fixture
def keepalive_requests() -> int:
    """nginx's requests per connection on OwnConnUser's paths (0: the
    target's own, a million)."""
    return 0


@pytest.fixture
def target(procs, tmp_path, keepalive_requests) -> Target:
    limit = f"keepalive_requests {keepalive_requests};\n            " if keepalive_requests else ""
    return Target(procs, tmp_path / "nginx", locations=OWN_LOCATIONS.format(limit=limit))


def owners(target: Target) -> tuple[dict, dict, dict]:
    """({user: {connection}}, {connection: {user}}, {connection: requests})
    from nginx's log."""
    conns_of, users_of, served_on = defaultdict(set), defaultdict(set), defaultdict(int)
    for s in target.served():
        parts = s.path.split("/")
        assert len(parts) == 3 and parts[1] in ("own", "own-moved"), s.path
        conns_of[parts[2]].add(s.connection)
        users_of[s.connection].add(parts[2])
        served_on[s.connection] += 1
    return conns_of, users_of, served_on


def check_counts(master, target: Target) -> None:
    """Nothing failed, and the master counted what nginx served (a
    redirected request once, under its own name)."""
    stats = master.csv_file("stats")
    assert master.csv_file("failures") == []
    moved = target.count(path=None, status=302)
    assert moved > 0, "no redirect was followed"
    assert int(stats_row(stats, "GET", "/own-moved")["Request Count"]) == moved
    assert aggregated_count(stats) == target.count() - moved


def test_each_user_keeps_its_own_connection(cluster, target):
    """8 users, 7 s of requests 1 s apart, a third of them redirected to
    the same origin: each user's requests all came on one connection, and
    no connection carried two users' requests."""
    users = 8
    master, _ = run_headless(cluster, ["OwnConnUser"], users, 7)

    check_counts(master, target)
    conns_of, users_of, served_on = owners(target)
    assert len(conns_of) == users, "users' numbers collide or a user sent nothing"
    assert all(len(c) == 1 for c in conns_of.values()), f"a user used several connections: {conns_of}"
    assert all(len(u) == 1 for u in users_of.values()), f"a connection carried several users: {users_of}"
    assert min(served_on.values()) >= 6, f"too few requests on a connection: {served_on}"


@pytest.mark.parametrize("keepalive_requests", [2])
def test_connection_closed_by_server_is_replaced(cluster, target):
    """nginx closes each connection after its 2nd request ("Connection:
    close" on the answer), redirects included: every user goes on with a
    fresh connection of its own, no request fails, and each connection but
    a user's last carried exactly 2 requests (kept until the server closed
    it, never reused after)."""
    users = 6
    master, _ = run_headless(cluster, ["OwnConnUser"], users, 7)

    check_counts(master, target)
    conns_of, users_of, served_on = owners(target)
    assert len(conns_of) == users
    assert all(len(u) == 1 for u in users_of.values()), f"a connection carried several users: {users_of}"
    for user, conns in conns_of.items():
        counts = sorted(served_on[c] for c in conns)
        total = sum(counts)
        assert total >= 6, (user, counts)
        assert len(conns) == math.ceil(total / 2), (user, counts)
        assert counts[1:] == [2] * (len(counts) - 1), (user, counts)


def test_kept_connection_dropped_on_reuse_is_retried(cluster, fault_server):
    """The server answers the first request of each connection and closes
    the connection, unanswered, when the next one comes on it: the kept
    connection looked alive when checked, and died under the request.
    Nothing of the response came, so the request goes again once on a
    fresh connection, never reported: zero failures, and the master counts
    what the server answered, one connection each."""
    server = fault_server("close-reused")
    users = 3
    result = run(cluster, ["OwnConnUser"], users, 4, server.url,
                 settled=lambda rows: aggregated_count(rows) >= server.answered)

    assert server.requests > server.answered, "no request came on a kept connection"
    assert result.failures() == []
    assert aggregated_count(result.stats()) == server.answered > 0
    assert server.connections == server.answered
