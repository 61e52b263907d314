"""Locust's whole command line on a C worker, as Kubernetes operators and
Helm charts start workers: every option and LOCUST_* variable that the
installed `locust` knows (read from that Locust's own argument parser, so a
new release's options are caught) is accepted; the worker's own are
honoured; the rest are named in one INFO line; and the worker joins a real
master and runs a test with exact counts.

The exact argv and environment of the two Kubernetes operators and of the
deliveryhero Helm chart are test vectors here.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import (AGGREGATED, MASTER_EXECUTABLES, WORKER_DIR, c_worker_only, log_lines, poll)

pytestmark = c_worker_only("checks the C worker binaries' command line")

PYTHONS = {"pypi": MASTER_EXECUTABLES["pypi"].parent / "python", "debian": "/usr/bin/python3"}

# Prints [long or first name, all names, takes values ("0", "1", "*"), env var]
# for every option `locust --help` lists.
DUMP_OPTIONS = r"""
import argparse, json
from locust import argument_parser as ap
p = ap.get_parser()
out = []
for a in p._actions:
    if not a.option_strings or a.help == argparse.SUPPRESS:
        continue
    longs = [o for o in a.option_strings if o.startswith("--")]
    nargs = "0" if a.nargs == 0 else ("*" if a.nargs in ("*", "+") else "1")
    out.append({"name": (longs or a.option_strings)[0], "names": a.option_strings, "nargs": nargs,
                "env": getattr(a, "env_var", None), "choices": list(a.choices) if a.choices else None})
print(json.dumps(out))
"""

# Options whose value must make sense to the worker, or that end the process.
HONOURED = {"--host", "--master-host", "--master-port", "--processes", "--loglevel", "--logfile",
            "--worker", "--help", "--version", "--list", "--show-task-ratio-json"}


def locust_options(flavor: str) -> list[dict]:
    out = subprocess.run([str(PYTHONS[flavor]), "-c", DUMP_OPTIONS], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    options = json.loads(out)
    assert len(options) > 40, options  # the parser really was read
    return options


def ignored_names(worker_log: str) -> str:
    lines = [line for line in log_lines(worker_log, "INFO") if "Ignoring options that only concern" in line]
    assert len(lines) == 1, worker_log[-3000:]
    return lines[0]


def run_counts_right(master, target, users: int = 2) -> None:
    since = target.mark()
    master.swarm(users, users)
    stats = poll(master.stats, lambda s: s["user_count"] == users and s["state"] == "running", timeout=15)
    assert stats["user_count"] == users
    assert poll(lambda: target.count(since), lambda n: n >= 10, timeout=10) >= 10
    master.stop()
    counts, served = master.settled_counts(target, since)
    assert counts == served
    assert served[AGGREGATED] > 0


def start_worker(cluster, argv: list, env: dict):
    exe = WORKER_DIR / "test-worker"
    return cluster.procs.start("worker-c", "c-worker", [exe, *argv],
                               {"ASAN_OPTIONS": "detect_leaks=1", **env})


def test_every_locust_option_is_accepted(cluster, target, tmp_path, flavor):
    """Every option of this master's Locust, each with a value of its kind:
    the worker starts, registers, names every master-only option in one INFO
    line, writes its log to --logfile, and runs a test with exact counts."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    logfile = tmp_path / "worker.log"
    values = {"--host": target.url, "--master-host": "127.0.0.1", "--master-port": str(master.port),
              "--processes": "1", "--loglevel": "INFO", "--logfile": str(logfile)}
    argv, expected = [], []
    for opt in locust_options(flavor):
        name = opt["name"]
        if name in ("--help", "--version", "--list", "--show-task-ratio-json"):   # print and exit
            continue
        argv.append(name)
        if name in values:
            argv.append(values[name])
        elif opt["nargs"] == "1":
            argv.append(opt["choices"][0] if opt["choices"] else "1")
        elif opt["nargs"] == "*":
            argv += ["a", "b"]
        if name not in HONOURED:
            expected.append(name)
    worker = start_worker(cluster, argv, {})
    assert len(cluster.wait_registered(master)) == 1, worker.output_tail()
    assert worker.stderr() == "", "the log went to stderr despite --logfile"
    line = ignored_names(logfile.read_text())
    missing = [n for n in expected if n not in line]
    assert not missing, f"not named as ignored: {missing}\n{line}"
    run_counts_right(master, target)


