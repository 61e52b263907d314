"""The master's side of examples/hello: one user class, HelloUser.

Run the master with `locust -f examples/hello/locustfile.py --master` and point
build/hello-worker at it; the class name, weight and wait time here are what
the master dispatches by.
"""

from locust import HttpUser, constant, task


class HelloUser(HttpUser):
    wait_time = constant(1)

    @task
    def get_root(self):
        self.client.get("/")
