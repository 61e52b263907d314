/*
 * coro.c - the functions liblw calls for every Lua class (on_start, each
 * task, on_stop), the user objects, and the coroutines they run in: the
 * bottom of the binding, calling none of its other files (a response
 * resumes a coroutine through lwlua_resume: client.c, async.c).
 *
 * Each user has one coroutine, reused from task to task. A phase function
 * starts the script's method in it; when the method sends a request the
 * coroutine yields (client.c) and liblw sees a phase with a request in
 * flight; the response callback resumes it, so the script reads and judges
 * the response before liblw records it. When the method returns, the phase
 * is over as soon as no request is in flight.
 *
 * An error in a method goes to the master's Exceptions tab with the Lua
 * traceback, taken where it happened (the method runs under xpcall); the
 * user goes on with its next task. A run between two waits is limited in
 * instructions (a count hook; LuaJIT calls hooks only outside compiled code,
 * so script.c turns the JIT off while a limit is set): an endless loop ends
 * as such an error, and the loop (heartbeats, other users) goes on.
 */
#include <stdio.h>
#include <string.h>

#include "lwlua.h"

#define HOOK_STEP 1000 /* instructions between two calls of the hook */

/* Runs a method under xpcall, so that the traceback is taken where the error
 * happened (the coroutine's stack still has its lines then). */
static const char runner_src[] =
    "local xpcall, traceback = xpcall, debug.traceback\n"
    "local function handler(e)\n"
    "  if type(e) ~= 'string' then e = '(error object is a ' .. type(e) .. ' value)' end\n"
    "  return (traceback(e, 2):gsub('\\n%s*%[C%]: in function .xpcall.*$', ''))\n"
    "end\n"
    "return function(fn, self)\n"
    "  local ok, err = xpcall(fn, handler, self)\n"
    "  if not ok then return err end\n"
    "end\n";

static lua_State *G; /* the process's state */
static int runner_ref = LUA_NOREF;
static long limit; /* instructions per run; 0: none */
static long ticks; /* hook calls in the current run */
static int in_run; /* a user's coroutine runs now */

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (in_run && limit > 0 && ++ticks * HOOK_STEP > limit) {
        char msg[200];
        ticks = 0;
        snprintf(msg, sizeof msg,
                 "the task ran %ld Lua instructions without waiting for a "
                 "response (an endless loop?): stopped (LW_LUA_INSTRUCTION_LIMIT)",
                 limit);
        luaL_where(L, 0); /* in a hook, level 0 is the running function */
        lua_pushstring(L, msg);
        lua_concat(L, 2);
        lua_error(L);
    }
}

int lwlua_coro_init(lua_State *L, long instruction_limit)
{
    G = L;
    limit = instruction_limit;
    if (luaL_loadbuffer(L, runner_src, sizeof runner_src - 1, "=lw") != 0 ||
        lua_pcall(L, 0, 1, 0) != 0) {
        return -1;
    }
    runner_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (limit > 0) {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
    }
    return 0;
}

static void drop_coroutine(lwlua_user *lu)
{
    luaL_unref(G, LUA_REGISTRYINDEX, lu->co_ref);
    lu->co_ref = LUA_NOREF;
    lu->co = NULL;
    lu->waiting = 0;
    lu->wait_handle = NULL;
}

/* on_stop has ended: the user object and its coroutine go. */
static void release_user(lwlua_user *lu)
{
    if (lu->client) {
        ((lwlua_client *)lu->client)->u = NULL;
    }
    drop_coroutine(lu);
    luaL_unref(G, LUA_REGISTRYINDEX, lu->self_ref);
    luaL_unref(G, LUA_REGISTRYINDEX, lu->pending_ref);
    lu->self_ref = lu->pending_ref = LUA_NOREF;
    lu->client = NULL;
}

/* An error the runner did not catch (it has no handler of its own). */
static void report_error(lw_user *u, lwlua_user *lu)
{
    const char *msg = lua_tostring(lu->co, -1);
    luaL_traceback(G, lu->co, msg ? msg : "(error object is not a string)", 0);
    lw_user_exception(u, lua_tostring(G, -1));
    lua_pop(G, 1);
}

lua_State *lwlua_state(void)
{
    return G;
}

void lwlua_resume(lw_user *u, lwlua_user *lu, int nargs)
{
    lu->running = 1;
    in_run = 1;
    ticks = 0;
    int rc = lua_resume(lu->co, nargs);
    in_run = 0;
    lu->running = 0;
    lu->resp = NULL; /* a response is judged before the next wait */
    if (rc == LUA_YIELD && lu->waiting) {
        return;
    }
    if (rc == LUA_YIELD) {
        lua_pushstring(lu->co, "coroutine.yield() outside a request: a task waits only "
                               "for its own requests");
        rc = LUA_ERRRUN;
    }
    if (rc != 0) {
        report_error(u, lu);
        drop_coroutine(lu);
    } else {
        if (lua_isstring(lu->co, -1)) { /* the runner caught an error */
            lw_user_exception(u, lua_tostring(lu->co, -1));
        }
        lua_settop(lu->co, 0); /* finished: kept for the next task */
    }
    if (lu->stopping) {
        release_user(lu);
    }
}

