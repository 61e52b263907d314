"""User classes of the integration tests.

The master runs this file to know the class names and weights it dispatches
by; a Python worker runs it to execute them. test_worker.c defines the same
classes in C, task for task:

  HelloUser  GET /
  FailUser   GET /fail (500), GET /notfound (404), and GET / failed by a
             response check ("no nope in body")
  ChainUser  GET /, then POST /echo with body "x"
  IdleUser   GET /, waiting between(5.5, 6) (longer than a 5 s keep-alive
             timeout of the target)
  NamedFailUser  GET /fail?id=<0-999> (500), all named "/fail?id=[id]"
  AuthUser   session header "Authorization: Bearer s3cr3t-key"; GET /auth
             (200 only with it) and GET /fail with "X-Api-Key: s3cr3t-api-key"
  SessionUser  on_start GET /login?user=<n> (sets a session cookie); then
             GET /whoami (200 with the cookie, the body is its value; a
             response check fails it on another user's value) and GET /moved
             (302 to /whoami)
  BodyUser   GET /big: a 100,000-byte body, failed by a response check
             unless it is all there ("0123456789" ... "ENDOFBODY!")
  CookieScopeUser  on_start GET /cookie/set (nginx sets "scoped=SECRET;
             Path=/admin", host-only, and a Secure one); then GET /admin/need
             (401 without the cookie), GET /public and GET /admin/leak on the
             other host name $LW_TEST_OTHER_HOST (both 500 if the cookie
             comes along)
  SlowDnsUser  GET $LW_TEST_SLOW_HOST/?via=slow (a host name a test's own
             DNS server answers slowly; the C worker is pointed at it with
             LW_DNS_SERVERS), named "/?via=slow"
  HugeBodyUser  GET /huge: a body longer than the C worker keeps for a
             callback (LW_RESPONSE_BODY_MAX); here the whole body is checked
             (Python keeps it all), in C its first LW_RESPONSE_BODY_MAX bytes

  LongNameUser  GET / under three long names: "/long/x" + 100 euro signs +
             "/1" or "/2" (307 bytes), "/huge/" + 3,000 euro signs (9,006)
  BurstUser  4 GET / at once in each task: 4 connections per user
  TinyTimeoutUser  GET /tiny with a timeout of 0.4 ms
  BadTimeoutUser  GET /neg with a timeout of -1 s (requests: ValueError)
  DelayUser  GET /delay, constant(0.1) (a target that answers after a delay)
  WeightUser GET /w/80, /w/15, /w/5 with task weights 80, 15, 5, no wait
  EqualUser  GET /e/1, /e/2, /e/3 with equal task weights, no wait
  RedirectUser  session header "Authorization: Bearer r3dir-key"; POSTs
             "p303", "p307", "p308" to /r303, /r307, /r308, GET /cross with
             "Cookie: c=r3dir-cookie" (302 to another server)
  LoopUser   GET /loop/0 (a redirect loop)
  ExceptionUser  GET /, then an exception "ExceptionUser boom"
  ByeUser    on_start GET /hi, task GET /, on_stop GET /bye
  PacingUser GET /delay, constant_pacing(1)
  ThroughputUser  GET /delay, constant_throughput(4)
  OwnConnUser  GET /own/<n> and GET /own-moved/<n> (302 to /own/<n>), <n>
               the user's own number, waiting constant(1): whose connection
               each request came on
  HeavyUser, LightUser  (weights 3 and 1) on_start GET /hi/heavy or
             /hi/light, then GET /
  RecordUser records "CUSTOM worker-<index>" (5 ms), then 50 ms later a
             failed "CUSTOM timed" (50 ms): lw_record, a hold and a timer in C
  NullNameUser  lw_record with a NULL name in C: an exception

On the master only, every stats report a worker sends is logged as one line,
"worker report: <worker id> <json>" (its user counts, and the requests the
report adds to the master's table), so a test can read from the master's log
which worker's requests the master counted.
"""

