"""Master locustfile for the Ops-Core load tests (Task 4.4, five scenarios).

The master runs this file to know the user classes it dispatches and the load
shape of the chosen scenario. Workers run the same classes: C workers
(build/opscore-worker, examples/opscore/opscore.c) and stock Python workers
started with this file. Both kinds can join the same test.

User classes (same names, weights, waits, request names and bodies as the C
worker):

    QuickStateUser   Scenario 0      between(1, 2)   POST state
    StateUpdateUser  Scenario 1      between(5, 10)  POST state
    WorkflowUser     Scenario 2      between(30, 60) POST workflow
    MixedUser        Scenarios 3, 4  between(1, 5)   POST state 80, GET state 15,
                                                     POST workflow 5

The plan gives no wait time for Scenarios 3 and 4. MixedUser waits
between(1, 5), the wait that upstream's own scenario_3 and scenario_4
locustfiles use.

Every user registers its own agent (a UUID4) in on_start through
POST /v1/opscore/internal/agent/notify, then sends its requests with
"Authorization: Bearer $OPSCORE_API_KEY" (default test-api-key; the key is
never logged). Expected statuses: notify 200, POST state 202, GET state 200,
POST workflow 202. Any other status is a failure whose text is
"HTTP <status>: <detail>", where <detail> is the service's JSON "detail".

Choosing the scenario: --scenario N (0-4), or env OPSCORE_SCENARIO, default 0.
--time-scale F (env OPSCORE_TIME_SCALE, default 1.0) multiplies every duration
of the profile: 0.1 makes the run ten times shorter. Wait times and the stress
thresholds are not scaled.

Load profiles (the plan's, at time scale 1):

    S0  1 -> 5 users over 1 min, then hold; 5 min in all
    S1  10 -> 500 over 5 min, then 15 min at 500
    S2  10 -> 100 over 3 min, then 15 min at 100
    S3  20 -> 300 over 5 min, then 30 min at 300
    S4  300 users, +50 every 5 min, until a stop rule trips (see below)

Ramps are linear: the shape's target is start + (peak - start) * t / ramp,
rounded down, recomputed every second. The spawn rate is the larger of the
ramp's users per second, the opening user count per second (so the opening
users all start within about a second) and 1. Scenario 4 spawns at 50 users/s
(faster when the time scale is below 1), so its opening 300 users take about
6 s and each step about 1 s. Every shape stops by itself: tick() returns None
at the end of the profile, and a headless master then quits.

Class selection: all four classes always exist on the master and on every
worker, with weight 1. The shape's tick() returns (users, spawn_rate,
[the scenario's class]); Locust 2.12.1 and 2.47.0 both accept that third
element, and the master's dispatcher then gives every other class 0 users.
Spawn messages still carry all four class names (the others with count 0),
which a Python worker requires: it fails on a class it does not define, even
with count 0.

Scenario 4's stop rule: the window is the current step (from the moment the
step's user count was set until now), judged every second from the master's
aggregated stats. The test stops when, in that window,
  * the average response time of one of POST state, GET state or POST workflow
    exceeds 2000 ms (an endpoint needs at least 20 requests in the window to be
    judged), or
  * the overall error rate (all requests, registration included: Locust's
    Aggregated row) exceeds 5% (with at least 20 requests in the window).
At the step boundary the finished step is judged over its whole length before
the next step begins. When the rule trips, one line is logged with the load
level (the step's users and the users actually running), the RPS over the
window and the reason, and tick() returns None. Each completed step also logs
a one-line summary. The stress test has no other end unless
--stress-max-users N (env OPSCORE_STRESS_MAX_USERS, default 0: no cap) is
given: then it ends after the step at N users (or the last step below N)
completes without the rule tripping, and logs that the cap was reached.
Otherwise stop it by hand if the service never degrades.
"""

import argparse
import json
import logging
import math
import os
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from locust import HttpUser, LoadTestShape, between, events, tag, task
from locust.runners import WorkerRunner

logger = logging.getLogger("opscore")

HERE = Path(__file__).resolve().parent
SAMPLE_WORKFLOW_PATH = HERE / "sample_workflow.json"

DEFAULT_HOST = os.environ.get("OPSCORE_URL") or "http://127.0.0.1:8000"
DEFAULT_API_KEY = "test-api-key"

NOTIFY_PATH = "/v1/opscore/internal/agent/notify"
NAME_NOTIFY = NOTIFY_PATH
NAME_STATE = "/v1/opscore/agent/[id]/state"
NAME_WORKFLOW = "/v1/opscore/agent/[id]/workflow"

