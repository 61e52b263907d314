"""The scenarios' profiles and Scenario 4's stop rule, read from the
locustfile itself (examples/opscore/locustfile.py), so that make plan judges
by the same numbers the master runs with.

The locustfile imports locust, which patches the standard library with
gevent; it is therefore read in a child Python process, once, and its
numbers are passed back as JSON.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parents[1] / "locustfile.py"
SCENARIO_NUMBERS = (0, 1, 2, 3, 4)

_DUMP = """
import json, sys
sys.path.insert(0, sys.argv[1])
import locustfile as lf
print(json.dumps({
    "scenarios": {n: {"user_class": s.user_class.__name__, "start_users": s.start_users,
                      "peak_users": s.peak_users, "ramp_s": s.ramp_s, "hold_s": s.hold_s,
                      "step_users": s.step_users, "step_s": s.step_s}
                  for n, s in lf.SCENARIOS.items()},
    "max_avg_response_ms": lf.MAX_AVG_RESPONSE_MS,
    "max_error_rate": lf.MAX_ERROR_RATE,
    "min_window_requests": lf.MIN_WINDOW_REQUESTS,
    "critical_endpoints": [list(e) for e in lf.CRITICAL_ENDPOINTS],
}))
"""


@functools.lru_cache(maxsize=1)
def profiles() -> dict:
    """{"scenarios": {0: {...}, ...}, "max_avg_response_ms": ..., ...}"""
    try:
        out = subprocess.run([sys.executable, "-c", _DUMP, str(LOCUSTFILE.parent)], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        raise SystemExit(f"plan: cannot read the scenarios from {LOCUSTFILE}: {detail.strip()[-300:]}") from None
    data = json.loads(out.strip().splitlines()[-1])
    data["scenarios"] = {int(k): v for k, v in data["scenarios"].items()}
    return data


def scenario(number: int) -> dict:
    return profiles()["scenarios"][number]


def duration_s(number: int, time_scale: float, stress_max_users: int) -> float:
    """How long the profile runs at most: Scenario 4 up to its user cap."""
    s = scenario(number)
    if s["step_users"]:
        steps = (stress_max_users - s["start_users"]) // s["step_users"] + 1
        return steps * s["step_s"] * time_scale
    return (s["ramp_s"] + s["hold_s"]) * time_scale


def stress_levels(stress_max_users: int) -> list[int]:
    s = scenario(4)
    return list(range(s["start_users"], stress_max_users + 1, s["step_users"]))
