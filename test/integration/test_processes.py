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
    poll(master.workers, lambda ws: sorted(w["user_count"] for w in ws) == [2, 2], 15)

    # killing one child is reported and leaves the other one running
    children = [int(p) for p in open(f"/proc/{worker.proc.popen.pid}/task/{worker.proc.popen.pid}/children").read().split()]
    assert len(children) == 2
    os.kill(children[0], signal.SIGKILL)
    poll(master.workers,
         lambda ws: sorted((w["state"], w["user_count"]) for w in ws) == [("missing", 0), ("running", 2)]
         or [w["user_count"] for w in ws if w["state"] == "running"] == [4], 20)
    assert worker.proc.alive()
    assert "killed by signal 9" in poll(worker.stderr, lambda e: "killed by signal 9" in e, 5)

    # stopping the parent stops the remaining child, which says quit to the master
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(10) is not None
    poll(master.workers, lambda ws: all(w["state"] == "missing" for w in ws), 10)
