"""Master locustfile for build/bench-worker: BenchUser, no wait, GET /."""
from locust import HttpUser, constant, task


class BenchUser(HttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
