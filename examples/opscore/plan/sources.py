"""Where make plan's resource numbers come from: one class per kind of source.

    DockerContainer  a container's CPU %, memory and network, read from the
                     Docker Engine API on its unix socket, computed the way
                     `docker stats` does
    LocalProcess     a local process (and its children) by PID or by name:
                     CPU % (100 = one core, the `docker stats` basis), the %
                     of time its threads were ready but waited for a CPU
                     (/proc/PID/task/*/schedstat: a busy host shows here),
                     RSS, and the rx/tx bytes of its network namespace
    RedisInfo        Redis INFO: ops/s, used_memory, connected clients, keys
    HostCpu          the whole machine's CPU %, 100 = every core busy

Each source's sample() returns a dict of the columns it knows, or raises
SourceError with a one-line reason; the monitor records the reason once and
keeps sampling the others.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.parse
from typing import Optional

import psutil
import redis


class SourceError(Exception):
    """A source could not be read; the message is one line for the user."""


class SourceGone(Exception):
    """The process being watched has exited: no more rows, nothing to report."""


# --------------------------------------------------------------------------
# Docker Engine API over its unix socket


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 5.0):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def docker_get(socket_path: str, path: str, timeout: float = 5.0) -> bytes:
    """GET path from the Docker Engine API; SourceError on any failure."""
    conn = UnixHTTPConnection(socket_path, timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except OSError as e:
        raise SourceError(f"Docker socket {socket_path}: {e.strerror or e}") from None
    finally:
        conn.close()
    if resp.status != 200:
        try:
            message = json.loads(body).get("message", "")
        except ValueError:
            message = body[:120].decode(errors="replace")
        raise SourceError(f"Docker API {path.split('?')[0]}: HTTP {resp.status} {message}".strip())
    return body


def docker_cpu_percent(prev: dict, cur: dict) -> Optional[float]:
    """`docker stats` CPU %: container CPU time delta over system CPU time
    delta, times the number of online CPUs, times 100."""
    try:
        cpu_delta = cur["cpu_stats"]["cpu_usage"]["total_usage"] - prev["cpu_stats"]["cpu_usage"]["total_usage"]
        sys_delta = cur["cpu_stats"]["system_cpu_usage"] - prev["cpu_stats"]["system_cpu_usage"]
        online = cur["cpu_stats"].get("online_cpus") or len(cur["cpu_stats"]["cpu_usage"].get("percpu_usage") or [1])
    except (KeyError, TypeError):
        return None
    if sys_delta <= 0 or cpu_delta < 0:
        return None
    return cpu_delta / sys_delta * online * 100.0


def docker_memory(stats: dict) -> Optional[int]:
    """`docker stats` memory: usage less the page cache (inactive_file on
    cgroup v2, cache on v1)."""
    mem = stats.get("memory_stats") or {}
    usage = mem.get("usage")
    if usage is None:
        return None
    detail = mem.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
    return int(usage - cache)


class DockerContainer:
    def __init__(self, name: str, socket_path: str):
        self.name = name
        self.socket_path = socket_path
        self.prev: Optional[dict] = None
        self.path = f"/containers/{urllib.parse.quote(name)}/stats?stream=false&one-shot=true"

    def check(self) -> None:
        docker_get(self.socket_path, f"/containers/{urllib.parse.quote(self.name)}/json")

    def sample(self) -> dict:
        try:
            stats = json.loads(docker_get(self.socket_path, self.path))
        except ValueError:
            raise SourceError(f"Docker API: container {self.name}: stats are not JSON") from None
        row: dict = {}
        if self.prev is not None:
            row["cpu_percent"] = docker_cpu_percent(self.prev, stats)
        self.prev = stats
        row["memory_bytes"] = docker_memory(stats)
        networks = stats.get("networks") or {}
        row["net_rx_bytes"] = sum(n.get("rx_bytes", 0) for n in networks.values())
        row["net_tx_bytes"] = sum(n.get("tx_bytes", 0) for n in networks.values())
        return row


# --------------------------------------------------------------------------
# local processes


def find_process(name: str) -> psutil.Process:
    """The oldest process whose name is `name` or whose command line contains
    it (this process and its ancestors excluded)."""
    me = psutil.Process()
    excluded = {me.pid, *(p.pid for p in me.parents())}
    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline", "create_time"]):
        if proc.info["pid"] in excluded:
            continue
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == name or name in cmdline:
            found.append(proc)
    if not found:
        raise SourceError(f"no local process named {name!r}")
    return min(found, key=lambda p: p.info["create_time"] or 0)


def namespace_net_bytes(pid: int) -> tuple[int, int]:
    """rx and tx bytes of every interface in the process's network namespace."""
    rx = tx = 0
    with open(f"/proc/{pid}/net/dev") as f:
        for line in f.readlines()[2:]:
            _, _, data = line.partition(":")
            fields = data.split()
            if len(fields) >= 9:
                rx += int(fields[0])
                tx += int(fields[8])
    return rx, tx


