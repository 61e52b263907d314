"""Security: secrets stay out of the log, TLS certificates are verified by
default, and the worker never listens on a port."""

import os
import time
from pathlib import Path

import pytest

from conftest import AGGREGATED, Target, c_worker_only, counts_by_request, poll, stats_row

pytestmark = [c_worker_only("the C worker's own behaviour"), pytest.mark.parametrize("flavor", ["pypi"])]

SECRETS = ("s3cr3t-key", "s3cr3t-api-key", "s3cr3t")


def test_secrets_never_logged(cluster, fake_master, target):
    """AuthUser sends "Authorization: Bearer s3cr3t-key" as a session header
    and "X-Api-Key: s3cr3t-api-key" on a failing request. At --loglevel
    DEBUG, neither value appears anywhere in the worker's output, while nginx
    proves the header was sent (GET /auth answers 200 only with it)."""
    worker = cluster.worker(fake_master, args=["--loglevel", "DEBUG"])
    ready = fake_master.wait_registered()
    fake_master.spawn(ready, {"AuthUser": 3}, target.url)
    assert fake_master.wait_for(lambda: target.count(path="/auth") >= 10 and target.count(path="/fail") >= 10, 10)
    fake_master.pump(3.5)  # a stats report with the failures in it

    assert target.count(path="/auth", status=200) == target.count(path="/auth"), \
        "GET /auth without the session's Authorization header"
    assert "DEBUG" in worker.stderr(), "no DEBUG output to look at"
    output = worker.stderr() + worker.proc.stdout()
    for secret in SECRETS:
        assert secret not in output, f"{secret!r} in the worker's output"
    reports = [repr(m.data) for m in fake_master.received]
    assert any("/fail" in r for r in reports), "no report with the failures"
    for secret in SECRETS:
        assert not any(secret in r for r in reports), f"{secret!r} sent to the master"


@pytest.mark.parametrize("insecure", [False, True], ids=["verified", "insecure"])
def test_tls_certificate_verified_by_default(cluster, procs, tmp_path, insecure):
    """An HTTPS target with a self-signed certificate: by default every
    request fails with a certificate error (one failure row) and nginx
    serves nothing; with --insecure the same requests succeed and the counts
    match nginx's."""
    target = Target(procs, tmp_path / "nginx-tls", tls=True)
    master = cluster.master(["HelloUser"], host=target.url, stop_timeout=2)
    cluster.worker(master, args=["--insecure"] if insecure else [])
    assert len(cluster.wait_registered(master)) == 1
    master.swarm(2, 2)
    time.sleep(2)
    master.stop()

    if insecure:
        counts, served = master.settled_counts(target)
        assert counts == served
        assert served[AGGREGATED] > 0
        assert master.failures_csv() == []
        return
    rows = poll(master.requests_csv, lambda r: counts_by_request(r).get(AGGREGATED, 0) > 0, timeout=10)
    total = stats_row(rows, *AGGREGATED)
    assert int(total["Request Count"]) > 0
    assert int(total["Failure Count"]) == int(total["Request Count"])
    [row] = master.failures_csv()
    # requests raises SSLError (a ConnectionError) for a refused certificate
    assert row["Error"].startswith("SSLError("), row
    assert "certificate" in row["Error"].lower(), row
    assert target.count() == 0, "nginx served a request over an unverified connection"


def listening_sockets(pid: int) -> list[str]:
    """The TCP sockets in LISTEN state and the unconnected UDP sockets that
    process `pid` holds, from /proc/<pid>/fd and /proc/<pid>/net."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:["):-1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        path = Path(f"/proc/{pid}/net/{proto}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if inode not in inodes:
                continue
            listening = state == "0A" if proto.startswith("tcp") else remote.split(":")[-1] == "0000"
            if listening:
                found.append(f"{proto} {local} state {state} inode {inode}")
    return found


def test_worker_never_listens(cluster, fake_master, target):
    """While registered and running users, the worker holds no listening
    TCP socket and no unconnected UDP socket: it only ever connects out."""
    worker = cluster.worker(fake_master)
    ready = fake_master.wait_registered()
    fake_master.spawn(ready, {"HelloUser": 5}, target.url)
    assert fake_master.wait_for(lambda: target.count() >= 20, 10)

    assert listening_sockets(worker.proc.pid) == []
    # it does hold sockets: the master link and the users' connections
    assert len([fd for fd in os.listdir(f"/proc/{worker.proc.pid}/fd")
                if os.readlink(f"/proc/{worker.proc.pid}/fd/{fd}").startswith("socket:")]) >= 5
