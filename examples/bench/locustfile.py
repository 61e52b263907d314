"""Master locustfile for build/bench-worker and the benchmark (test/bench/bench.py).

Every class does GET / and nothing else:
  BenchUser      HttpUser, constant(0): throughput (also run by Python workers)
  FastBenchUser  FastHttpUser, constant(0): throughput of Python's fast client
  PacedUser      HttpUser, between(5, 10): Scenario 1 pacing, users per process
  FastPacedUser  FastHttpUser, between(5, 10): the same for Python's fast client
  TimedUser      HttpUser, constant(0): timing fidelity (the C worker keeps
                 its response times at full resolution)
  FastTimedUser  FastHttpUser, constant(0): the same on the C worker's fast
                 client

For the C worker only the class name matters: build/bench-worker runs its own
classes of the same names (the Fast ones on its fast HTTP client).

Select one with a positional class name: locust -f ... --master BenchUser.

When LW_BENCH_HEARTBEATS names a file, the master appends one line per
heartbeat it receives from a worker ("<epoch seconds> <worker id>"), so the
benchmark can tell how regular the heartbeats were. Locust 2.12.1 has no
heartbeat event; there the file stays empty.
"""
import os

from locust import FastHttpUser, HttpUser, between, constant, events, task


class BenchUser(HttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")


class FastBenchUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")


class PacedUser(HttpUser):
    wait_time = between(5, 10)

    @task
    def index(self):
        self.client.get("/")


class FastPacedUser(FastHttpUser):
    wait_time = between(5, 10)

    @task
    def index(self):
        self.client.get("/")


class TimedUser(HttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")


class FastTimedUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")


HEARTBEAT_LOG = os.environ.get("LW_BENCH_HEARTBEATS")

if HEARTBEAT_LOG and hasattr(events, "heartbeat_sent"):

    @events.heartbeat_sent.add_listener
    def record_heartbeat(client_id, timestamp, **_kwargs):
        with open(HEARTBEAT_LOG, "a") as f:
            f.write(f"{timestamp:.6f} {client_id}\n")
