"""HTTPS through both HTTP clients of the C worker (libcurl and the fast
client's OpenSSL): certificates are verified by default, each TLS fault is
one failure row with the same text from both clients (requests' exception
class SSLError, libcurl's text), memory stays flat while handshakes keep
failing, and a verified or --insecure target is served over one TLS
connection per user, with cookies and redirects, counts equal to nginx's.

The certificates are made at test time: a CA of the test's own
(CertAuthority) signs the good, expired and wrong-host ones, and the worker
trusts it through SSL_CERT_FILE; Target(tls=True) alone serves a
self-signed one. The protocol faults are played by FaultServer."""

import re
import time

import pytest

from conftest import (AGGREGATED, ROOT, CertAuthority, Target, aggregated_count, c_worker_only, poll,
                      stats_row)
from test_headless import run_headless

pytestmark = [c_worker_only("the C worker's HTTP clients"), pytest.mark.parametrize("flavor", ["pypi"]),
              pytest.mark.parametrize("http_client", ["curl", "fast"])]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fault_target(kind, procs, tmp_path, fault_server):
    """(URL, the failure row's text as a regex, worker env, nginx or None)
    for one TLS fault."""
    if kind == "self-signed":
        target = Target(procs, tmp_path / "nginx-tls", tls=True)
        return target.url, re.escape("SSLError('SSL certificate problem: self-signed certificate')"), {}, target
    if kind in ("expired", "wrong-host"):
        ca = CertAuthority(tmp_path / "ca")
        cert = (ca.issue("expired", start="20200101000000Z", end="20200102000000Z") if kind == "expired"
                else ca.issue("wrong", san="DNS:example.com"))
        target = Target(procs, tmp_path / "nginx-tls", cert=cert)
        want = ("SSLError('SSL certificate problem: certificate has expired')" if kind == "expired" else
                "SSLError(\"SSL: no alternative certificate subject name matches target host name '127.0.0.1'\")")
        return target.url, re.escape(want), {"SSL_CERT_FILE": str(ca.cert)}, target
    if kind == "stall":
        server = fault_server("blackhole")
        return f"https://127.0.0.1:{server.port}", re.escape("Timeout('Connection timed out')"), {}, None
    if kind == "close":
        server = fault_server("tls-close")
        return (f"https://127.0.0.1:{server.port}",
                re.escape(f"SSLError('OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to "
                          f"127.0.0.1:{server.port}')"), {}, None)
    server = fault_server("tls-garbage")
    return (f"https://127.0.0.1:{server.port}",
            r"SSLError\('OpenSSL/\d+\.\d+\.\d+: error:0A00010B:SSL routines::wrong version number'\)", {}, None)


@pytest.mark.parametrize("kind", ["self-signed", "expired", "wrong-host", "stall", "close", "garbage"])
def test_tls_fault_is_one_failure_row(cluster, procs, tmp_path, fault_server, kind):
    """Users keep asking an HTTPS target whose handshake cannot succeed:
    every request fails, all with one text (one row of the master's failures
    CSV, the same text from both clients), nginx serves nothing, and the
    memory of the worker does not grow with the failed handshakes. Two
    workers: the ASan build (its LeakSanitizer checks the exit) and the
    plain one, whose RSS is sampled every second."""
    url, want, env, target = fault_target(kind, procs, tmp_path, fault_server)
    users = 10
    master = cluster.master(["HelloUser"], host=url, stop_timeout=2)
    # a short timeout for the stalled handshake only: a busy machine must
    # not turn the others' handshakes into timeouts
    args = ["--request-timeout", "0.5" if kind == "stall" else "10"]
    cluster.worker(master, args=args, env=env)
    # glibc's mmap threshold fixed: RSS shows what the worker holds
    plain = cluster.worker(master, binary=ROOT / "build" / "test-worker", args=args,
                           env={**env, "MALLOC_MMAP_THRESHOLD_": "131072"})
    assert len(cluster.wait_registered(master, 2)) == 2
    master.swarm(users, users)
    # sampled once the users have each failed about twice: what a user sets
    # up once (its session, its first handle) is not growth, and a busy
    # machine may start the last users late
    poll(master.requests_csv, lambda r: aggregated_count(r) >= 2 * users, timeout=20)
    samples = []
    for _ in range(8):
        time.sleep(1)
        samples.append(rss_kb(plain.proc.pid))
    master.stop()

    rows = poll(master.requests_csv, lambda r: aggregated_count(r) > 0, timeout=15)
    total = stats_row(rows, *AGGREGATED)
    requests = int(total["Request Count"])
    assert requests >= 2 * users, total
    assert int(total["Failure Count"]) == requests, total
    rows = poll(master.failures_csv, lambda r: r != [], timeout=10)
    assert len(rows) == 1, f"one failure row: {rows}"
    row = rows[0]
    assert re.fullmatch(want, row["Error"]), row["Error"]
    assert int(row["Occurrences"]) == requests
    if target:
        assert target.count() == 0, "nginx served a request over a refused connection"
    # a leaked TLS connection is tens of KB: hundreds of them would show
    early, late = min(samples[1:4]), min(samples[4:])
    assert late - early < 1024, f"RSS floor rose from {early} to {late} KB: {samples}"
    print(f"RSS of the plain worker, KB, every second: {samples}")


