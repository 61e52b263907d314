"""The worker's command line, without a master: --help, --version, bad flags."""

import os
import subprocess

import pytest

from conftest import WORKER_DIR, c_worker_only

pytestmark = c_worker_only("checks the C worker binaries' command line")

BINARIES = ["test-worker", "hello-worker"]


def run_worker(binary, *args):
    exe = WORKER_DIR / binary
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build it (make integration), or set LW_WORKER_DIR", pytrace=False)
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("binary", BINARIES)
def test_help_exits_0(binary):
    result = run_worker(binary, "--help")
    assert result.returncode == 0, result.stderr
    assert "--master-host" in result.stdout
    assert "--master-port" in result.stdout


@pytest.mark.parametrize("binary", BINARIES)
def test_version_exits_0(binary):
    result = run_worker(binary, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("args", [
    ["--no-such-flag"],
    ["--master-port", "not-a-port"],
    ["--master-port", "70000"],
    ["--loglevel", "LOUD"],
    ["--processes", "many"],
    ["--master-host"],
    ["stray-argument"],
], ids=["unknown-flag", "port-not-a-number", "port-out-of-range", "bad-loglevel", "bad-processes",
        "missing-value", "positional"])
def test_bad_flag_exits_2_with_one_line(binary, args):
    result = run_worker(binary, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args,env,names", [
    (["--master-host", "no such host"], {}, "no such host"),
    (["--host", "127.0.0.1:8080"], {}, "127.0.0.1:8080"),
    (["--host", "ftp://127.0.0.1/"], {}, "ftp://127.0.0.1/"),
    (["--host", "http://"], {}, "http://"),
    (["--request-timeout", "0"], {}, "0"),
    (["--request-timeout", "soon"], {}, "soon"),
    (["--processes", "0"], {}, "0"),
    ([], {"LOCUST_MASTER_NODE_PORT": "port"}, "port"),
    ([], {"LOCUST_HOST": "localhost"}, "localhost"),
    ([], {"LOCUST_LOGLEVEL": "chatty"}, "chatty"),
], ids=["unresolvable-master-host", "host-without-scheme", "host-not-http", "host-without-name",
        "timeout-zero", "timeout-not-a-number", "processes-zero", "env-port", "env-host", "env-loglevel"])
def test_bad_value_exits_2_naming_it(args, env, names):
    """A bad value from a flag or from the environment, or a master host that
    does not resolve (a name glibc rejects without asking DNS: no network):
    exit 2 at once, one line on stderr that names the bad value, nothing on
    stdout."""
    exe = WORKER_DIR / "test-worker"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build it (make integration), or set LW_WORKER_DIR", pytrace=False)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    result = subprocess.run([exe, *args], capture_output=True, text=True, timeout=10, env={**clean, **env})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"'{names}'" in lines[0], lines[0]
    assert result.stdout == ""
