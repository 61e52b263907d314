"""Contract tests for the Ops-Core stand-in (examples/opscore/standin).

Each module run starts a fresh redis-server and the stand-in under uvicorn on
free loopback ports, then checks the contract of
/work/shared/docs/opscore-api.md with plain HTTP requests and by reading Redis
directly: routes, status codes, exact bodies and details, Bearer auth (and
that it runs before body validation), the Redis key layout and the commands
each request sends (via MONITOR), the preloaded sample workflow, the
upstream-bug switch, Redis failures, and the X-Process-Time header, which the
client helper checks on every response. The whole file runs in a few seconds.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from opscore_fixtures import (NOTIFY, SAMPLE_WORKFLOW, RedisServer, StandIn, register_payload,
                              state_payload)

INTERNAL_ERROR_BODY = b'{"detail":"Internal Server Error"}'
SAMPLE_ID = "sample_workflow_id"


def state_path(agent_id: str) -> str:
    return f"/v1/opscore/agent/{agent_id}/state"


def workflow_path(agent_id: str) -> str:
    return f"/v1/opscore/agent/{agent_id}/workflow"


def sample_workflow() -> dict:
    return json.loads(SAMPLE_WORKFLOW.read_text())


def validation_errors(resp) -> list[dict]:
    """FastAPI's 422 error list."""
    assert resp.status_code == 422, resp.text
    errors = resp.json()["detail"]
    assert isinstance(errors, list) and errors
    return errors


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------
# fixtures: one Redis and one stand-in per module, plus per-test agents


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def standin(redis_server, tmp_path_factory):
    service = StandIn(redis_server.port, tmp_path_factory.mktemp("standin"))
    yield service
    service.stop()


@pytest.fixture(scope="module")
def buggy_standin(redis_server, tmp_path_factory):
    service = StandIn(redis_server.port, tmp_path_factory.mktemp("standin-bug"),
                      {"OPSCORE_UPSTREAM_WORKFLOW_BUG": "1"})
    yield service
    service.stop()


@pytest.fixture
def db(redis_server):
    return redis_server.client


@pytest.fixture
def agent(standin) -> str:
    """A freshly registered agent id."""
    return standin.register()


def stored(db, key: str) -> dict:
    value = db.get(key)
    assert value is not None, f"no Redis key {key}"
    return json.loads(value)


# --------------------------------------------------------------------------
# health and docs


def test_health(standin):
    resp = standin.get("/health", key=None)
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_openapi_lists_the_routes(standin):
    paths = standin.get("/openapi.json", key=None).json()["paths"]
    assert set(paths) == {"/health", NOTIFY, "/v1/opscore/agent/{agent_id}/state",
                          "/v1/opscore/agent/{agent_id}/workflow"}


# --------------------------------------------------------------------------
# notify: registration


def test_register_returns_exact_body_and_writes_redis(standin, db):
    agent_id = "loadtest-agent-12345"  # 20 characters, as in upstream's Scenario 1
    resp = standin.post(NOTIFY, key=None, json=register_payload(agent_id))

    assert resp.status_code == 200
    assert resp.content == b'{"status":"success","message":"Agent loadtest-agent-12345 registered successfully."}'
    assert len(resp.content) == 84  # upstream's "Average Content Size"

    registration = stored(db, f"agent:{agent_id}:registration")
    registration_time = registration.pop("registrationTime")
    assert registration == register_payload(agent_id)["agent_details"]
    assert abs(parse_time(registration_time) - datetime.now(timezone.utc)) < timedelta(minutes=1)

    state = stored(db, f"agent:{agent_id}:latest_state")
    assert {k: state[k] for k in ("agentId", "state", "details")} == {
        "agentId": agent_id, "state": "UNKNOWN", "details": {"reason": "Initial registration"}}
    assert state["timestamp"].endswith("Z")
    assert db.ttl(f"agent:{agent_id}:registration") == -1  # plain SET, no TTL
    assert db.ttl(f"agent:{agent_id}:latest_state") == -1


