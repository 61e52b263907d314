"""make plan's analysis: from a run folder's files only (the Locust CSV
files, resources.csv, the log summaries and run.json), per scenario and
endpoint statistics, the plan's criteria, the knee of p95 against users,
Scenario 4's breaking point, the bottleneck and the recommendations.

The rules, stated once (the report quotes them):

* Peak RPS: the largest Requests/s in the master's stats history (Locust's
  current RPS). Sustained RPS: the median of the history's RPS over the rows
  at the scenario's largest user count.
* Knee: on the scenario's main endpoint (the critical endpoint, POST or GET
  state or POST workflow, with the most requests; registration bursts at
  spawn would hide the trend), p95 at a user count is the median of the
  history's p95 (Locust's current p95) over the rows at that count; the
  baseline is the p95 at the smallest count. The knee is the smallest count from which on p95 stays above
  both KNEE_FACTOR x baseline and baseline + KNEE_FLOOR_MS.
* Breaking point (Scenario 4): the stress levels are 300, 350, ... users; a
  level's window runs from the last history row before it to its last row
  (for the last level, the last row of the run: the counts after the stop).
  The first level whose window has a critical endpoint averaging more than
  2000 ms (with at least 20 requests), or more than 5 % failed requests (with
  at least 20), is the breaking point: the locustfile's own stop rule and
  numbers. Its RPS is the window's requests over the window's seconds.
* Saturation: a component's demand is its CPU % plus, for a local process,
  the % of time its threads were ready to run but waited for a CPU (on a
  busy host a saturated process gets less than a core but still never
  idles). A component is saturated when SATURATION_SAMPLES samples in a row
  have a demand at or above SATURATION of its cores (100 % = one core;
  Ops-Core has --service-cores, Redis and each load generator process one).
  The bottleneck is the component that saturated first.
* A load generator process that passes GENERATOR_WARN_PERCENT of a core in any
  sample is named in a warning: it may have limited the load.
"""

from __future__ import annotations

import bisect
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import scenarios as profiles
from .data import RunData, ScenarioData, load, number

SATURATION = 0.90
SATURATION_SAMPLES = 3
KNEE_FACTOR = 2.0
KNEE_FLOOR_MS = 100.0
GENERATOR_WARN_PERCENT = 90.0
MIB = 1024.0 * 1024.0
ROLE_NAMES = {"service": "Ops-Core (the API process)", "redis": "Redis", "generator": "the load generator"}


@dataclass
class Endpoint:
    method: str
    name: str
    requests: int
    failures: int
    failure_pct: float
    p50: Optional[float]
    p90: Optional[float]
    p95: Optional[float]
    p99: Optional[float]
    avg: float
    max: float
    rps: float
    peak_rps: Optional[float]


@dataclass
class Resource:
    component: str
    role: str
    samples: int
    cpu_mean: Optional[float]
    cpu_peak: Optional[float]
    demand_peak: Optional[float]
    mem_peak_mib: Optional[float]
    net_rx_mib: Optional[float]
    net_tx_mib: Optional[float]
    redis_ops_peak: Optional[float] = None
    redis_mem_peak_mib: Optional[float] = None
    redis_clients_peak: Optional[float] = None
    redis_keys_first: Optional[float] = None
    redis_keys_last: Optional[float] = None


@dataclass
class Saturation:
    component: str
    role: str
    scenario: int
    time: float
    seconds_in: float
    users: Optional[int]
    cpu: float
    cores: float


@dataclass
class Knee:
    endpoint: str
    users: Optional[int]
    p95: Optional[float]
    baseline_users: int
    baseline_p95: float
    points: list  # (users, p95)


@dataclass
class Level:
    users: int
    start: float
    end: float
    requests: int
    failures: int
    rps: float
    error_pct: float
    avg_ms: dict  # "METHOD name": avg ms in the window (None without requests)
    reasons: list


@dataclass
class Breaking:
    found: bool
    level: Optional[Level]
    last_good: Optional[Level]
    levels: list
    resources: list  # Resource over the breaking level's window
    stop_line: str  # the master's own log line, quoted


@dataclass
class Criterion:
    name: str
    passed: bool
    evidence: str


