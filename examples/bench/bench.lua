-- bench.lua - the benchmark's classes in Lua (build/lua-worker), the same
-- names and waits as bench.c and locustfile.py: every class does GET / and
-- nothing else. The Fast... classes use the fast HTTP client.
local lw = require "lw"

local function index(self)
    self.client:get("/")
end

local classes = {
    BenchUser = {wait_time = lw.constant(0)},
    FastBenchUser = {wait_time = lw.constant(0), client = "fast"},
    PacedUser = {wait_time = lw.between(5, 10)},
    FastPacedUser = {wait_time = lw.between(5, 10), client = "fast"},
}

for _, name in ipairs({"BenchUser", "FastBenchUser", "PacedUser", "FastPacedUser"}) do
    local cls = lw.user(name, classes[name])
    cls.index = index
    cls.tasks = {index = 1}
end
