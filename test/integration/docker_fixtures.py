"""Helpers for the container tests: is Docker usable, the image (make image),
networks created with --internal (no route out) and a compose project that
is always torn down (containers, networks, volumes), pass or fail.

Docker missing or not running: the tests skip with the reason, except under
CI=true, where .ci/run installs and starts it, so they fail instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import uuid
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# a tag of its own per checkout, so that tests of two checkouts never run
# each other's image
IMAGE = os.environ.get("LW_IMAGE", "locust-c-worker:test-" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:8])
IMAGE_BUILD_TIMEOUT = 900   # seconds: make image from nothing is about 90 s here
DOCKER_TIMEOUT = 120        # seconds, for any one docker or compose command


def docker(*args: str, timeout: float = DOCKER_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess:
    """Run `docker ARGS`, output captured as text."""
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


def compose_command() -> list[str] | None:
    """`docker compose` (v2) when the plugin is there, else docker-compose (1.x)."""
    try:
        if docker("compose", "version", check=False, timeout=30).returncode == 0:
            return ["docker", "compose"]
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ["docker-compose"] if shutil.which("docker-compose") else None


def why_no_docker() -> str | None:
    """None when Docker and compose work here, else the reason they do not."""
    if shutil.which("docker") is None:
        return "no docker client (apt-get install docker.io)"
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=30)
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 30 s"
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the Docker daemon is not usable: {last}"
    if compose_command() is None:
        return "neither `docker compose` nor docker-compose is installed"
    return None


def require_docker() -> None:
    """Skip (or fail under CI=true) when Docker cannot run here."""
    reason = why_no_docker()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and Docker is not usable: {reason}", pytrace=False)
    pytest.skip(f"Docker is not usable here: {reason}")


def build_image() -> str:
    """make image (cached layers make a rebuild take seconds); the tag.
    A lock file keeps parallel test processes from building at once."""
    lock_path = ROOT / "build" / "image.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["make", "--no-print-directory", "image", f"IMAGE={IMAGE}"], cwd=ROOT,
                              capture_output=True, text=True, timeout=IMAGE_BUILD_TIMEOUT)
    assert proc.returncode == 0, f"make image failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return IMAGE


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class InternalNetwork:
    """A Docker bridge network created with --internal: no route out."""

    def __init__(self, prefix: str = "lwtest"):
        self.name = unique(prefix)
        docker("network", "create", "--internal", "--label", "lw-test=1", self.name)

    def remove(self) -> None:
        docker("network", "rm", self.name, check=False)


def started_at(container: str) -> datetime:
    """When the container's process started (docker's own clock, UTC)."""
    return parse_time(docker("inspect", "-f", "{{.State.StartedAt}}", container).stdout.strip())


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as docker prints it (nanoseconds cut to micro)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    assert m, text
    return datetime.fromisoformat(f"{m.group(1)}.{(m.group(2) or '0')[:6].ljust(6, '0')}+00:00")


def timed_log(container: str) -> list[tuple[datetime, str]]:
    """The container's output, each line with docker's receive time."""
    proc = docker("logs", "-t", container)
    out = proc.stdout + proc.stderr
    lines = []
    for line in out.splitlines():
        stamp, _, text = line.partition(" ")
        lines.append((parse_time(stamp), text))
    return sorted(lines)


def remove_containers(label: str) -> None:
    """Force-remove every container carrying LABEL (key=value), with volumes."""
    ids = docker("ps", "-aq", "--filter", f"label={label}", check=False).stdout.split()
    if ids:
        docker("rm", "-fv", *ids, check=False)