@dataclass
class ScenarioFindings:
    number: int
    user_class: str
    seconds: float
    endpoints: list
    total: Optional[Endpoint]
    failures: list  # (method, name, error, occurrences)
    peak_users: int
    peak_rps: Optional[float]
    sustained_rps: Optional[float]
    criteria: list
    knee: Optional[Knee]
    breaking: Optional[Breaking]
    resources: list
    saturations: list
    generator_warnings: list
    log: Optional[dict]
    history: list  # Aggregated history rows as dicts of numbers, for the plots
    endpoint_history: dict  # "METHOD name": [(t, p50, p95, p99)]
    resource_series: dict  # component: [(t, cpu, cpu+wait, mem_mib)]
    timed_out: bool = False


@dataclass
class Findings:
    folder: Path
    info: dict
    scenarios: list
    bottleneck: Optional[Saturation]
    verdict: str
    recommendations: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def headlines(self) -> list[str]:
        lines = [self.verdict]
        for s in self.scenarios:
            if s.breaking is not None:
                lines.append(breaking_sentence(s.breaking))
        return lines


# --------------------------------------------------------------------------
# per endpoint


def endpoint_key(method: str, name: str) -> str:
    return f"{method} {name}".strip()


def endpoints(sd: ScenarioData) -> tuple[list[Endpoint], Optional[Endpoint]]:
    peaks: dict[tuple, float] = {}
    for row in sd.history:
        rps = number(row["Requests/s"])
        if rps is not None:
            key = (row["Type"], row["Name"])
            peaks[key] = max(peaks.get(key, 0.0), rps)
    rows, total = [], None
    for row in sd.stats:
        requests, failures = int(row["Request Count"]), int(row["Failure Count"])
        ep = Endpoint(
            method=row["Type"], name=row["Name"], requests=requests, failures=failures,
            failure_pct=100.0 * failures / requests if requests else 0.0,
            p50=number(row["50%"]), p90=number(row["90%"]), p95=number(row["95%"]), p99=number(row["99%"]),
            avg=number(row["Average Response Time"]) or 0.0, max=number(row["Max Response Time"]) or 0.0,
            rps=number(row["Requests/s"]) or 0.0, peak_rps=peaks.get((row["Type"], row["Name"])))
        if row["Name"] == "Aggregated":
            total = ep
        else:
            rows.append(ep)
    return rows, total


def aggregated_history(sd: ScenarioData) -> list[dict]:
    out = []
    for row in sd.history:
        if row["Name"] != "Aggregated":
            continue
        out.append({"t": float(row["Timestamp"]), "users": int(row["User Count"]),
                    "rps": number(row["Requests/s"]) or 0.0, "fps": number(row["Failures/s"]) or 0.0,
                    "p50": number(row["50%"]), "p95": number(row["95%"]), "p99": number(row["99%"]),
                    "requests": int(row["Total Request Count"]), "failures": int(row["Total Failure Count"]),
                    "avg": number(row["Total Average Response Time"]) or 0.0})
    return out


def endpoint_history(sd: ScenarioData) -> dict:
    out: dict[str, list] = {}
    for row in sd.history:
        if row["Name"] == "Aggregated":
            continue
        out.setdefault(endpoint_key(row["Type"], row["Name"]), []).append(
            (float(row["Timestamp"]), number(row["50%"]), number(row["95%"]), number(row["99%"])))
    return out


def peak_and_sustained(history: list[dict]) -> tuple[int, Optional[float], Optional[float]]:
    if not history:
        return 0, None, None
    peak_users = max(h["users"] for h in history)
    peak_rps = max(h["rps"] for h in history)
    held = [h["rps"] for h in history if h["users"] == peak_users]
    return peak_users, peak_rps, statistics.median(held) if held else None


# --------------------------------------------------------------------------
# knee


def main_endpoint(eps: list[Endpoint]) -> Optional[Endpoint]:
    critical = {tuple(c) for c in profiles.profiles()["critical_endpoints"]}
    candidates = [e for e in eps if (e.method, e.name) in critical and e.requests > 0]
    return max(candidates, key=lambda e: e.requests) if candidates else None


