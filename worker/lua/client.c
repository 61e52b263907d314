/*
 * client.c - self.client and the response objects of the Lua binding.
 *
 *   r = self.client:get(path [, opts])      also post, put, patch, delete,
 *   r = self.client:request(method, path [, opts])      head, options
 *   opts: name, headers = {Name = value}, body (string), json (a value sent
 *         as JSON with Content-Type: application/json), timeout (seconds)
 *   self.client:add_header(name, value)     a default header of the session
 *
 * A request yields the user's coroutine; it resumes with the response:
 * r.status (0: no response), r.body, r.elapsed_ms, r.ok, r.error (the
 * default verdict's text), r:header(name) / r.headers[name], r:json(),
 * r:success(), r:failure(msg). The verdict and the headers are there until
 * the task's next request or its end: then liblw records the response.
 * self.client:async() is in async.c, which adds itself to the methods
 * registered here. A request's coroutine is resumed through coro.c.
 */
#include <string.h>
#include <strings.h>

#include "lwlua.h"

#define MAX_HEADERS LWLUA_MAX_HEADERS

typedef lwlua_request request_args;

static lwlua_client *check_client(lua_State *L)
{
    lwlua_client *c = luaL_checkudata(L, 1, LWLUA_CLIENT_MT);
    if (!c->u) {
        luaL_error(L, "this user has stopped: its client sends no more requests");
    }
    return c;
}

/* headers = {Name = value}: "Name: value" strings kept on the stack. */
static void read_headers(lua_State *L, int opts, request_args *a)
{
    lua_getfield(L, opts, "headers");
    int t = lua_gettop(L);
    if (lua_isnil(L, t)) {
        return;
    }
    luaL_argcheck(L, lua_istable(L, t), 3, "headers must be a table {Name = value}");
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
        const char *name = lua_tostring(L, -2), *value = lua_tostring(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING || !value) {
            luaL_error(L, "headers must be a table {Name = value} of strings");
        }
        if (a->nheaders == MAX_HEADERS) {
            luaL_error(L, "more than %d headers", MAX_HEADERS);
        }
        a->typed |= strcasecmp(name, "content-type") == 0;
        a->headers[a->nheaders++] = lua_pushfstring(L, "%s: %s", name, value);
        lua_insert(L, t); /* kept below the table until the request is sent */
        t++;
    }
}

static void read_body(lua_State *L, int opts, request_args *a)
{
    lua_getfield(L, opts, "body");
    if (!lua_isnil(L, -1)) {
        a->req.body = luaL_checklstring(L, -1, &a->req.body_len);
        if (a->req.body_len == 0) {
            a->req.body = "";
        }
        return;
    }
    lua_getfield(L, opts, "json");
    if (lua_isnil(L, -1)) {
        return;
    }
    lua_getfield(L, LUA_GLOBALSINDEX, "lw");
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "encode");
    lua_pushvalue(L, -4);
    lua_call(L, 1, 1);
    a->req.body = lua_tolstring(L, -1, &a->req.body_len);
    if (!a->typed && a->nheaders < MAX_HEADERS) {
        a->headers[a->nheaders++] = "Content-Type: application/json";
    }
}

static void read_opts(lua_State *L, int opts, request_args *a)
{
    if (lua_isnoneornil(L, opts)) {
        return;
    }
    luaL_checktype(L, opts, LUA_TTABLE);
    lua_getfield(L, opts, "name");
    a->req.name = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_getfield(L, opts, "timeout");
    a->req.timeout = lua_isnil(L, -1) ? 0 : luaL_checknumber(L, -1);
    read_headers(L, opts, a);
    read_body(L, opts, a);
}

/* A response object for a request that was not sent (liblw has logged why,
 * when it was a failure rather than a stopping user). */
int lwlua_not_sent(lua_State *L)
{
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "status");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, 0);
    lua_setfield(L, -2, "elapsed_ms");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "ok");
    lua_pushliteral(L, "the request was not sent (the user is stopping, or it could not start)");
    lua_setfield(L, -2, "error");
    luaL_getmetatable(L, LWLUA_RESPONSE_MT);
    lua_setmetatable(L, -2);
    return 1;
}

lwlua_client *lwlua_read_request(lua_State *L, const char *method, int path_idx, lwlua_request *a)
{
    lwlua_client *c = check_client(L);
    lwlua_user *lu = lw_user_data(c->u);
    memset(a, 0, sizeof *a);
    a->req.method = method;
    a->typed = c->typed;
    a->req.path = luaL_checkstring(L, path_idx);
    if (L != lu->co || !lu->running) {
        luaL_error(L, "requests are sent from the user's own task, on_start or on_stop "
                      "(not from another coroutine)");
    }
    read_opts(L, path_idx + 1, a);
    a->headers[a->nheaders] = NULL;
    a->req.headers = a->nheaders ? a->headers : NULL;
    return c;
}

static int send_request(lua_State *L, const char *method, int path_idx)
{
    request_args a;
    lwlua_client *c = lwlua_read_request(L, method, path_idx, &a);
    a.req.on_response = lwlua_on_response;
    if (lw_request_send(c->u, &a.req) != 0) {
        return lwlua_not_sent(L);
    }
    ((lwlua_user *)lw_user_data(c->u))->waiting = 1;
    return lua_yield(L, 0);
}

#define METHOD(fn, m)                 \
    static int fn(lua_State *L)       \
    {                                 \
        return send_request(L, m, 2); \
    }
METHOD(l_get, "GET")
METHOD(l_post, "POST")
METHOD(l_put, "PUT")
METHOD(l_patch, "PATCH")
METHOD(l_delete, "DELETE")
METHOD(l_head, "HEAD")
METHOD(l_options, "OPTIONS")

