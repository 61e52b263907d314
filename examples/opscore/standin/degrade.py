"""Switchable degradations of the stand-in Ops-Core, to give a load test a
known bottleneck (make plan's tests use them; both are off by default).

CPU-bound mode (OPSCORE_CPU_WORK_MS=N): every request except /health spends
N ms of CPU time in the API process before it is handled. The work is timed
on the thread's own CPU clock, so it costs N ms of CPU however busy the
machine is; uvicorn's single worker then serves at most about 1000/N
requests per second.

Slow-Redis mode (OPSCORE_SLOW_REDIS_MS=N, OPSCORE_SLOW_REDIS_SHARE=S, default
1): a share S of the stand-in's Redis GET/SET calls are sent as a Lua script
that keeps Redis busy for N ms (it spins on Redis's own clock) and then does
the GET or SET. Redis runs scripts one at a time on its single thread, so the
slowness is Redis's own: its CPU rises and every client waits.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Optional

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


@dataclass(frozen=True)
class Degradation:
    cpu_work_ms: float = 0.0
    slow_redis_ms: float = 0.0
    slow_redis_share: float = 1.0

    @classmethod
    def from_env(cls, env) -> "Degradation":
        return cls(
            cpu_work_ms=_non_negative(env, "OPSCORE_CPU_WORK_MS", 0.0),
            slow_redis_ms=_non_negative(env, "OPSCORE_SLOW_REDIS_MS", 0.0),
            slow_redis_share=min(1.0, _non_negative(env, "OPSCORE_SLOW_REDIS_SHARE", 1.0)),
        )

    def describe(self) -> Optional[str]:
        parts = []
        if self.cpu_work_ms > 0:
            parts.append(f"CPU-bound mode, {self.cpu_work_ms:g} ms of CPU per request")
        if self.slow_redis_ms > 0:
            parts.append(f"slow-Redis mode, {self.slow_redis_ms:g} ms of Redis time on "
                         f"{100 * self.slow_redis_share:g}% of Redis calls")
        return "; ".join(parts) or None

    def burn_cpu(self) -> None:
        """Spend cpu_work_ms of this thread's CPU time."""
        if self.cpu_work_ms <= 0:
            return
        end = time.thread_time() + self.cpu_work_ms / 1000.0
        while time.thread_time() < end:
            pass

    def slow_call(self) -> bool:
        """Whether the next Redis call goes through the slow script."""
        return self.slow_redis_ms > 0 and random.random() < self.slow_redis_share


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
    return await client.eval(SLOW_CALL_LUA, 1, key, int(degradation.slow_redis_ms * 1000), "GET")


async def slow_set(client, degradation: Degradation, key: str, value: str, nx: bool):
    return await client.eval(SLOW_CALL_LUA, 1, key, int(degradation.slow_redis_ms * 1000), "SET",
                             value, "1" if nx else "0")
