"""Targets nginx cannot play, for the promise tests: a small threaded HTTP/1.1
server on 127.0.0.1 that answers after a known delay, redirects by rule,
never answers, and records every request it read (its own truth), and a
tiny forwarding HTTP proxy that counts what it forwarded.

ScriptedServer routes, by path:
  /delay...    200 "hello" after `delay` seconds
  /never       (every path, with never_answer) no answer: waits until the
               client closes the connection and
               records when (Hit.closed)
  /r303, /r307, /r308  that status, Location: /sink
  /cross       302 to `peer` + "/sink" (another server: another origin)
  /loop/<n>    302 to /loop/<n+1>, forever
  anything else  200 "ok"
Each request read is a Hit: method, path, body, headers (lower-case names),
when it was read and when its answer was sent, and the client's port (one
per connection)."""

from __future__ import annotations

import http.client
import re
import select
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hit:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    port: int  # the client's port: one per connection
    read: float  # time.time() when the request was read
    answered: float | None = None  # when the answer was sent (None: never)
    closed: float | None = None  # /never: when the client closed the connection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *_args) -> None:  # quiet
        pass

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        hit = Hit(self.command, self.path, body, {k.lower(): v for k, v in self.headers.items()},
                  self.client_address[1], time.time())
        owner.record(hit)
        path = self.path
        if path.startswith("/delay"):
            time.sleep(owner.delay)
            self._answer(hit, 200, b"hello")
        elif path == "/never" or owner.never_answer:
            self._wait_for_close(hit)
        elif path in ("/r303", "/r307", "/r308"):
            self._answer(hit, int(path[2:]), b"", location="/sink")
        elif path == "/cross":
            self._answer(hit, 302, b"", location=f"{owner.peer}/sink")
        elif re.fullmatch(r"/loop/\d+", path):
            self._answer(hit, 302, b"", location=f"/loop/{int(path[6:]) + 1}")
        else:
            self._answer(hit, 200, b"ok")

    do_GET = do_POST = do_PUT = do_HEAD = _handle

    def _answer(self, hit: Hit, status: int, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        hit.answered = time.time()

    def _wait_for_close(self, hit: Hit) -> None:
        deadline = time.monotonic() + 120
        while not self.server.owner.stopped and time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.01)
            if readable:
                try:
                    data = self.connection.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    hit.closed = time.time()
                    break
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    owner: "ScriptedServer"


class ScriptedServer:
    """delay: seconds /delay waits before it answers. peer: the URL /cross
    redirects to (another server). never_answer: every path is /never."""

    def __init__(self, delay: float = 0.0, peer: str = "", never_answer: bool = False):
        self.delay = delay
        self.never_answer = never_answer
        self.peer = peer
        self.stopped = False
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="scripted-server", daemon=True)
        self._thread.start()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def requests(self, path_prefix: str = "") -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path.startswith(path_prefix)]

    def close(self) -> None:
        self.stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_ProxyServer"

    def log_message(self, *_args) -> None:
        pass

    def _forward(self) -> None:
        m = re.fullmatch(r"http://(127\.0\.0\.1|localhost):(\d+)(/.*)", self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if not m:  # only loopback targets, and only absolute-form requests
            self.send_error(400, "not a loopback absolute URL")
            return
        upstream = http.client.HTTPConnection("127.0.0.1", int(m.group(2)), timeout=10)
        try:
            upstream.request(self.command, m.group(3), body=body,
                             headers={k: v for k, v in self.headers.items()
                                      if k.lower() not in ("proxy-connection", "connection")})
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.server.owner.lock:
            self.server.owner.forwarded += 1

    do_GET = do_POST = _forward


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "Proxy"


class Proxy:
    """A forwarding HTTP proxy on 127.0.0.1 for loopback targets only;
    forwarded: requests it forwarded and answered."""

    def __init__(self):
        self.forwarded = 0
        self.lock = threading.Lock()
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="proxy", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