AGENT_STATES = ("idle", "active", "error", "finished")
CAPABILITIES = ["state_reporting", "test_capability", "another_capability"]


# --------------------------------------------------------------------------
# request bodies (pure functions, shared by the users and the tests)


def api_key() -> str:
    """The Bearer token: env OPSCORE_API_KEY, or test-api-key."""
    return os.environ.get("OPSCORE_API_KEY") or DEFAULT_API_KEY


def load_sample_workflow(path: Path = SAMPLE_WORKFLOW_PATH) -> dict:
    """The sample workflow definition, read next to this file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def register_body(agent_id: str) -> dict:
    """The notify REGISTER body for one agent."""
    return {
        "event_type": "REGISTER",
        "agent_details": {
            "agentId": agent_id,
            "agentName": f"LoadTestAgent-{agent_id}",
            "version": "1.0",
            "capabilities": list(CAPABILITIES),
            "contactEndpoint": f"http://fake-agent-{agent_id}.local/run",
            "metadata": {"load_test_user": agent_id},
        },
    }


def utc_timestamp() -> str:
    """Now, UTC, ISO-8601 with microseconds: 2025-04-21T15:16:01.894000+00:00."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def state_body(agent_id: str, state: str | None = None) -> dict:
    """An AgentStateUpdatePayload: agentId (equal to the path id), timestamp,
    state, details."""
    return {
        "agentId": agent_id,
        "timestamp": utc_timestamp(),
        "state": state if state is not None else random.choice(AGENT_STATES),
        "details": {"load_test": True, "user": f"user-{agent_id}"},
    }


def workflow_body(definition: dict) -> dict:
    """A WorkflowTriggerRequest with the definition inline. The definition must
    be wrapped: a bare definition gets 422."""
    return {"workflowDefinition": definition}


def agent_path(agent_id: str, leaf: str) -> str:
    return f"/v1/opscore/agent/{agent_id}/{leaf}"


def failure_text(status: int, body: str) -> str:
    """ "HTTP <status>: <detail>" from an error response. <detail> is the JSON
    "detail" when it is a string; otherwise (a validation error list, or a body
    that is not JSON) a short excerpt."""
    detail: object = None
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            detail = parsed.get("detail")
    except ValueError:
        pass
    if isinstance(detail, str):
        text = detail
    elif detail is not None:
        text = json.dumps(detail, separators=(",", ":"))[:120]
    else:
        text = (body or "")[:120]
    return f"HTTP {status}: {text}"


def check_status(response, expected: int) -> None:
    """Judge a catch_response response: the expected status is a success, any
    other HTTP status a failure. A transport error (status 0) is left to
    Locust, which reports the error itself."""
    if response.status_code == expected:
        response.success()
    elif response.status_code:
        response.failure(failure_text(response.status_code, response.text or ""))


# Read at import, so that a master without the file fails at once.
SAMPLE_WORKFLOW = load_sample_workflow()


# --------------------------------------------------------------------------
# user classes


class OpsCoreUser(HttpUser):
    """Common part: a fresh agent per user, registered in on_start."""

    abstract = True
    host = DEFAULT_HOST

    def on_start(self):
        prefix = getattr(self.environment.parsed_options, "agent_prefix", "") or ""
        self.agent_id = prefix[:64] + str(uuid.uuid4())
        self.client.headers.update({"Authorization": f"Bearer {api_key()}", "Content-Type": "application/json"})
        with self.client.post(
            NOTIFY_PATH, json=register_body(self.agent_id), name=NAME_NOTIFY, catch_response=True
        ) as response:
            check_status(response, 200)

    def post_state(self):
        with self.client.post(
            agent_path(self.agent_id, "state"),
            json=state_body(self.agent_id),
            name=NAME_STATE,
            catch_response=True,
        ) as response:
            check_status(response, 202)

    def get_state(self):
        with self.client.get(agent_path(self.agent_id, "state"), name=NAME_STATE, catch_response=True) as response:
            check_status(response, 200)

    def post_workflow(self):
        with self.client.post(
            agent_path(self.agent_id, "workflow"),
            json=workflow_body(SAMPLE_WORKFLOW),
            name=NAME_WORKFLOW,
            catch_response=True,
        ) as response:
            check_status(response, 202)


