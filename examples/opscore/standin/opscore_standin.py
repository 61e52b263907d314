"""A stand-in for the Ops-Core service (github.com/opspawn/ops-core), for
machines where the real one is not available.

It serves the same five routes with the same models, status codes, error
details, auth rules and Redis key layout as upstream (see
/work/shared/docs/opscore-api.md), so that the Ops-Core scenario pack can be
run and checked against it:

    GET  /health                                 {"status": "ok"}
    POST /v1/opscore/internal/agent/notify       register / deregister, no auth
    POST /v1/opscore/agent/{agentId}/state       Bearer, 202
    GET  /v1/opscore/agent/{agentId}/state       Bearer, 200 or 404
    POST /v1/opscore/agent/{agentId}/workflow    Bearer, 202

Redis keys (values are the models' JSON, plain SET, no TTL):

    agent:{agentId}:registration    AgentInfo
    agent:{agentId}:latest_state    AgentState (latest only)
    session:{sessionId}             WorkflowSession (created with SET NX)
    workflow_def:{workflowId}       WorkflowDefinition

Differences from upstream, all deliberate: workflow definitions really are
stored in Redis (upstream's POST /workflow always fails, see
OPSCORE_UPSTREAM_WORKFLOW_BUG below), examples/opscore/sample_workflow.json is
preloaded at startup, the never-drained task queue is bounded, and logging is
light (at most uvicorn's access line per request).

Environment:
    OPSCORE_API_KEY                 expected Bearer token (default test-api-key)
    REDIS_HOST, REDIS_PORT          default localhost, 6379
    LOG_LEVEL                       default INFO; also applied to uvicorn's
                                    access log when set (WARNING: no
                                    per-request lines)
    OPSCORE_UPSTREAM_WORKFLOW_BUG   1: POST /workflow answers like upstream,
                                    500 {"detail":"Internal Server Error"}
    OPSCORE_CPU_WORK_MS             CPU-bound mode: ms of CPU per agent request
    OPSCORE_SLOW_REDIS_MS,          slow-Redis mode: ms of Redis time on a
    OPSCORE_SLOW_REDIS_SHARE        share (0-1, default 1) of the agent
                                    requests' Redis calls
    OPSCORE_DEGRADE_ABOVE_AGENTS    both only once more agents than this have
                                    registered (default 0; see degrade.py)

Run from the repository root:
    python -m uvicorn examples.opscore.standin.opscore_standin:app --port 8000
or  python examples/opscore/standin/run.py --port 8000 --redis-port 6379
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Dict, List, Optional

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, HttpUrl, ValidationError, model_validator
from redis.exceptions import RedisError

try:  # run as a package (uvicorn examples.opscore.standin.opscore_standin:app)
    from .degrade import Degradation, slow_get, slow_set
except ImportError:  # run from its own folder
    from degrade import Degradation, slow_get, slow_set

SAMPLE_WORKFLOW_FILE = Path(__file__).resolve().parent.parent / "sample_workflow.json"
TASK_QUEUE_LIMIT = 10_000  # upstream's queue is unbounded and never drained

log = logging.getLogger("opscore_standin")


# --------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class Settings:
    api_key: str
    redis_host: str
    redis_port: int
    log_level: str
    log_level_explicit: bool
    upstream_workflow_bug: bool
    degradation: Degradation

    @classmethod
    def from_env(cls) -> "Settings":
        level = os.getenv("LOG_LEVEL")
        return cls(
            api_key=os.getenv("OPSCORE_API_KEY") or "test-api-key",
            redis_host=os.getenv("REDIS_HOST") or "localhost",
            redis_port=int(os.getenv("REDIS_PORT") or "6379"),
            log_level=(level or "INFO").upper(),
            log_level_explicit=bool(level),
            upstream_workflow_bug=os.getenv("OPSCORE_UPSTREAM_WORKFLOW_BUG", "0") not in ("", "0"),
            degradation=Degradation.from_env(os.environ),
        )


SETTINGS = Settings.from_env()


def configure_logging(settings: Settings) -> None:
    """Plain one-line logs. uvicorn has set up its loggers before it imports
    the app, so an explicit LOG_LEVEL here also governs its access log."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(settings.log_level)
    if settings.log_level_explicit:
        logging.getLogger("uvicorn.access").setLevel(settings.log_level)


