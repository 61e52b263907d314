"""Bad input from the master side: malformed, truncated, oversized and
wrong-typed frames from a fake master (a pyzmq ROUTER in the test, speaking
just enough of the protocol), and the `reconnect` message. Bad command lines
are in test_cli.py.

The worker must log each bad message once (one WARNING line), ignore it and
keep running: heartbeats keep coming, and a valid spawn afterwards is obeyed
(spawning, then spawning_complete, then requests).
"""

import time

import msgpack
import pytest

from conftest import c_worker_only, log_lines

pytestmark = [c_worker_only("feeds the C worker's decoder"), pytest.mark.parametrize("flavor", ["pypi"])]


def pack(obj) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def registered(fake_master, worker):
    """Wait for the worker's client_ready (the fake master acks it)."""
    assert fake_master.wait_for(lambda: fake_master.messages("client_ready"), 10), \
        f"no client_ready from the worker:\n{worker.stderr()}"
    return fake_master.messages("client_ready")[0]


def master_warnings(worker) -> list[str]:
    return [line for line in log_lines(worker.stderr(), "WARNING") if "from the master" in line]


def bad_frames(node_id: str, spawn: dict) -> list[tuple[str, list[bytes], tuple[str, ...]]]:
    """(what, frames, texts its log line must have). A frame the decoder
    rejects is logged with its size, "(N bytes)", and the reason."""
    def malformed(what, frame, reason):
        return what, [frame], (f"({len(frame)} bytes): ", reason)

    truncated = pack(["spawn", spawn, node_id])
    ucc_list = dict(spawn, user_classes_count=["HelloUser", 2])
    deep = b"\x91" * 200 + b"\xc0"  # [[[...[nil]...]]], 200 levels
    frames = [
        malformed("empty frame", b"", "empty message"),
        malformed("2-element array", pack(["spawn", spawn]), "not a 3-element array"),
        malformed("map", pack({"type": "spawn", "data": spawn, "node_id": node_id}), "not a 3-element array"),
        malformed("random bytes", bytes((i * 97 + 13) % 256 for i in range(777)), ""),
        malformed("truncated spawn", truncated[: len(truncated) // 2], "message is truncated"),
        malformed("array header announcing 2^32-1 elements", b"\xdd\xff\xff\xff\xff", "message is truncated"),
        malformed("200 levels of nesting", deep, ""),
        malformed("trailing bytes", pack(["stop", None, node_id]) + b"\x00", "trailing bytes"),
        malformed("type not a str", pack([7, None, node_id]), "message type is not a str"),
        malformed("spawn data a list", pack(["spawn", [1, 2], node_id]), "spawn: data is not a map"),
        malformed("spawn without timestamp", pack(["spawn", {"user_classes_count": {"HelloUser": 1}}, node_id]),
                  "timestamp"),
        malformed("spawn timestamp a str", pack(["spawn", dict(spawn, timestamp="now"), node_id]), "timestamp"),
        malformed("spawn user_classes_count a list", pack(["spawn", ucc_list, node_id]),
                  "user_classes_count is not a map"),
        malformed("spawn count a str", pack(["spawn", dict(spawn, user_classes_count={"HelloUser": "2"}), node_id]),
                  "count is not a number"),
        malformed("ack data a str", pack(["ack", "yes", node_id]), "ack: data is not a map or nil"),
        ("1 MB frame of an unknown type", [pack(["bulk", b"x" * (1 << 20), node_id])],
         ("Unknown message type received from the master: bulk",)),
        malformed("1 MB of garbage", b"\xc1" * (1 << 20), "invalid msgpack byte"),
        ("invalid UTF-8 type", [msgpack.packb([b"\xff\xfespawn", None, node_id], use_bin_type=False)],
         ("Unknown message type received from the master",)),
        # one message of 3 frames: the worker reads the first, drops the rest
        ("multi-frame message", [b"\x01garbage", pack(["spawn", spawn, node_id]), b"\x03more"],
         ("(8 bytes): ", "trailing bytes")),
    ]
    return frames


def test_garbage_from_master_is_logged_once_and_ignored(cluster, fake_master, target):
    """Every bad frame gives one WARNING line and nothing else: the worker
    stays registered and keeps heart-beating; then a valid spawn is obeyed."""
    worker = cluster.worker(fake_master)
    ready = registered(fake_master, worker)
    fake_master.pump(1.2)
    spawn = fake_master.spawn_msg({"HelloUser": 2}, target.url)

    started = time.monotonic()
    frames = bad_frames(ready.node_id, spawn)
    for what, parts, _ in frames:
        count = len(master_warnings(worker))
        fake_master.send(ready.identity, *parts)
        fake_master.wait_for(lambda: len(master_warnings(worker)) > count, 5)
        assert worker.proc.alive(), f"the worker died on: {what}\n{worker.stderr()}"
    fake_master.pump(1.5)  # a second line for any of them would show by now
    ended = time.monotonic()

    lines = master_warnings(worker)
    assert len(lines) == len(frames), "want one WARNING line per bad message:\n" + "\n".join(lines)
    for (what, _, texts), line in zip(frames, lines):
        assert all(text in line for text in texts), f"{what}: {line!r}"
    assert "Registered with the master" not in worker.stderr(), "the worker re-registered"
    assert len(fake_master.messages("client_ready")) == 1
    beats = fake_master.messages("heartbeat", since=started)
    assert len([b for b in beats if b.at <= ended]) >= int(ended - started) - 1, \
        f"heartbeats stopped: {len(beats)} in {ended - started:.1f} s"
    assert all(b.data["state"] == "ready" for b in beats), "a bad spawn was obeyed"
    assert target.count() == 0, "a bad spawn started users"
    assert all(m.type is not None for m in fake_master.received), "the worker sent an undecodable frame"

    since = time.monotonic()
    fake_master.send_msg(ready.identity, "spawn", dict(spawn, timestamp=time.time()), ready.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 10), \
        "the valid spawn was not obeyed"
    types = [m.type for m in fake_master.messages(since=since) if m.type in ("spawning", "spawning_complete")]
    assert types[:2] == ["spawning", "spawning_complete"]
    complete = fake_master.messages("spawning_complete", since=since)[0].data
    assert complete["user_count"] == 2
    assert complete["user_classes_count"]["HelloUser"] == 2
    assert fake_master.wait_for(lambda: target.count() >= 10, 10), "no requests after the valid spawn"
    assert worker.proc.alive()


def test_invalid_utf8_class_name_in_spawn(cluster, fake_master, target):
    """A spawn naming a class in invalid UTF-8 (and one real class): the real
    class runs, the unknown one is reported to the master as an exception
    that a stock master can decode (valid UTF-8)."""
    worker = cluster.worker(fake_master)
    ready = registered(fake_master, worker)
    spawn = {"timestamp": time.time(), "user_classes_count": {b"Bad\xff\xfeUser": 3, "HelloUser": 1},
             "host": target.url, "stop_timeout": None, "parsed_options": {}}
    since = time.monotonic()
    fake_master.send(ready.identity, msgpack.packb(["spawn", spawn, ready.node_id], use_bin_type=False))

    assert fake_master.wait_for(lambda: fake_master.messages("exception", since=since), 10), \
        "no exception about the unknown class (or one a stock master cannot decode)"
    exception = fake_master.messages("exception", since=since)[0].data
    assert "does not have it" in exception["msg"] and "User" in exception["msg"], exception
    assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 10)
    assert fake_master.messages("spawning_complete", since=since)[0].data["user_count"] == 1
    assert fake_master.wait_for(lambda: target.count() >= 5, 10), "HelloUser did not run"
    assert all(m.type is not None for m in fake_master.received), "the worker sent an undecodable frame"
    assert worker.proc.alive()


def test_control_characters_from_master_cannot_forge_log_lines(cluster, fake_master):
    """A message type with a newline and a fake log line in it: still one
    line in the worker's log."""
    worker = cluster.worker(fake_master)
    ready = registered(fake_master, worker)
    forged = "x\n[2026-01-01 00:00:00,000] host/ERROR/locust.main: forged"
    fake_master.send_msg(ready.identity, forged, None, ready.node_id)
    assert fake_master.wait_for(lambda: master_warnings(worker), 5)
    fake_master.pump(0.5)

    assert "forged" not in "\n".join(line for line in worker.stderr().splitlines()
                                     if "Unknown message type" not in line)


def test_reconnect_message_registers_again(cluster, fake_master, target):
    """`reconnect` (what a stock master sends after a frame it could not
    decode): the worker opens a new connection and sends client_ready again,
    then obeys the master as before."""
    worker = cluster.worker(fake_master)
    ready = registered(fake_master, worker)
    fake_master.pump(1.0)

    since = time.monotonic()
    fake_master.send_msg(ready.identity, "reconnect", None, ready.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("client_ready", since=since), 10), \
        "no client_ready after reconnect"
    again = fake_master.messages("client_ready", since=since)[0]
    assert "The master asked for a reconnect" in worker.stderr()

    fake_master.send_msg(again.identity, "spawn", fake_master.spawn_msg({"HelloUser": 1}, target.url),
                         again.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 10)
    assert fake_master.wait_for(lambda: target.count() >= 5, 10), "no requests after the reconnect"
    assert fake_master.wait_for(lambda: fake_master.messages("stats", since=since), 5)
    assert worker.proc.alive()


def test_unknown_classes_reported_once_per_test_and_bounded(cluster, fake_master, target):
    """A spawn naming 1,000 classes the worker lacks (next to HelloUser),
    sent twice: 16 names are reported one by one and the rest in one more
    line, as ERROR lines and as exceptions to the master, 17 of each in all
    (the worker used to send 1,000, then 984 more for the same spawn again);
    HelloUser runs; after a stop, a new test reports them again, as
    boundedly."""
    worker = cluster.worker(fake_master)
    ready = registered(fake_master, worker)
    users = {f"Ghost{i}": 2 for i in range(1000)}
    users["HelloUser"] = 1

    def unknown_lines():
        return [line for line in log_lines(worker.stderr(), "ERROR")
                if "does not have it" in line or "does not have;" in line]

    def spawn_and_settle():
        since = time.monotonic()
        fake_master.send_msg(ready.identity, "spawn", fake_master.spawn_msg(users, target.url), ready.node_id)
        assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 10)
        fake_master.pump(1.0)  # any late line or exception would show by now

    spawn_and_settle()
    spawn_and_settle()
    exceptions = fake_master.messages("exception")
    assert len(exceptions) == 17, [e.data["msg"] for e in exceptions][:20]
    assert len(unknown_lines()) == 17
    assert sum("more than 16 user classes" in e.data["msg"] for e in exceptions) == 1
    assert len({e.data["msg"] for e in exceptions}) == 17
    assert fake_master.messages("spawning_complete")[-1].data["user_count"] == 1
    assert fake_master.wait_for(lambda: target.count() >= 5, 10), "HelloUser did not run"

    since = time.monotonic()
    fake_master.send_msg(ready.identity, "stop", None, ready.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("client_ready", since=since), 10)
    spawn_and_settle()
    assert len(fake_master.messages("exception", since=since)) == 17
    assert len(unknown_lines()) == 34
    assert worker.proc.alive()


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


