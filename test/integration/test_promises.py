"""The README's promises, each checked end to end against the target's own
record (nginx's access log, or a ScriptedServer's list of requests with
their times) and the master's own CSV and web API: response times, the 2 s
drain at stop, redirect rules, task and class weights, wait times, on_stop,
the Exceptions tab, CatchResponseError, proxies, https through libcurl,
localhost's address fallback, --processes -1 and users stopping without a
master. Where the two HTTP clients could differ, each test runs on both.
"""

import math
import os
import signal
import statistics
import subprocess
import time

import pytest

from conftest import (AGGREGATED, Target, aggregated_count, c_worker_only, need_tool, poll, request_count,
                      stats_row)
from scripted_server import Proxy, ScriptedServer

pytestmark = [pytest.mark.parametrize("flavor", ["pypi"])]
both_clients = pytest.mark.parametrize("http_client", ["curl", "fast"])

# nginx paths of the classes below that the default target answers with 404
PATHS = """\
        location /w/ { return 200 "w"; }
        location /e/ { return 200 "e"; }
        location /hi { return 200 "hi"; }
        location = /bye { return 200 "bye"; }"""


@pytest.fixture
def paths_target(procs, tmp_path) -> Target:
    return Target(procs, tmp_path / "nginx-paths", locations=PATHS)


