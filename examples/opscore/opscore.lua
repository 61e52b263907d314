-- opscore.lua - the Ops-Core scenario pack's user classes in Lua:
--
--   build/lua-worker examples/opscore/opscore.lua --master-host 127.0.0.1
--
-- The same classes, waits, request names, bodies, expected statuses and
-- failure texts as opscore.c and locustfile.py, so that C, Lua and Python
-- workers on one master give one row per endpoint:
--
--   QuickStateUser   Scenario 0      between(1, 2)    POST state
--   StateUpdateUser  Scenario 1      between(5, 10)   POST state
--   WorkflowUser     Scenario 2      between(30, 60)  POST workflow
--   MixedUser        Scenarios 3, 4  between(1, 5)    POST state 80,
--                                                     GET state 15, POST workflow 5
--
-- Every user registers its own agent (a UUID4, after the master's
-- --agent-prefix if any) in on_start, then sends its requests with
-- "Authorization: Bearer $OPSCORE_API_KEY" (default test-api-key). An
-- unexpected status is a failure "HTTP <status>: <detail>". Task names and
-- tags are the locustfile's (the class picker selects tasks by name; the
-- master's --tags / --exclude-tags filter them).
local lw = require "lw"

local NAME_NOTIFY = "/v1/opscore/internal/agent/notify"
local NAME_STATE = "/v1/opscore/agent/[id]/state"
local NAME_WORKFLOW = "/v1/opscore/agent/[id]/workflow"
local STATES = {"idle", "active", "error", "finished"}

local api_key = lw.env("OPSCORE_API_KEY", "test-api-key")
if #api_key > 500 then
    error("OPSCORE_API_KEY is too long", 0)
end

-- The workflow definition, read next to this script.
local function read_workflow()
    local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
    local f = assert(io.open(dir .. "sample_workflow.json", "rb"))
    local text = f:read("*a")
    f:close()
    lw.json.decode(text)   -- fails at load time when it is not JSON
    return '{"workflowDefinition":' .. text .. "}"   -- as opscore.c sends it
end
local WORKFLOW_BODY = read_workflow()

-- "HTTP <status>: <detail>": the JSON "detail" when it is a string, else a
-- short excerpt (of the detail as JSON, or of the body).
local function failure_text(status, body)
    local ok, parsed = pcall(lw.json.decode, body)
    local detail = ok and type(parsed) == "table" and parsed.detail or nil
    local text
    if type(detail) == "string" then
        text = detail
    elseif detail ~= nil and detail ~= lw.json.null then
        text = lw.json.encode(detail):sub(1, 120)
    else
        text = body:sub(1, 120)
    end
    return ("HTTP %d: %s"):format(status, text)
end

-- The expected status is a success, any other status a failure; a transport
-- error (status 0) keeps its own text.
local function check_status(r, expected)
    if r.status == expected then
        r:success()
    elseif r.status ~= 0 then
        r:failure(failure_text(r.status, r.body))
    end
end

local function iso_now()
    local t = lw.time()
    local s = math.floor(t)
    return os.date("!%Y-%m-%dT%H:%M:%S", s) .. (".%06d+00:00"):format(math.floor((t - s) * 1e6))
end

local function agent_path(self, leaf)
    return "/v1/opscore/agent/" .. self.agent_id .. "/" .. leaf
end

local function register_agent(self)
    local id = (self:option("agent_prefix") or ""):sub(1, 64) .. lw.uuid4()
    self.agent_id = id
    self.client:add_header("Authorization", "Bearer " .. api_key)
    self.client:add_header("Content-Type", "application/json")
    local body = ('{"event_type":"REGISTER","agent_details":{"agentId":"%s",'
        .. '"agentName":"LoadTestAgent-%s","version":"1.0",'
        .. '"capabilities":["state_reporting","test_capability","another_capability"],'
        .. '"contactEndpoint":"http://fake-agent-%s.local/run",'
        .. '"metadata":{"load_test_user":"%s"}}}'):format(id, id, id, id)
    local r = self.client:post(NAME_NOTIFY, {name = NAME_NOTIFY, body = body})
    check_status(r, 200)
end

local function post_state(self)
    local body = ('{"agentId":"%s","timestamp":"%s","state":"%s",'
        .. '"details":{"load_test":true,"user":"user-%s"}}'):format(
        self.agent_id, iso_now(), STATES[lw.random(4)], self.agent_id)
    local r = self.client:post(agent_path(self, "state"), {name = NAME_STATE, body = body})
    check_status(r, 202)
end

local function get_state(self)
    local r = self.client:get(agent_path(self, "state"), {name = NAME_STATE})
    check_status(r, 200)
end

local function post_workflow(self)
    local r = self.client:post(agent_path(self, "workflow"),
                               {name = NAME_WORKFLOW, body = WORKFLOW_BODY})
    check_status(r, 202)
end

local TAGS = {
    state_update = {"state", "write"},
    state_read = {"state", "read"},
    trigger_workflow = {"workflow", "write"},
}

local function opscore_class(name, wait_time, tasks)
    local cls = lw.user(name, {wait_time = wait_time, tasks = tasks, tags = TAGS})
    cls.on_start = register_agent
    cls.state_update = post_state
    cls.state_read = get_state
    cls.trigger_workflow = post_workflow
    return cls
end

opscore_class("QuickStateUser", lw.between(1, 2), {state_update = 1})
opscore_class("StateUpdateUser", lw.between(5, 10), {state_update = 1})
opscore_class("WorkflowUser", lw.between(30, 60), {trigger_workflow = 1})
opscore_class("MixedUser", lw.between(1, 5), {state_update = 80, state_read = 15, trigger_workflow = 5})
