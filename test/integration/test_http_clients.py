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


def requests_says(url: str) -> str:
    """What Python requests (the pinned venv's) raises for url, as Locust's
    failures table shows it: repr() of the exception. Only URLs refused
    before any connection are asked: nothing leaves the process."""
    import requests

    try:
        requests.get(url, timeout=1)
    except Exception as e:  # noqa: BLE001 - the exception is the answer
        return repr(e)
    raise AssertionError(f"requests accepted {url!r}")


REFUSED_HOSTS = {
    "file": lambda t, s: "file:///etc/os-release?",
    "gopher": lambda t, s: f"gopher://127.0.0.1:{s.port}",
    "dict": lambda t, s: f"dict://127.0.0.1:{s.port}",
    "crlf-host": lambda t, s: f"http://127.0.0.1:{t.port}\r\nX-Injected: 1",
    "crlf-port": lambda t, s: f"{t.url}\r\nX-Injected: 1",
    "host-1100-bytes": lambda t, s: "http://" + "a" * 1100,
}


@pytest.mark.parametrize("http_client", ["curl", "fast"])
@pytest.mark.parametrize("case", list(REFUSED_HOSTS))
def test_refused_urls(cluster, target, fault_server, case):
    """A host from the master that Python requests refuses (another scheme
    than http/https, a control character in the host, a host label over 63
    bytes; the host of 1,100 bytes is kept whole, never cut): every request
    fails with requests' own exception text (the expected text is asked of
    requests itself), nothing reaches nginx or the listener of the gopher/
    dict port, and nothing else is counted."""
    server = fault_server("blackhole")
    host = REFUSED_HOSTS[case](target, server)
    master, _ = run_headless(cluster, ["HelloUser"], 2, 3, master_host=host)

    want = requests_says(host + "/")
    failures = master.csv_file("failures")
    assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == [("GET", "/", want)]
    total = stats_row(master.csv_file("stats"), *AGGREGATED)
    assert int(total["Request Count"]) > 0
    assert int(failures[0]["Occurrences"]) == int(total["Failure Count"]) == int(total["Request Count"])
    assert target.count() == 0 and server.connections == 0


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_redirect_to_file_scheme_refused(procs, tmp_path, flavor, http_client):
    """nginx answers / with a 302 to file:///etc/os-release: neither client
    follows it (curl: http and https only, for redirects too); each request
    fails with requests' InvalidSchema text for that URL, counted once."""
    from conftest import Cluster, Target

    target = Target(procs, tmp_path / "redir", root='return 302 "file:///etc/os-release";')
    cluster = Cluster(procs, target, tmp_path, flavor, http_client)
    master, _ = run_headless(cluster, ["HelloUser"], 2, 3)

    want = requests_says("file:///etc/os-release")
    failures = master.csv_file("failures")
    assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == [("GET", "/", want)]
    total = stats_row(master.csv_file("stats"), *AGGREGATED)
    assert int(failures[0]["Occurrences"]) == int(total["Request Count"]) == target.count(status=302) > 0