@pytest.mark.parametrize("trust", ["ca", "insecure"])
def test_https_sessions_one_connection_per_user(cluster, procs, tmp_path, trust):
    """SessionUser over HTTPS (log in for a cookie, then /whoami and a
    redirect to it): with the test's CA in SSL_CERT_FILE, or a self-signed
    certificate and --insecure, nothing fails, every user keeps its own
    cookie, the master's counts equal nginx's, and nginx saw one TLS
    connection per user: each connection shook hands once."""
    if trust == "ca":
        ca = CertAuthority(tmp_path / "ca")
        target = Target(procs, tmp_path / "nginx-tls", cert=ca.issue("good"))
        args, env = [], {"SSL_CERT_FILE": str(ca.cert)}
    else:
        target = Target(procs, tmp_path / "nginx-tls", tls=True)
        args, env = ["--insecure"], {}
    cluster.target = target
    users = 4
    master, _ = run_headless(cluster, ["SessionUser"], users, 5, worker_args=args, worker_env=env)

    stats = master.csv_file("stats")
    assert master.csv_file("failures") == []
    assert target.count(path="/whoami", status=401) == 0, "a request went without the session cookie"
    moved = target.count(path="/moved", status=302)
    assert aggregated_count(stats) == target.count() - moved > users, "a redirect counts once"
    assert int(stats_row(stats, "GET", "/login")["Request Count"]) == users
    assert len(target.connections()) == users, "one TLS connection per user"


def test_redirect_from_http_to_https(cluster, procs, tmp_path):
    """A plain http:// target redirects / to an HTTPS one (a certificate of
    the test's CA): each request follows it over TLS, verified, and counts
    once under its own name; the HTTPS target serves each redirected request
    once, on one TLS connection per user."""
    ca = CertAuthority(tmp_path / "ca")
    tls = Target(procs, tmp_path / "nginx-tls", cert=ca.issue("good"))
    plain = Target(procs, tmp_path / "nginx-plain", root=f"return 302 {tls.url}/;")
    cluster.target = plain
    users = 3
    master, _ = run_headless(cluster, ["HelloUser"], users, 4, worker_env={"SSL_CERT_FILE": str(ca.cert)})

    stats = master.csv_file("stats")
    assert master.csv_file("failures") == []
    count = int(stats_row(stats, "GET", "/")["Request Count"])
    assert count > users
    assert count == plain.count(path="/", status=302) == tls.count(path="/", status=200)
    assert len(tls.connections()) == users, "one TLS connection per user"


def test_reconnect_resumes_the_tls_session(cluster, procs, tmp_path, http_client):
    """nginx closes idle keep-alive connections after 1 s and IdleUser waits
    5.5-6 s, so each of a user's requests after its first comes on a new TLS
    connection. Nothing fails and counts equal nginx's; with the fast
    client, each of those reconnects resumes the user's TLS session
    (nginx's $ssl_session_reused): one full handshake per user."""
    ca = CertAuthority(tmp_path / "ca")
    target = Target(procs, tmp_path / "nginx-tls", cert=ca.issue("good"), keepalive_timeout="1s")
    cluster.target = target
    users = 3
    master, _ = run_headless(cluster, ["IdleUser"], users, 13, worker_env={"SSL_CERT_FILE": str(ca.cert)})

    stats = master.csv_file("stats")
    assert master.csv_file("failures") == []
    served = target.served()
    assert aggregated_count(stats) == len(served)
    connections = target.connections()
    assert len(connections) == len(served) > users, "one connection per request: the reconnects"
    if http_client == "fast":
        resumed = {s.connection for s in served if s.resumed}
        assert len(resumed) == len(connections) - users, f"{len(resumed)} of {len(connections)} resumed"
