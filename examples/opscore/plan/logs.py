"""Ops-Core's log for make plan: read the lines written during a scenario
(from a file, or from `docker logs` through the Docker Engine API), count
them by level and keep the first distinct errors.

A line's level is the first of DEBUG, INFO, WARNING (or WARN), ERROR,
CRITICAL (or FATAL) found in it as a word; a line without one (a traceback's
body) counts with the line before it. Two errors are the same when they
differ only in numbers, hex ids and UUIDs.
"""

from __future__ import annotations

import re
import struct
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .sources import SourceError, docker_get

LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b")
ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL"}
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
VARIABLE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0x[0-9a-f]+|\d+", re.I)
MAX_ERRORS = 5
MAX_QUOTE = 200


@dataclass
class LogSummary:
    source: str
    counts: dict = field(default_factory=lambda: {level: 0 for level in LEVELS})
    unleveled: int = 0
    errors: list = field(default_factory=list)  # first distinct ERROR/CRITICAL lines
    problem: Optional[str] = None


def summarize(lines: list[str], source: str) -> LogSummary:
    summary = LogSummary(source)
    seen: set[str] = set()
    current: Optional[str] = None
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        match = LEVEL.search(line)
        if match:
            current = ALIASES.get(match.group(1), match.group(1))
            if current in ("ERROR", "CRITICAL"):
                key = VARIABLE.sub("#", line[match.end():]).strip()
                if key not in seen and len(summary.errors) < MAX_ERRORS:
                    seen.add(key)
                    summary.errors.append(line.strip()[:MAX_QUOTE])
        if current is None:
            summary.unleveled += 1
        else:
            summary.counts[current] += 1
    return summary


class FileLog:
    """A log file; each scenario reads what was appended since the last mark."""

    def __init__(self, path: Path, label: str = ""):
        self.path = Path(path)
        self.label = label or str(self.path)
        self.offset = 0

    def mark(self, _now: float = 0.0) -> None:
        try:
            self.offset = self.path.stat().st_size
        except OSError:
            self.offset = 0

    def read_since_mark(self) -> LogSummary:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError as e:
            summary = LogSummary(self.label)
            summary.problem = f"log file {self.path}: {e.strerror or e}"
            return summary
        return summarize(data.decode(errors="replace").splitlines(), self.label)


def demux_docker_stream(data: bytes) -> list[str]:
    """Lines of a `docker logs` body: a container without a TTY sends frames
    of an 8-byte header (stream, 0, 0, 0, big-endian length) and a payload;
    with a TTY the body is the raw text."""
    if len(data) < 8 or data[0] not in (0, 1, 2) or data[1:4] != b"\0\0\0":
        return data.decode(errors="replace").splitlines()
    out = bytearray()
    pos = 0
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos + 4:pos + 8])
        out += data[pos + 8:pos + 8 + length]
        pos += 8 + length
    return out.decode(errors="replace").splitlines()


class DockerLog:
    """A container's log through the Docker Engine API, by time window."""

    def __init__(self, container: str, socket_path: str):
        self.container = container
        self.socket_path = socket_path
        self.since = 0

    def mark(self, now: float) -> None:
        self.since = int(now)

    def read_since_mark(self) -> LogSummary:
        path = (f"/containers/{urllib.parse.quote(self.container)}/logs"
                f"?stdout=1&stderr=1&since={self.since}")
        try:
            body = docker_get(self.socket_path, path, timeout=10)
        except SourceError as e:
            summary = LogSummary(f"docker logs {self.container}")
            summary.problem = str(e)
            return summary
        return summarize(demux_docker_stream(body), f"docker logs {self.container}")