def test_every_locust_variable_is_accepted(cluster, target, flavor):
    """Every LOCUST_* variable of this master's Locust set at once (the
    worker's own with real values, LOCUST_MODE_WORKER=true): the worker
    registers, names the others, and runs a test with exact counts."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    env, expected = {}, []
    own = {"LOCUST_HOST": target.url, "LOCUST_MASTER_NODE_HOST": "127.0.0.1",
           "LOCUST_MASTER_NODE_PORT": str(master.port), "LOCUST_PROCESSES": "1", "LOCUST_LOGLEVEL": "INFO",
           "LOCUST_MODE_WORKER": "true"}
    for opt in locust_options(flavor):
        var = opt["env"]
        if not var or var == "LOCUST_LOGFILE":
            continue
        if var in own:
            env[var] = own[var]
        else:
            env[var] = "true" if opt["nargs"] == "0" else (opt["choices"][0] if opt["choices"] else "1")
            expected.append(var)
    worker = start_worker(cluster, [], env)
    assert len(cluster.wait_registered(master)) == 1, worker.output_tail()
    line = ignored_names(worker.stderr())
    missing = [v for v in expected if v not in line]
    assert not missing, f"not named as ignored: {missing}\n{line}"
    run_counts_right(master, target)


@pytest.mark.parametrize("flavor", ["pypi"])
@pytest.mark.parametrize("vector", ["locust-k8s-operator", "locustio-operator", "helm-chart"])
def test_deployment_command_lines(cluster, target, vector):
    """The argv and environment each deployment tool gives a worker pod
    (only the master's address and port changed to this test's)."""
    master = cluster.master(["HelloUser"], stop_timeout=2)
    port = str(master.port)
    if vector == "locust-k8s-operator":
        # <spec.worker.command> [--otel] --worker --master-port=5557 --master-host=<svc>
        argv = ["--locustfile", "/lotest/src/locustfile.py", "--otel", "--worker",
                f"--master-port={port}", "--master-host=127.0.0.1"]
        env, named = {}, ["--locustfile", "--otel"]
    elif vector == "locustio-operator":
        # --worker --master-host <svc>, then the master's own arguments
        argv = ["--worker", "--master-host", "127.0.0.1", "-f", "x.py", "--headless", "--users", "300",
                "--spawn-rate", "10", "--run-time", "5m"]
        env, named = {"LOCUST_MASTER_NODE_PORT": port}, ["--locustfile", "--headless", "--users",
                                                         "--spawn-rate", "--run-time"]
    else:
        argv = ["--worker"]
        env = {"LOCUST_HOST": target.url, "LOCUST_MASTER_NODE_HOST": "127.0.0.1",
               "LOCUST_MASTER_NODE_PORT": port, "LOCUST_LOGLEVEL": "INFO",
               "LOCUST_LOCUSTFILE": "/mnt/locust/locustfile.py"}
        named = ["LOCUST_LOCUSTFILE"]
    worker = start_worker(cluster, argv, env)
    assert len(cluster.wait_registered(master)) == 1, worker.output_tail()
    line = ignored_names(worker.stderr())
    assert all(n in line for n in named), line
    run_counts_right(master, target, users=3)
    assert worker.alive()


@pytest.mark.parametrize("flavor", ["pypi"])
def test_unknown_option_still_exits_2(flavor):
    """An option no Locust has is still an error: exit 2, one line."""
    for argv in (["--worker", "--no-such-option"], ["--worker", "--master-bind"], ["-Z"]):
        result = subprocess.run([WORKER_DIR / "test-worker", *argv], capture_output=True, text=True, timeout=10)
        assert result.returncode == 2, argv
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("flavor", ["pypi"])
def test_list_prints_the_classes(flavor):
    """-l / --list: the compiled classes, like `locust --list`; exit 0."""
    result = subprocess.run([WORKER_DIR / "hello-worker", "--list"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Available", "Users:", "HelloUser"]