MAX_FRAME = 2 << 20  # the worker's bound (ZLINK_MAX_FRAME, ZMQ_MAXMSGSIZE)
DROPPED = "most likely a frame over the 2 MB limit (ZMQ_MAXMSGSIZE)"


def test_oversized_frame_is_refused_and_worker_registers_again(cluster, fake_master, target):
    """A frame just under the 2 MB bound is read (one WARNING, an unknown
    type); a 4 MB `["stop", [0] * 4M, id]` is refused by ZeroMQ before it is
    read (it used to be decoded: RSS from 5 to 99 MB, and obeyed). libzmq
    drops the connection for good then; the worker says so in one WARNING
    line, opens a new one and registers again within 10 s; its RSS grows by
    less than 10 MB; heartbeats go on; a valid spawn is obeyed afterwards."""
    worker = cluster.worker(fake_master)
    ready = registered(fake_master, worker)
    fake_master.pump(1.2)
    before = rss_kb(worker.proc.pid)

    under = pack(["bulk", b"x" * (MAX_FRAME - 100), ready.node_id])
    assert len(under) < MAX_FRAME
    fake_master.send(ready.identity, under)
    assert fake_master.wait_for(lambda: "Unknown message type received from the master: bulk"
                                in worker.stderr(), 5), worker.stderr()

    since = time.monotonic()
    fake_master.send(ready.identity, pack(["stop", [0] * (4 << 20), ready.node_id]))
    assert fake_master.wait_for(lambda: fake_master.messages("client_ready", since=since), 10), \
        f"the worker did not register again:\n{worker.stderr()}"
    fake_master.pump(2.0)
    grown = rss_kb(worker.proc.pid) - before
    assert grown < 10_000, f"RSS grew by {grown} kB"
    dropped = [line for line in log_lines(worker.stderr(), "WARNING") if DROPPED in line]
    assert len(dropped) == 1, worker.stderr()
    assert "Stop requested by the master" not in worker.stderr(), "the oversized frame was read"
    assert len(fake_master.messages("client_ready", since=since)) == 1
    assert len(fake_master.messages("heartbeat", since=since)) >= 2

    again = fake_master.messages("client_ready", since=since)[0]
    since = time.monotonic()
    fake_master.send_msg(again.identity, "spawn", fake_master.spawn_msg({"HelloUser": 2}, target.url),
                         again.node_id)
    assert fake_master.wait_for(lambda: fake_master.messages("spawning_complete", since=since), 10)
    assert fake_master.messages("spawning_complete", since=since)[0].data["user_count"] == 2
    assert fake_master.wait_for(lambda: target.count() >= 5, 10), "no requests after registering again"
    assert worker.proc.alive()