configure_logging(SETTINGS)
if SETTINGS.degradation.describe():
    log.warning("degraded on purpose: %s", SETTINGS.degradation.describe())


# --------------------------------------------------------------------------
# models: the same fields, defaults and validators as upstream opscore/models.py


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AgentRegistrationDetails(BaseModel):
    agentId: str
    agentName: str
    version: str
    capabilities: List[str] = []
    contactEndpoint: HttpUrl
    metadata: Dict[str, Any] = {}


class AgentInfo(AgentRegistrationDetails):
    agentId: str
    registrationTime: datetime = Field(default_factory=utc_now)


class AgentNotificationPayload(BaseModel):
    event_type: str
    agent_details: AgentRegistrationDetails


class AgentStateUpdatePayload(BaseModel):
    agentId: str
    timestamp: str
    state: str
    details: Optional[Dict[str, Any]] = None


class AgentState(BaseModel):
    agentId: str
    state: str
    details: Optional[Dict[str, Any]] = None
    timestamp: datetime = Field(default_factory=utc_now)


class WorkflowDefinition(BaseModel):
    id: str
    name: str
    description: Optional[str] = None
    version: str = "1.0"
    tasks: List[Dict[str, Any]]


class Task(BaseModel):
    taskId: str
    workflowId: str
    sessionId: str
    agentId: str
    taskDefinitionId: str
    payload: Dict[str, Any]
    status: str = "pending"
    retryCount: int = 0
    maxRetries: int = 3
    createdAt: datetime = Field(default_factory=utc_now)
    updatedAt: datetime = Field(default_factory=utc_now)


class WorkflowSession(BaseModel):
    sessionId: str = Field(default_factory=lambda: str(uuid.uuid4()))
    workflowId: str
    agentId: str
    startTime: datetime = Field(default_factory=utc_now)
    last_updated_time: datetime = Field(default_factory=utc_now)
    endTime: Optional[datetime] = None
    status: str = "started"
    metadata: Optional[Dict[str, Any]] = None
    result: Optional[Dict[str, Any]] = None
    error: Optional[str] = None


class WorkflowTriggerRequest(BaseModel):
    workflowDefinitionId: Optional[str] = None
    workflowDefinition: Optional[WorkflowDefinition] = None
    initialPayload: Optional[Dict[str, Any]] = None

    @model_validator(mode="before")
    @classmethod
    def check_definition_or_id(cls, data: Any) -> Any:
        # Upstream's exact rule: keys absent -> error; both truthy -> error.
        if isinstance(data, dict):
            if "workflowDefinitionId" not in data and "workflowDefinition" not in data:
                raise ValueError("Either workflowDefinitionId or workflowDefinition must be provided")
            if data.get("workflowDefinitionId") and data.get("workflowDefinition"):
                raise ValueError("Provide either workflowDefinitionId or workflowDefinition, not both")
        return data


class WorkflowTriggerResponse(BaseModel):
    sessionId: str
    workflowId: str
    message: str = "Workflow triggered successfully"


class StatusResponse(BaseModel):
    status: str = "success"
    message: Optional[str] = None


# --------------------------------------------------------------------------
# responses, rendered the way FastAPI's JSONResponse renders them