def knee(sd: ScenarioData, main: Optional[Endpoint]) -> Optional[Knee]:
    if main is None:
        return None
    by_users: dict[int, list[float]] = {}
    users_at_time = {row["Timestamp"]: int(row["User Count"]) for row in sd.history if row["Name"] == "Aggregated"}
    for row in sd.history:
        if (row["Type"], row["Name"]) != (main.method, main.name):
            continue
        users, p95 = users_at_time.get(row["Timestamp"], int(row["User Count"])), number(row["95%"])
        if users > 0 and p95 is not None:
            by_users.setdefault(users, []).append(p95)
    if len(by_users) < 2:
        return None
    points = [(u, statistics.median(v)) for u, v in sorted(by_users.items())]
    base_users, base = points[0]
    limit = max(KNEE_FACTOR * base, base + KNEE_FLOOR_MS)
    found = None
    for i, (users, p95) in enumerate(points):
        if all(p > limit for _, p in points[i:]):
            found = (users, p95)
            break
    return Knee(endpoint_key(main.method, main.name), found[0] if found else None, found[1] if found else None,
                base_users, base, points)


# --------------------------------------------------------------------------
# Scenario 4's breaking point


def level_windows(sd: ScenarioData, critical: list, levels: list[int]) -> list[Level]:
    """One window per stress level reached, from the history's cumulative
    counters. A row belongs to the smallest level at or above its user count."""
    rules = profiles.profiles()
    per_row: dict[float, dict] = {}
    for row in sd.history:
        per_row.setdefault(float(row["Timestamp"]), {})[(row["Type"], row["Name"])] = row
    times = sorted(per_row)
    level_of: list[Optional[int]] = []
    for t in times:
        agg = per_row[t].get(("", "Aggregated"))
        users = int(agg["User Count"]) if agg else 0
        i = bisect.bisect_left(levels, users)
        if users > 0 and i < len(levels):
            level_of.append(levels[i])
        else:  # before the start, or after the stop: the final counts belong to the last level
            level_of.append(next((lv for lv in reversed(level_of) if lv is not None), None))
    out = []
    for level in levels:
        idx = [i for i, lv in enumerate(level_of) if lv == level]
        if not idx:
            continue
        first, last = idx[0], idx[-1]
        before = per_row[times[first - 1]] if first > 0 else {}
        after = per_row[times[last]]
        out.append(window(level, before, after, times[first - 1] if first > 0 else times[first], times[last],
                          critical, rules))
    return out


def counters(rows: dict, key: tuple) -> tuple[int, float]:
    row = rows.get(key)
    if row is None:
        return 0, 0.0
    n = int(row["Total Request Count"])
    return n, n * (number(row["Total Average Response Time"]) or 0.0)


def window(level: int, before: dict, after: dict, start: float, end: float, critical: list, rules: dict) -> Level:
    total_key = ("", "Aggregated")
    n0 = int(before[total_key]["Total Request Count"]) if total_key in before else 0
    f0 = int(before[total_key]["Total Failure Count"]) if total_key in before else 0
    n1, f1 = int(after[total_key]["Total Request Count"]), int(after[total_key]["Total Failure Count"])
    requests, failures = n1 - n0, f1 - f0
    avg_ms, reasons = {}, []
    for method, name in critical:
        (a_n, a_sum), (b_n, b_sum) = counters(before, (method, name)), counters(after, (method, name))
        count = b_n - a_n
        avg = (b_sum - a_sum) / count if count > 0 else None
        avg_ms[endpoint_key(method, name)] = avg
        if count >= rules["min_window_requests"] and avg is not None and avg > rules["max_avg_response_ms"]:
            reasons.append(f"average of {method} {name} {avg:.1f} ms > {rules['max_avg_response_ms']:.0f} ms")
    error_pct = 100.0 * failures / requests if requests else 0.0
    if requests >= rules["min_window_requests"] and failures / requests > rules["max_error_rate"]:
        reasons.append(f"errors {error_pct:.2f} % > {100 * rules['max_error_rate']:.0f}%")
    seconds = end - start
    return Level(level, start, end, requests, failures, requests / seconds if seconds > 0 else 0.0,
                 error_pct, avg_ms, reasons)


STOP_LINE = re.compile(r"Ops-Core scenario 4 (stopping at .*|: user cap .*)")


