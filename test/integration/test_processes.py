"""--processes N: N worker processes, each its own Locust worker, like
`locust --worker --processes N`."""

import os
import signal

from conftest import c_worker_only, poll


@c_worker_only("--processes is the C worker's flag")
def test_processes_register_and_share_users(cluster):
    master = cluster.master(["HelloUser"])
    worker = cluster.worker(master, args=["--processes", "2"])
    workers = cluster.wait_registered(master, count=2)
    assert len({w["id"] for w in workers}) == 2

    master.swarm(4, 10)
    ws = poll(master.workers, lambda ws: sorted(w["user_count"] for w in ws) == [2, 2], 15)
    assert sorted(w["user_count"] for w in ws) == [2, 2], ws

    # killing one child is reported and leaves the other one running
    children = [int(p) for p in open(f"/proc/{worker.proc.popen.pid}/task/{worker.proc.popen.pid}/children").read().split()]
    assert len(children) == 2
    os.kill(children[0], signal.SIGKILL)
    def one_left(ws):
        return sorted((w["state"], w["user_count"]) for w in ws) == [("missing", 0), ("running", 2)] \
            or [w["user_count"] for w in ws if w["state"] == "running"] == [4]

    ws = poll(master.workers, one_left, 20)
    assert one_left(ws), ws
    assert worker.proc.alive()
    assert "killed by signal 9" in poll(worker.stderr, lambda e: "killed by signal 9" in e, 5)

    # stopping the parent stops the remaining child, which says quit to the master
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(10) == 1, "the parent's exit code must say that a child was killed"
    ws = poll(master.workers, lambda ws: all(w["state"] == "missing" for w in ws), 10)
    assert all(w["state"] == "missing" for w in ws), ws



@c_worker_only("--processes is the C worker's flag")
def test_processes_ctrl_c_quits_every_child_cleanly(cluster, target):
    """Ctrl-C at a terminal signals the whole foreground process group. Each
    child sends its final report and quit to the master (which then forgets
    it at once instead of listing it as missing), and every process exits 0;
    the master's count equals nginx's, final reports included (used to: each
    child took the terminal's SIGINT and the parent's forwarded one as two,
    exited 1 at once, and the parent exited 1)."""
    master = cluster.master(["HelloUser"])
    worker = cluster.worker(master, args=["--processes", "2"])
    assert len(cluster.wait_registered(master, count=2)) == 2
    master.swarm(4, 10)
    ws = poll(master.workers, lambda ws: sorted(w["user_count"] for w in ws) == [2, 2], 15)
    assert sorted(w["user_count"] for w in ws) == [2, 2], ws
    assert poll(target.count, lambda n: n >= 50, timeout=10) >= 50

    os.killpg(worker.proc.pid, signal.SIGINT)
    assert worker.proc.wait(10) == 0, worker.proc.output_tail()
    ws = poll(master.workers, lambda ws: ws == [], 10)
    assert ws == [], f"children did not say quit: {ws}"
    assert "Second signal" not in worker.stderr()
    assert worker.stderr().count("Got SIGTERM") + worker.stderr().count("Got SIGINT") == 2
    counts, served = master.settled_counts(target)
    assert counts == served
