"""Switchable degradations of the stand-in Ops-Core, to give a load test a
known bottleneck (make plan's tests use them; all are off by default).

Both modes apply to the agent endpoints (/v1/opscore/agent/...: POST and GET
state, POST workflow) only. Registration stays fast, so that the burst of a
load test's opening (every new user registers at once) does not hide where
the steady load meets the limit. Each mode's cost per call is a fixed part
plus a part that grows with the square of the agents registered since the
stand-in started (n), the way work that compares every agent with every
other does; the square keeps the cost low at a test's opening load and puts
a sharp limit further on.

CPU-bound mode: every agent request keeps the API process busy on the CPU
(a spin loop in the event loop) for
    OPSCORE_CPU_WORK_MS + OPSCORE_CPU_WORK_AT_1000_AGENTS_MS x (n / 1000)^2  ms
of wall-clock time, so uvicorn's single worker serves at most 1000 / that
many agent requests per second.

Slow-Redis mode: a share OPSCORE_SLOW_REDIS_SHARE (default 1) of the agent
requests' Redis GET/SET calls are sent as a Lua script that keeps Redis busy
for
    OPSCORE_SLOW_REDIS_MS + OPSCORE_SLOW_REDIS_AT_1000_AGENTS_MS x (n / 1000)^2  ms
(it spins on Redis's own clock) and then does the GET or SET. Redis runs
scripts one at a time on its single thread, so the slowness is Redis's own:
its CPU rises and every client waits.
"""

from __future__ import annotations

import contextvars
import random
import time
from dataclasses import dataclass, field
from typing import Optional

AGENT_PATHS = "/v1/opscore/agent/"

# Spin until ARGV[1] microseconds of Redis's clock have passed, then do the
# call: GET KEYS[1], or SET KEYS[1] ARGV[3] (with NX when ARGV[4] is "1").
SLOW_CALL_LUA = """
local t0 = redis.call('TIME')
local limit = tonumber(ARGV[1])
repeat
  local t = redis.call('TIME')
until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) >= limit
if ARGV[2] == 'GET' then
  return redis.call('GET', KEYS[1])
end
if ARGV[4] == '1' then
  return redis.call('SET', KEYS[1], ARGV[3], 'NX')
end
return redis.call('SET', KEYS[1], ARGV[3])
"""

# Set for the duration of an agent request (the middleware sets it).
in_agent_request: contextvars.ContextVar[bool] = contextvars.ContextVar("in_agent_request", default=False)


@dataclass
class Degradation:
    cpu_work_ms: float = 0.0
    cpu_work_at_1000_agents_ms: float = 0.0
    slow_redis_ms: float = 0.0
    slow_redis_at_1000_agents_ms: float = 0.0
    slow_redis_share: float = 1.0
    agents: int = field(default=0, compare=False)  # registrations since start

    @classmethod
    def from_env(cls, env) -> "Degradation":
        return cls(
            cpu_work_ms=_non_negative(env, "OPSCORE_CPU_WORK_MS", 0.0),
            cpu_work_at_1000_agents_ms=_non_negative(env, "OPSCORE_CPU_WORK_AT_1000_AGENTS_MS", 0.0),
            slow_redis_ms=_non_negative(env, "OPSCORE_SLOW_REDIS_MS", 0.0),
            slow_redis_at_1000_agents_ms=_non_negative(env, "OPSCORE_SLOW_REDIS_AT_1000_AGENTS_MS", 0.0),
            slow_redis_share=min(1.0, _non_negative(env, "OPSCORE_SLOW_REDIS_SHARE", 1.0)),
        )

    @property
    def cpu_bound(self) -> bool:
        return self.cpu_work_ms > 0 or self.cpu_work_at_1000_agents_ms > 0

    @property
    def slow_redis(self) -> bool:
        return self.slow_redis_ms > 0 or self.slow_redis_at_1000_agents_ms > 0

    def describe(self) -> Optional[str]:
        parts = []
        if self.cpu_bound:
            parts.append(f"CPU-bound mode, {self.cpu_work_ms:g} ms + {self.cpu_work_at_1000_agents_ms:g} ms x "
                         "(agents / 1000)^2 of CPU per agent request")
        if self.slow_redis:
            parts.append(f"slow-Redis mode, {self.slow_redis_ms:g} ms + {self.slow_redis_at_1000_agents_ms:g} ms x "
                         f"(agents / 1000)^2 of Redis time on {100 * self.slow_redis_share:g}% of the agent "
                         "requests' Redis calls")
        return "; ".join(parts) or None

    def registered(self) -> None:
        self.agents += 1

    def growth(self) -> float:
        return (self.agents / 1000.0) ** 2

    def start_request(self, path: str) -> None:
        """Called first for every request: marks an agent request and spends
        its CPU work."""
        agent = path.startswith(AGENT_PATHS)
        in_agent_request.set(agent)
        if agent and self.cpu_bound:
            self.burn_cpu(self.cpu_work_ms + self.cpu_work_at_1000_agents_ms * self.growth())

    @staticmethod
    def burn_cpu(ms: float) -> None:
        """Keep the CPU busy for ms of wall-clock time."""
        end = time.perf_counter() + ms / 1000.0
        while time.perf_counter() < end:
            pass

    def slow_call(self) -> bool:
        """Whether the next Redis call goes through the slow script."""
        return self.slow_redis and in_agent_request.get() and random.random() < self.slow_redis_share

    def slow_call_us(self) -> int:
        return int(1000 * (self.slow_redis_ms + self.slow_redis_at_1000_agents_ms * self.growth()))


def _non_negative(env, name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {text!r}") from None
    if not value >= 0:
        raise SystemExit(f"{name} must not be negative, not {text!r}")
    return value


async def slow_get(client, degradation: Degradation, key: str):
    return await client.eval(SLOW_CALL_LUA, 1, key, degradation.slow_call_us(), "GET")


async def slow_set(client, degradation: Degradation, key: str, value: str, nx: bool):
    return await client.eval(SLOW_CALL_LUA, 1, key, degradation.slow_call_us(), "SET", value, "1" if nx else "0")
