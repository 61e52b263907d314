/*
 * async.c - several requests of one task in flight together:
 *
 *   local a = self.client:async("GET", "/a", {name = "a"})
 *   local b = self.client:async("POST", "/b", {json = {...},
 *                               check = function(r) ... r:failure(...) end})
 *   local ra, rb = a:wait(), b:wait()
 *
 * async() sends the request and returns a handle at once. When the response
 * arrives, the request's check function (optional; it may not send requests
 * or wait) reads and judges it, as a synchronous request's caller does, and
 * liblw records it; wait() returns that response (read-only: status, body,
 * elapsed_ms, ok, error), suspending the task until it arrives. A task ends
 * when its function has returned and none of its requests is in flight.
 *
 * The handles in flight are kept in a per-user table (lwlua_user.pending_ref),
 * keyed by their address, which the response callback gets as its arg.
 */
#include <string.h>

#include "lwlua.h"

typedef struct {
    int done; /* the response has arrived (or the request never started) */
} lwlua_async;

/* self.client:async(method, path [, opts]): opts as for get/post, plus check. */
static int l_async(lua_State *L)
{
    char method[16];
    lwlua_request a;
    lwlua_method(L, 2, method);
    lwlua_client *c = lwlua_read_request(L, method, 3, &a);
    lwlua_user *lu = lw_user_data(c->u);
    int top = lua_gettop(L);
    lwlua_async *h = lua_newuserdata(L, sizeof *h);
    h->done = 0;
    luaL_getmetatable(L, LWLUA_ASYNC_MT);
    lua_setmetatable(L, -2);
    lua_createtable(L, 0, 3); /* its environment: client, check, response */
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "client");
    if (lua_istable(L, 4)) {
        lua_getfield(L, 4, "check");
        luaL_argcheck(L, lua_isnil(L, -1) || lua_isfunction(L, -1), 4, "check must be a function");
        lua_setfield(L, -2, "check");
    }
    lua_setfenv(L, top + 1);
    a.req.on_response = lwlua_on_async;
    a.req.arg = h;
    if (lw_request_send(c->u, &a.req) != 0) {
        h->done = 1;
        lua_getfenv(L, top + 1);
        lwlua_not_sent(L);
        lua_setfield(L, -2, "response");
        lua_pop(L, 1);
        return 1;
    }
    if (lu->pending_ref == LUA_NOREF) {
        lua_newtable(L);
        lu->pending_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, lu->pending_ref);
    lua_pushlightuserdata(L, h);
    lua_pushvalue(L, top + 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

/* handle:wait(): its response, at once or when it arrives. */
static int l_wait(lua_State *L)
{
    lwlua_async *h = luaL_checkudata(L, 1, LWLUA_ASYNC_MT);
    lua_getfenv(L, 1);
    if (h->done) {
        lua_getfield(L, -1, "response");
        return 1;
    }
    lua_getfield(L, -1, "client");
    lwlua_client *c = luaL_testudata(L, -1, LWLUA_CLIENT_MT);
    lwlua_user *lu = c && c->u ? lw_user_data(c->u) : NULL;
    if (!lu || L != lu->co || !lu->running) {
        return luaL_error(L, "wait() is called from the task of the user that sent the request");
    }
    lu->waiting = 1;
    lu->wait_handle = h;
    return lua_yield(L, 0);
}

/* The handle of arg, taken off the user's table of requests in flight and
 * pushed; 0 when there is none (the user has ended). */
static int take_pending(lua_State *L, lwlua_user *lu, void *arg)
{
    if (lu->self_ref == LUA_NOREF || lu->pending_ref == LUA_NOREF) {
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, lu->pending_ref);
    lua_pushlightuserdata(L, arg);
    lua_rawget(L, -2);
    lua_pushlightuserdata(L, arg);
    lua_pushnil(L);
    lua_rawset(L, -4);
    lua_remove(L, -2);
    if (!lua_isuserdata(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

void lwlua_on_async(lw_user *u, lw_response *r, void *arg)
{
    lwlua_user *lu = lw_user_data(u);
    lua_State *L = lwlua_state();
    int top = lua_gettop(L);
    if (!take_pending(L, lu, arg)) {
        return;
    }
    ((lwlua_async *)arg)->done = 1;
    lua_getfenv(L, top + 1); /* top + 2 */
    lu->resp = r;
    lu->resp_seq++;
    lwlua_push_response(L, lu, r); /* top + 3 */
    lua_getfield(L, top + 2, "check");
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, top + 3);
        lwlua_run_check(u);
    } else {
        lua_pop(L, 1);
    }
    lu->resp = NULL;
    lua_pushvalue(L, top + 3);
    lua_setfield(L, top + 2, "response");
    if (lu->wait_handle == arg && lu->waiting && lu->co && !lu->running) {
        lu->wait_handle = NULL;
        lu->waiting = 0;
        lua_xmove(L, lu->co, 1); /* the response */
        lua_settop(L, top);
        lwlua_resume(u, lu, 1);
        return;
    }
    lua_settop(L, top);
}

void lwlua_async_open(lua_State *L)
{
    luaL_getmetatable(L, LWLUA_CLIENT_MT);
    lua_getfield(L, -1, "__index");
    lua_pushcfunction(L, l_async);
    lua_setfield(L, -2, "async");
    lua_pop(L, 2);
    luaL_newmetatable(L, LWLUA_ASYNC_MT);
    lua_newtable(L);
    lua_pushcfunction(L, l_wait);
    lua_setfield(L, -2, "wait");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
