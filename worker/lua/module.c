/*
 * module.c - the `lw` module a script sees (require "lw", or the global lw):
 *
 *   lw.user(name [, fields])   declares a user class; returns its table
 *   lw.constant(s), lw.between(a, b), lw.constant_pacing(s),
 *   lw.constant_throughput(n)  wait times
 *   lw.uuid4(), lw.random([m [, n]]), lw.time(), lw.env(name [, default])
 *   lw.json                    lua-cjson: lw.json.encode / lw.json.decode
 *
 * and the methods every user object has through its class (self:exception,
 * self:option).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../wait_time.h"
#include "lwlua.h"

#include <lua5.1/lua-cjson.h> /* lua-cjson-dev */

static const char *const wait_kinds[] = {"constant", "between", "constant_pacing",
                                         "constant_throughput", NULL};

static int push_wait(lua_State *L, lw_wait_kind kind, double a, double b)
{
    lw_wait_time wt = {kind, a, b};
    if (wait_time_valid(&wt)) {
        return luaL_error(L, "%s: invalid arguments", wait_kinds[kind]);
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, wait_kinds[kind]);
    lua_setfield(L, -2, "kind");
    lua_pushnumber(L, a);
    lua_setfield(L, -2, "a");
    lua_pushnumber(L, b);
    lua_setfield(L, -2, "b");
    return 1;
}

static int l_constant(lua_State *L)
{
    return push_wait(L, LW_WAIT_CONSTANT, luaL_checknumber(L, 1), 0);
}

static int l_between(lua_State *L)
{
    return push_wait(L, LW_WAIT_BETWEEN, luaL_checknumber(L, 1), luaL_checknumber(L, 2));
}

static int l_constant_pacing(lua_State *L)
{
    return push_wait(L, LW_WAIT_CONSTANT_PACING, luaL_checknumber(L, 1), 0);
}

static int l_constant_throughput(lua_State *L)
{
    return push_wait(L, LW_WAIT_CONSTANT_THROUGHPUT, luaL_checknumber(L, 1), 0);
}

int lwlua_wait_time(lua_State *L, int idx, lw_wait_time *out)
{
    if (idx < 0) {
        idx = lua_gettop(L) + idx + 1;
    }
    if (!lua_istable(L, idx)) {
        return -1;
    }
    lua_getfield(L, idx, "kind");
    const char *kind = lua_tostring(L, -1);
    int k = -1;
    for (int i = 0; kind && wait_kinds[i]; i++) {
        if (strcmp(kind, wait_kinds[i]) == 0) {
            k = i;
        }
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "a");
    lua_getfield(L, idx, "b");
    out->kind = (lw_wait_kind)k;
    out->a = lua_tonumber(L, -2);
    out->b = lua_tonumber(L, -1);
    lua_pop(L, 2);
    return k < 0 ? -1 : 0;
}

static int l_uuid4(lua_State *L)
{
    char id[37];
    lw_uuid4(id);
    lua_pushlstring(L, id, 36);
    return 1;
}

/* Like math.random: [0, 1), [1, m] or [m, n], from the worker's generator. */
static int l_random(lua_State *L)
{
    double r = lw_random();
    lua_Number lo = 1, hi;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        return 1;
    case 1:
        hi = luaL_checknumber(L, 1);
        break;
    default:
        lo = luaL_checknumber(L, 1);
        hi = luaL_checknumber(L, 2);
        break;
    }
    lo = ceil(lo);
    hi = floor(hi);
    luaL_argcheck(L, lo <= hi, lua_gettop(L), "interval is empty");
    lua_pushnumber(L, lo + floor(r * (hi - lo + 1)));
    return 1;
}

static int l_time(lua_State *L)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    lua_pushnumber(L, (double)tv.tv_sec + tv.tv_usec / 1e6);
    return 1;
}

static int l_env(lua_State *L)
{
    const char *v = getenv(luaL_checkstring(L, 1));
    if (v && *v) {
        lua_pushstring(L, v);
    } else if (lua_gettop(L) >= 2) {
        lua_pushvalue(L, 2);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

/* lw.user(name [, fields]): the fields table becomes the class. */
static int l_user(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_argcheck(L, *name, 1, "a class needs a name");
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, LWLUA_CLASSES); /* 3 */
    size_t n = lua_objlen(L, 3);
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, (int)i);
        lua_getfield(L, -1, "name");
        if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), name) == 0) {
            return luaL_error(L, "user class '%s' is declared twice", name);
        }
        lua_pop(L, 2);
    }
    lua_pushvalue(L, 1);
    lua_setfield(L, 2, "name");
    lua_pushvalue(L, 2);
    lua_setfield(L, 2, "__index"); /* the class is its users' metatable */
    luaL_getmetatable(L, LWLUA_BASE);
    lua_setmetatable(L, 2); /* and inherits the base methods */
    lua_pushvalue(L, 2);
    lua_rawseti(L, 3, (int)n + 1);
    lua_settop(L, 2);
    return 1;
}

/* self:exception(msg): to the master's Exceptions tab. */
static int l_exception(lua_State *L)
{
    const char *msg = luaL_checkstring(L, 2);
    lw_user_exception(lwlua_running_user(L, "exception"), msg);
    return 0;
}

/* self:option(name): the master's value of an option for this test (e.g. a
 * custom option of its locustfile) as text, or nil. */
static int l_option(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    return lwlua_push_or_nil(L, lw_option(lwlua_running_user(L, "option"), name));
}

static void open_base(lua_State *L)
{
    luaL_newmetatable(L, LWLUA_BASE);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_exception);
    lua_setfield(L, -2, "exception");
    lua_pushcfunction(L, l_option);
    lua_setfield(L, -2, "option");
    lua_pop(L, 1);
}

/* lua-cjson, registered as package.loaded.cjson and lw.json. */
static void open_json(lua_State *L)
{
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_getfield(L, LUA_GLOBALSINDEX, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "cjson");
    lua_pop(L, 2);
}

int lwlua_open_module(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"user", l_user},
        {"constant", l_constant},
        {"between", l_between},
        {"constant_pacing", l_constant_pacing},
        {"constant_throughput", l_constant_throughput},
        {"uuid4", l_uuid4},
        {"random", l_random},
        {"time", l_time},
        {"env", l_env},
        {NULL, NULL},
    };
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LWLUA_CLASSES);
    open_base(L);
    lwlua_client_open(L);
    lwlua_async_open(L);
    lua_newtable(L);
    luaL_register(L, NULL, fns);
    open_json(L);
    lua_setfield(L, -2, "json");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_GLOBALSINDEX, "lw");
    lua_getfield(L, LUA_GLOBALSINDEX, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "lw");
    lua_pop(L, 3);
    return 0;
}
