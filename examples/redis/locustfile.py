"""The master's side of examples/redis: AgentUser and SessionUser, with the
task names, weights and wait times of build/redis-worker, and the
--redis-host / --redis-port options the C worker reads through lw_option.

The tasks also run in Python (redis-py, each command fired as a request
event, as the C worker records it), so stock Python workers can run them too.

    locust -f examples/redis/locustfile.py --master --redis-port 6379
    build/redis-worker --master-host 127.0.0.1
"""

import time
import uuid

from locust import User, constant, events, task


@events.init_command_line_parser.add_listener
def _(parser):
    parser.add_argument("--redis-host", default="127.0.0.1", help="Redis to load-test")
    parser.add_argument("--redis-port", type=int, default=6379, help="its port")


class RedisUser(User):
    abstract = True
    wait_time = constant(0.1)

    def on_start(self):
        import redis  # only Python workers need it

        opts = self.environment.parsed_options
        self.redis = redis.Redis(host=opts.redis_host, port=opts.redis_port)
        self.agent = f"lw{self.environment.runner.worker_index}-{uuid.uuid4().hex[:8]}"

    def command(self, kind, name, *args):
        start = time.perf_counter()
        error, length = None, 0
        try:
            reply = self.redis.execute_command(kind, *args)
            length = len(reply) if isinstance(reply, bytes) else 0
        except Exception as e:  # noqa: BLE001 - every failure is recorded
            error = e
        self.environment.events.request.fire(request_type=kind, name=name, response_time=(time.perf_counter() - start) * 1000,
                                             response_length=length, exception=error, context={})
        return error is None


class AgentUser(RedisUser):
    weight = 3

    def on_start(self):
        super().on_start()
        self.command("SET", "agent:[id]:registration", f"agent:{self.agent}:registration",
                     f'{{"agentId":"{self.agent}"}}')
        self.command("SET", "agent:[id]:latest_state", f"agent:{self.agent}:latest_state",
                     f'{{"agentId":"{self.agent}","state":"UNKNOWN"}}')

    @task(3)
    def post_state(self):
        if self.command("GET", "agent:[id]:registration", f"agent:{self.agent}:registration"):
            self.command("SET", "agent:[id]:latest_state", f"agent:{self.agent}:latest_state",
                         f'{{"agentId":"{self.agent}","state":"idle"}}')

    @task(1)
    def get_state(self):
        self.command("GET", "agent:[id]:latest_state", f"agent:{self.agent}:latest_state")


class SessionUser(RedisUser):
    weight = 1

    @task(2)
    def start_session(self):
        self.command("HSET", "session:[id]", f"session:{uuid.uuid4()}", "agentId", self.agent,
                     "workflowId", "wf-1", "status", "started")

    @task(1)
    def pause_then_read(self):
        time.sleep(0.05)
        self.command("GET", "agent:[id]:latest_state", f"agent:{self.agent}:latest_state")
