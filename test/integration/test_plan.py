"""make plan end to end (examples/opscore/run_plan.py): real Redis, the
stand-in Ops-Core, a stock Locust master and build/opscore-worker.

* a healthy short run reports "No bottleneck reached";
* the stand-in's CPU-bound mode is named as an Ops-Core bottleneck, its
  slow-Redis mode as a Redis bottleneck, and in both Scenario 4 breaks within
  one step of the load where the degradation puts the limit;
* every number in findings.md is checked against the Locust CSV files,
  resources.csv and run.json, recomputed here by the rules the report states;
* findings.html renders with its plots in headless Chromium;
* bad input: an unreachable OPSCORE_URL, an absent Docker socket and a Redis
  that refuses INFO each give a clear message, and the run still reports.

The runs that measure CPU hold a lock file while they run, so that two of
them never share the machine's cores even when pytest runs tests in parallel;
each one's time limit starts once it holds the lock.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opscore_fixtures import REDIS_SERVER, Process, StandIn, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
RUN_PLAN = ROOT / "examples" / "opscore" / "run_plan.py"
LOCK = Path("/tmp/lw-test-plan.lock")
LOCK_WAIT_S = 450
RUN_LIMIT_S = 150
MIB = 1024.0 * 1024.0
CRITICAL = ["POST /v1/opscore/agent/[id]/state", "GET /v1/opscore/agent/[id]/state",
            "POST /v1/opscore/agent/[id]/workflow"]
STEP_USERS, FIRST_LEVEL = 50, 300
MEAN_WAIT_S = 3.0  # MixedUser waits between(1, 5)
BREAK_AVG_S = 2.0  # Scenario 4's stop rule: an average above 2 s


# --------------------------------------------------------------------------
# running the plan


@pytest.fixture
def time_limit():
    """This module's runs set their own limit (see measured / run_plan)."""
    yield


@pytest.fixture
def measured():
    """Hold the lock for the whole test; the time limit starts after it."""
    with open(LOCK, "w") as lock:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, f"waited {LOCK_WAIT_S} s for {LOCK}"
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_plan(out: Path, *args: str, env: dict | None = None, limit: float = RUN_LIMIT_S) -> str:
    """Run the plan into out; return its output. Its last line names out."""
    proc = subprocess.Popen([sys.executable, str(RUN_PLAN), "--out", str(out), *args], cwd=ROOT,
                            env=dict(os.environ, **(env or {})), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"the plan ran longer than {limit} s:\n{output[-3000:]}")
    assert proc.returncode == 0, output[-3000:]
    assert output.rstrip().splitlines()[-1] == f"plan: results in {out}", output[-2000:]
    return output


def findings(out: Path) -> str:
    return (out / "findings.md").read_text()


def section(md: str, title: str) -> str:
    """The text of '## title...' up to the next '## ' heading."""
    start = md.index(f"\n## {title}")
    end = md.find("\n## ", start + 4)
    return md[start:end if end >= 0 else len(md)]


# --------------------------------------------------------------------------
# reading findings.md's tables


