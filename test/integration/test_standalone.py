"""Standalone runs (--headless without --worker): no master, the worker's own
console output, --csv files and exit code, checked against a Python Locust
headless run of the same locustfile and against the target's access log."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from conftest import (HELLO_LOCUSTFILE, LOCUSTFILE, MASTER_EXECUTABLES, WORKER_DIR, c_worker_only,
                      parse_csv)

pytestmark = c_worker_only("standalone mode is the C worker's own")

CSV_KINDS = ("stats", "stats_history", "failures", "exceptions")


def run_c(procs, binary: str, args: list, name: str = "standalone"):
    exe = WORKER_DIR / binary
    env = {"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    return procs.start(name, "c-worker", [exe] + [str(a) for a in args], env)


def run_python(procs, locustfile: Path, args: list):
    return procs.start("python-locust", "master", [MASTER_EXECUTABLES["pypi"], "-f", locustfile] +
                       [str(a) for a in args])


def read(prefix: Path, kind: str) -> str:
    return Path(f"{prefix}_{kind}.csv").read_bytes().decode()


def shape(value: str) -> str:
    """The number format of one CSV cell: int, float (Python's repr), N/A,
    empty, or text."""
    if value in ("", "N/A"):
        return value or "empty"
    if re.fullmatch(r"-?\d+", value):
        return "int"
    if re.fullmatch(r"-?\d+\.\d+(e[+-]\d\d+)?|-?\d(\.\d+)?e[+-]\d\d+", value):
        return "float"
    return "text"


def test_csv_matches_python_locust(procs, target, tmp_path):
    """The four CSV files' headers equal Python Locust's byte for byte, and
    the GET / and Aggregated rows have the same number format in each
    column; the request count is the target's own."""
    args = ["--headless", "-u", 2, "-r", 2, "-t", "4s", "-H", target.url]
    mark = target.mark()
    c = run_c(procs, "hello-worker", args + ["--csv", tmp_path / "c"])
    assert c.wait(40) == 0, c.output_tail()
    c_served = target.count(since=mark)
    py = run_python(procs, HELLO_LOCUSTFILE, args + ["--csv", tmp_path / "py"])
    assert py.wait(60) == 0, py.output_tail()
    for kind in CSV_KINDS:
        c_text, py_text = read(tmp_path / "c", kind), read(tmp_path / "py", kind)
        assert c_text.split("\r\n")[0] == py_text.split("\r\n")[0], kind
        assert c_text.endswith("\r\n"), kind
    c_rows, py_rows = parse_csv(read(tmp_path / "c", "stats")), parse_csv(read(tmp_path / "py", "stats"))
    for name in ("/", "Aggregated"):
        c_row = next(r for r in c_rows if r["Name"] == name)
        py_row = next(r for r in py_rows if r["Name"] == name)
        for col in py_row:
            c_shape, py_shape = shape(c_row[col]), shape(py_row[col])
            if col == "Median Response Time":  # an int, or the min/max as a float
                assert c_shape in ("int", "float"), (col, c_row[col])
            else:
                assert c_shape == py_shape, (name, col, c_row[col], py_row[col])
    assert int(next(r for r in c_rows if r["Name"] == "Aggregated")["Request Count"]) == c_served > 0
    history = parse_csv(read(tmp_path / "c", "stats_history"))
    assert len(history) >= 3 and history[-1]["Name"] == "Aggregated"
    # the console: Locust's tables, their header and separator lines byte for
    # byte, and the rows' columns where they are
    err = c.stderr()

    def frame(text: str) -> set[str]:
        return {line for line in text.splitlines()
                if line.startswith(("Type ", "--------|", "Response time percentiles", "# occurrences"))}
    assert frame(err) == frame(py.stderr()), (frame(err) ^ frame(py.stderr()))
    row = re.compile(r"^GET      / {76,}\d+ +\d+\(\d+\.\d\d%\) \| +\d+ +\d+ +\d+ +\d+ \| +[\d.]+ +[\d.]+$", re.M)
    assert row.search(err) and row.search(py.stderr())
    assert "Response time percentiles (approximated)" in err
    assert "Shutting down (exit code 0)" in err


def test_class_distribution_matches_python_locust(procs, target, tmp_path):
    """Named classes only, users split between them as Locust's dispatcher
    splits them: the "All users spawned" line equals Python Locust's."""
    classes = ["IdleUser", "HelloUser", "ChainUser"]
    args = ["--headless", "-u", 7, "-r", 100, "-t", "2s", "-H", target.url, "--only-summary"] + classes
    c = run_c(procs, "test-worker", args)
    assert c.wait(30) == 0, c.output_tail()
    py = run_python(procs, LOCUSTFILE, args)
    assert py.wait(60) == 0, py.output_tail()

    def spawned(text: str) -> str:
        m = re.search(r"All users spawned: (.*)", text)
        assert m, text[-3000:]
        return m.group(1)
    assert spawned(c.stderr()) == spawned(py.stderr())
    assert spawned(c.stderr()).endswith("(7 total users)")
    assert "Type     Name" not in c.stderr().split("Shutting down")[0], "--only-summary printed a table"


@pytest.mark.parametrize("extra, code", [([], 1), (["--exit-code-on-error", "3"], 3)])
def test_failures_exit_code(procs, target, tmp_path, extra, code):
    """Failed requests: exit 1 (or --exit-code-on-error), the failures table
    and _failures.csv name them with the counts the target saw."""
    mark = target.mark()
    c = run_c(procs, "test-worker", ["--headless", "-u", 1, "-t", "2s", "-H", target.url,
                                     "--csv", tmp_path / "f", "FailUser"] + extra)
    assert c.wait(30) == code, c.output_tail()
    failures = parse_csv(read(tmp_path / "f", "failures"))
    for path, status in (("/notfound", 404), ("/fail", 500)):
        occurrences = sum(int(r["Occurrences"]) for r in failures if r["Name"] == path)
        assert occurrences == target.count(since=mark, path=path, status=status) > 0, (path, failures)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["First Seen"]) for r in failures)
    assert "Error report" in c.stderr()