/* Starts method fn (on the stack of G) with self in the user's coroutine. */
static void start(lw_user *u, lwlua_user *lu)
{
    if (!lu->co) {
        lu->co = lua_newthread(G);
        lu->co_ref = luaL_ref(G, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(lu->co, LUA_REGISTRYINDEX, runner_ref);
    lua_xmove(G, lu->co, 1);
    lua_rawgeti(lu->co, LUA_REGISTRYINDEX, lu->self_ref);
    lwlua_resume(u, lu, 2);
}

void lwlua_run_check(lw_user *u)
{
    lua_rawgeti(G, LUA_REGISTRYINDEX, runner_ref);
    lua_insert(G, -3);
    in_run = 1;
    ticks = 0;
    int rc = lua_pcall(G, 2, 1, 0);
    in_run = 0;
    if (rc != 0 || lua_isstring(G, -1)) {
        const char *msg = lua_tostring(G, -1);
        lw_user_exception(u, msg ? msg : "(error object is not a string)");
    }
    lua_pop(G, 1);
}

/* Pushes the class method `name` or returns 0 when the class has none. */
static int push_method(lw_user *u, const char *name)
{
    const lwlua_class *c = lw_user_class_of(u)->arg;
    lua_rawgeti(G, LUA_REGISTRYINDEX, c->class_ref);
    lua_getfield(G, -1, name);
    lua_remove(G, -2);
    if (lua_isfunction(G, -1)) {
        return 1;
    }
    lua_pop(G, 1);
    return 0;
}

/* Pushes a new client userdata (self.client; its methods: client.c) bound
 * to u. */
static lwlua_client *push_client(lw_user *u)
{
    lwlua_client *c = lua_newuserdata(G, sizeof *c);
    c->u = u;
    c->typed = 0;
    luaL_getmetatable(G, LWLUA_CLIENT_MT);
    lua_setmetatable(G, -2);
    return c;
}

/* The user object: a table whose metatable is the class, with self.client. */
void lwlua_on_start(lw_user *u)
{
    lwlua_user *lu = lw_user_data(u);
    const lwlua_class *c = lw_user_class_of(u)->arg;
    lu->co_ref = lu->self_ref = lu->pending_ref = LUA_NOREF;
    lua_createtable(G, 0, 2);
    lu->client = push_client(u);
    lua_setfield(G, -2, "client");
    lua_rawgeti(G, LUA_REGISTRYINDEX, c->class_ref);
    lua_setmetatable(G, -2);
    lu->self_ref = luaL_ref(G, LUA_REGISTRYINDEX);
    if (push_method(u, "on_start")) {
        start(u, lu);
    }
}

void lwlua_task(lw_user *u)
{
    lwlua_user *lu = lw_user_data(u);
    const lw_task *t = lw_current_task(u);
    const lw_user_class *uc = lw_user_class_of(u);
    const lwlua_class *c = uc->arg;
    if (!t || lu->self_ref == LUA_NOREF) {
        return;
    }
    lua_rawgeti(G, LUA_REGISTRYINDEX, c->task_refs[t - uc->tasks]);
    start(u, lu);
}

void lwlua_on_stop(lw_user *u)
{
    lwlua_user *lu = lw_user_data(u);
    if (lu->self_ref == LUA_NOREF) {
        return;
    }
    if (lu->waiting) {
        drop_coroutine(lu); /* its request was cancelled: it never resumes */
    }
    lu->stopping = 1;
    if (push_method(u, "on_stop")) {
        start(u, lu);
    } else {
        release_user(lu);
    }
}

lw_user *lwlua_user_of(lua_State *L, int idx)
{
    if (!lua_istable(L, idx)) {
        return NULL;
    }
    lua_getfield(L, idx, "client");
    lwlua_client *c = luaL_testudata(L, -1, LWLUA_CLIENT_MT);
    lua_pop(L, 1);
    return c ? c->u : NULL;
}

lw_user *lwlua_running_user(lua_State *L, const char *what)
{
    lw_user *u = lwlua_user_of(L, 1);
    if (!u) {
        luaL_error(L, "%s: not a running user", what);
    }
    return u;
}

int lwlua_push_or_nil(lua_State *L, const char *s)
{
    if (s) {
        lua_pushstring(L, s);
    } else {
        lua_pushnil(L);
    }
    return 1;
}