def md_tables(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(the ### heading above it, header cells, rows) for every table."""
    out, heading, lines = [], "", text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = split_row(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            out.append((heading, header, rows))
            continue
        i += 1
    return out


def split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def same(cell: str, value) -> bool:
    """A report cell equals a value when it prints the same at the cell's
    own precision ("n/a" for no value)."""
    if value is None:
        return cell in ("n/a", "none")
    if "." in cell:
        digits = len(cell.split(".")[1])
        return cell == f"{float(value):.{digits}f}"
    return cell == f"{float(value):.0f}"


def check(checked: set, cell: str, value, what: str) -> None:
    assert same(cell, value), f"{what}: report says {cell!r}, the data say {value!r}"
    checked.add(cell)


# --------------------------------------------------------------------------
# the data, recomputed here


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Scenario:
    def __init__(self, out: Path, run: dict, resources: list[dict]):
        self.number = run["number"]
        self.run = run
        prefix = out / run["prefix"]
        self.stats = {(r["Type"], r["Name"]): r for r in read_csv(Path(f"{prefix}_stats.csv"))}
        self.history = read_csv(Path(f"{prefix}_stats_history.csv"))
        self.failures = read_csv(Path(f"{prefix}_failures.csv"))
        self.resources = [r for r in resources if r["scenario"] == str(self.number)]
        self.agg = [r for r in self.history if r["Name"] == "Aggregated"]

    def peak_rps(self, method: str, name: str):
        values = [num(r["Requests/s"]) for r in self.history if (r["Type"], r["Name"]) == (method, name)]
        return max(values) if values else None

    def users(self) -> list[int]:
        return [int(r["User Count"]) for r in self.agg]


def key_of(label: str) -> tuple[str, str]:
    method, _, name = label.partition(" ")
    return method, name


def check_endpoints(checked: set, sc: Scenario, rows: list[list[str]]) -> None:
    assert len(rows) == len(sc.stats), f"scenario {sc.number}: one row per stats CSV row"
    for method, name, req, fail, pct, p50, p90, p95, p99, avg, mx, rps, peak in rows:
        key = ("", "Aggregated") if method == "all" else (method, name)
        s = sc.stats[key]
        what = f"scenario {sc.number} {method} {name}"
        n, f = int(s["Request Count"]), int(s["Failure Count"])
        check(checked, req, n, what + " requests")
        check(checked, fail, f, what + " failures")
        check(checked, pct, 100.0 * f / n if n else 0.0, what + " fail %")
        for cell, col in ((p50, "50%"), (p90, "90%"), (p95, "95%"), (p99, "99%")):
            check(checked, cell, num(s[col]), f"{what} {col}")
        check(checked, avg, num(s["Average Response Time"]), what + " avg")
        check(checked, mx, num(s["Max Response Time"]), what + " max")
        check(checked, rps, num(s["Requests/s"]), what + " RPS")
        check(checked, peak, sc.peak_rps(*key), what + " peak RPS")


def check_summary(checked: set, scs: dict, rows: list[list[str]]) -> None:
    for row in rows:
        sc = scs[int(row[0])]
        _, _, secs, peak_users, req, fail, pct, peak, sustained, p95, knee_cell, _ = row
        total = sc.stats[("", "Aggregated")]
        n, f = int(total["Request Count"]), int(total["Failure Count"])
        check(checked, secs, sc.run["ended"] - sc.run["started"], "seconds")
        top = max(sc.users())
        check(checked, peak_users, top, "peak users")
        check(checked, req, n, "requests")
        check(checked, fail, f, "failures")
        check(checked, pct, 100.0 * f / n if n else 0.0, "fail %")
        check(checked, peak, max(num(r["Requests/s"]) for r in sc.agg), "peak RPS")
        check(checked, sustained, statistics.median(num(r["Requests/s"]) for r in sc.agg
                                                    if int(r["User Count"]) == top), "sustained RPS")
        check(checked, p95, num(total["95%"]), "p95")
        found = knee(sc)
        check(checked, knee_cell, found[0] if found else None, f"scenario {sc.number} knee")


def knee(sc: Scenario):
    """(knee users, knee p95, baseline users, baseline p95) by the stated
    rule; None without a critical endpoint or with fewer than two levels."""
    crit = [key_of(k) for k in CRITICAL]
    mains = [k for k in crit if k in sc.stats and int(sc.stats[k]["Request Count"]) > 0]
    if not mains:
        return None
    main = max(mains, key=lambda k: int(sc.stats[k]["Request Count"]))
    users_at = {r["Timestamp"]: int(r["User Count"]) for r in sc.agg}
    by_users: dict[int, list[float]] = {}
    for r in sc.history:
        if (r["Type"], r["Name"]) == main and users_at.get(r["Timestamp"], 0) > 0 and num(r["95%"]) is not None:
            by_users.setdefault(users_at[r["Timestamp"]], []).append(num(r["95%"]))
    if len(by_users) < 2:
        return None
    points = [(u, statistics.median(v)) for u, v in sorted(by_users.items())]
    base_u, base = points[0]
    limit = max(2 * base, base + 100)
    for i, (u, p) in enumerate(points):
        if all(q > limit for _, q in points[i:]):
            return u, p, base_u, base
    return None, None, base_u, base


def levels(sc: Scenario) -> list[dict]:
    """Scenario 4's windows, recomputed from the history."""
    rows_at: dict[str, dict] = {}
    for r in sc.history:
        rows_at.setdefault(r["Timestamp"], {})[(r["Type"], r["Name"])] = r
    times = sorted(rows_at, key=float)

    levels_of, last = [], None
    for t in times:  # a row's level; after the stop (0 users) the last level's
        u = int(rows_at[t][("", "Aggregated")]["User Count"])
        if u > 0:
            last = FIRST_LEVEL + STEP_USERS * max(0, -(-(u - FIRST_LEVEL) // STEP_USERS))
        levels_of.append(last)

    out = []
    for lv in sorted(set(levels_of) - {None}):
        idx = [i for i, level in enumerate(levels_of) if level == lv]
        b = rows_at[times[idx[0] - 1]] if idx[0] > 0 else {}
        a = rows_at[times[idx[-1]]]
        start = float(times[idx[0] - 1] if idx[0] > 0 else times[idx[0]])
        end = float(times[idx[-1]])

        def tot(rows, key, col):
            return int(rows[key][col]) if key in rows else 0

        agg = ("", "Aggregated")
        n = tot(a, agg, "Total Request Count") - tot(b, agg, "Total Request Count")
        f = tot(a, agg, "Total Failure Count") - tot(b, agg, "Total Failure Count")
        avgs = {}
        for k in CRITICAL:
            key = key_of(k)
            na, nb = tot(a, key, "Total Request Count"), tot(b, key, "Total Request Count")
            sa = na * num(a[key]["Total Average Response Time"]) if key in a else 0.0
            sb = nb * num(b[key]["Total Average Response Time"]) if key in b else 0.0
            avgs[k] = ((sa - sb) / (na - nb), na - nb) if na > nb else (None, 0)
        broke = any(c >= 20 and v is not None and v > 2000 for v, c in avgs.values()) or \
            (n >= 20 and f / n > 0.05)
        out.append({"users": lv, "start": start, "end": end, "requests": n, "failures": f,
                    "rps": n / (end - start) if end > start else 0.0, "avgs": avgs, "broke": broke})
    return out


def check_levels(checked: set, sc: Scenario, rows: list[list[str]]) -> list[dict]:
    lvs = levels(sc)
    assert [r[0] for r in rows] == [str(lv["users"]) for lv in lvs]
    checked.update(r[0] for r in rows)
    for row, lv in zip(rows, lvs):
        check(checked, row[1], lv["end"] - lv["start"], "level seconds")
        check(checked, row[2], lv["requests"], "level requests")
        check(checked, row[3], lv["failures"], "level failures")
        check(checked, row[4], 100.0 * lv["failures"] / lv["requests"] if lv["requests"] else 0.0, "level error %")
        check(checked, row[5], lv["rps"], "level RPS")
        for cell, k in zip(row[6:6 + len(CRITICAL)], CRITICAL):
            check(checked, cell, lv["avgs"][k][0], f"level {lv['users']} {k} avg")
        assert row[-1].startswith("broke") == lv["broke"], row
    return lvs


def resource_rows(rows: list[dict], component: str) -> list[dict]:
    return [r for r in rows if r["component"] == component]


def values(rows: list[dict], col: str) -> list[float]:
    return [num(r[col]) for r in rows if num(r[col]) is not None]


def check_resources(checked: set, rows: list[dict], table: list[list[str]], columns: str) -> None:
    for row in table:
        rs = resource_rows(rows, row[0])
        assert rs, f"no resources.csv rows for {row[0]}"
        cpu, mem = values(rs, "cpu_percent"), values(rs, "memory_bytes")
        demands = [num(r["cpu_percent"]) + num(r["cpu_wait_percent"]) for r in rs
                   if num(r["cpu_percent"]) is not None and num(r["cpu_wait_percent"]) is not None]
        expect = {"samples": len(rs), "cpu_mean": statistics.fmean(cpu) if cpu else None,
                  "cpu_peak": max(cpu) if cpu else None, "mem": max(mem) / MIB if mem else None,
                  "demand": max(demands) if demands else None}
        for name, col in (("rx", "net_rx_bytes"), ("tx", "net_tx_bytes")):
            v = values(rs, col)
            expect[name] = (v[-1] - v[0]) / MIB if len(v) > 1 else None
        for cell, name in zip(row[1:], columns.split()):
            if name != "-":
                check(checked, cell, expect[name], f"{row[0]} {name}")


def check_redis_info(checked: set, rows: list[dict], table: list[list[str]]) -> None:
    rs = resource_rows(rows, "redis")
    ops, used, clients, keys = (values(rs, c) for c in (
        "redis_ops_per_sec", "redis_used_memory", "redis_connected_clients", "redis_keys"))
    row = table[0]
    check(checked, row[0], max(ops), "redis ops/s")
    check(checked, row[1], max(used) / MIB, "redis used_memory")
    check(checked, row[2], max(clients), "redis clients")
    check(checked, row[3], keys[0], "redis keys first")
    check(checked, row[4], keys[-1], "redis keys last")


def saturation(sc: Scenario, components: dict) -> list[tuple]:
    out = []
    for name in dict.fromkeys(r["component"] for r in sc.resources):
        rs = resource_rows(sc.resources, name)
        if rs[0]["role"] not in ("service", "redis", "generator"):
            continue
        limit = 0.9 * components[name]["cores"] * 100
        cpu = [None if num(r["cpu_percent"]) is None else num(r["cpu_percent"]) + (num(r["cpu_wait_percent"]) or 0)
               for r in rs]
        for i in range(len(cpu) - 2):
            if all(c is not None and c >= limit for c in cpu[i:i + 3]):
                t = float(rs[i]["time"])
                users = [int(r["User Count"]) for r in sc.agg if float(r["Timestamp"]) <= t]
                out.append((t, name, t - sc.run["started"], users[-1] if users else None, cpu[i],
                            components[name]["cores"]))
                break
    return sorted(out)


def check_numbers(out: Path) -> None:
    """Every number in findings.md: table cells recomputed from the files,
    and every number in the prose is one of those cells, a setting of the run
    or a constant of the stated rules."""
    md = findings(out)
    info = json.loads((out / "run.json").read_text())
    resources = read_csv(out / "resources.csv")
    scs = {r["number"]: Scenario(out, r, resources) for r in info["scenarios"]}
    checked: set = set()
    check_summary(checked, scs, md_tables(section(md, "Summary"))[0][2])
    for n, sc in scs.items():
        text = section(md, f"Scenario {n} (")
        tables = md_tables(text)
        by_heading: dict[str, list] = {}
        for heading, header, rows in tables:
            by_heading.setdefault(heading, []).append((header, rows))
        check_endpoints(checked, sc, by_heading["Endpoints"][0][1])
        if "Failures" in by_heading:
            got = [tuple(r) for r in by_heading["Failures"][0][1]]
            want = [(f["Method"], f["Name"], f["Error"], f["Occurrences"]) for f in sc.failures]
            assert got == want
        res_tables = by_heading["Resources"]
        check_resources(checked, sc.resources, res_tables[0][1], "- samples cpu_mean cpu_peak demand mem rx tx")
        assert [r[0] for r in res_tables[0][1]] == list(dict.fromkeys(
            r["component"] for r in sorted(sc.resources, key=lambda r: (
                {"service": 0, "redis": 1, "generator": 2, "host": 3}[r["role"]], r["component"]))))
        sats = saturation(sc, info["components"])
        for header, rows in res_tables[1:]:
            if header[0] == "ops/s peak":
                check_redis_info(checked, sc.resources, rows)
            elif header[0] == "Component" and header[1] == "Seconds in":
                assert [r[0] for r in rows] == [s[1] for s in sats]
                for row, s in zip(rows, sats):
                    for cell, value in zip(row[1:], s[2:]):
                        check(checked, cell, value, f"saturation of {s[1]}")
        if not sats:
            assert "No component saturated." in text
        found = knee(sc)
        if found is None:
            assert "Too few load levels to look for a knee." in text
        else:
            knee_line = next(line for line in text.splitlines() if line.startswith(tuple(CRITICAL)))
            for value in found:
                if value is not None:
                    assert re.search(rf"\b{value:g}\b", knee_line), (value, knee_line)
                    checked.add(f"{value:g}")
        check_log_counts(checked, out, n, text)
        if "Breaking point" in by_heading:
            lvs = check_levels(checked, sc, by_heading["Breaking point"][0][1])
            broke = next((lv for lv in lvs if lv["broke"]), None)
            if broke:
                window = [r for r in sc.resources if broke["start"] <= float(r["time"]) <= broke["end"]]
                check_resources(checked, window, by_heading["Breaking point"][1][1], "cpu_mean cpu_peak mem")
    check_prose(md, checked, info)


def check_log_counts(checked: set, out: Path, n: int, text: str) -> None:
    """The log's counts by level are the ones the run saved for the scenario
    (scenarioN-log.json, read from the log between the scenario's start and
    end)."""
    saved = out / f"scenario{n}-log.json"
    if not saved.exists():
        return
    summary = json.loads(saved.read_text())
    if summary.get("problem"):
        return
    line = next(li for li in text.splitlines() if li.startswith(f"{summary['source']}:"))
    for level, count in summary["counts"].items():
        assert f"{level} {count}" in line, (level, count, line)
        checked.add(str(count))
    if summary["unleveled"]:
        assert f"lines without a level {summary['unleveled']}" in line
        checked.add(str(summary["unleveled"]))


SETTINGS_LINES = ("20", "Target:", "Time scale", "Measured:", "Degraded on purpose")


def check_prose(md: str, checked: set, info: dict) -> None:
    """Numbers outside the tables must be cells checked above, or the run's
    settings and the rules' constants."""
    body = md[:md.index("\n## How these numbers were found")]
    if "\n## What could not be measured" in body:  # messages, not measurements
        start = body.index("\n## What could not be measured")
        body = body[:start] + body[body.index("\n## ", start + 4):]
    allowed = checked | {"0", "1", "2", "3", "4", "5", "20", "90", "100", "2000",
                         f"{info['time_scale']:g}", str(info["stress_max_users"])}
    for line in body.splitlines():
        if line.startswith(("|", "    ", "#", "The master's own line")) or line.startswith(SETTINGS_LINES):
            continue
        if "-log" in line or line.startswith(("/", "docker logs", "opscore.log")):
            line = line.split(":", 1)[-1]  # a log's path, then its counts
        line = re.sub(r"\"[^\"]*\"|`[^`]*`|https?://\S+|(?<![\w.])/[\w./*\[\]-]+|--[\w-]+|(local )?process \d+",
                      "", line)
        for token in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])", line):
            assert token in allowed, f"findings.md: {token} in {line!r} is not a checked number"


# --------------------------------------------------------------------------
# the rendered page


def check_html_renders(out: Path, tmp_path: Path, scenarios: int) -> Path:
    """Chromium renders findings.html: its DOM has the inline plots and its
    screenshot is not blank. Returns the screenshot's path."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium not installed: apt-get install chromium"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]
    page = (out / "findings.html").as_uri()
    dom = subprocess.run([chromium, *flags, f"--user-data-dir={tmp_path / 'chrome-dom'}", "--dump-dom", page],
                         capture_output=True, text=True, timeout=60).stdout
    assert dom.count("<svg") == 4 * scenarios, "four inline plots per scenario"
    assert dom.count("<path") > 20 * scenarios, "the plots have lines"
    shot = tmp_path / "findings.png"
    subprocess.run([chromium, *flags, f"--user-data-dir={tmp_path / 'chrome-shot'}", "--window-size=1200,3000",
                    f"--screenshot={shot}", page], capture_output=True, timeout=60)
    from PIL import Image

    with Image.open(shot) as img:
        gray = img.convert("L")
        dark = sum(1 for p in gray.tobytes() if p < 200)
        assert dark > 0.01 * gray.width * gray.height, "the screenshot is nearly blank"
    return shot


def check_run_folder(out: Path, scenarios: list[int]) -> None:
    for n in scenarios:
        for suffix in ("_stats.csv", "_stats_history.csv", "_failures.csv", ".html"):
            assert (out / f"scenario{n}{suffix}").stat().st_size > 0, f"scenario{n}{suffix}"
    for name in ("resources.csv", "findings.md", "findings.html"):
        assert (out / name).stat().st_size > 0, name


def breaking_users(md: str) -> int:
    match = re.search(r"Scenario 4 broke at (\d+) users", md)
    assert match, section(md, "Summary")
    return int(match.group(1))


def expected_break(above_agents: int, cost_ms: float) -> int:
    """The stress level where a service that costs cost_ms per request at
    its bottleneck once more than above_agents agents (one per user) have
    registered breaks: the first level past above_agents, provided the cost
    is high enough there. A user waits MEAN_WAIT_S between requests, so a
    saturated service's average response time is users x cost / 1000 - wait
    (Little's law), which must pass BREAK_AVG_S."""
    level = FIRST_LEVEL + STEP_USERS * max(0, (above_agents - FIRST_LEVEL) // STEP_USERS + 1)
    assert level * cost_ms / 1000.0 - MEAN_WAIT_S > BREAK_AVG_S, "the degradation is too light to break there"
    return level


# --------------------------------------------------------------------------
# the tests


def test_healthy_short_run_reports_no_bottleneck(measured, tmp_path):
    out = tmp_path / "run"
    run_plan(out, "--scenarios", "0,4", "--time-scale", "0.03", "--stress-max-users", "350")
    check_run_folder(out, [0, 4])
    md = findings(out)
    assert "**No bottleneck reached" in md, section(md, "Summary")
    assert "Scenario 4: no breaking point up to 350 users" in md
    assert "PASS: 100 % success. 0 failures in" in md
    check_numbers(out)
    shot = check_html_renders(out, tmp_path, 2)
    shutil.copy(shot, Path(os.environ.get("PLAN_SCREENSHOT", tmp_path / "kept.png")))


# Both degradations start once more than ABOVE_AGENTS agents have registered
# (one per user): Scenario 4 must break at the next level, 550 users.
ABOVE_AGENTS = 500
CPU_WORK_MS = 15.0


def test_cpu_bound_service_is_the_bottleneck(measured, tmp_path):
    out = tmp_path / "run"
    run_plan(out, "--scenarios", "4", "--time-scale", "0.03", "--stress-max-users", "800",
             "--cpu-work-ms", f"{CPU_WORK_MS:g}", "--degrade-above-agents", str(ABOVE_AGENTS))
    md = findings(out)
    assert "**Bottleneck: Ops-Core (the API process) (opscore) saturated first" in md, section(md, "Summary")
    expected = expected_break(ABOVE_AGENTS, CPU_WORK_MS)
    assert abs(breaking_users(md) - expected) <= STEP_USERS, (expected, section(md, "Summary"))
    assert "CPU-bound in the API process" in section(md, "Recommendations")
    check_numbers(out)


SLOW_REDIS_MS, SLOW_SHARE = 15.0, 0.5
REDIS_CALLS_PER_REQUEST = 0.80 * 2 + 0.15 * 1 + 0.05 * 3  # POST state, GET state, POST workflow


def test_slow_redis_is_the_bottleneck(measured, tmp_path):
    out = tmp_path / "run"
    run_plan(out, "--scenarios", "4", "--time-scale", "0.03", "--stress-max-users", "800",
             "--slow-redis-ms", f"{SLOW_REDIS_MS:g}", "--slow-redis-share", f"{SLOW_SHARE:g}",
             "--degrade-above-agents", str(ABOVE_AGENTS))
    md = findings(out)
    assert "**Bottleneck: Redis (redis) saturated first" in md, section(md, "Summary")
    expected = expected_break(ABOVE_AGENTS, REDIS_CALLS_PER_REQUEST * SLOW_SHARE * SLOW_REDIS_MS)
    assert abs(breaking_users(md) - expected) <= STEP_USERS, (expected, section(md, "Summary"))
    assert "Redis is the limit" in section(md, "Recommendations")
    check_numbers(out)


def test_unreachable_url_and_absent_docker_socket(tmp_path):
    out = tmp_path / "run"
    url = f"http://127.0.0.1:{free_port()}"
    socket_path = tmp_path / "absent" / "docker.sock"
    output = run_plan(out, "--scenarios", "0", "--time-scale", "0.02", "--service-container", "opscore",
                      "--redis-container", "redis", "--docker-socket", str(socket_path),
                      env={"OPSCORE_URL": url})
    assert f"plan: Ops-Core at {url} does not answer (Connection refused)" in output
    assert f"Docker socket {socket_path}: No such file or directory" in output
    md = findings(out)
    problems = section(md, "What could not be measured")
    assert "does not answer" in problems and "No such file or directory" in problems
    summary = md_tables(section(md, "Summary"))[0][2][0]
    assert int(summary[4]) > 0 and summary[5] == summary[4], "every request counted, and failed"
    assert "FAIL: 100 % success." in md
    assert "the service did not answer; check OPSCORE_URL" in section(md, "Recommendations")
    check_numbers(out)


def test_upstream_workflow_bug_in_stats_and_log(tmp_path):
    """The stand-in with upstream's workflow bug: every POST /workflow fails
    with 500, the report names the bug, and the log's ERROR lines (one per
    failure) are counted with the first one quoted."""
    out = tmp_path / "run"
    run_plan(out, "--scenarios", "2", "--time-scale", "0.02", "--upstream-workflow-bug")
    md = findings(out)
    failures = read_csv(out / "scenario2_failures.csv")
    assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == [
        ("POST", "/v1/opscore/agent/[id]/workflow", "CatchResponseError('HTTP 500: Internal Server Error')")]
    count = int(failures[0]["Occurrences"])
    recommendations = section(md, "Recommendations")
    assert "100.00 % failed" in recommendations and "the known upstream workflow bug" in recommendations
    assert f"ERROR {count}, CRITICAL 0" in md, "one ERROR line per failed request"
    assert "NameError: name '_workflow_definitions' is not defined" in recommendations
    check_numbers(out)


def test_redis_refusing_info(tmp_path):
    conf = tmp_path / "redis.conf"
    port = free_port()
    conf.write_text(f'port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\nrename-command INFO ""\n')
    redis_proc = Process("redis-noinfo", [REDIS_SERVER, str(conf)], tmp_path)
    standin = None
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        wait_until(client.ping, 20, "redis-server", redis_proc.alive)
        client.close()
        standin = StandIn(port, tmp_path)
        out = tmp_path / "run"
        output = run_plan(out, "--scenarios", "0", "--time-scale", "0.02", "--service-pid", str(standin.proc.popen.pid),
                          "--redis-pid", str(redis_proc.popen.pid), "--redis-addr", f"127.0.0.1:{port}",
                          "--service-log", str(standin.proc.log_path), env={"OPSCORE_URL": standin.url})
        assert f"Redis at 127.0.0.1:{port} refuses INFO: unknown command" in output, output[-2000:]
        md = findings(out)
        assert "refuses INFO" in section(md, "What could not be measured")
        assert "PASS: 100 % success." in md
        assert "Redis INFO:" not in md, "no INFO numbers without INFO"
        redis_row = next(r for r in md_tables(section(md, "Scenario 0 ("))[1][2] if r[0] == "redis")
        assert redis_row[3] != "n/a", "Redis's process is still measured"
        check_numbers(out)
    finally:
        if standin is not None:
            standin.stop()
        redis_proc.stop()


DOCKER_SOCKET = Path("/var/run/docker.sock")
DOCKER_IMAGE = "debian:bookworm-slim"  # the host's /usr is mounted over it: same Debian release


def docker(*args: str, timeout: float = 60) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=True).stdout.strip()


def docker_ready() -> str | None:
    """None when Docker and the image are here, else why the test skips."""
    if not DOCKER_SOCKET.exists() or not shutil.which("docker"):
        return f"no Docker daemon ({DOCKER_SOCKET} absent)"
    try:
        docker("image", "inspect", DOCKER_IMAGE)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return f"image {DOCKER_IMAGE} not present (nothing is pulled by the tests)"
    return None


@pytest.mark.skipif(docker_ready() is not None, reason=str(docker_ready()))
def test_containers_watched_through_the_docker_api(measured, tmp_path):
    """Redis and the stand-in in containers on an --internal Docker network
    (the host's binaries mounted read-only): the plan reads their CPU,
    memory and network from the Docker Engine API and the stand-in's log from
    docker logs; the network counters are each container's own."""
    tag = f"lw-plan-{os.getpid()}"
    net, redis_name, service_name = f"{tag}-net", f"{tag}-redis", f"{tag}-opscore"
    try:
        docker("network", "create", "--internal", net)
        docker("run", "-d", "--name", redis_name, "--network", net, "-v", "/usr:/usr:ro", DOCKER_IMAGE,
               "/usr/bin/redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "",
               "--appendonly", "no")
        docker("run", "-d", "--name", service_name, "--network", net, "-v", "/usr:/usr:ro",
               "-v", f"{ROOT}:{ROOT}:ro", "-w", str(ROOT), "-e", "PYTHONDONTWRITEBYTECODE=1", DOCKER_IMAGE,
               str(Path(sys.executable).parent / "python"), "examples/opscore/standin/run.py", "--host", "0.0.0.0",
               "--port", "8000", "--redis-host", redis_name, "--redis-port", "6379", "--log-level", "INFO")

        def address(name):
            return docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)

        url = f"http://{address(service_name)}:8000"
        import requests

        wait_until(lambda: requests.get(url + "/health", timeout=1).status_code == 200, 30, "stand-in container")
        out = tmp_path / "run"
        run_plan(out, "--scenarios", "0", "--time-scale", "0.03", "--service-container", service_name,
                 "--redis-container", redis_name, "--redis-addr", f"{address(redis_name)}:6379",
                 env={"OPSCORE_URL": url})
        md = findings(out)
        assert "What could not be measured" not in md, section(md, "What could not be measured")
        assert f"container {service_name} (Docker API at {DOCKER_SOCKET})" in md
        table = {r[0]: r for r in md_tables(section(md, "Scenario 0 ("))[1][2]}
        for name in ("opscore", "redis"):
            assert table[name][3] != "n/a" and table[name][6] != "n/a", table[name]
        assert table["opscore"][7] != table["master"][7], "a container's network counters are its own"
        requests_total = int(md_tables(section(md, "Summary"))[0][2][0][4])
        log_line = next(line for line in md.splitlines() if line.startswith(f"docker logs {service_name}:"))
        info_lines = int(re.search(r"INFO (\d+)", log_line).group(1))
        assert info_lines >= requests_total, (log_line, requests_total)  # uvicorn's access line per request
        check_numbers(out)
    finally:
        subprocess.run(["docker", "rm", "-f", redis_name, service_name], capture_output=True, timeout=60)
        subprocess.run(["docker", "network", "rm", net], capture_output=True, timeout=60)