def breaking_point(sd: ScenarioData, components: dict) -> Breaking:
    rules = profiles.profiles()
    most = max((int(r["User Count"]) for r in sd.history if r["Name"] == "Aggregated"), default=0)
    step = profiles.scenario(4)["step_users"]
    levels = profiles.stress_levels(most + step)  # every level up to the one holding the most users
    windows = level_windows(sd, [tuple(c) for c in rules["critical_endpoints"]], levels)
    broke = next((w for w in windows if w.reasons), None)
    good = [w for w in windows if not w.reasons and (broke is None or w.users < broke.users)]
    stop = STOP_LINE.search(sd.master_log)
    res = []
    if broke is not None:
        rows = [r for r in sd.resources if broke.start <= float(r["time"]) <= broke.end]
        res = resources(rows, components)
    return Breaking(broke is not None, broke, good[-1] if good else None, windows, res,
                    stop.group(0) if stop else "")


def breaking_sentence(b: Breaking) -> str:
    if b.found:
        lv = b.level
        return (f"Scenario 4 broke at {lv.users} users ({lv.rps:.1f} RPS): " + "; ".join(lv.reasons))
    top = b.levels[-1].users if b.levels else 0
    return f"Scenario 4: no breaking point up to {top} users"


# --------------------------------------------------------------------------
# resources


def column(rows: list[dict], name: str) -> list[float]:
    return [v for v in (number(r.get(name)) for r in rows) if v is not None]


def demand(row: dict) -> Optional[float]:
    """CPU % plus the % of time waiting for a CPU, where both are known."""
    cpu, wait = number(row.get("cpu_percent")), number(row.get("cpu_wait_percent"))
    if cpu is None:
        return None
    return cpu + (wait or 0.0)


def resources(rows: list[dict], components: dict) -> list[Resource]:
    by_comp: dict[str, list[dict]] = {}
    for r in rows:
        by_comp.setdefault(r["component"], []).append(r)
    out = []
    for name, rs in by_comp.items():
        cpu, mem = column(rs, "cpu_percent"), column(rs, "memory_bytes")
        demands = [d for d in (demand(r) for r in rs if number(r.get("cpu_wait_percent")) is not None)
                   if d is not None]
        rx, tx = column(rs, "net_rx_bytes"), column(rs, "net_tx_bytes")
        res = Resource(
            component=name, role=rs[0]["role"], samples=len(rs),
            cpu_mean=statistics.fmean(cpu) if cpu else None, cpu_peak=max(cpu) if cpu else None,
            demand_peak=max(demands) if demands else None,
            mem_peak_mib=max(mem) / MIB if mem else None,
            net_rx_mib=(rx[-1] - rx[0]) / MIB if len(rx) > 1 else None,
            net_tx_mib=(tx[-1] - tx[0]) / MIB if len(tx) > 1 else None)
        ops, used, clients, keys = (column(rs, c) for c in (
            "redis_ops_per_sec", "redis_used_memory", "redis_connected_clients", "redis_keys"))
        if ops or used or clients or keys:
            res.redis_ops_peak = max(ops) if ops else None
            res.redis_mem_peak_mib = max(used) / MIB if used else None
            res.redis_clients_peak = max(clients) if clients else None
            res.redis_keys_first = keys[0] if keys else None
            res.redis_keys_last = keys[-1] if keys else None
        out.append(res)
    order = {"service": 0, "redis": 1, "generator": 2, "host": 3}
    return sorted(out, key=lambda r: (order.get(r.role, 9), r.component))


def resource_series(rows: list[dict]) -> dict:
    """component: [(time, CPU %, CPU+wait % or None, memory MiB)]"""
    out: dict[str, list] = {}
    for r in rows:
        wait_known = number(r.get("cpu_wait_percent")) is not None
        out.setdefault(r["component"], []).append(
            (float(r["time"]), number(r["cpu_percent"]), demand(r) if wait_known else None,
             (number(r["memory_bytes"]) or 0) / MIB))
    return out


def users_at(history: list[dict], t: float) -> Optional[int]:
    best = None
    for h in history:
        if h["t"] <= t:
            best = h["users"]
    return best


def saturations(sd: ScenarioData, components: dict, history: list[dict]) -> list[Saturation]:
    out = []
    series: dict[str, list[dict]] = {}
    for r in sd.resources:
        if r["role"] in ("service", "redis", "generator"):
            series.setdefault(r["component"], []).append(r)
    for name, rows in series.items():
        cores = float(components.get(name, {}).get("cores", 1.0))
        limit = SATURATION * cores * 100.0
        cpu = [demand(r) for r in rows]
        for i in range(len(cpu) - SATURATION_SAMPLES + 1):
            run = cpu[i:i + SATURATION_SAMPLES]
            if all(c is not None and c >= limit for c in run):
                t = float(rows[i]["time"])
                out.append(Saturation(name, rows[i]["role"], sd.number, t, t - sd.run["started"],
                                      users_at(history, t), cpu[i], cores))
                break
    return sorted(out, key=lambda s: s.time)