class QuickStateUser(OpsCoreUser):
    """Scenario 0: a state update every 1-2 s."""

    weight = 1
    wait_time = between(1, 2)

    @tag("state", "write")
    @task
    def state_update(self):
        self.post_state()


class StateUpdateUser(OpsCoreUser):
    """Scenario 1: a state update every 5-10 s."""

    weight = 1
    wait_time = between(5, 10)

    @tag("state", "write")
    @task
    def state_update(self):
        self.post_state()


class WorkflowUser(OpsCoreUser):
    """Scenario 2: a workflow trigger every 30-60 s."""

    weight = 1
    wait_time = between(30, 60)

    @tag("workflow", "write")
    @task
    def trigger_workflow(self):
        self.post_workflow()


class MixedUser(OpsCoreUser):
    """Scenarios 3 and 4: 80% POST state, 15% GET state, 5% POST workflow."""

    weight = 1
    wait_time = between(1, 5)

    @tag("state", "write")
    @task(80)
    def state_update(self):
        self.post_state()

    @tag("state", "read")
    @task(15)
    def state_read(self):
        self.get_state()

    @tag("workflow", "write")
    @task(5)
    def trigger_workflow(self):
        self.post_workflow()


# --------------------------------------------------------------------------
# scenarios and their profiles (pure functions)


@dataclass(frozen=True)
class Scenario:
    number: int
    user_class: type
    start_users: int
    peak_users: int = 0  # ramped scenarios
    ramp_s: float = 0.0
    hold_s: float = 0.0
    step_users: int = 0  # the stress scenario
    step_s: float = 0.0

    @property
    def stress(self) -> bool:
        return self.step_users > 0


SCENARIOS = {
    0: Scenario(0, QuickStateUser, start_users=1, peak_users=5, ramp_s=60, hold_s=240),
    1: Scenario(1, StateUpdateUser, start_users=10, peak_users=500, ramp_s=300, hold_s=900),
    2: Scenario(2, WorkflowUser, start_users=10, peak_users=100, ramp_s=180, hold_s=900),
    3: Scenario(3, MixedUser, start_users=20, peak_users=300, ramp_s=300, hold_s=1800),
    4: Scenario(4, MixedUser, start_users=300, step_users=50, step_s=300),
}

STRESS_SPAWN_RATE = 50.0  # users/s at time scale 1


