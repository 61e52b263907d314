"""The resource monitor of make plan: samples every source once per interval
in a background thread and appends one row per component to resources.csv.

Components have a role: "service" (Ops-Core), "redis", "generator" (the
master and each worker process) and "host". A component may have several
sources (Redis: its process or container, and its INFO); a row holds the
columns that its sources gave. A source that fails is reported once, on
stderr and in the report, and sampled again at the next interval (a Docker
socket or Redis may come back).
"""

from __future__ import annotations

import csv
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .sources import SourceError, SourceGone

COLUMNS = ["time", "scenario", "component", "role", "cpu_percent", "cpu_wait_percent", "memory_bytes", "net_rx_bytes",
           "net_tx_bytes", "redis_ops_per_sec", "redis_used_memory", "redis_connected_clients", "redis_keys"]


@dataclass
class Component:
    name: str
    role: str
    sources: list
    label: str = ""  # where the numbers come from, for the report
    cores: float = 1.0  # CPU % that means saturated is 90 % of this many cores
    problems: list = field(default_factory=list)


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


class Monitor:
    def __init__(self, path: Path, interval: float = 1.0):
        self.path = Path(path)
        self.interval = interval
        self.components: dict[str, Component] = {}
        self.history: dict[str, Component] = {}  # every component ever added
        self.scenario: Optional[int] = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread: Optional[threading.Thread] = None
        self.file = open(self.path, "w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(COLUMNS)

    # -- components

    def add(self, component: Component) -> None:
        """Add (or replace) a component; its sources are checked once now."""
        for source in component.sources:
            try:
                source.check()
            except SourceError as e:
                self._problem(component, str(e))
        with self.lock:
            self.components[component.name] = component
            self.history[component.name] = component

    def remove_role(self, role: str) -> None:
        with self.lock:
            for name in [n for n, c in self.components.items() if c.role == role]:
                del self.components[name]

    def set_scenario(self, scenario: Optional[int]) -> None:
        with self.lock:
            self.scenario = scenario

    def problems(self) -> list[str]:
        seen, out = set(), []
        for c in list(self.history.values()):
            for p in c.problems:
                if p not in seen:
                    seen.add(p)
                    out.append(p)
        return out

    def _problem(self, component: Component, message: str) -> None:
        if message not in component.problems:
            component.problems.append(message)
            print(f"plan: monitor: {component.name}: {message}", file=sys.stderr, flush=True)

    # -- sampling

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(10)
        self.file.close()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self.stopping.is_set():
            self.sample_once()
            next_at += self.interval
            self.stopping.wait(max(0.0, next_at - time.monotonic()))

    def sample_once(self) -> None:
        with self.lock:
            components = list(self.components.values())
            scenario = self.scenario
        now = time.time()
        for component in components:
            row = self._sample(component)
            if row is None:
                continue
            self.writer.writerow([f"{now:.3f}", "" if scenario is None else scenario, component.name,
                                  component.role, *(fmt(row.get(c)) for c in COLUMNS[4:])])
        self.file.flush()

    def _sample(self, component: Component) -> Optional[dict]:
        row: dict = {}
        for source in component.sources:
            try:
                row.update({k: v for k, v in source.sample().items() if v is not None})
            except SourceGone:
                continue
            except SourceError as e:
                self._problem(component, str(e))
        return row or None
