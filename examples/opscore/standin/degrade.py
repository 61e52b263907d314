"""Switchable degradations of the stand-in Ops-Core, to give a load test a
known bottleneck (make plan's tests use them; all are off by default).

Both modes apply to the agent endpoints (/v1/opscore/agent/...: POST and GET
state, POST workflow) only. Registration stays fast, so that the burst of a
load test's opening (every new user registers at once) does not hide where
the steady load meets the limit. With OPSCORE_DEGRADE_ABOVE_AGENTS=N (default
0) a mode starts only once more than N agents have registered since the
stand-in started, the way a cache of N agents falls over when the working
set outgrows it: the limit is then where the load passes N users, whatever
else runs on the host.

CPU-bound mode (OPSCORE_CPU_WORK_MS=M): every agent request keeps the API
process busy on the CPU (a spin loop in the event loop) for M ms of
wall-clock time, so uvicorn's single worker serves at most about 1000 / M
agent requests per second.

Slow-Redis mode (OPSCORE_SLOW_REDIS_MS=M): a share OPSCORE_SLOW_REDIS_SHARE
(default 1) of the agent requests' Redis GET/SET calls are sent as a Lua
script that keeps Redis busy for M ms (it spins on Redis's own clock) and
then does the GET or SET. Redis runs
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
    slow_redis_ms: float = 0.0
    slow_redis_share: float = 1.0
    above_agents: int = 0
    agents: int = field(default=0, compare=False)  # registrations since start

    @classmethod
    def from_env(cls, env) -> "Degradation":
        return cls(
            cpu_work_ms=_non_negative(env, "OPSCORE_CPU_WORK_MS", 0.0),
            slow_redis_ms=_non_negative(env, "OPSCORE_SLOW_REDIS_MS", 0.0),
            slow_redis_share=min(1.0, _non_negative(env, "OPSCORE_SLOW_REDIS_SHARE", 1.0)),
            above_agents=int(_non_negative(env, "OPSCORE_DEGRADE_ABOVE_AGENTS", 0.0)),
        )

    @property
    def active(self) -> bool:
        """On once more than above_agents agents have registered."""
        return self.agents > self.above_agents

    def describe(self) -> Optional[str]:
        parts = []
        if self.cpu_work_ms > 0:
            parts.append(f"CPU-bound mode, {self.cpu_work_ms:g} ms of CPU per agent request")
        if self.slow_redis_ms > 0:
            parts.append(f"slow-Redis mode, {self.slow_redis_ms:g} ms of Redis time on "
                         f"{100 * self.slow_redis_share:g}% of the agent requests' Redis calls")
        if parts and self.above_agents:
            parts.append(f"once more than {self.above_agents} agents have registered")
        return ", ".join(parts) or None

    def registered(self) -> None:
        self.agents += 1

    def start_request(self, path: str) -> None:
        """Called first for every request: marks an agent request and spends
        its CPU work."""
        agent = path.startswith(AGENT_PATHS)
        in_agent_request.set(agent)
        if agent and self.cpu_work_ms > 0 and self.active:
            self.burn_cpu(self.cpu_work_ms)

    @staticmethod
    def burn_cpu(ms: float) -> None:
        """Keep the CPU busy for ms of wall-clock time."""
        end = time.perf_counter() + ms / 1000.0
        while time.perf_counter() < end:
            pass

    def slow_call(self) -> bool:
        """Whether the next Redis call goes through the slow script."""
        return (self.slow_redis_ms > 0 and in_agent_request.get() and self.active
                and random.random() < self.slow_redis_share)

    def slow_call_us(self) -> int:
        return int(1000 * self.slow_redis_ms)


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