def users_at(scenario: int, t: float, time_scale: float = 1.0) -> int | None:
    """The target user count t seconds into the run, or None once the profile
    is over. Scenario 4 never ends by time: its end is the stop rule."""
    s = SCENARIOS[scenario]
    t = max(0.0, t)
    if s.stress:
        return s.start_users + s.step_users * int(t // (s.step_s * time_scale))
    ramp = s.ramp_s * time_scale
    if t >= (s.ramp_s + s.hold_s) * time_scale:
        return None
    if t >= ramp:
        return s.peak_users
    return s.start_users + int((s.peak_users - s.start_users) * t / ramp)


def duration_s(scenario: int, time_scale: float = 1.0) -> float | None:
    """The profile's length in seconds; None for the stress scenario."""
    s = SCENARIOS[scenario]
    return None if s.stress else (s.ramp_s + s.hold_s) * time_scale


def spawn_rate(scenario: int, time_scale: float = 1.0) -> float:
    """Users per second the master spawns at; fast enough to follow the
    profile."""
    s = SCENARIOS[scenario]
    if s.stress:
        return STRESS_SPAWN_RATE / min(time_scale, 1.0)
    ramp_rate = (s.peak_users - s.start_users) / (s.ramp_s * time_scale)
    return float(max(1.0, s.start_users, ramp_rate))


def describe(scenario: int, time_scale: float = 1.0) -> str:
    s = SCENARIOS[scenario]
    if s.stress:
        profile = f"{s.start_users} users, +{s.step_users} every {s.step_s * time_scale:g} s until the stop rule trips"
    else:
        profile = (
            f"{s.start_users} -> {s.peak_users} users over {s.ramp_s * time_scale:g} s, "
            f"then {s.hold_s * time_scale:g} s at peak"
        )
    return (
        f"Ops-Core scenario {scenario} ({s.user_class.__name__}): {profile}; "
        f"time scale {time_scale:g}, spawn rate {spawn_rate(scenario, time_scale):g}/s"
    )


# --------------------------------------------------------------------------
# Scenario 4's stop rule (pure functions over stats counters)

MAX_AVG_RESPONSE_MS = 2000.0
MAX_ERROR_RATE = 0.05
MIN_WINDOW_REQUESTS = 20

CRITICAL_ENDPOINTS = (("POST", NAME_STATE), ("GET", NAME_STATE), ("POST", NAME_WORKFLOW))
TOTAL = ("", "Aggregated")


@dataclass(frozen=True)
class Counters:
    requests: int = 0
    failures: int = 0
    total_response_ms: float = 0.0

    @property
    def avg_ms(self) -> float:
        return self.total_response_ms / self.requests if self.requests else 0.0


def snapshot(stats) -> dict[tuple[str, str], Counters]:
    """The counters of the critical endpoints and of the total, from a
    locust RequestStats (entries are keyed by (name, method))."""

    def counters(entry) -> Counters:
        if entry is None:
            return Counters()
        return Counters(entry.num_requests, entry.num_failures, float(entry.total_response_time))

    snap = {(method, name): counters(stats.entries.get((name, method))) for method, name in CRITICAL_ENDPOINTS}
    snap[TOTAL] = counters(stats.total)
    return snap


def window(baseline: dict, current: dict) -> dict[tuple[str, str], Counters]:
    """What happened between two snapshots. If the stats were reset in
    between (a counter went down), the window is everything since the reset."""
    reset = any(
        current.get(k, Counters()).requests < c.requests or current.get(k, Counters()).failures < c.failures
        for k, c in baseline.items()
    )
    if reset:
        return dict(current)
    return {
        k: Counters(
            c.requests - baseline.get(k, Counters()).requests,
            c.failures - baseline.get(k, Counters()).failures,
            c.total_response_ms - baseline.get(k, Counters()).total_response_ms,
        )
        for k, c in current.items()
    }


def stop_reasons(win: dict[tuple[str, str], Counters]) -> list[str]:
    """Why the stress test must stop, judged on one window; empty if healthy."""
    reasons = []
    for method, name in CRITICAL_ENDPOINTS:
        c = win.get((method, name), Counters())
        if c.requests >= MIN_WINDOW_REQUESTS and c.avg_ms > MAX_AVG_RESPONSE_MS:
            reasons.append(
                f"average response time of {method} {name} {c.avg_ms:.0f} ms > {MAX_AVG_RESPONSE_MS:.0f} ms"
            )
    total = win.get(TOTAL, Counters())
    if total.requests >= MIN_WINDOW_REQUESTS and total.failures / total.requests > MAX_ERROR_RATE:
        reasons.append(
            f"error rate {100.0 * total.failures / total.requests:.1f}% "
            f"({total.failures}/{total.requests}) > {100 * MAX_ERROR_RATE:.0f}%"
        )
    return reasons


def window_summary(win: dict[tuple[str, str], Counters], seconds: float) -> str:
    total = win.get(TOTAL, Counters())
    rps = total.requests / seconds if seconds > 0 else 0.0
    error_pct = 100.0 * total.failures / total.requests if total.requests else 0.0
    avgs = ", ".join(f"{m} {n} avg {win.get((m, n), Counters()).avg_ms:.0f} ms" for m, n in CRITICAL_ENDPOINTS)
    return f"{rps:.1f} RPS, errors {error_pct:.1f}%, {avgs}"


# --------------------------------------------------------------------------
# options


def _time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


@events.init_command_line_parser.add_listener
def add_options(parser, **_kwargs):
    parser.add_argument(
        "--scenario",
        type=int,
        choices=sorted(SCENARIOS),
        default=0,
        env_var="OPSCORE_SCENARIO",
        help="Ops-Core load-test scenario 0-4 (default 0; env OPSCORE_SCENARIO)",
    )
    parser.add_argument(
        "--time-scale",
        type=_time_scale,
        default=1.0,
        env_var="OPSCORE_TIME_SCALE",
        help="multiply every duration of the scenario's profile by this (default 1.0; env OPSCORE_TIME_SCALE)",
    )
    parser.add_argument(
        "--agent-prefix",
        default="",
        env_var="OPSCORE_AGENT_PREFIX",
        help="start every agent id of this run with this text (at most 64 characters), so that a run's "
        "agents can be told apart in Ops-Core; C workers read it too (env OPSCORE_AGENT_PREFIX)",
    )
    parser.add_argument(
        "--stress-max-users",
        type=int,
        default=0,
        env_var="OPSCORE_STRESS_MAX_USERS",
        help="scenario 4 ends after its step at this many users if the stop rule has not tripped "
        "(default 0: no cap; env OPSCORE_STRESS_MAX_USERS)",
    )


def stress_max_users(parsed_options) -> int:
    """Scenario 4's user cap (0: none), from the options or the environment."""
    value = getattr(parsed_options, "stress_max_users", None)
    if value is None:
        value = int(os.environ.get("OPSCORE_STRESS_MAX_USERS") or 0)
    return max(0, int(value))


def scenario_options(parsed_options) -> tuple[int, float]:
    """(scenario, time scale) from the master's options; env vars and the
    defaults when the options do not have them."""
    scenario = getattr(parsed_options, "scenario", None)
    if scenario is None:
        scenario = int(os.environ.get("OPSCORE_SCENARIO") or 0)
    time_scale = getattr(parsed_options, "time_scale", None)
    if time_scale is None:
        time_scale = _time_scale(os.environ.get("OPSCORE_TIME_SCALE") or "1.0")
    scenario = int(scenario)
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown Ops-Core scenario {scenario}; choose one of {sorted(SCENARIOS)}")
    return scenario, float(time_scale)


@events.test_start.add_listener
def log_scenario(environment, **_kwargs):
    """One line per test, on the master (or a local runner): what will run."""
    if isinstance(environment.runner, WorkerRunner) or environment.shape_class is None:
        return
    try:
        scenario, time_scale = scenario_options(environment.parsed_options)
    except (ValueError, argparse.ArgumentTypeError) as e:
        logger.error("Ops-Core scenario options: %s", e)
        return
    logger.info(describe(scenario, time_scale))


# --------------------------------------------------------------------------
# the load shape


class OpsCoreShape(LoadTestShape):
    """The chosen scenario's profile. --scenario and --time-scale are read on
    the first tick of each test (reset_time forgets them), so a test restarted
    from the web UI picks up new values."""

    def __init__(self):
        super().__init__()
        self._begin()

    def reset_time(self):
        super().reset_time()
        self._begin()

    def _begin(self):
        self.scenario: int | None = None
        self.time_scale = 1.0
        self.finished = False
        # Scenario 4: the current step, its users, when it began and the stats
        # at that moment. Step 0's baseline is empty: the master clears its
        # stats when a test starts.
        self.step = 0
        self.step_users = 0
        self.step_started = 0.0
        self.baseline: dict = {}
        self.max_users = 0

    def _configure(self):
        environment = getattr(self.runner, "environment", None)
        parsed = getattr(environment, "parsed_options", None)
        self.scenario, self.time_scale = scenario_options(parsed)
        self.step_users = SCENARIOS[self.scenario].start_users
        self.max_users = stress_max_users(parsed)

    def tick(self):
        if self.finished:
            return None
        if self.scenario is None:
            self._configure()
        t = self.get_run_time()
        sc = SCENARIOS[self.scenario]
        if sc.stress:
            return self._stress_tick(t)
        users = users_at(self.scenario, t, self.time_scale)
        if users is None:
            self.finished = True
            logger.info("Ops-Core scenario %d: profile complete after %.1f s", self.scenario, t)
            return None
        return users, spawn_rate(self.scenario, self.time_scale), [sc.user_class]

    def _stress_tick(self, t: float):
        stats = self.runner.stats
        current = snapshot(stats)
        win = window(self.baseline, current)
        seconds = max(t - self.step_started, 1e-9)
        reasons = stop_reasons(win)
        if reasons:
            total = win.get(TOTAL, Counters())
            logger.warning(
                "Ops-Core scenario 4 stopping at %d users (%d running), %.1f RPS over the current step: %s",
                self.step_users,
                self._running_users(),
                total.requests / seconds,
                "; ".join(reasons),
            )
            self.finished = True
            return None
        step = int(t // (SCENARIOS[4].step_s * self.time_scale))
        if step != self.step:
            logger.info(
                "Ops-Core scenario 4: step %d (%d users) done: %s",
                self.step,
                self.step_users,
                window_summary(win, seconds),
            )
            next_users = users_at(4, t, self.time_scale)
            if self.max_users and next_users > self.max_users:
                logger.info("Ops-Core scenario 4: user cap %d reached without the stop rule tripping",
                            self.max_users)
                self.finished = True
                return None
            self.step = step
            self.step_users = next_users
            self.step_started = t
            self.baseline = current
        return self.step_users, spawn_rate(4, self.time_scale), [MixedUser]

    def _running_users(self) -> int:
        try:
            return int(self.runner.user_count)
        except Exception:  # a runner without a user count: report the target
            return self.step_users
