-- hello.lua - the smallest Lua script: one user class, HelloUser, whose only
-- task is GET /, like examples/hello/hello.c and locustfile.py.
--
--   locust -f examples/hello/locustfile.py --master --host http://127.0.0.1:8080
--   build/lua-worker examples/hello/hello.lua --master-host 127.0.0.1
local lw = require "lw"

local HelloUser = lw.user("HelloUser", {wait_time = lw.constant(1)})

function HelloUser:get_root()   -- the locustfile's task name
    self.client:get("/")
end

HelloUser.tasks = {get_root = 1}
