"""The fast client resolves host names without blocking the worker's loop
(c-ares): a test's own DNS server on 127.0.0.1 answers one name slowly,
and while a user waits for that answer the worker's other users go on and
its heartbeats keep the master's worker entry alive.

The worker is pointed at the server with LW_DNS_SERVERS (worker/h1dns.c);
nothing else is asked: every other name gets NXDOMAIN at once.
"""

import socket
import struct
import threading
import time

import pytest

from conftest import c_worker_only, stats_row
from test_headless import run_headless

pytestmark = [c_worker_only("the fast client's resolver"), pytest.mark.parametrize("flavor", ["pypi"])]

SLOW_NAME = "slow.lw.test"
DEAD_NAME = "dead.lw.test"  # never answered


class SlowDns:
    """A UDP DNS server on 127.0.0.1 that answers SLOW_NAME's A query with
    127.0.0.1 (and its AAAA query with no address) after `delay` seconds,
    each answer from its own timer; DEAD_NAME: never an answer; any other
    name: NXDOMAIN at once.
    queries: (time.time(), name, qtype) of every query received;
    answered: time.time() of every slow answer sent."""

    def __init__(self, delay: float):
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[float, str, int]] = []
        self.answered: list[float] = []
        self._stop = False
        self._timers: list[threading.Timer] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _question(packet: bytes) -> tuple[str, int, int]:
        """(name, qtype, end offset of the question)."""
        labels, i = [], 12
        while packet[i]:
            labels.append(packet[i + 1:i + 1 + packet[i]].decode("ascii", "replace"))
            i += 1 + packet[i]
        qtype = struct.unpack("!H", packet[i + 1:i + 3])[0]
        return ".".join(labels).lower(), qtype, i + 5

    def _reply(self, packet: bytes, addr, rcode: int, answer: bytes) -> None:
        _name, _qtype, end = self._question(packet)
        header = packet[:2] + struct.pack("!HHHHH", 0x8180 | rcode, 1, 1 if answer else 0, 0, 0)
        try:
            self.sock.sendto(header + packet[12:end] + answer, addr)
        except OSError:
            pass

    def _slow_reply(self, packet: bytes, addr, qtype: int) -> None:
        answer = (struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")) if qtype == 1 else b""
        self.answered.append(time.time())
        self._reply(packet, addr, 0, answer)

    def _run(self) -> None:
        while not self._stop:
            try:
                packet, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                name, qtype, _end = self._question(packet)
            except (IndexError, struct.error):
                continue
            self.queries.append((time.time(), name, qtype))
            if name == DEAD_NAME:
                continue
            if name == SLOW_NAME:
                timer = threading.Timer(self.delay, self._slow_reply, (packet, addr, qtype))
                self._timers.append(timer)
                timer.start()
            else:
                self._reply(packet, addr, 3, b"")

    def close(self) -> None:
        self._stop = True
        for timer in self._timers:
            timer.cancel()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def slow_dns():
    server = SlowDns(delay=3.0)
    yield server
    server.close()


@pytest.mark.parametrize("http_client", ["fast"])
def test_slow_dns_answer_does_not_stall_the_worker(cluster, target, slow_dns):
    """2 SlowDnsUser users ask slow.lw.test (answered after 3 s) while 2
    HelloUser users ask 127.0.0.1. During the 3 s wait nginx keeps serving
    HelloUser's requests with no gap over 1 s (a blocking lookup would stop
    them all), the master never marks the worker missing (heartbeats on
    time), the slow name's first requests took the 3 s, and afterwards
    everything is counted: no failures, the master's counts equal nginx's."""
    master, worker = run_headless(
        cluster, ["HelloUser", "SlowDnsUser"], 4, 8,
        worker_env={"LW_DNS_SERVERS": f"127.0.0.1:{slow_dns.port}",
                    "LW_TEST_SLOW_HOST": f"http://{SLOW_NAME}:{target.port}"})

    slow_queries = [t for t, name, _ in slow_dns.queries if name == SLOW_NAME]
    assert slow_queries and slow_dns.answered, f"no slow lookup: {slow_dns.queries}"
    asked, answered = min(slow_queries), min(slow_dns.answered)
    assert answered - asked >= 2.9
    hello = sorted(s.time for s in target.served() if s.path == "/")
    during = [t for t in hello if asked <= t <= answered]
    assert len(during) >= 10, f"{len(during)} HelloUser requests during the 3 s lookup"
    edges = [asked] + during + [answered]
    assert max(b - a for a, b in zip(edges, edges[1:])) < 1.0, "the loop stalled during the lookup"
    assert "missing" not in master.log(), "the master lost the worker's heartbeats"

    assert master.csv_file("failures") == []
    stats = master.csv_file("stats")
    slow_row = stats_row(stats, "GET", "/?via=slow")
    assert int(slow_row["Request Count"]) == target.count(path="/?via=slow") > 0
    assert float(slow_row["Max Response Time"]) >= 2900
    assert int(stats_row(stats, "GET", "/")["Request Count"]) == len(hello)


@pytest.mark.parametrize("http_client", ["fast"])
def test_dns_server_that_never_answers(cluster, target, slow_dns):
    """SlowDnsUser asks dead.lw.test, which the DNS server never answers,
    with --request-timeout 1: each of its requests fails after 1 s as
    Timeout('Resolving timed out'), libcurl's text, in one row, counted
    once; HelloUser's requests go on and succeed meanwhile."""
    master, _ = run_headless(
        cluster, ["HelloUser", "SlowDnsUser"], 4, 6, worker_args=["--request-timeout", "1"],
        worker_env={"LW_DNS_SERVERS": f"127.0.0.1:{slow_dns.port}",
                    "LW_TEST_SLOW_HOST": f"http://{DEAD_NAME}:{target.port}"})

    assert any(name == DEAD_NAME for _, name, _ in slow_dns.queries)
    failures = master.csv_file("failures")
    assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == \
        [("GET", "/?via=slow", "Timeout('Resolving timed out')")]
    stats = master.csv_file("stats")
    slow_row = stats_row(stats, "GET", "/?via=slow")
    assert int(failures[0]["Occurrences"]) == int(slow_row["Request Count"]) > 0
    assert float(slow_row["Min Response Time"]) >= 990
    hello = stats_row(stats, "GET", "/")
    assert int(hello["Request Count"]) == target.count(path="/", status=200) >= 20
    assert hello["Failure Count"] == "0"
    assert target.count(path="/?via=slow") == 0
