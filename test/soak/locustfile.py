"""The soak master's locustfile: only what a master needs to dispatch
MixedUser (Ops-Core Scenario 3 pacing) to build/opscore-worker. No shape:
the soak runs a flat 2,000 users for its whole length."""

from locust import HttpUser, between, task


class MixedUser(HttpUser):
    """Same name, weight and wait as examples/opscore's MixedUser (80% POST
    state, 15% GET state, 5% POST workflow); the C worker runs the tasks."""

    weight = 1
    wait_time = between(1, 5)

    @task
    def placeholder(self):  # never runs: only C workers attach
        raise NotImplementedError