def json_bytes(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(json_bytes(content), status_code=status_code, media_type="application/json")


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    return json_response(model.model_dump(mode="json"), status_code)


def status_response(message: str) -> Response:
    return json_response({"status": "success", "message": message})


STATE_ACCEPTED_BODY = json_bytes({"status": "success", "message": "State update accepted"})
INTERNAL_ERROR_BODY = json_bytes({"detail": "Internal Server Error"})  # 34 bytes


class StorageError(Exception):
    """A Redis failure; answered with 500 {"detail": "Storage error: ..."}."""

    def __init__(self, message: str):
        super().__init__(f"Storage error: {message}")


class InternalServerError(Exception):
    """Answered with upstream's generic 500 body."""


# --------------------------------------------------------------------------
# storage: upstream's RedisStorage, one Redis command per method


class Store:
    def __init__(self, client: aioredis.Redis):
        self.redis = client

    async def _get(self, key: str, error: str) -> Optional[str]:
        try:
            if SETTINGS.degradation.slow_call():
                return await slow_get(self.redis, SETTINGS.degradation, key)
            return await self.redis.get(key)
        except RedisError as exc:
            raise StorageError(error) from exc

    async def _set(self, key: str, value: str, error: str, nx: bool = False) -> bool:
        try:
            if SETTINGS.degradation.slow_call():
                return bool(await slow_set(self.redis, SETTINGS.degradation, key, value, nx))
            return bool(await self.redis.set(key, value, nx=nx))
        except RedisError as exc:
            raise StorageError(error) from exc

    async def _read_model(self, model: type[BaseModel], key: str, error: str):
        """The stored model, or None when the key is absent or unparseable."""
        data = await self._get(key, error)
        if not data:
            return None
        try:
            return model.model_validate_json(data)
        except ValidationError:
            log.error("unparseable value at %s", key)
            return None

    async def save_registration(self, info: AgentInfo) -> None:
        await self._set(f"agent:{info.agentId}:registration", info.model_dump_json(),
                        f"Failed to save registration for agent {info.agentId} to Redis")

    async def read_registration(self, agent_id: str) -> Optional[AgentInfo]:
        return await self._read_model(AgentInfo, f"agent:{agent_id}:registration",
                                      f"Failed to read registration for agent {agent_id} from Redis")

    async def save_state(self, state: AgentState) -> None:
        await self._set(f"agent:{state.agentId}:latest_state", state.model_dump_json(),
                        f"Failed to save state for agent {state.agentId}")

    async def read_state(self, agent_id: str) -> Optional[AgentState]:
        return await self._read_model(AgentState, f"agent:{agent_id}:latest_state",
                                      f"Failed to read latest state for agent {agent_id} from Redis")

    async def create_session(self, session: WorkflowSession) -> None:
        error = f"Failed to save session {session.sessionId}"
        if not await self._set(f"session:{session.sessionId}", session.model_dump_json(), error, nx=True):
            raise StorageError(error)  # the session id already exists

    async def update_session(self, session_id: str, **changes: Any) -> None:
        error = f"Failed to update session {session_id}"
        session = await self._read_model(WorkflowSession, f"session:{session_id}", error)
        if session is None:
            raise StorageError(error)
        now = utc_now()
        changes["last_updated_time"] = now
        if changes.get("status") in ("completed", "failed", "cancelled"):
            changes.setdefault("endTime", now)
        updated = WorkflowSession(**{**session.model_dump(), **changes})
        await self._set(f"session:{session_id}", updated.model_dump_json(), error)

    async def save_workflow_definition(self, definition: WorkflowDefinition) -> None:
        await self._set(f"workflow_def:{definition.id}", definition.model_dump_json(),
                        f"Failed to save workflow definition {definition.id} to Redis")

    async def read_workflow_definition(self, workflow_id: str) -> Optional[WorkflowDefinition]:
        return await self._read_model(WorkflowDefinition, f"workflow_def:{workflow_id}",
                                      f"Failed to read workflow definition {workflow_id} from Redis")


async def get_store(request: Request) -> Store:
    return request.app.state.store


# --------------------------------------------------------------------------
# lifecycle: upstream's opscore/lifecycle.py, minus the logging


def parse_timestamp(timestamp: Optional[str]) -> datetime:
    """ISO-8601 with "Z" allowed; anything unparseable becomes "now"."""
    if timestamp:
        try:
            return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    return utc_now()


async def set_state(store: Store, agent_id: str, state: str,
                    details: Optional[Dict[str, Any]], timestamp: Optional[str] = None) -> None:
    """GET the registration (404 without one), then SET the latest state."""
    if await store.read_registration(agent_id) is None:
        raise HTTPException(404, f"Agent not found: {agent_id}")
    await store.save_state(AgentState(agentId=agent_id, state=state, details=details,
                                      timestamp=parse_timestamp(timestamp)))


async def register_agent(store: Store, details: AgentRegistrationDetails) -> None:
    """Save the registration (overwriting), then reset the state to UNKNOWN."""
    agent_id = details.agentId
    info = AgentInfo(**details.model_dump(), registrationTime=utc_now())
    try:
        await store.save_registration(info)
    except StorageError as exc:
        raise HTTPException(400, f"Registration error: Failed to save registration for agent {agent_id}") from exc
    SETTINGS.degradation.registered()
    try:
        await set_state(store, agent_id, "UNKNOWN", {"reason": "Initial registration"})
    except (StorageError, HTTPException) as exc:  # upstream logs this and still succeeds
        log.error("could not set the initial state of agent %s: %s", agent_id, exc)


async def start_session(store: Store, agent_id: str, workflow_id: str) -> WorkflowSession:
    if await store.read_registration(agent_id) is None:
        raise HTTPException(404, f"Agent not found: {agent_id}")
    session = WorkflowSession(agentId=agent_id, workflowId=workflow_id)
    await store.create_session(session)
    return session


# --------------------------------------------------------------------------
# workflow: definition lookup and the (never drained) first-task queue

task_queue: deque = deque(maxlen=TASK_QUEUE_LIMIT)


async def resolve_definition(store: Store, request: WorkflowTriggerRequest) -> WorkflowDefinition:
    """The definition by id (404 if unknown) or inline (saved if new). With
    the upstream-bug switch, fail where upstream's first storage call raises
    NameError: after auth and validation, before the agent is looked up."""
    if request.workflowDefinitionId:
        if SETTINGS.upstream_workflow_bug:
            raise InternalServerError()
        definition = await store.read_workflow_definition(request.workflowDefinitionId)
        if definition is None:
            raise HTTPException(404, f"Workflow definition not found: {request.workflowDefinitionId}")
    elif request.workflowDefinition is not None:
        if SETTINGS.upstream_workflow_bug:
            raise InternalServerError()
        definition = request.workflowDefinition
        if await store.read_workflow_definition(definition.id) is None:
            await store.save_workflow_definition(definition)
    else:  # e.g. {"workflowDefinitionId": null}: passes the model's validator
        raise HTTPException(400, "Missing workflowDefinitionId or workflowDefinition")
    if not definition.id:
        raise HTTPException(500, "Internal error resolving workflow definition.")
    return definition


def enqueue_first_task(definition: WorkflowDefinition, session: WorkflowSession,
                       initial_payload: Optional[Dict[str, Any]]) -> None:
    """Validate the first task as a Task and queue it; ValidationError if invalid."""
    first = definition.tasks[0]
    task = Task(
        taskId=f"task_{uuid.uuid4()}",
        workflowId=definition.id,
        sessionId=session.sessionId,
        agentId=session.agentId,
        taskDefinitionId=first.get("taskId"),
        payload=initial_payload or first.get("parameters", {}),
    )
    task_queue.append(task)


# --------------------------------------------------------------------------
# the app


async def preload_sample_workflow(store: Store) -> None:
    """Make "sample_workflow_id" resolvable by id, as upstream intended."""
    try:
        definition = WorkflowDefinition.model_validate_json(SAMPLE_WORKFLOW_FILE.read_text())
        await store.save_workflow_definition(definition)
        log.info("preloaded workflow definition %s", definition.id)
    except (OSError, ValidationError, StorageError) as exc:
        log.error("could not preload %s: %s", SAMPLE_WORKFLOW_FILE, exc)


@asynccontextmanager
async def lifespan(app: FastAPI):
    client = aioredis.Redis(host=SETTINGS.redis_host, port=SETTINGS.redis_port, decode_responses=True)
    app.state.store = Store(client)
    if not SETTINGS.upstream_workflow_bug:  # upstream's own preload fails
        await preload_sample_workflow(app.state.store)
    try:
        yield
    finally:
        await client.aclose()


class ProcessTimeMiddleware:
    """Adds X-Process-Time (server seconds) to every response and turns an
    unhandled exception into upstream's 500 {"detail":"Internal Server Error"}.
    Plain ASGI: Starlette's BaseHTTPMiddleware costs too much per request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        started = False
        SETTINGS.degradation.start_request(scope["path"])

        async def timed_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                elapsed = str(time.perf_counter() - start).encode()
                message = {**message, "headers": [*message.get("headers", ()), (b"x-process-time", elapsed)]}
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            if started:
                raise
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            await timed_send({"type": "http.response.start", "status": 500, "headers": [
                (b"content-length", str(len(INTERNAL_ERROR_BODY)).encode()),
                (b"content-type", b"application/json")]})
            await timed_send({"type": "http.response.body", "body": INTERNAL_ERROR_BODY})


app = FastAPI(
    title="Ops-Core API",
    description="Stand-in for the Ops-Core API (agent lifecycles and workflows).",
    version="0.1.0",
    lifespan=lifespan,
)
app.add_middleware(ProcessTimeMiddleware)


@app.exception_handler(StorageError)
async def storage_error_handler(_request: Request, exc: StorageError) -> Response:
    return json_response({"detail": str(exc)}, 500)


@app.exception_handler(InternalServerError)
async def internal_error_handler(request: Request, _exc: InternalServerError) -> Response:
    # upstream's workflow handler dies on the storage module's removed dicts
    log.error("%s %s: NameError: name '_workflow_definitions' is not defined", request.method, request.url.path)
    return Response(INTERNAL_ERROR_BODY, status_code=500, media_type="application/json")


async def verify_api_key(request: Request) -> str:
    """Bearer auth: scheme case-insensitive, token compared exactly. (The
    header is read directly: a Header() parameter costs more per request.)"""
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise HTTPException(401, "Authorization header missing")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token != SETTINGS.api_key:
        raise HTTPException(401, "Invalid authentication credentials")
    return token


AUTH = [Depends(verify_api_key)]  # runs before body validation: 401 beats 422
StoreDep = Annotated[Store, Depends(get_store)]


@app.get("/health", tags=["Health"])
async def health_check() -> Response:
    return json_response({"status": "ok"})


@app.post("/v1/opscore/internal/agent/notify", response_model=StatusResponse,
          tags=["Internal", "Agent Lifecycle"])
async def agent_notification(payload: AgentNotificationPayload, store: StoreDep) -> Response:
    event = payload.event_type.upper()
    if event == "REGISTER":
        agent_id = payload.agent_details.agentId
        if not agent_id:
            raise HTTPException(400, "Missing agentId in agent_details for REGISTER event.")
        await register_agent(store, payload.agent_details)
        return status_response(f"Agent {agent_id} registered successfully.")
    if event == "DEREGISTER":
        return status_response("DEREGISTER notification received but not fully processed.")
    raise HTTPException(400, f"Unknown event type: {payload.event_type}")


@app.post("/v1/opscore/agent/{agent_id}/state", status_code=202, dependencies=AUTH,
          tags=["Agent Lifecycle"])
async def update_agent_state(agent_id: str, state_update: AgentStateUpdatePayload,
                             store: StoreDep) -> Response:
    if agent_id != state_update.agentId:
        raise HTTPException(400, "Agent ID in path does not match agent ID in payload")
    await set_state(store, agent_id, state_update.state, state_update.details, state_update.timestamp)
    return Response(STATE_ACCEPTED_BODY, status_code=202, media_type="application/json")


@app.get("/v1/opscore/agent/{agent_id}/state", response_model=AgentState, dependencies=AUTH,
         tags=["Agent Lifecycle"])
async def get_agent_state(agent_id: str, store: StoreDep) -> Response:
    state = await store.read_state(agent_id)
    if state is None:
        raise HTTPException(404, f"No state found for agent {agent_id}")
    return model_response(state)


@app.post("/v1/opscore/agent/{agent_id}/workflow", response_model=WorkflowTriggerResponse,
          status_code=202, dependencies=AUTH, tags=["Workflow Orchestration"])
async def trigger_workflow(agent_id: str, trigger_request: WorkflowTriggerRequest,
                           store: StoreDep) -> Response:
    definition = await resolve_definition(store, trigger_request)
    session = await start_session(store, agent_id, definition.id)
    if not definition.tasks:
        await store.update_session(session.sessionId, status="completed",
                                   result={"message": "Workflow has no tasks"})
        message = "Workflow triggered but has no tasks."
    else:
        try:
            enqueue_first_task(definition, session, trigger_request.initialPayload)
        except ValidationError as exc:
            await mark_session_failed(store, session.sessionId, f"Invalid task data: {exc}")
            raise HTTPException(400, f"Invalid task data: {exc}") from exc
        message = "Workflow triggered successfully"
    response = WorkflowTriggerResponse(sessionId=session.sessionId, workflowId=definition.id, message=message)
    return model_response(response, 202)


async def mark_session_failed(store: Store, session_id: str, error: str) -> None:
    try:
        await store.update_session(session_id, status="failed", error=error)
    except StorageError as exc:  # upstream logs this and answers with the original error
        log.error("could not mark session %s failed: %s", session_id, exc)