def test_register_needs_no_auth_and_ignores_extra_fields(standin):
    agent_id = str(uuid.uuid4())
    body = register_payload(agent_id, registrationTime="2025-04-21T15:16:01Z")
    body["extra"] = 1
    resp = standin.post(NOTIFY, authorization="Bearer wrong-key", json=body)
    assert resp.status_code == 200
    assert resp.json()["message"] == f"Agent {agent_id} registered successfully."


def test_event_type_is_case_insensitive(standin):
    agent_id = str(uuid.uuid4())
    resp = standin.post(NOTIFY, key=None, json=register_payload(agent_id, event_type="register"))
    assert resp.status_code == 200
    assert resp.json()["message"] == f"Agent {agent_id} registered successfully."


def test_reregistering_resets_the_state(standin, db, agent):
    assert standin.post(state_path(agent), json=state_payload(agent)).status_code == 202
    standin.register(agent)
    assert stored(db, f"agent:{agent}:latest_state")["state"] == "UNKNOWN"


@pytest.mark.parametrize("event_type", ["DEREGISTER", "deregister"])
def test_deregister(standin, agent, event_type):
    resp = standin.post(NOTIFY, key=None, json=register_payload(agent, event_type=event_type))
    assert resp.status_code == 200
    assert resp.json() == {"status": "success",
                           "message": "DEREGISTER notification received but not fully processed."}


def test_unknown_event_type_is_400(standin):
    resp = standin.post(NOTIFY, key=None, json=register_payload("a1", event_type="BOGUS"))
    assert resp.status_code == 400
    assert resp.json() == {"detail": "Unknown event type: BOGUS"}


def test_empty_agent_id_is_400(standin, db):
    resp = standin.post(NOTIFY, key=None, json=register_payload(""))
    assert resp.status_code == 400
    assert isinstance(resp.json()["detail"], str)
    assert db.get("agent::registration") is None


@pytest.mark.parametrize("missing", ["event_type", "agent_details"])
def test_notify_missing_top_level_field_is_422(standin, missing):
    body = register_payload(str(uuid.uuid4()))
    del body[missing]
    errors = validation_errors(standin.post(NOTIFY, key=None, json=body))
    assert any(e["loc"] == ["body", missing] and e["msg"] == "Field required" for e in errors)


@pytest.mark.parametrize("missing", ["agentId", "agentName", "version", "contactEndpoint"])
def test_notify_missing_detail_field_is_422(standin, missing):
    body = register_payload(str(uuid.uuid4()))
    del body["agent_details"][missing]
    errors = validation_errors(standin.post(NOTIFY, key=None, json=body))
    assert any(e["loc"] == ["body", "agent_details", missing] for e in errors)


@pytest.mark.parametrize("endpoint", ["not a url", "ftp://agent.local/run", ""])
def test_notify_bad_contact_endpoint_is_422(standin, db, endpoint):
    agent_id = str(uuid.uuid4())
    body = register_payload(agent_id, contactEndpoint=endpoint)
    errors = validation_errors(standin.post(NOTIFY, key=None, json=body))
    assert any(e["loc"] == ["body", "agent_details", "contactEndpoint"] for e in errors)
    assert db.get(f"agent:{agent_id}:registration") is None


# --------------------------------------------------------------------------
# POST /state


def test_post_state_202_and_redis_updated(standin, db, agent):
    resp = standin.post(state_path(agent), json=state_payload(agent))

    assert resp.status_code == 202
    assert resp.content == b'{"status":"success","message":"State update accepted"}'
    assert stored(db, f"agent:{agent}:latest_state") == {
        "agentId": agent, "state": "active",
        "details": {"load_test": True, "user": f"user-{agent}"},
        "timestamp": "2025-04-21T15:16:01.894000Z"}