void lwlua_method(lua_State *L, int idx, char out[16])
{
    const char *m = luaL_checkstring(L, idx);
    size_t n = strlen(m);
    luaL_argcheck(L, n > 0 && n < 16, idx, "not an HTTP method");
    for (size_t i = 0; i <= n; i++) {
        out[i] = (char)(m[i] >= 'a' && m[i] <= 'z' ? m[i] - 32 : m[i]);
    }
}

static int l_request(lua_State *L)
{
    char method[16];
    lwlua_method(L, 2, method);
    return send_request(L, method, 3);
}

static int l_add_header(lua_State *L)
{
    lwlua_client *c = check_client(L);
    const char *name = luaL_checkstring(L, 2), *value = luaL_checkstring(L, 3);
    lua_pushfstring(L, "%s: %s", name, value);
    c->typed |= strcasecmp(name, "content-type") == 0;
    if (lw_user_add_header(c->u, lua_tostring(L, -1)) != 0) {
        return luaL_error(L, "out of memory adding a header");
    }
    return 0;
}

/* ---- responses ---- */

/* The open lw_response behind response object 1, or an error. */
static lw_response *open_response(lua_State *L, const char *what)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "_client");
    lwlua_client *c = luaL_testudata(L, -1, LWLUA_CLIENT_MT);
    lua_getfield(L, 1, "_seq");
    unsigned seq = (unsigned)lua_tonumber(L, -1);
    lua_pop(L, 2);
    lwlua_user *lu = c && c->u ? lw_user_data(c->u) : NULL;
    if (!lu || !lu->resp || lu->resp_seq != seq) {
        luaL_error(L,
                   "%s: only until the task's next request or its end (the response "
                   "is recorded then; an async request's: in its check)",
                   what);
    }
    return lu->resp;
}

static int r_success(lua_State *L)
{
    lw_response_success(open_response(L, "r:success()"));
    lua_pushboolean(L, 1);
    lua_setfield(L, 1, "ok");
    return 0;
}

static int r_failure(lua_State *L)
{
    lw_response *r = open_response(L, "r:failure()");
    const char *msg = luaL_checkstring(L, 2);
    lw_response_failure(r, "%s", msg);
    lua_pushboolean(L, 0);
    lua_setfield(L, 1, "ok");
    return 0;
}

static int r_header(lua_State *L)
{
    lw_response *r = open_response(L, "r:header()");
    return lwlua_push_or_nil(L, lw_response_header(r, luaL_checkstring(L, 2)));
}

static int r_json(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, LUA_GLOBALSINDEX, "lw");
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "decode");
    lua_getfield(L, 1, "body");
    lua_call(L, 1, 1);
    return 1;
}

/* r.headers[name]: a proxy whose lookups go to r:header(name). */
static int headers_index(lua_State *L)
{
    lua_getfield(L, 1, "_resp");
    lua_replace(L, 1);
    return r_header(L);
}

static int response_index(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    if (k && strcmp(k, "headers") == 0) {
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, 1);
        lua_setfield(L, -2, "_resp");
        luaL_getmetatable(L, LWLUA_HEADERS_MT);
        lua_setmetatable(L, -2);
        return 1;
    }
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

void lwlua_push_response(lua_State *L, lwlua_user *lu, lw_response *r)
{
    size_t len = 0;
    const char *body = lw_response_body(r, &len);
    const char *err = lw_response_error(r);
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)lw_response_status(r));
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, body, len);
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, lw_response_time_ms(r));
    lua_setfield(L, -2, "elapsed_ms");
    lua_pushboolean(L, err == NULL);
    lua_setfield(L, -2, "ok");
    if (err) {
        lua_pushstring(L, err);
        lua_setfield(L, -2, "error");
    }
    lua_pushnumber(L, lu->resp_seq);
    lua_setfield(L, -2, "_seq");
    lua_rawgeti(L, LUA_REGISTRYINDEX, lu->self_ref);
    lua_getfield(L, -1, "client");
    lua_setfield(L, -3, "_client");
    lua_pop(L, 1);
    luaL_getmetatable(L, LWLUA_RESPONSE_MT);
    lua_setmetatable(L, -2);
}

/* The response callback of a request sent by get, post, ... (not async):
 * the coroutine waiting for it resumes with its response object. */
void lwlua_on_response(lw_user *u, lw_response *r, void *arg)
{
    lwlua_user *lu = lw_user_data(u);
    (void)arg;
    if (!lu->co || !lu->waiting || lu->wait_handle || lu->running) {
        return;
    }
    lu->waiting = 0;
    lu->resp = r;
    lu->resp_seq++;
    lwlua_push_response(lu->co, lu, r);
    lwlua_resume(u, lu, 1);
}

void lwlua_client_open(lua_State *L)
{
    static const luaL_Reg client[] = {
        {"get", l_get},         {"post", l_post},       {"put", l_put},
        {"patch", l_patch},     {"delete", l_delete},   {"head", l_head},
        {"options", l_options}, {"request", l_request}, {"add_header", l_add_header},
        {NULL, NULL},
    };
    static const luaL_Reg response[] = {
        {"success", r_success}, {"failure", r_failure}, {"header", r_header},
        {"json", r_json},       {NULL, NULL},
    };
    luaL_newmetatable(L, LWLUA_CLIENT_MT);
    lua_newtable(L);
    luaL_register(L, NULL, client);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, LWLUA_RESPONSE_MT);
    lua_newtable(L);
    luaL_register(L, NULL, response);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, response_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, LWLUA_HEADERS_MT);
    lua_pushcfunction(L, headers_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
