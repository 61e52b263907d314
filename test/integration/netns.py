"""Network namespaces as machines, for the multi-host tests.

A Network is a private LAN made of network namespaces, all created and
deleted by the test:

  lwmhN-sw         the switch: a bridge (br0) and one port per machine; no
                   address, no route
  lwmhN-<role>     one namespace per machine: lo and eth0 with its own
                   address 198.18.N.<10+i>/24, and no other route (no
                   default route: nothing on it can reach beyond the LAN)
  lwmhN            (root namespace) the test process's own port on the
                   bridge, 198.18.N.1/24, so that it can read the master's web
                   API and start nginx's readiness probe; it adds only the
                   route to 198.18.N.0/24, and nothing is routed through it

198.18.0.0/15 is the block RFC 2544 sets aside for benchmarking: it is
never routed on a real network. N (1-250) is taken by creating lwmhN-sw,
which fails if another test (a parallel pytest worker) holds it, and is
skipped if the root namespace already has a route into 198.18.N.0/24.

partition(role) sets the machine's switch port down: its eth0 loses the
carrier and every packet to or from it is lost (nothing is refused), as when
a cable is pulled; heal(role) sets it up again.

Teardown (close()) deletes the root port and every namespace, whatever
state setup reached. A run killed with SIGKILL can leave namespaces behind:
`ip netns list | grep lwmh` shows them and `ip netns del NAME` removes one.

Needs root and iproute2 (`ip`, and `tc` for the optional netem latency).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

import pytest

PREFIX = "lwmh"
BLOCK = ipaddress.ip_network("198.18.0.0/15")
CMD_TIMEOUT = 10  # seconds, for every ip/tc command
NETEM = ["delay", "25ms", "5ms"]  # where the kernel has netem


class Unavailable(Exception):
    """Network namespaces cannot be made here; the text says why."""


@dataclass(frozen=True)
class Machine:
    role: str
    ns: str  # the namespace's name, for `ip netns exec`
    address: str
    port: str  # its port's name on the switch


def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    """One ip/tc command, bounded in time; raises with its stderr on failure."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CMD_TIMEOUT)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


def unavailable() -> str | None:
    """Why this machine cannot run the multi-host tests, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    listed = run(["ip", "netns", "list"], check=False)
    if listed.returncode != 0:
        return f"`ip netns` does not work here: {listed.stderr.strip()}"
    return None


def skip_or_fail(reason: str, ci: bool) -> None:
    """Skip with the reason; in CI (CI=true) the tests must run, so fail."""
    if ci:
        pytest.fail(f"multi-host test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"multi-host test: {reason}")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


class Network:
    """Machines on one bridge. roles: the machines' names, e.g. "master"."""

    def __init__(self, roles: list[str]):
        self.namespaces: list[str] = []
        self.root_port: str | None = None
        self.machines: dict[str, Machine] = {}
        self.latency: str | None = None
        try:
            self.index = self._take_index()
            self._build(roles)
        except BaseException:
            self.close()
            raise

    # -- setup

    def _take_index(self) -> int:
        routes = [ipaddress.ip_network(r["dst"]) for r in json.loads(run(["ip", "-4", "-j", "route", "show"]).stdout)
                  if r.get("dst", "default") != "default"]
        for n in range(1, 251):
            subnet = ipaddress.ip_network(f"198.18.{n}.0/24")
            if any(subnet.overlaps(r) for r in routes):
                continue
            made = run(["ip", "netns", "add", f"{PREFIX}{n}-sw"], check=False)
            if made.returncode == 0:
                self.namespaces.append(f"{PREFIX}{n}-sw")
                return n
            if "File exists" not in made.stderr:
                raise Unavailable(f"`ip netns add` failed: {made.stderr.strip()}")
        raise RuntimeError(f"no free {PREFIX}N-sw namespace for N in 1..250: `ip netns list`")

    def _build(self, roles: list[str]) -> None:
        n = self.index
        sw = f"{PREFIX}{n}-sw"
        run(["ip", "-n", sw, "link", "set", "lo", "up"])
        run(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", sw, "link", "set", "br0", "up"])
        # the test process's port: a veth pair in this namespace, one end moved into the switch
        self.root_port = f"{PREFIX}{n}"
        run(["ip", "link", "add", self.root_port, "type", "veth", "peer", "name", "obs", "netns", sw])
        self._plug(sw, "obs")
        run(["ip", "addr", "add", f"198.18.{n}.1/24", "dev", self.root_port])
        run(["ip", "link", "set", self.root_port, "up"])
        for i, role in enumerate(roles):
            ns = f"{PREFIX}{n}-{role}"
            run(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            port = f"p{i}"
            run(["ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns])
            self._plug(sw, port)
            address = f"198.18.{n}.{10 + i}"
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self.machines[role] = Machine(role, ns, address, port)
        for m in self.machines.values():
            routes = run(["ip", "-n", m.ns, "route", "show", "default"]).stdout.strip()
            if routes:
                raise RuntimeError(f"{m.ns} has a default route: {routes}")

    def _plug(self, sw: str, port: str) -> None:
        run(["ip", "-n", sw, "link", "set", port, "master", "br0"])
        run(["ip", "-n", sw, "link", "set", port, "up"])

    def add_latency(self) -> str | None:
        """netem (25 ms +- 5 ms) on every machine's eth0. Returns None, or
        why there is none (the kernel has no netem, tc is missing)."""
        if shutil.which("tc") is None:
            return "tc is not installed: no netem latency"
        for m in self.machines.values():
            done = run(["ip", "netns", "exec", m.ns, "tc", "qdisc", "add", "dev", "eth0", "root", "netem", *NETEM],
                       check=False)
            if done.returncode != 0:
                return f"tc netem is not available ({done.stderr.strip()}): no added latency"
        self.latency = " ".join(NETEM)
        return None

    # -- faults

    def _port(self, role: str, state: str) -> None:
        run(["ip", "-n", f"{PREFIX}{self.index}-sw", "link", "set", self.machines[role].port, state])

    def partition(self, role: str) -> None:
        self._port(role, "down")

    def heal(self, role: str) -> None:
        self._port(role, "up")

    # -- teardown

    def close(self) -> None:
        """Delete the root port and every namespace; what is already gone is
        skipped. Processes must be stopped first (a namespace lives on as
        long as a process is in it)."""
        if self.root_port:
            run(["ip", "link", "del", self.root_port], check=False)
        for ns in reversed(self.namespaces):
            run(["ip", "netns", "del", ns], check=False)
        self.namespaces = []

    def leftovers(self) -> list[str]:
        """This network's namespaces and root port that still exist."""
        names = [ns for ns in run(["ip", "netns", "list"]).stdout.split() if ns.startswith(f"{PREFIX}{self.index}-")]
        if self.root_port and run(["ip", "link", "show", self.root_port], check=False).returncode == 0:
            names.append(self.root_port)
        return names