@pytest.mark.parametrize("sig, said", [(signal.SIGTERM, "Got SIGTERM signal"),
                                       (signal.SIGINT, "Got SIGINT signal, shutting down")])
def test_signal_prints_summary_and_writes_csv(procs, target, tmp_path, sig, said):
    """SIGTERM or SIGINT (Ctrl-C) in the middle of a run without a run time:
    the users stop (-s: they finish their task), the summary is printed, the
    CSV files hold every request the target served, exit code 0."""
    c = run_c(procs, "test-worker", ["--headless", "-u", 3, "-r", 3, "-s", 5, "-H", target.url,
                                     "--csv", tmp_path / "s", "HelloUser"])
    time.sleep(3)
    c.send_signal(sig)
    assert c.wait(20) == 0, c.output_tail()
    rows = parse_csv(read(tmp_path / "s", "stats"))
    total = int(next(r for r in rows if r["Name"] == "Aggregated")["Request Count"])
    assert total == target.count() > 0
    err = c.stderr()
    assert said in err and "Response time percentiles" in err


@pytest.mark.parametrize("args, words", [
    (["--headless", "NoSuchUser"], "unknown user class 'NoSuchUser'"),
    (["-u", "5"], "-u/--users needs --headless"),
    (["--headless", "--max-rps", "fast"], "--max-rps: invalid rate"),
    (["--headless", "-t", "soon"], "--run-time: invalid time span"),
])
def test_bad_input(procs, args, words):
    c = run_c(procs, "hello-worker", args, name="bad")
    assert c.wait(20) == 2, c.output_tail()
    lines = c.stderr().strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines


def test_run_tasks_once_and_print(procs, target):
    """--run-tasks: each named task runs once in one user; each response is
    printed with its status, time, size and first bytes; the target served
    exactly those requests."""
    mark = target.mark()
    c = run_c(procs, "test-worker", ["--run-tasks", "HelloUser.get_root,ChainUser.get_root_then_post_echo",
                                     "-H", target.url])
    assert c.wait(30) == 0, c.output_tail()
    out = c.stdout()
    assert re.search(r"^HelloUser\.get_root\n  GET / -> 200, [\d.]+ ms, 5 bytes: hello\n", out, re.M), out
    assert re.search(r"^  POST /echo -> 200, ", out, re.M), out
    served = [(s.method, s.path) for s in target.served(since=mark)]
    assert sorted(served) == [("GET", "/"), ("GET", "/"), ("POST", "/echo")], served


def test_run_tasks_failure_exit_code(procs, target):
    c = run_c(procs, "test-worker", ["--run-tasks", "FailUser.get_notfound", "-H", target.url])
    assert c.wait(30) == 1, c.output_tail()
    assert re.search(r"GET /notfound -> 404, .*FAILURE HTTPError\('404 Client Error", c.stdout()), c.stdout()


@pytest.mark.parametrize("arg, words", [("HelloUser", "is not Class.task"),
                                        ("HelloUser.nope", "names no task of that class"),
                                        ("Nobody.get_root", "names no user class")])
def test_run_tasks_bad_names(procs, arg, words):
    c = run_c(procs, "test-worker", ["--run-tasks", arg], name="bad-run-tasks")
    assert c.wait(20) == 2, c.output_tail()
    lines = c.stderr().strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