LW_RESPONSE_BODY_MAX = 16 * 1024 * 1024  # worker/lw.h
HUGE_BODY = (b"0123456789" * (LW_RESPONSE_BODY_MAX // 10 + 400_000))[:LW_RESPONSE_BODY_MAX + 4_000_000]


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_body_beyond_the_cap_is_counted_not_kept(procs, tmp_path, flavor, http_client):
    """nginx serves a body 4 MB longer than LW_RESPONSE_BODY_MAX to
    HugeBodyUser, whose response callback fails the request unless exactly
    the first LW_RESPONSE_BODY_MAX bytes were kept and lw_response_body_cut()
    says the body was cut (it used to be kept whole, without any bound).
    The master counts the whole body (its average content size) and no
    failure; its count equals nginx's."""
    from conftest import Cluster, Target

    huge = tmp_path / "huge.bin"
    huge.write_bytes(HUGE_BODY)
    target = Target(procs, tmp_path / "nginx-huge",
                    locations=f"        location = /huge {{\n            alias {huge};\n        }}\n")
    cluster = Cluster(procs, target, tmp_path, flavor, http_client)
    master, _ = run_headless(cluster, ["HugeBodyUser"], 2, 3)

    assert master.csv_file("failures") == []
    row = stats_row(master.csv_file("stats"), "GET", "/huge")
    assert int(row["Request Count"]) == target.count(path="/huge", status=200) > 0
    assert float(row["Average Content Size"]) == len(HUGE_BODY)


SECURE_CHECK = """            if ($cookie_sec != "") {
                return 503 "leak";
            }
"""
COOKIE_LOCATIONS = """
        location = /cookie/set {
            add_header Set-Cookie "scoped=SECRET; Path=/admin";
            add_header Set-Cookie "sec=1; Path=/; Secure";
            return 200 "set";
        }
        location = /admin/need {
            if ($cookie_scoped != "SECRET") {
                return 401;
            }
            return 200 "ok";
        }
        location ~ ^/(admin/leak|public)$ {
            if ($cookie_scoped != "") {
                return 500 "leak";
            }
{secure_check}            return 200 "ok";
        }
"""


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_cookies_scoped_by_host_path_and_secure(procs, tmp_path, flavor, http_client):
    """Two hosts, 127.0.0.1 and localhost (one nginx behind both names; a
    cookie does not care about ports, so two ports would be one host).
    nginx sets scoped=SECRET with Path=/admin (host-only: no Domain) and a
    Secure cookie on 127.0.0.1. CookieScopeUser then asks 127.0.0.1's
    /admin/need (401 without the cookie), 127.0.0.1's /public and
    localhost's /admin/leak (500 when a cookie comes along). Nothing fails
    and nginx answered every request as expected: the cookie goes to its
    host and path only, the Secure one never over http. (The fast client
    used to match cookies by name only and send both everywhere.)
    libcurl treats 127.0.0.1 and localhost as secure contexts and sends
    Secure cookies there over http (requests does not; elsewhere libcurl
    does not either): its run leaves the Secure check out."""
    from conftest import Cluster, Target

    locations = COOKIE_LOCATIONS.replace("{secure_check}", SECURE_CHECK if http_client == "fast" else "")
    target = Target(procs, tmp_path / "nginx-cookies", locations=locations)
    cluster = Cluster(procs, target, tmp_path, flavor, http_client)
    users = 3
    master, _ = run_headless(cluster, ["CookieScopeUser"], users, 4,
                             worker_env={"LW_TEST_OTHER_HOST": f"http://localhost:{target.port}"})

    assert master.csv_file("failures") == []
    stats = master.csv_file("stats")
    assert target.count(path="/cookie/set", status=200) == users
    for path in ("/admin/need", "/public", "/admin/leak"):
        served = target.count(path=path)
        assert served > 0 and target.count(path=path, status=200) == served, path
        assert int(stats_row(stats, "GET", path)["Request Count"]) == served, path


@pytest.mark.parametrize("http_client", ["curl", "fast"])
def test_redirect_loop_ends_after_30(procs, tmp_path, flavor, http_client):
    """nginx redirects / to itself: each request follows 30 redirects (31
    requests at nginx), then fails as curl says, in one failure row, the
    same through both clients; nothing leaks (the fast client keeps a
    reference on the host it leaves while following a redirect)."""
    from conftest import Cluster, Target

    target = Target(procs, tmp_path / "loop", root="return 302 /;")
    cluster = Cluster(procs, target, tmp_path, flavor, http_client)
    master, _ = run_headless(cluster, ["HelloUser"], 2, 3)

    failures = master.csv_file("failures")
    assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == \
        [("GET", "/", "ConnectionError('Maximum (30) redirects followed')")]
    total = stats_row(master.csv_file("stats"), *AGGREGATED)
    assert int(failures[0]["Occurrences"]) == int(total["Request Count"]) > 0
    assert target.count(status=302) == 31 * int(total["Request Count"])
    # both clients' failures are in that row: the master counted requests
    # from each of the two workers
    counted = {}
    for worker_id, report in master.worker_reports():
        counted[worker_id] = counted.get(worker_id, 0) + report["num_requests"]
    assert len(counted) == 2 and all(n > 0 for n in counted.values()), counted
    assert sum(counted.values()) == int(total["Request Count"]), counted
