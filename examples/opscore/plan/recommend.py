"""make plan's recommendations: each rule looks at the findings and, when it
applies, says what to do and cites the numbers that triggered it."""

from __future__ import annotations

from typing import Optional

from .analysis import Findings, Resource, ScenarioFindings

ENDPOINT_FAILURE_PCT = 5.0  # an endpoint failing more often than this gets a line
REDIS_LOW_PERCENT = 50.0  # Redis this far from saturation: not the limit
KEY_GROWTH = 1000  # Redis keys growing by more than this in one scenario


def peak(s: ScenarioFindings, component: str) -> Optional[Resource]:
    return next((r for r in s.resources if r.component == component), None)


def pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def cpu_text(r: Optional[Resource]) -> str:
    """"97.0 % of CPU (99.0 % CPU+wait)" from a component's peaks."""
    if r is None or r.cpu_peak is None:
        return "n/a"
    text = f"{pct(r.cpu_peak)} of CPU"
    return text + (f" ({pct(r.demand_peak)} CPU+wait)" if r.demand_peak is not None else "")


def saturation_rules(f: Findings) -> list[str]:
    out = []
    b = f.bottleneck
    if b is None:
        return out
    s = next(sc for sc in f.scenarios if sc.number == b.scenario)
    service, redis = peak(s, "opscore"), peak(s, "redis")
    cores = f"{b.cores:g} core" + ("s" if b.cores != 1 else "")
    if b.role == "service":
        other = f"Redis peaked at {cpu_text(redis)}" if redis and redis.cpu_peak is not None \
            else "Redis was not measured"
        text = (f"Ops-Core peaked at {cpu_text(service)} ({cores}) in Scenario {b.scenario} while {other}: "
                "CPU-bound in the API process. Run more uvicorn workers (or more replicas behind a load balancer), "
                "then profile the request handlers.")
        if redis and redis.cpu_peak is not None and redis.cpu_peak > REDIS_LOW_PERCENT:
            text += " Redis is busy too: check it before adding API workers."
        out.append(text)
    elif b.role == "redis":
        other = f"Ops-Core peaked at {cpu_text(service)}" if service and service.cpu_peak is not None \
            else "Ops-Core was not measured"
        out.append(f"Redis peaked at {cpu_text(redis)} (one core) in Scenario {b.scenario} while {other}: "
                   "Redis is the limit. Look at SLOWLOG GET for slow commands or scripts, keep values small, "
                   "pipeline the GET-then-SET of a state update, or shard.")
    else:
        gen = peak(s, b.component)
        out.append(f"{b.component} peaked at {cpu_text(gen)} (one core) in Scenario "
                   f"{b.scenario}: the load generator was the limit, not the service. Add worker processes "
                   "(--workers) or use --http-client fast.")
    return out


def endpoint_rules(f: Findings) -> list[str]:
    out = []
    for s in f.scenarios:
        for ep in s.endpoints:
            if ep.requests == 0 or ep.failure_pct <= ENDPOINT_FAILURE_PCT:
                continue
            kinds = [x for x in s.failures if x[0] == ep.method and x[1] == ep.name]
            top = max(kinds, key=lambda x: x[3]) if kinds else None
            text = (f"Scenario {s.number}, {ep.method} {ep.name}: {ep.failure_pct:.2f} % failed "
                    f"({ep.failures} of {ep.requests})")
            if top:
                text += f", mostly `{top[2]}` ({top[3]} times)"
            if top and "workflow" in ep.name and "HTTP 500" in top[2] and "Internal Server Error" in top[2]:
                text += ": the known upstream workflow bug (POST /workflow fails before it reaches storage)."
            elif top and any(word in top[2].lower() for word in ("connect", "refused", "timed out", "timeout")):
                text += ": the service did not answer; check OPSCORE_URL and that Ops-Core is up."
            elif top and "HTTP 401" in top[2]:
                text += ": wrong OPSCORE_API_KEY."
            else:
                text += ": read the service log for this endpoint."
            out.append(text)
    return out


def load_rules(f: Findings) -> list[str]:
    out = []
    for s in f.scenarios:
        if s.knee and s.knee.users and f.bottleneck is None:
            host = peak(s, "host")
            out.append(f"Scenario {s.number}: p95 bends at {s.knee.users} users ({s.knee.p95:g} ms against "
                       f"{s.knee.baseline_p95:g} ms at {s.knee.baseline_users} users) while no monitored resource "
                       f"saturated (host CPU peaked at {pct(host.cpu_peak if host else None)}): look for waits "
                       "outside CPU (connection pools, locks, the network) or for other load on the host.")
        for w in s.generator_warnings:
            out.append(f"Scenario {s.number}: {w}; add worker processes (--workers) or use --http-client fast.")
        redis = peak(s, "redis")
        if redis and redis.redis_keys_first is not None and redis.redis_keys_last is not None \
                and redis.redis_keys_last - redis.redis_keys_first > KEY_GROWTH:
            out.append(f"Scenario {s.number}: Redis keys grew from {redis.redis_keys_first:.0f} to "
                       f"{redis.redis_keys_last:.0f} (used_memory peak {redis.redis_mem_peak_mib:.1f} MiB): "
                       "agents, states and sessions never expire; give them a TTL or clean them up.")
    return out


def log_rules(f: Findings) -> list[str]:
    out = []
    for s in f.scenarios:
        counts = (s.log or {}).get("counts") or {}
        if counts.get("ERROR", 0) or counts.get("CRITICAL", 0):
            first = (s.log.get("errors") or [""])[0]
            out.append(f"Scenario {s.number}: the Ops-Core log has ERROR {counts.get('ERROR', 0)} and CRITICAL "
                       f"{counts.get('CRITICAL', 0)} lines; the first: `{first}`. Read the log around it.")
    return out


def healthy_rules(f: Findings) -> list[str]:
    s4 = next((s for s in f.scenarios if s.breaking is not None), None)
    if f.bottleneck is None and s4 is not None and not s4.breaking.found and s4.breaking.levels:
        top = s4.breaking.levels[-1]
        return [f"Scenario 4 held up to {top.users} users ({top.rps:.1f} RPS) without breaking: raise "
                "--stress-max-users (or run more load generators) to find the limit."]
    return []


def recommendations(f: Findings) -> list[str]:
    out = saturation_rules(f) + endpoint_rules(f) + load_rules(f) + log_rules(f) + healthy_rules(f)
    return out or ["Nothing to change on this evidence: no resource saturated, no endpoint failed, "
                   "the log has no errors."]