# --------------------------------------------------------------------------
# criteria


def criteria(scenario_number: int, total: Optional[Endpoint], breaking: Optional[Breaking]) -> list[Criterion]:
    rules = profiles.profiles()
    out = []
    if total is None:
        return [Criterion("the master wrote statistics", False, "no stats CSV")]
    if scenario_number == 0:
        out.append(Criterion("100 % success", total.failures == 0 and total.requests > 0,
                             f"{total.failures} failures in {total.requests} requests"))
    if breaking is not None:
        limits = (f"stop when a critical endpoint averages > {rules['max_avg_response_ms']:.0f} ms "
                  f"or errors > {100 * rules['max_error_rate']:.0f} %")
        if breaking.found:
            out.append(Criterion(limits, False, breaking_sentence(breaking)))
        else:
            out.append(Criterion(limits, True, breaking_sentence(breaking)))
    return out


def generator_warnings(res: list[Resource]) -> list[str]:
    return [f"{r.component} passed {GENERATOR_WARN_PERCENT:.0f} % of a core (peak {r.cpu_peak:.1f} %): "
            "the load generator may have limited the load"
            for r in res if r.role == "generator" and r.component != "master"
            and r.cpu_peak is not None and r.cpu_peak > GENERATOR_WARN_PERCENT]


# --------------------------------------------------------------------------
# one scenario, the run


def scenario_findings(sd: ScenarioData, info: dict) -> ScenarioFindings:
    components = info.get("components", {})
    eps, total = endpoints(sd)
    hist = aggregated_history(sd)
    peak_users, peak_rps, sustained = peak_and_sustained(hist)
    brk = breaking_point(sd, components) if profiles.scenario(sd.number)["step_users"] else None
    res = resources(sd.resources, components)
    fails = [(f["Method"], f["Name"], f["Error"], int(f["Occurrences"])) for f in sd.failures]
    return ScenarioFindings(
        number=sd.number, user_class=profiles.scenario(sd.number)["user_class"],
        seconds=sd.run["ended"] - sd.run["started"], endpoints=eps, total=total, failures=fails,
        peak_users=peak_users, peak_rps=peak_rps, sustained_rps=sustained,
        criteria=criteria(sd.number, total, brk), knee=knee(sd, main_endpoint(eps)), breaking=brk, resources=res,
        saturations=saturations(sd, components, hist), generator_warnings=generator_warnings(res),
        log=sd.log, history=hist, endpoint_history=endpoint_history(sd),
        resource_series=resource_series(sd.resources), timed_out=bool(sd.run.get("timed_out")))


def verdict(scens: list[ScenarioFindings], first: Optional[Saturation]) -> str:
    if first is not None:
        return (f"Bottleneck: {ROLE_NAMES.get(first.role, first.component)} ({first.component}) saturated first, "
                f"in Scenario {first.scenario}")
    troubles = []
    for s in scens:
        troubles += [f"Scenario {s.number} failed \"{c.name}\"" for c in s.criteria if not c.passed]
        if s.knee and s.knee.users:
            troubles.append(f"Scenario {s.number}'s p95 bends at {s.knee.users} users")
    if troubles:
        return ("No monitored resource saturated, yet " + "; ".join(troubles)
                + ": the limit is outside what was monitored, or the service did not answer")
    return "No bottleneck reached: no resource saturated, no criterion failed and p95 did not bend"


def analyse(folder: Path) -> Findings:
    from .recommend import recommendations  # the rules that use these findings

    run: RunData = load(folder)
    scens = [scenario_findings(sd, run.info) for sd in run.scenarios]
    sats = sorted((s for sc in scens for s in sc.saturations if s.role != "host"), key=lambda s: s.time)
    first = sats[0] if sats else None
    findings = Findings(Path(folder), run.info, scens, first, verdict(scens, first),
                        problems=list(run.info.get("problems", [])))
    for s in scens:
        if s.log and s.log.get("problem") and s.log["problem"] not in findings.problems:
            findings.problems.append(s.log["problem"])
    findings.recommendations = recommendations(findings)
    return findings