import json
import logging
import os
import random
import time

from locust import HttpUser, between, constant, constant_pacing, constant_throughput, events, task
from gevent.pool import Group
from locust.runners import MasterRunner


class HelloUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def get_root(self):
        self.client.get("/", name="/")


class FailUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def get_fail(self):
        self.client.get("/fail")

    @task
    def get_notfound(self):
        self.client.get("/notfound")

    @task
    def get_root_expect_nope(self):
        with self.client.get("/", name="/", catch_response=True) as response:
            if "nope" in response.text:
                response.success()
            else:
                response.failure("no nope in body")


class ChainUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def get_root_then_post_echo(self):
        self.client.get("/", name="/")
        self.client.post("/echo", data="x")


class IdleUser(HttpUser):
    weight = 1
    wait_time = between(5.5, 6)

    @task
    def get_root(self):
        self.client.get("/", name="/")


class NamedFailUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def get_fail_with_id(self):
        self.client.get(f"/fail?id={random.randrange(1000)}", name="/fail?id=[id]")


class AuthUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    def on_start(self):
        self.client.headers["Authorization"] = "Bearer s3cr3t-key"

    @task
    def get_auth(self):
        self.client.get("/auth")

    @task
    def get_fail(self):
        self.client.get("/fail", headers={"X-Api-Key": "s3cr3t-api-key"})


@events.init.add_listener
def log_worker_reports(environment, **_kwargs):
    if not isinstance(environment.runner, MasterRunner):
        return

    def on_worker_report(client_id, data, **_kw):
        report = {
            "user_count": data.get("user_count"),
            "user_classes_count": data.get("user_classes_count"),
            "num_requests": (data.get("stats_total") or {}).get("num_requests", 0),
        }
        logging.getLogger("worker_reports").info("worker report: %s %s", client_id, json.dumps(report))

    environment.events.worker_report.add_listener(on_worker_report)


class SessionUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    def on_start(self):
        self.me = f"s-{random.randrange(1_000_000)}"
        self.client.get(f"/login?user={self.me[2:]}", name="/login")

    @task
    def whoami(self):
        with self.client.get("/whoami", catch_response=True) as r:
            if r.status_code == 200 and r.text != self.me:
                r.failure(f"session of another user: {r.text}")

    @task
    def moved(self):
        self.client.get("/moved")


class BodyUser(HttpUser):
    weight = 1
    wait_time = constant(0.1)

    @task
    def big(self):
        with self.client.get("/big", catch_response=True) as r:
            if len(r.content) != 100_000 or not r.content.endswith(b"ENDOFBODY!"):
                r.failure(f"body of {len(r.content)} bytes")


class HugeBodyUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def huge(self):
        with self.client.get("/huge", catch_response=True) as r:
            if not r.content.startswith(b"0123456789") or len(r.content) < 16 * 1024 * 1024:
                r.failure(f"body of {len(r.content)} bytes")


class CookieScopeUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    def on_start(self):
        self.client.get("/cookie/set")

    @task
    def scoped(self):
        self.client.get("/admin/need")
        self.client.get("/public")
        self.client.get(os.environ.get("LW_TEST_OTHER_HOST", "") + "/admin/leak", name="/admin/leak")


LONG_NAMES = ["/long/x" + "\u20ac" * 100 + "/1", "/long/x" + "\u20ac" * 100 + "/2", "/huge/" + "\u20ac" * 3000]


class LongNameUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def long1(self):
        self.client.get("/", name=LONG_NAMES[0])

    @task
    def long2(self):
        self.client.get("/", name=LONG_NAMES[1])

    @task
    def huge(self):
        self.client.get("/", name=LONG_NAMES[2])


class BurstUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def burst(self):
        group = Group()
        for _ in range(4):
            group.spawn(self.client.get, "/")
        group.join()


class TinyTimeoutUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def tiny(self):
        self.client.get("/tiny", timeout=0.0004)


class BadTimeoutUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def negative(self):
        self.client.get("/neg", timeout=-1)


class SlowDnsUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def slow(self):
        self.client.get(os.environ.get("LW_TEST_SLOW_HOST", "") + "/?via=slow", name="/?via=slow")


class DelayUser(HttpUser):
    weight = 1
    wait_time = constant(0.1)

    @task
    def delay(self):
        self.client.get("/delay")


class WeightUser(HttpUser):
    weight = 1
    wait_time = constant(0)

    @task(80)
    def w80(self):
        self.client.get("/w/80")

    @task(15)
    def w15(self):
        self.client.get("/w/15")

    @task(5)
    def w5(self):
        self.client.get("/w/5")


class EqualUser(HttpUser):
    weight = 1
    wait_time = constant(0)

    @task
    def e1(self):
        self.client.get("/e/1")

    @task
    def e2(self):
        self.client.get("/e/2")

    @task
    def e3(self):
        self.client.get("/e/3")


class RedirectUser(HttpUser):
    weight = 1
    wait_time = constant(0.1)

    def on_start(self):
        self.client.headers["Authorization"] = "Bearer r3dir-key"

    @task
    def r303(self):
        self.client.post("/r303", data="p303")

    @task
    def r307(self):
        self.client.post("/r307", data="p307")

    @task
    def r308(self):
        self.client.post("/r308", data="p308")

    @task
    def cross(self):
        self.client.get("/cross", headers={"Cookie": "c=r3dir-cookie"})


class LoopUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def loop(self):
        self.client.get("/loop/0")


class ExceptionUser(HttpUser):
    weight = 1
    wait_time = constant(0.5)

    @task
    def boom(self):
        self.client.get("/", name="/")
        raise RuntimeError("ExceptionUser boom")


class ByeUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    def on_start(self):
        self.client.get("/hi")

    @task
    def get_root(self):
        self.client.get("/", name="/")

    def on_stop(self):
        self.client.get("/bye")


class PacingUser(HttpUser):
    weight = 1
    wait_time = constant_pacing(1)

    @task
    def delay(self):
        self.client.get("/delay")


class ThroughputUser(HttpUser):
    weight = 1
    wait_time = constant_throughput(4)

    @task
    def delay(self):
        self.client.get("/delay")


class OwnConnUser(HttpUser):
    weight = 1
    wait_time = constant(1)

    def on_start(self):
        self.me = random.randrange(1_000_000)

    @task(2)
    def own(self):
        self.client.get(f"/own/{self.me}", name="/own")

    @task
    def own_moved(self):
        self.client.get(f"/own-moved/{self.me}", name="/own-moved")


class HeavyUser(HttpUser):
    weight = 3
    wait_time = constant(0.2)

    def on_start(self):
        self.client.get("/hi/heavy")

    @task
    def get_root(self):
        self.client.get("/", name="/")


class LightUser(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    def on_start(self):
        self.client.get("/hi/light")

    @task
    def get_root(self):
        self.client.get("/", name="/")


class RecordUser(HttpUser):
    """A custom protocol's records (lw_record in C): one success named after
    the worker's index, then, 50 ms later, one failure."""
    weight = 1
    wait_time = constant(0.2)

    @task
    def record_ops(self):
        fire = self.environment.events.request.fire
        fire(request_type="CUSTOM", name=f"worker-{self.environment.runner.worker_index}", response_time=5.0,
             response_length=10, exception=None, context={})
        time.sleep(0.05)
        fire(request_type="CUSTOM", name="timed", response_time=50.0, response_length=0,
             exception=Exception("Boom('late')"), context={})


class NullNameUser(HttpUser):
    """lw_record with a NULL name: an exception in the C worker."""
    weight = 1
    wait_time = constant(0.2)

    @task
    def record_null_name(self):
        raise ValueError("lw_record: the name is NULL; the operation is not recorded")
