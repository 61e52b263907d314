#!/usr/bin/env python3
"""Capture real master -> worker frames from stock Locust masters as fuzz seeds.

For each master version this script starts a stock master with its web UI on
127.0.0.1 (random ports, test/integration/locustfile.py, --host
http://127.0.0.1:9, which nobody contacts), joins it as a worker made of plain
pyzmq + msgpack (DEALER, identity = node_id = "<host>_<32hex>", client_ready
-1, a heartbeat every second, spawning / spawning_complete after each spawn,
client_stopped + client_ready after a stop) and drives the master through its
web API:

  swarm 6 users at 2/s          spawn ramp steps (+ spawning_complete on 2.29+)
  a second worker joins, quits  rebalance spawns
  swarm 3 users                 a spawn that lowers the targets
  an invalid UTF-8 message      reconnect
  POST /user (2.25+)            update_user_class
  stop                          stop, a new ack after client_ready
  swarm 2 users                 spawn
  SIGTERM                       quit

Every distinct frame the first worker receives is written, bytes exactly as
received, to <out>/<version>-<type>-<n>.msgpack (older files of that version
are removed first). The script also writes the hand-made malformed seeds
<out>/bad-*.msgpack. Everything is bounded in time and the masters are killed
at the end, pass or fail.

Run from the repository root (pyzmq and msgpack are Locust dependencies, so
the venv's python has them; Debian's python3-zmq and python3-msgpack work too):

  .venv/bin/python test/fuzz/capture.py
  .venv/bin/python test/fuzz/capture.py --versions 2.12.1 --out /tmp/corpus
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import msgpack
import zmq

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "test" / "integration" / "locustfile.py"
TARGET_HOST = "http://127.0.0.1:9"  # discard port: no real worker runs requests

MASTERS = {
    "2.47.0": ROOT / ".venv" / "bin" / "locust",
    "2.12.1": Path("/usr/bin/locust"),
}

# At most this many distinct frames per (version, type) are kept.
KEEP = {"spawn": 8, "spawning_complete": 3, "ack": 2}
KEEP_DEFAULT = 1
HTTP_TIMEOUT = 10
STEP_TIMEOUT = 20  # seconds for any one expected reaction of the master


def log(text: str) -> None:
    print(f"[capture {time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def pack(msg_type, data, node_id) -> bytes:
    return msgpack.packb([msg_type, data, node_id], use_bin_type=True)


# --------------------------------------------------------------------------
# a minimal worker


class FakeWorker(threading.Thread):
    """A worker that speaks the protocol but runs no users. Only this thread
    touches its socket; other threads talk to it through a command queue."""

    def __init__(self, name: str, port: int):
        super().__init__(name=name, daemon=True)
        self.node_id = f"{socket.gethostname()}_{uuid.uuid4().hex}"
        self.port = port
        self.commands: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.frames: list[tuple[str, bytes]] = []  # (type, raw bytes), in order
        self.state = "ready"
        self.registered = False
        self.error: BaseException | None = None

    # -- read by other threads

    def count(self, msg_type: str) -> int:
        with self.lock:
            return sum(1 for t, _ in self.frames if t == msg_type)

    def send(self, msg_type, data) -> None:
        self.commands.put(("msg", msg_type, data))

    def send_raw(self, raw: bytes) -> None:
        self.commands.put(("raw", raw))

    def finish(self) -> None:
        self.commands.put(("exit",))

    # -- the thread

    def run(self) -> None:
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, self.node_id.encode())
        sock.setsockopt(zmq.TCP_KEEPALIVE, 1)
        sock.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 30)
        sock.setsockopt(zmq.LINGER, 1000)
        sock.connect(f"tcp://127.0.0.1:{self.port}")
        try:
            self._loop(sock)
        except BaseException as e:  # reported by the main thread
            self.error = e
        finally:
            sock.close()

    def _loop(self, sock) -> None:
        def out(msg_type, data):
            sock.send(pack(msg_type, data, self.node_id))

        out("client_ready", -1)
        next_beat = time.monotonic() + 1.0
        while True:
            try:
                cmd = self.commands.get_nowait()
            except queue.Empty:
                cmd = None
            if cmd is not None:
                if cmd[0] == "exit":
                    return
                if cmd[0] == "raw":
                    sock.send(cmd[1])
                else:
                    out(cmd[1], cmd[2])
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + 1.0
                if self.registered:
                    out("heartbeat", {"state": self.state, "current_cpu_usage": 0.0,
                                      "current_memory_usage": 1})
            if not sock.poll(50):
                continue
            raw = sock.recv()
            try:
                msg = msgpack.unpackb(raw, raw=False, strict_map_key=False)
                msg_type, data = msg[0], msg[1]
            except Exception:
                msg_type, data = "undecodable", None
            with self.lock:
                self.frames.append((str(msg_type), raw))
            if msg_type == "ack":
                self.registered = True
                self.state = "ready"
            elif msg_type == "spawn":
                # What a Python worker does: spawning, apply, spawning_complete.
                out("spawning", None)
                self.state = "spawning"
                counts = {str(k): int(v or 0) for k, v in data["user_classes_count"].items()}
                out("spawning_complete", {"user_classes_count": counts,
                                          "user_count": sum(counts.values())})
                self.state = "running"
            elif msg_type == "stop":
                out("client_stopped", None)
                self.registered = False
                self.state = "ready"
                out("client_ready", -1)
            elif msg_type == "quit":
                self.registered = False
            # heartbeat, spawning_complete, update_user_class, reconnect:
            # recorded only (the socket is kept on reconnect).


# --------------------------------------------------------------------------
# a stock master


class Master:
    def __init__(self, version: str, exe: Path, workdir: Path):
        self.version = version
        self.port = free_port()
        self.web_port = free_port()
        argv = [str(exe), "-f", str(LOCUSTFILE), "--master",
                "--master-bind-host", "127.0.0.1", "--master-bind-port", str(self.port),
                "--web-host", "127.0.0.1", "--web-port", str(self.web_port),
                "--host", TARGET_HOST, "--loglevel", "INFO"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
        env["PYTHONUNBUFFERED"] = "1"
        self.log_path = workdir / f"master-{version}.log"
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.url = f"http://127.0.0.1:{self.web_port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def log_tail(self, n: int = 40) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def http(self, method: str, path: str, form: dict | None = None, body: bytes | None = None,
             timeout: float = HTTP_TIMEOUT) -> tuple[int, bytes]:
        headers = {}
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def wait_web(self) -> None:
        def up():
            if not self.alive():
                raise RuntimeError(f"master {self.version} exited:\n{self.log_tail()}")
            try:
                return self.http("GET", "/stats/requests", timeout=2)[0] == 200
            except OSError:
                return False
        wait_until(up, 30, f"the {self.version} web UI", interval=0.2)

    def state(self) -> str:
        return json.loads(self.http("GET", "/stats/requests")[1])["state"]

    def swarm(self, users: int, rate: float) -> None:
        status, body = self.http("POST", "/swarm", form={"user_count": users, "spawn_rate": rate})
        if status != 200 or not json.loads(body).get("success"):
            raise RuntimeError(f"/swarm refused: {status} {body[:200]!r}")

    def stop(self) -> None:
        status, body = self.http("POST", "/stop", timeout=70)
        if status == 405:  # 2.12.1 serves /stop on GET only
            status, body = self.http("GET", "/stop", timeout=70)
        if status != 200:
            raise RuntimeError(f"/stop failed: {status} {body[:200]!r}")


# --------------------------------------------------------------------------
# one capture run


def capture(version: str, exe: Path, workdir: Path) -> list[tuple[str, bytes]]:
    if not exe.exists():
        raise RuntimeError(f"{exe} not found (run 'make venv' for the PyPI master)")
    master = Master(version, exe, workdir)
    workers: list[FakeWorker] = []
    try:
        master.wait_web()
        log(f"{version}: master up (zmq {master.port}, web {master.web_port})")
        a = FakeWorker("worker-a", master.port)
        workers.append(a)
        a.start()
        wait_until(lambda: a.count("ack") >= 1, STEP_TIMEOUT, "ack")
        time.sleep(2.5)  # a few heartbeats (2.19+ masters answer each one)

        def running():
            return master.state() == "running"

        # Ramp-up: 6 users at 2/s gives several spawn steps.
        before = a.count("spawn")
        master.swarm(6, 2)
        wait_until(lambda: a.count("spawn") >= before + 3 and running(), STEP_TIMEOUT,
                   "the ramp-up")
        time.sleep(1.5)  # 2.29+: spawning_complete follows the ramp

        # Rebalance: a second worker joins while running, then leaves.
        before = a.count("spawn")
        b = FakeWorker("worker-b", master.port)
        workers.append(b)
        b.start()
        wait_until(lambda: b.count("ack") >= 1, STEP_TIMEOUT, "the second worker's ack")
        wait_until(lambda: a.count("spawn") > before, STEP_TIMEOUT, "a rebalance on join")
        wait_until(running, STEP_TIMEOUT, "running after the join")
        time.sleep(1.5)
        before = a.count("spawn")
        b.send("quit", None)
        time.sleep(0.3)
        b.finish()
        # Stock masters leave the dispatcher "in progress" after a join
        # rebalance that needs no ramp, so this one often does not happen.
        try:
            wait_until(lambda: a.count("spawn") > before, 3, "a rebalance on leave")
        except TimeoutError:
            log(f"{version}: no rebalance spawn after the leave (as expected)")
        time.sleep(1.0)

        # Fewer users.
        before = a.count("spawn")
        master.swarm(3, 3)
        wait_until(lambda: a.count("spawn") > before and running(), STEP_TIMEOUT,
                   "the spawn for 3 users")
        time.sleep(1.5)

        # An undecodable message (type is a str with invalid UTF-8) right
        # after a heartbeat: the master answers reconnect (2.12.1 re-handles
        # its previous message, which is then that heartbeat).
        a.send("heartbeat", {"state": "running", "current_cpu_usage": 0.0,
                             "current_memory_usage": 1})
        a.send_raw(b"\x93\xa2\xff\xfe\xc0" + msgpack.packb(a.node_id))
        try:
            wait_until(lambda: a.count("reconnect") >= 1, 5, "reconnect")
        except TimeoutError as e:
            log(f"{version}: no reconnect ({e})")
        if not master.alive():
            raise RuntimeError(f"master died after the bad message:\n{master.log_tail()}")

        # update_user_class (2.25+: POST /user).
        status, _ = master.http("POST", "/user", body=json.dumps(
            {"user_class_name": "HelloUser", "weight": 1, "tasks": ["get_root"]}).encode())
        if status in (200, 201):
            try:
                wait_until(lambda: a.count("update_user_class") >= 1, 5, "update_user_class")
            except TimeoutError as e:
                log(f"{version}: {e}")
        else:
            log(f"{version}: POST /user -> {status}: no update_user_class in this version")

        # Stop, then swarm again.
        acks = a.count("ack")
        master.stop()
        wait_until(lambda: a.count("stop") >= 1, STEP_TIMEOUT, "stop")
        wait_until(lambda: a.count("ack") > acks, STEP_TIMEOUT, "the ack after the stop")
        time.sleep(1.5)
        before = a.count("spawn")
        master.swarm(2, 10)
        wait_until(lambda: a.count("spawn") > before and running(), STEP_TIMEOUT,
                   "the spawn for 2 users")
        time.sleep(1.5)

        # SIGTERM: the master sends quit (twice) and exits.
        master.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: a.count("quit") >= 1, STEP_TIMEOUT, "quit")
        try:
            master.proc.wait(15)
        except subprocess.TimeoutExpired:
            log(f"{version}: master still running 15 s after SIGTERM; killing it")
        with a.lock:
            return list(a.frames)
    except BaseException:
        if master.log_path.exists():
            log(f"{version}: master log tail:\n{master.log_tail()}")
        raise
    finally:
        for w in workers:
            w.finish()
        for w in workers:
            w.join(5)
            if w.error is not None:
                log(f"{version}: {w.name} failed: {w.error!r}")
        master.kill()


def save(version: str, frames: list[tuple[str, bytes]], out: Path) -> list[Path]:
    for old in out.glob(f"{version}-*.msgpack"):
        old.unlink()
    seen: set[bytes] = set()
    per_type: dict[str, int] = {}
    written = []
    for msg_type, raw in frames:
        if raw in seen:
            continue
        seen.add(raw)
        n = per_type.get(msg_type, 0) + 1
        if n > KEEP.get(msg_type, KEEP_DEFAULT):
            continue
        per_type[msg_type] = n
        path = out / f"{version}-{msg_type}-{n}.msgpack"
        path.write_bytes(raw)
        written.append(path)
    return written


# --------------------------------------------------------------------------
# hand-made malformed seeds


def bad_seeds() -> dict[str, bytes]:
    node = "fuzzhost_" + "0" * 32
    spawn = pack("spawn", {"timestamp": 1795756313.967,
                           "user_classes_count": {"HelloUser": 2, "FailUser": 1, "ChainUser": 0},
                           "host": TARGET_HOST, "stop_timeout": None,
                           "parsed_options": {"tags": ["a"], "num_users": 3}}, node)
    return {
        "two-elements": msgpack.packb(["ack", {"index": 0}]),
        "map": msgpack.packb({"type": "spawn", "data": None, "node_id": node}),
        "truncated-spawn": spawn[: len(spawn) // 2],
        "bin-type": msgpack.packb([b"spawn", None, node], use_bin_type=True),
        "invalid-utf8": b"\x93\xa2\xff\xfe\xc0" + msgpack.packb(node),
        "huge-array": b"\xdd\xff\xff\xff\xff\xa3ack",
        "trailing-byte": pack("stop", None, node) + b"\xc0",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "corpus" / "decode")
    ap.add_argument("--versions", nargs="+", default=list(MASTERS), choices=list(MASTERS))
    ap.add_argument("--time-limit", type=int, default=300,
                    help="abort the whole run after this many seconds (default 300)")
    args = ap.parse_args()

    def on_alarm(_sig, _frame):
        raise TimeoutError(f"capture took more than {args.time_limit}s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.time_limit)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix="lw-capture-") as tmp:
        for version in args.versions:
            try:
                frames = capture(version, MASTERS[version], Path(tmp))
            except Exception as e:
                log(f"{version}: FAILED: {e}")
                failed = True
                continue
            written = save(version, frames, args.out)
            types = sorted({t for t, _ in frames})
            log(f"{version}: {len(frames)} frames received, types {types}; "
                f"{len(written)} files written")
    for name, raw in bad_seeds().items():
        (args.out / f"bad-{name}.msgpack").write_bytes(raw)
    signal.alarm(0)
    files = sorted(args.out.glob("*.msgpack"))
    log(f"{args.out}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")
    for f in files:
        print(f"  {f.name:45} {f.stat().st_size:6}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