@pytest.mark.parametrize("timestamp, expected", [
    ("2025-04-21T15:16:01Z", "2025-04-21T15:16:01Z"),
    ("2025-04-21T17:16:01.500+02:00", "2025-04-21T17:16:01.500000+02:00"),
])
def test_post_state_parses_the_timestamp(standin, db, agent, timestamp, expected):
    resp = standin.post(state_path(agent), json=state_payload(agent, state="idle", timestamp=timestamp))
    assert resp.status_code == 202
    assert stored(db, f"agent:{agent}:latest_state")["timestamp"] == expected


def test_post_state_unparseable_timestamp_becomes_server_time(standin, db, agent):
    body = state_payload(agent, state="whatever-free-text", timestamp="yesterday")
    assert standin.post(state_path(agent), json=body).status_code == 202
    state = stored(db, f"agent:{agent}:latest_state")
    assert state["state"] == "whatever-free-text"
    assert abs(parse_time(state["timestamp"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_post_state_without_details(standin, db, agent):
    body = state_payload(agent)
    del body["details"]
    assert standin.post(state_path(agent), json=body).status_code == 202
    assert stored(db, f"agent:{agent}:latest_state")["details"] is None


def test_post_state_unregistered_agent_is_404(standin, db):
    agent_id = str(uuid.uuid4())
    resp = standin.post(state_path(agent_id), json=state_payload(agent_id))
    assert resp.status_code == 404
    assert resp.json() == {"detail": f"Agent not found: {agent_id}"}
    assert db.get(f"agent:{agent_id}:latest_state") is None


def test_post_state_path_body_mismatch_is_400(standin, db, agent):
    resp = standin.post(state_path(agent), json=state_payload("someone-else"))
    assert resp.status_code == 400
    assert resp.json() == {"detail": "Agent ID in path does not match agent ID in payload"}
    assert stored(db, f"agent:{agent}:latest_state")["state"] == "UNKNOWN"


@pytest.mark.parametrize("change, field, msg", [
    ({"state": None}, "state", "Input should be a valid string"),
    ({"state": 3}, "state", "Input should be a valid string"),
    ({"details": "text"}, "details", "Input should be a valid dictionary"),
    ({"timestamp": 1745248561}, "timestamp", "Input should be a valid string"),
])
def test_post_state_wrong_type_is_422(standin, agent, change, field, msg):
    errors = validation_errors(standin.post(state_path(agent), json={**state_payload(agent), **change}))
    assert any(e["loc"] == ["body", field] and e["msg"] == msg for e in errors)


@pytest.mark.parametrize("missing", ["agentId", "timestamp", "state"])
def test_post_state_missing_field_is_422(standin, agent, missing):
    body = state_payload(agent)
    del body[missing]
    errors = validation_errors(standin.post(state_path(agent), json=body))
    assert any(e["loc"] == ["body", missing] and e["msg"] == "Field required" for e in errors)


# --------------------------------------------------------------------------
# Bearer auth, on all three authenticated routes

AUTH_ROUTES = {
    "post_state": ("POST", state_path, state_payload, 202),
    "get_state": ("GET", state_path, None, 200),
    "post_workflow": ("POST", workflow_path, lambda _id: {"workflowDefinitionId": SAMPLE_ID}, 202),
}


def call_route(standin, route: str, agent_id: str, **kwargs):
    method, path, body, _ = AUTH_ROUTES[route]
    return standin.request(method, path(agent_id), json=body(agent_id) if body else None, **kwargs)


@pytest.mark.parametrize("route", AUTH_ROUTES)
def test_missing_authorization_is_401(standin, agent, route):
    resp = call_route(standin, route, agent, key=None, headers={"X-API-Key": "test-api-key"})
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Authorization header missing"}
    assert "WWW-Authenticate" not in resp.headers


@pytest.mark.parametrize("route", AUTH_ROUTES)
@pytest.mark.parametrize("authorization", [
    "Bearer wrong-key", "Bearer test-api-key-2", "Bearer  test-api-key",
    "Basic test-api-key", "Token test-api-key", "test-api-key", "Bearer"])
def test_invalid_credentials_are_401(standin, agent, route, authorization):
    resp = call_route(standin, route, agent, authorization=authorization)
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Invalid authentication credentials"}
    assert "WWW-Authenticate" not in resp.headers


@pytest.mark.parametrize("route", AUTH_ROUTES)
@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive(standin, agent, route, scheme):
    resp = call_route(standin, route, agent, authorization=f"{scheme} test-api-key")
    assert resp.status_code == AUTH_ROUTES[route][3], resp.text


@pytest.mark.parametrize("path", [state_path, workflow_path])
@pytest.mark.parametrize("auth", [{"key": "wrong-key"}, {"key": None}])
def test_auth_is_checked_before_the_body(standin, agent, path, auth):
    resp = standin.post(path(agent), json={"nonsense": True}, **auth)
    assert resp.status_code == 401


def test_unparseable_json_is_422_even_before_auth(standin, agent):
    resp = standin.post(state_path(agent), key="wrong-key", data=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert validation_errors(resp)[0]["type"] == "json_invalid"


# --------------------------------------------------------------------------
# GET /state


def test_get_state_after_registration(standin, agent):
    resp = standin.get(state_path(agent))
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"agentId", "state", "details", "timestamp"}
    assert (body["agentId"], body["state"], body["details"]) == (
        agent, "UNKNOWN", {"reason": "Initial registration"})
    assert body["timestamp"].endswith("Z")


def test_get_state_returns_the_latest_update(standin, agent):
    for state in ("idle", "active", "finished"):
        standin.post(state_path(agent), json=state_payload(agent, state=state))
    assert standin.get(state_path(agent)).json() == {
        "agentId": agent, "state": "finished",
        "details": {"load_test": True, "user": f"user-{agent}"},
        "timestamp": "2025-04-21T15:16:01.894000Z"}


def test_get_state_unknown_agent_is_404(standin):
    agent_id = str(uuid.uuid4())
    resp = standin.get(state_path(agent_id))
    assert resp.status_code == 404
    assert resp.json() == {"detail": f"No state found for agent {agent_id}"}


def test_get_state_looks_only_at_the_state_key(standin, db, agent):
    db.delete(f"agent:{agent}:latest_state")
    resp = standin.get(state_path(agent))
    assert resp.status_code == 404
    assert resp.json() == {"detail": f"No state found for agent {agent}"}


# --------------------------------------------------------------------------
# POST /workflow


def sessions_of(db, agent_id: str) -> list[dict]:
    sessions = (json.loads(db.get(key)) for key in db.scan_iter("session:*"))
    return [s for s in sessions if s["agentId"] == agent_id]


def assert_triggered(db, resp, agent_id: str, workflow_id: str,
                     message: str = "Workflow triggered successfully") -> dict:
    """202 with the trigger response; returns the stored session."""
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body == {"sessionId": body["sessionId"], "workflowId": workflow_id, "message": message}
    assert uuid.UUID(body["sessionId"]).version == 4
    session = stored(db, f"session:{body['sessionId']}")
    assert (session["sessionId"], session["agentId"], session["workflowId"]) == (
        body["sessionId"], agent_id, workflow_id)
    return session


def test_sample_workflow_is_preloaded(standin, db):
    assert stored(db, f"workflow_def:{SAMPLE_ID}") == sample_workflow()


@pytest.mark.parametrize("body", [
    {"workflowDefinitionId": SAMPLE_ID},
    {"workflowDefinitionId": SAMPLE_ID, "initialPayload": {"k": "v"}},
    {"workflowDefinitionId": SAMPLE_ID, "agentId": "ignored", "context": {"ignored": True}},
])
def test_workflow_by_id_is_202(standin, db, agent, body):
    session = assert_triggered(db, standin.post(workflow_path(agent), json=body), agent, SAMPLE_ID)
    assert session["status"] == "started"
    assert session["endTime"] is None


def test_workflow_inline_sample_is_202(standin, db, agent):
    resp = standin.post(workflow_path(agent), json={"workflowDefinition": sample_workflow()})
    assert_triggered(db, resp, agent, SAMPLE_ID)


def test_workflow_inline_new_definition_is_saved(standin, db, agent):
    definition = {**sample_workflow(), "id": f"inline-{uuid.uuid4()}", "name": "Inline"}
    del definition["description"], definition["version"]
    assert_triggered(db, standin.post(workflow_path(agent), json={"workflowDefinition": definition}),
                     agent, definition["id"])
    saved = stored(db, f"workflow_def:{definition['id']}")
    assert saved == {**definition, "description": None, "version": "1.0"}
    # ...and is now resolvable by id
    assert_triggered(db, standin.post(workflow_path(agent), json={"workflowDefinitionId": definition["id"]}),
                     agent, definition["id"])


def test_workflow_with_no_tasks(standin, db, agent):
    definition = {"id": f"empty-{uuid.uuid4()}", "name": "Empty", "tasks": []}
    resp = standin.post(workflow_path(agent), json={"workflowDefinition": definition})
    session = assert_triggered(db, resp, agent, definition["id"], "Workflow triggered but has no tasks.")
    session = stored(db, f"session:{session['sessionId']}")
    assert session["status"] == "completed"
    assert session["result"] == {"message": "Workflow has no tasks"}
    assert session["endTime"] is not None


def test_workflow_first_task_without_task_id_is_400(standin, db, agent):
    definition = {"id": f"bad-task-{uuid.uuid4()}", "name": "Bad", "tasks": [{"name": "no taskId"}]}
    resp = standin.post(workflow_path(agent), json={"workflowDefinition": definition})
    assert resp.status_code == 400
    assert resp.json()["detail"].startswith("Invalid task data:")
    [session] = sessions_of(db, agent)
    assert session["status"] == "failed"
    assert session["error"].startswith("Invalid task data:")


@pytest.mark.parametrize("body", [
    {},
    {"initialPayload": {"k": "v"}},
    {"workflowDefinitionId": SAMPLE_ID, "workflowDefinition": sample_workflow()},
    {"workflowDefinition": {"id": "x", "tasks": []}},               # no name
    {"workflowDefinition": {"id": "x", "name": "x"}},               # no tasks
    {"workflowDefinition": {"id": "x", "name": "x", "tasks": "t"}},
    {"workflowDefinition": "sample_workflow_id"},
    sample_workflow(),                                               # not wrapped
])
def test_workflow_bad_body_is_422(standin, db, agent, body):
    validation_errors(standin.post(workflow_path(agent), json=body))
    assert sessions_of(db, agent) == []


def test_workflow_unknown_definition_id_is_404(standin, db, agent):
    resp = standin.post(workflow_path(agent), json={"workflowDefinitionId": "no-such-workflow"})
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Workflow definition not found: no-such-workflow"}
    assert sessions_of(db, agent) == []


@pytest.mark.parametrize("body", [{"workflowDefinitionId": SAMPLE_ID},
                                  {"workflowDefinition": sample_workflow()}])
def test_workflow_unregistered_agent_is_404(standin, db, body):
    agent_id = str(uuid.uuid4())
    resp = standin.post(workflow_path(agent_id), json=body)
    assert resp.status_code == 404
    assert resp.json() == {"detail": f"Agent not found: {agent_id}"}
    assert sessions_of(db, agent_id) == []


# --------------------------------------------------------------------------
# OPSCORE_UPSTREAM_WORKFLOW_BUG=1


@pytest.mark.parametrize("body", [{"workflowDefinitionId": SAMPLE_ID},
                                  {"workflowDefinition": sample_workflow()}])
def test_upstream_bug_switch_gives_500(buggy_standin, db, body):
    agent_id = buggy_standin.register()
    resp = buggy_standin.post(workflow_path(agent_id), json=body)
    assert resp.status_code == 500
    assert resp.content == INTERNAL_ERROR_BODY
    assert len(resp.content) == 34
    assert resp.headers["Content-Type"] == "application/json"
    assert sessions_of(db, agent_id) == []
    # before the agent is even looked up, as upstream
    assert buggy_standin.post(workflow_path("never-registered"), json=body).status_code == 500


def test_upstream_bug_switch_keeps_auth_validation_and_state(buggy_standin):
    agent_id = buggy_standin.register()
    path = workflow_path(agent_id)
    assert buggy_standin.post(path, key="wrong-key", json={"workflowDefinitionId": SAMPLE_ID}).status_code == 401
    validation_errors(buggy_standin.post(path, json={}))
    assert buggy_standin.post(state_path(agent_id), json=state_payload(agent_id)).status_code == 202
    assert buggy_standin.get(state_path(agent_id)).status_code == 200


# --------------------------------------------------------------------------
# Redis traffic per request, as upstream's RedisStorage does it


def redis_commands_during(db, action) -> list[list[str]]:
    """The Redis commands (split into words) issued while action() runs."""
    marker = f"end-{uuid.uuid4()}"
    with db.monitor() as monitor:
        action()
        db.echo(marker)
        commands = []
        while True:
            command = monitor.next_command()["command"]
            if command == f"ECHO {marker}":
                return commands
            commands.append(command.split(" "))


def test_post_state_is_one_get_and_one_set(standin, db, agent):
    commands = redis_commands_during(
        db, lambda: standin.post(state_path(agent), json=state_payload(agent)))
    assert [c[:2] for c in commands] == [["GET", f"agent:{agent}:registration"],
                                         ["SET", f"agent:{agent}:latest_state"]]
    assert json.loads(commands[1][2])["state"] == "active"


def test_get_state_is_one_get(standin, db, agent):
    commands = redis_commands_during(db, lambda: standin.get(state_path(agent)))
    assert commands == [["GET", f"agent:{agent}:latest_state"]]


def test_register_sets_registration_then_state(standin, db):
    agent_id = str(uuid.uuid4())
    commands = redis_commands_during(db, lambda: standin.register(agent_id))
    assert [c[:2] for c in commands] == [["SET", f"agent:{agent_id}:registration"],
                                         ["GET", f"agent:{agent_id}:registration"],
                                         ["SET", f"agent:{agent_id}:latest_state"]]


def test_workflow_session_is_created_with_set_nx(standin, db, agent):
    commands = redis_commands_during(
        db, lambda: standin.post(workflow_path(agent), json={"workflowDefinitionId": SAMPLE_ID}))
    assert [c[:2] for c in commands] == [["GET", f"workflow_def:{SAMPLE_ID}"],
                                         ["GET", f"agent:{agent}:registration"],
                                         ["SET", commands[2][1]]]
    assert commands[2][1].startswith("session:") and commands[2][-1] == "NX"


# --------------------------------------------------------------------------
# Redis down (own Redis and stand-in, since this one stops Redis)


def test_redis_failure_is_a_storage_error(tmp_path):
    server = RedisServer(tmp_path)
    try:
        service = StandIn(server.port, tmp_path)
        try:
            agent_id = service.register()
            server.stop()

            resp = service.post(state_path(agent_id), json=state_payload(agent_id))
            assert resp.status_code == 500
            assert resp.json() == {
                "detail": f"Storage error: Failed to read registration for agent {agent_id} from Redis"}
            resp = service.get(state_path(agent_id))
            assert resp.status_code == 500
            assert resp.json()["detail"].startswith("Storage error: ")
            resp = service.post(NOTIFY, key=None, json=register_payload(agent_id))
            assert resp.status_code == 400
            assert resp.json()["detail"].startswith("Registration error: ")
            assert service.get("/health").status_code == 200
        finally:
            service.stop()
    finally:
        server.stop()