def runqueue_wait_ns(pids: list[int]) -> int:
    """Nanoseconds the threads of these processes spent ready to run but
    waiting for a CPU (second field of /proc/PID/task/TID/schedstat)."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total


class LocalProcess:
    """A process and its children, by PID or by name (resolved once)."""

    def __init__(self, pid: Optional[int] = None, name: Optional[str] = None):
        self.pid = pid
        self.name = name
        self.proc: Optional[psutil.Process] = None
        self.children: dict[int, psutil.Process] = {}
        self.last_wait: Optional[tuple[float, int]] = None  # (monotonic s, wait ns)

    def check(self) -> None:
        if self.proc is not None:
            return
        try:
            self.proc = psutil.Process(self.pid) if self.pid else find_process(self.name or "")
            self.proc.cpu_percent(None)
        except psutil.Error as e:
            raise SourceError(f"process {self.pid or self.name}: {e.msg or type(e).__name__}") from None

    def _tree(self) -> list[psutil.Process]:
        procs = [self.proc]
        for child in self.proc.children(recursive=True):
            known = self.children.setdefault(child.pid, child)
            procs.append(known)
        return procs

    def sample(self) -> dict:
        self.check()
        try:
            if self.proc.status() == psutil.STATUS_ZOMBIE:
                raise SourceGone()
            procs = self._tree()
            cpu = rss = 0.0
            for p in procs:
                try:
                    cpu += p.cpu_percent(None)
                    rss += p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            rx, tx = namespace_net_bytes(self.proc.pid)
            wait = self._wait_percent([p.pid for p in procs])
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            raise SourceGone() from None
        except (psutil.Error, OSError) as e:
            raise SourceError(f"process {self.proc.pid}: {getattr(e, 'msg', None) or e}") from None
        return {"cpu_percent": cpu, "cpu_wait_percent": wait, "memory_bytes": int(rss), "net_rx_bytes": rx,
                "net_tx_bytes": tx}

    def _wait_percent(self, pids: list[int]) -> Optional[float]:
        now, wait = time.monotonic(), runqueue_wait_ns(pids)
        last, self.last_wait = self.last_wait, (now, wait)
        if last is None or now <= last[0]:
            return None
        return max(0.0, (wait - last[1]) / 1e9 / (now - last[0]) * 100.0)


# --------------------------------------------------------------------------
# Redis INFO

class RedisInfo:
    def __init__(self, host: str, port: int, password: Optional[str] = None):
        self.address = f"{host}:{port}"
        self.client = redis.Redis(host=host, port=port, password=password, socket_timeout=2,
                                  socket_connect_timeout=2)

    def check(self) -> None:
        self.sample()

    def sample(self) -> dict:
        try:
            info = self.client.info()
        except redis.RedisError as e:
            text = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise SourceError(f"Redis at {self.address} refuses INFO: {text}") from None
        keys = sum(v.get("keys", 0) for k, v in info.items() if k.startswith("db") and isinstance(v, dict))
        return {
            "redis_ops_per_sec": info.get("instantaneous_ops_per_sec"),
            "redis_used_memory": info.get("used_memory"),
            "redis_connected_clients": info.get("connected_clients"),
            "redis_keys": keys,
        }

    def close(self) -> None:
        self.client.close()


class HostCpu:
    def __init__(self):
        psutil.cpu_percent(None)

    def check(self) -> None:
        pass

    def sample(self) -> dict:
        return {"cpu_percent": psutil.cpu_percent(None), "memory_bytes": psutil.virtual_memory().used}