@pytest.fixture
def scripted():
    """scripted(**kw) starts a ScriptedServer; all are closed at teardown."""
    servers = []

    def start(**kwargs) -> ScriptedServer:
        servers.append(ScriptedServer(**kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def swarm_until(cluster, classes, host, users, enough, timeout=30, stop_timeout=3, worker_args=None,
                worker_env=None, wrapper=None):
    """Web master, one worker, `users` users spawned at once; runs until
    enough() or timeout s, then stops. Returns (master, worker, when the
    stop began as time.time())."""
    master = cluster.master(classes, host=host, stop_timeout=stop_timeout)
    worker = cluster.worker(master, args=worker_args, env=worker_env, wrapper=wrapper)
    assert len(cluster.wait_registered(master)) == 1, "the worker did not register"
    master.swarm(users, users)
    poll(lambda: enough(), lambda ok: ok, timeout)
    stopped_at = time.time()
    master.stop()
    return master, worker, stopped_at


def settle(master, truth, timeout=15):
    """The master's stats rows once its Aggregated count equals truth()."""
    return poll(master.requests_csv, lambda rows: aggregated_count(rows) == truth(), timeout)


# -- response times ----------------------------------------------------------

DELAY = 0.3  # seconds the ScriptedServer waits before it answers /delay
RT_BOUND_MIN = 50  # ms: the fastest response within this of the delay
RT_BOUND_MEDIAN = 100  # ms: the median within this of the delay


@both_clients
def test_response_time_is_the_targets_delay(cluster, scripted):
    """A target answering after 300 ms: the master's min response time is in
    [300, 350] ms and its median in [300, 400] ms (measured from the
    request's start to the body's last byte, never before the answer)."""
    server = scripted(delay=DELAY)
    master, _, _ = swarm_until(cluster, ["DelayUser"], server.url, 3,
                               lambda: len(server.requests("/delay")) >= 30)
    rows = settle(master, lambda: len(server.requests("/delay")))

    row = stats_row(rows, "GET", "/delay")
    assert int(row["Request Count"]) == len(server.requests("/delay")) >= 30
    assert int(row["Failure Count"]) == 0
    delay_ms = DELAY * 1000
    assert delay_ms <= float(row["Min Response Time"]) <= delay_ms + RT_BOUND_MIN, row
    assert delay_ms <= float(row["Median Response Time"]) <= delay_ms + RT_BOUND_MEDIAN, row


@c_worker_only("the 2 s drain at stop is the C worker's")
@both_clients
def test_stop_drains_requests_in_flight(cluster, scripted):
    """A target answering after 0.8 s, a stop without --stop-timeout: the
    requests in flight at the stop get up to 2 s and are counted, so the
    master's count equals the requests the target read (a worker that
    cancelled them would count fewer)."""
    server = scripted(delay=0.8)
    users = 10
    master, _, stopped_at = swarm_until(cluster, ["DelayUser"], server.url, users,
                                        lambda: len(server.requests("/delay")) >= 3 * users,
                                        stop_timeout=None)
    rows = settle(master, lambda: len(server.requests("/delay")))

    hits = server.requests("/delay")
    in_flight = [h for h in hits if h.read < stopped_at and (h.answered or 1e18) > stopped_at]
    assert len(in_flight) >= users // 2, "too few requests in flight at the stop to tell"
    assert aggregated_count(rows) == len(hits), "requests in flight at the stop were not counted"
    assert all(h.answered is not None for h in hits)
    assert all(h.read < stopped_at + 0.5 for h in hits), "a request started after the stop"


# -- timeouts ------------------------------------------------------------------


@c_worker_only("--request-timeout is the C worker's flag")
@both_clients
def test_request_timeout_lasts_its_length(cluster, scripted):
    """--request-timeout 1 against a target that never answers: the target
    sees each connection closed 0.95-1.3 s after it read the request, and
    the master's response times for those failures are in that range."""
    server = scripted(never_answer=True)
    master, _, _ = swarm_until(cluster, ["HelloUser"], server.url, 2, lambda: len(server.requests()) >= 6,
                               worker_args=["--request-timeout", "1"])
    rows = settle(master, lambda: len(server.requests()))

    hits = server.requests()
    lasted = [h.closed - h.read for h in hits if h.closed is not None]
    assert len(lasted) == len(hits) >= 6, "a request was not closed by the client"
    assert all(0.95 <= s <= 1.3 for s in lasted), lasted
    row = stats_row(rows, "GET", "/")
    assert int(row["Failure Count"]) == int(row["Request Count"]) == len(hits)
    assert 950 <= float(row["Min Response Time"]) and float(row["Max Response Time"]) <= 1300, row


# -- weights ---------------------------------------------------------------------

# z of a two-sided 99.99 % interval: six shares are checked, so the family's
# confidence is at least 99.9 %
Z = 3.89


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_task_weights_within_binomial_interval(cluster, paths_target):
    """WeightUser's tasks (weights 80/15/5) and EqualUser's (1/1/1), picked
    at random by weight: over at least 12,000 tasks of each class, as nginx
    counted them, each task's share lies in the 99.99 % Wilson interval of
    its weight (family of six: 99.9 %)."""
    need = 12000

    def enough():
        c = paths_target.counts_by_request()
        return (sum(v for (m, p), v in c.items() if p.startswith("/w/")) >= need
                and sum(v for (m, p), v in c.items() if p.startswith("/e/")) >= need)

    master, _, _ = swarm_until(cluster, ["WeightUser", "EqualUser"], paths_target.url, 4, enough, timeout=60)
    counts, served = master.settled_counts(paths_target)
    assert counts == served
    for prefix, weights in (("/w/", {"80": 0.80, "15": 0.15, "5": 0.05}),
                            ("/e/", {"1": 1 / 3, "2": 1 / 3, "3": 1 / 3})):
        picks = {k: served.get(("GET", prefix + k), 0) for k in weights}
        n = sum(picks.values())
        assert n >= need, picks
        for k, share in weights.items():
            lo, hi = wilson(picks[k], n)
            assert lo <= share <= hi, f"{prefix}{k}: {picks[k]} of {n} ({picks[k] / n:.4f}), " \
                                      f"interval [{lo:.4f}, {hi:.4f}] misses {share:.4f}"


def test_class_weights_counted_by_the_target(cluster, paths_target):
    """HeavyUser (weight 3) and LightUser (weight 1), 8 users: nginx sees
    6 and 2 on_start requests, each user on its own connection."""
    master, _, _ = swarm_until(cluster, ["HeavyUser", "LightUser"], paths_target.url, 8,
                               lambda: paths_target.count(path="/") >= 40)
    assert paths_target.count(path="/hi/heavy") == 6
    assert paths_target.count(path="/hi/light") == 2
    assert len(paths_target.connections()) == 8
    counts, served = master.settled_counts(paths_target)
    assert counts == served


# -- wait times and on_stop ----------------------------------------------------


@pytest.mark.parametrize("cls,period", [("PacingUser", 1.0), ("ThroughputUser", 0.25)])
def test_pacing_and_throughput_wait_times(cluster, scripted, cls, period):
    """constant_pacing(1) and constant_throughput(4) against a target that
    answers after 0.15 s: on each user's connection, the target reads a
    request every `period` s (median within 10 %), not period + 0.15 s."""
    server = scripted(delay=0.15)
    users = 3
    master, _, _ = swarm_until(cluster, [cls], server.url, users,
                               lambda: len(server.requests("/delay")) >= users * (4 / period), timeout=20)
    rows = settle(master, lambda: len(server.requests("/delay")))
    assert int(stats_row(rows, "GET", "/delay")["Failure Count"]) == 0

    by_conn = {}
    for h in server.requests("/delay"):
        by_conn.setdefault(h.port, []).append(h.read)
    assert len(by_conn) == users, "one connection per user"
    gaps = [b - a for times in by_conn.values() for a, b in zip(times, times[1:])]
    assert len(gaps) >= users * 2
    median = statistics.median(gaps)
    assert abs(median - period) <= 0.1 * period, f"median gap {median:.3f} s, want {period} s: {gaps}"


def test_on_start_and_on_stop_run_once_per_user(cluster, paths_target):
    """ByeUser: on_start GET /hi, on_stop GET /bye. 4 users: nginx serves 4
    of each, the /bye after the stop, and the master counts them all."""
    users = 4
    master, _, stopped_at = swarm_until(cluster, ["ByeUser"], paths_target.url, users,
                                        lambda: paths_target.count(path="/") >= 20)
    counts, served = master.settled_counts(paths_target)
    assert counts == served
    assert served.get(("GET", "/hi"), 0) == users
    assert served.get(("GET", "/bye"), 0) == users, "on_stop did not run once per user"
    byes = [s for s in paths_target.served() if s.path == "/bye"]
    assert all(s.time >= stopped_at for s in byes), "on_stop ran before the stop"


# -- redirects -------------------------------------------------------------------


@both_clients
def test_redirect_rules(cluster, scripted):
    """RedirectUser against server A: 303 turns a POST into a GET without
    the body, 307 and 308 keep the method and the body; a 302 to server B
    (another origin) carries neither the session's Authorization nor the
    task's Cookie header, nor A's Host, as B itself saw. Each redirected
    request is one request under its own name, no failures."""
    second = scripted()
    first = scripted(peer=second.url)
    master, _, _ = swarm_until(cluster, ["RedirectUser"], first.url, 2,
                               lambda: len(second.requests("/sink")) >= 5 and len(first.requests("/r3")) >= 15)
    rows = settle(master, lambda: sum(len(first.requests(p)) for p in ("/r303", "/r307", "/r308", "/cross")))
    assert master.failures_csv() == []

    sinks = first.requests("/sink")
    for code, method, body in (("303", "GET", b""), ("307", "POST", b"p307"), ("308", "POST", b"p308")):
        sent = first.requests(f"/r{code}")
        assert sent and all(h.method == "POST" and h.body == f"p{code}".encode() for h in sent)
        followed = [h for h in sinks if (h.method, h.body) == (method, body)]
        assert len(followed) == len(sent), f"{code}: {len(sent)} sent, {len(followed)} followed as {method} {body}"
        assert request_count(rows, "POST", f"/r{code}") == len(sent)
    assert len(sinks) == sum(len(first.requests(f"/r{c}")) for c in ("303", "307", "308"))
    assert not [h for h in sinks if h.method == "GET" and "content-length" in h.headers
                and h.headers["content-length"] != "0"], "a 303's GET kept the body's headers"

    crossed = first.requests("/cross")
    assert crossed and all(h.headers.get("authorization") == "Bearer r3dir-key" for h in crossed)
    assert all("r3dir-cookie" in h.headers.get("cookie", "") for h in crossed)
    arrived = second.requests("/sink")
    assert len(arrived) == len(crossed) == request_count(rows, "GET", "/cross")
    for h in arrived:
        assert "authorization" not in h.headers, h.headers
        assert "r3dir-cookie" not in h.headers.get("cookie", ""), h.headers
        assert h.headers.get("host") == f"127.0.0.1:{second.port}", h.headers


@both_clients
def test_at_most_30_redirects(cluster, scripted):
    """A redirect loop: each task's request follows 30 redirects (the target
    reads /loop/0 to /loop/30, never /loop/31) and then fails, one failure
    row naming the 30 redirects, one failure per task."""
    server = scripted()
    master, _, _ = swarm_until(cluster, ["LoopUser"], server.url, 2,
                               lambda: len(server.requests("/loop/30")) >= 4)
    rows = settle(master, lambda: len(server.requests("/loop/0")))

    assert server.requests("/loop/31") == []
    starts = len(server.requests("/loop/0"))
    assert len([h for h in server.requests("/loop/") if h.path == "/loop/30"]) == starts
    total = stats_row(rows, *AGGREGATED)
    assert int(total["Failure Count"]) == int(total["Request Count"]) == starts
    failures = master.failures_csv()
    assert len(failures) == 1, failures
    assert "30 redirects" in failures[0]["Error"] or "(30) redirects" in failures[0]["Error"], failures[0]


# -- failures and exceptions ---------------------------------------------------


@both_clients
def test_catch_response_error_text(cluster, target):
    """FailUser's response check fails a 200 with "no nope in body": the
    master's failure row reads CatchResponseError('no nope in body'), as
    Locust writes it, with nginx's count of those requests."""
    master, _, _ = swarm_until(cluster, ["FailUser"], target.url, 2,
                               lambda: target.count(path="/") >= 10)
    settle(master, target.count)
    rows = [r for r in master.failures_csv() if r["Name"] == "/"]
    assert len(rows) == 1, rows
    assert rows[0]["Error"] == "CatchResponseError('no nope in body')"
    assert int(rows[0]["Occurrences"]) == target.count(path="/", status=200)


def test_user_exception_reaches_exceptions_tab(cluster, target):
    """ExceptionUser reports "ExceptionUser boom" after each task: the
    master's /exceptions lists it with a count, and the requests still
    count."""
    master, _, _ = swarm_until(cluster, ["ExceptionUser"], target.url, 1,
                               lambda: target.count() >= 3)

    def exceptions():
        import requests
        r = requests.get(master.web_url + "/exceptions", timeout=10)
        r.raise_for_status()
        return r.json()["exceptions"]

    found = poll(exceptions, lambda ex: any("ExceptionUser boom" in e["msg"] for e in ex), 10)
    entries = [e for e in found if "ExceptionUser boom" in e["msg"]]
    assert len(entries) == 1, f"want one Exceptions entry for the user's exception: {found}"
    entry = entries[0]
    assert entry["count"] >= 3, entry
    assert entry["nodes"], entry  # the worker that raised it
    counts, served = master.settled_counts(target)
    assert counts == served


# -- transport: proxies, https, localhost ---------------------------------------


@c_worker_only("the fast client's lack of proxy support is the C worker's")
@both_clients
def test_proxy_from_environment(cluster, target, http_client):
    """http_proxy in the worker's environment: the libcurl client sends every
    request through the proxy (its count of forwarded requests equals
    nginx's and the master's); the fast client, which has no proxy
    support, goes straight to nginx."""
    proxy = Proxy()
    try:
        env = {"http_proxy": proxy.url, "HTTP_PROXY": proxy.url, "no_proxy": "", "NO_PROXY": ""}
        master, _, _ = swarm_until(cluster, ["HelloUser"], target.url, 2, lambda: target.count() >= 20,
                                   worker_env=env)
        counts, served = master.settled_counts(target)
        assert counts == served
        assert served[AGGREGATED] >= 20
        assert proxy.forwarded == (served[AGGREGATED] if http_client == "curl" else 0)
    finally:
        proxy.close()


@c_worker_only("--http-client is the C worker's flag")
def test_url_with_user_info_of_fast_client_goes_through_libcurl(cluster, target):
    """--http-client fast with a host that carries user info
    (http://user:secret@127.0.0.1:port): the fast client does not take such
    URLs, so these requests go through libcurl (which sends the credentials
    as Basic auth, like requests); all succeed and the master's counts equal
    nginx's."""
    url = target.url.replace("http://", "http://user:secret@")
    master, _, _ = swarm_until(cluster, ["HelloUser"], url, 2, lambda: target.count() >= 20,
                               worker_args=["--http-client", "fast"])
    counts, served = master.settled_counts(target)
    assert counts == served
    assert served[AGGREGATED] >= 20
    assert master.failures_csv() == []


HOSTS_V6_FIRST = "::1 localhost\n127.0.0.1 localhost\n"


@c_worker_only("checks the C worker's address fallback")
@both_clients
def test_localhost_falls_back_from_ipv6(cluster, target, tmp_path):
    """The worker in a mount namespace whose /etc/hosts gives localhost as
    ::1 first, then 127.0.0.1; nginx listens on 127.0.0.1 only. The ::1
    connect is refused and each client goes on to 127.0.0.1: no failures,
    counts equal nginx's."""
    can_unshare = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    need_tool(can_unshare, "unprivileged user and mount namespaces (unshare -rm)")
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS_V6_FIRST)
    wrapper = ["unshare", "-rm", "sh", "-c", f'mount --bind {hosts} /etc/hosts && exec "$@"', "sh"]
    url = target.url.replace("127.0.0.1", "localhost")
    master, _, _ = swarm_until(cluster, ["HelloUser"], url, 2, lambda: target.count() >= 20, wrapper=wrapper)
    counts, served = master.settled_counts(target)
    assert counts == served
    assert served[AGGREGATED] >= 20
    assert master.failures_csv() == []


# -- processes and a lost master -------------------------------------------------


@c_worker_only("--processes is the C worker's flag")
def test_processes_minus_one_is_one_per_core(cluster, target):
    """--processes -1: one worker process per online core, each registered
    with the master, users shared, the master's count equal to nginx's."""
    cores = os.sysconf("SC_NPROCESSORS_ONLN")
    master = cluster.master(["HelloUser"], stop_timeout=2)
    worker = cluster.worker(master, args=["--processes", "-1"])
    workers = cluster.wait_registered(master, count=cores)
    assert len({w["id"] for w in workers}) == cores
    master.swarm(2 * cores, 2 * cores)
    ws = poll(master.workers, lambda ws: [w["user_count"] for w in ws] == [2] * cores, 15)
    assert [w["user_count"] for w in ws] == [2] * cores, ws
    assert poll(target.count, lambda n: n >= 20, 10) >= 20
    master.stop()
    counts, served = master.settled_counts(target)
    assert counts == served
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(10) == 0


@c_worker_only("the orphan timeout is the C worker's")
def test_users_stop_after_60_s_without_a_master(cluster, target):
    """The master is killed (SIGKILL) while 2 users run: the users keep
    running without a master, and stop 60 s later (nginx's last request
    57-64 s after the kill, none after)."""
    master = cluster.master(["HelloUser"])
    worker = cluster.worker(master)
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(2, 2)
    assert poll(target.count, lambda n: n >= 10, 10) >= 10
    master.proc.kill_group()
    killed = time.time()
    time.sleep(67)
    served = target.served()
    assert worker.proc.alive()
    assert [s for s in served if killed + 30 <= s.time <= killed + 55], "users stopped too early"
    last = max(s.time for s in served)
    assert 57 <= last - killed <= 64, f"last request {last - killed:.1f} s after the master was killed"
    assert target.count() == len(served), "requests after the users stopped"
