/*
 * script.c - one LuaJIT state per process: load the script (a syntax error
 * is one line with file:line), run it once, and turn the classes it declared
 * with lw.user() into liblw user classes whose functions (coro.c) run the
 * script's methods in each user's coroutine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>
#include <luajit.h>

#include "../rng.h"
#include "../user.h"
#include "../wait_time.h"
#include "lwlua.h"

/* The first line of the error at the top of L's stack. */
static void error_line(lua_State *L, char *err, size_t len)
{
    const char *msg = lua_tostring(L, -1);
    if (!msg) {
        msg = "(error object is not a string)";
    }
    size_t n = strcspn(msg, "\n");
    snprintf(err, len, "%.*s", (int)(n < 400 ? n : 400), msg);
}

/* One task from (key, value) of the tasks table: a method name or a function,
 * and a weight. Leaves the function on the stack. */
static int task_fn(lua_State *L, int cls, int key, const char *cname, char *tname, size_t tlen,
                   char *err, size_t len)
{
    if (lua_type(L, key) == LUA_TSTRING) {
        snprintf(tname, tlen, "%s", lua_tostring(L, key));
        lua_getfield(L, cls, tname);
        if (!lua_isfunction(L, -1)) {
            snprintf(err, len, "user class '%s': task '%s' is not a method of the class", cname,
                     tname);
            return -1;
        }
        return 0;
    }
    if (lua_isfunction(L, key)) {
        lua_Debug ar;
        lua_pushvalue(L, key);
        if (lua_getinfo(L, ">S", &ar)) {
            snprintf(tname, tlen, "%s:%d", ar.short_src, ar.linedefined);
        }
        lua_pushvalue(L, key);
        return 0;
    }
    snprintf(err, len, "user class '%s': a task must be a function or a method name", cname);
    return -1;
}

/* tags = {task = {"a", "b"}} (the task as in tasks: a method name or a
 * function), like @tag("a", "b"): a NULL-terminated copy in *out, NULL when
 * the task has none. Stack-neutral. */
static int read_tags(lua_State *L, int cls, int key, const char *cname, char ***out, char *err,
                     size_t len)
{
    *out = NULL;
    lua_getfield(L, cls, "tags");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushvalue(L, key);
    lua_gettable(L, -2);
    int list = lua_gettop(L);
    size_t n = lua_istable(L, list) ? lua_objlen(L, list) : 0;
    if (!lua_isnil(L, list) && (n == 0 || !(*out = calloc(n + 1, sizeof **out)))) {
        snprintf(err, len,
                 n ? "out of memory"
                   : "user class '%s': a task's tags must be a list of "
                     "strings",
                 cname);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, list, (int)i + 1);
        const char *tag = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!tag || !((*out)[i] = strdup(tag))) {
            snprintf(err, len,
                     tag ? "out of memory"
                         : "user class '%s': a task's tags must be a "
                           "list of strings",
                     cname);
            return -1;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return 0;
}

static int add_task(lua_State *L, lwlua_class *c, int cls, int key, int weight, char *err,
                    size_t len)
{
    char tname[256] = "task";
    size_t i = c->ntasks;
    if (weight < 1) {
        snprintf(err, len, "user class '%s': task weights must be integers >= 1", c->name);
        return -1;
    }
    if (read_tags(L, cls, key, c->name, &c->task_tags[i], err, len) ||
        task_fn(L, cls, key, c->name, tname, sizeof tname, err, len)) {
        return -1;
    }
    c->task_refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    if (!(c->task_names[i] = strdup(tname))) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    c->tasks[i] = (lw_task){.name = c->task_names[i],
                            .weight = weight,
                            .fn = lwlua_task,
                            .tags = (const char *const *)c->task_tags[i]};
    c->ntasks++;
    return 0;
}

/* tasks = {f, "name", ...} (weight 1 each) and/or {name = weight, [f] = weight}. */
static int read_tasks(lua_State *L, lwlua_class *c, int cls, char *err, size_t len)
{
    lua_getfield(L, cls, "tasks");
    int t = lua_gettop(L);
    if (!lua_istable(L, t)) {
        snprintf(err, len, "user class '%s' has no tasks (set tasks = {...})", c->name);
        return -1;
    }
    size_t max = 0, arr = lua_objlen(L, t);
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
        max++;
    }
    if (max == 0) {
        snprintf(err, len, "user class '%s' has no tasks", c->name);
        return -1;
    }
    c->task_refs = calloc(max, sizeof *c->task_refs);
    c->tasks = calloc(max, sizeof *c->tasks);
    c->task_names = calloc(max, sizeof *c->task_names);
    c->task_tags = calloc(max + 1, sizeof *c->task_tags); /* + a failed one */
    if (!c->task_refs || !c->tasks || !c->task_names || !c->task_tags) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
        int k = lua_gettop(L) - 1, v = k + 1;
        int in_array = lua_type(L, k) == LUA_TNUMBER && lua_tonumber(L, k) >= 1 &&
                       lua_tonumber(L, k) <= (lua_Number)arr;
        int key = in_array ? v : k;
        int weight = 1;
        if (!in_array) {
            lua_Number w = lua_tonumber(L, v);
            weight = lua_type(L, v) == LUA_TNUMBER && w == (int)w ? (int)w : 0;
        }
        if (add_task(L, c, cls, key, weight, err, len)) {
            return -1;
        }
    }
    lua_pop(L, 1);
    return 0;
}

static int read_client(lua_State *L, int cls, lw_user_class *uc, char *err, size_t len)
{
    lua_getfield(L, cls, "client");
    const char *client = lua_tostring(L, -1);
    if (lua_isnil(L, -1) || (client && strcmp(client, "curl") == 0)) {
        uc->client = LW_CLIENT_CURL;
    } else if (client && strcmp(client, "fast") == 0) {
        uc->client = LW_CLIENT_FAST;
    } else {
        snprintf(err, len, "user class '%s': client must be \"curl\" or \"fast\"", uc->name);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

static int read_class(lua_State *L, lwlua_script *s, size_t i, char *err, size_t len)
{
    lwlua_class *c = &s->lclasses[i];
    lw_user_class *uc = &s->classes[i];
    int cls = lua_gettop(L);
    lua_getfield(L, cls, "name");
    c->name = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 1);
    if (!c->name) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    *uc = (lw_user_class){.name = c->name,
                          .weight = 1,
                          .wait_time = LW_CONSTANT(0),
                          .on_start = lwlua_on_start,
                          .on_stop = lwlua_on_stop,
                          .user_data_size = sizeof(lwlua_user),
                          .arg = c};
    lua_getfield(L, cls, "weight");
    if (!lua_isnil(L, -1)) {
        uc->weight = (int)lua_tonumber(L, -1);
    }
    lua_getfield(L, cls, "wait_time");
    if (!lua_isnil(L, -1) &&
        (lwlua_wait_time(L, -1, &uc->wait_time) || wait_time_valid(&uc->wait_time))) {
        snprintf(err, len,
                 "user class '%s': wait_time must be lw.constant(s), lw.between(a, b), "
                 "lw.constant_pacing(s) or lw.constant_throughput(n)",
                 c->name);
        return -1;
    }
    lua_pop(L, 2);
    if (read_client(L, cls, uc, err, len) || read_tasks(L, c, cls, err, len)) {
        return -1;
    }
    uc->tasks = c->tasks;
    uc->ntasks = c->ntasks;
    lua_pushvalue(L, cls);
    c->class_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int read_classes(lwlua_script *s, char *err, size_t len)
{
    lua_State *L = s->L;
    lua_getfield(L, LUA_REGISTRYINDEX, LWLUA_CLASSES);
    size_t n = lua_objlen(L, -1);
    if (n == 0) {
        snprintf(err, len, "the script declares no user class (lw.user(\"Name\", {...}))");
        return -1;
    }
    s->classes = calloc(n, sizeof *s->classes);
    s->lclasses = calloc(n, sizeof *s->lclasses);
    if (!s->classes || !s->lclasses) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int top = lua_gettop(L);
        lua_rawgeti(L, -1, (int)i + 1);
        s->nclasses = i + 1;
        if (read_class(L, s, i, err, len)) {
            return -1;
        }
        lua_settop(L, top);
    }
    lua_pop(L, 1);
    return 0;
}

/* An error outside any protected call (only out of memory can get there):
 * one line, then LuaJIT exits with EXIT_FAILURE. */
static int on_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "lua-worker: error: Lua: %s\n", msg ? msg : "unprotected error");
    return 0;
}

static lua_State *new_state(long limit, char *err, size_t len)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, len, "cannot create a Lua state (out of memory)");
        return NULL;
    }
    lua_atpanic(L, on_panic);
    luaL_openlibs(L);
    lwlua_open_module(L);
    rng_seed(); /* lw.random and lw.uuid4 at load time too */
    if (limit > 0) {
        /* the instruction hook never runs inside JIT-compiled loops */
        luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    }
    if (lwlua_coro_init(L, limit) != 0) {
        snprintf(err, len, "cannot set up the Lua state (out of memory)");
        lua_close(L);
        return NULL;
    }
    return L;
}

typedef struct {
    lwlua_script *s;
    char *err;
    size_t len;
    int rc;
} read_args;

/* read_classes under lua_cpcall: a Lua error there (a metamethod of the
 * class table, memory) becomes err instead of a panic. */
static int read_protected(lua_State *L)
{
    read_args *a = lua_touserdata(L, 1);
    lua_pop(L, 1);
    a->rc = read_classes(a->s, a->err, a->len);
    return 0;
}

int lwlua_load(lwlua_script *s, const char *path, char *err, size_t len)
{
    if (!(s->L = new_state(s->limit, err, len))) {
        return -1;
    }
    if (luaL_loadfile(s->L, path) != 0 || lua_pcall(s->L, 0, 0, 0) != 0) {
        error_line(s->L, err, len);
        return -1;
    }
    read_args a = {s, err, len, -1};
    if (lua_cpcall(s->L, read_protected, &a) != 0) {
        error_line(s->L, err, len);
        return -1;
    }
    return a.rc;
}

void lwlua_free(lwlua_script *s)
{
    for (size_t i = 0; s->lclasses && i < s->nclasses; i++) {
        lwlua_class *c = &s->lclasses[i];
        for (size_t t = 0; t < c->ntasks + (c->task_tags && c->task_tags[c->ntasks]); t++) {
            free(c->task_names[t]);
            for (size_t k = 0; c->task_tags[t] && c->task_tags[t][k]; k++) {
                free(c->task_tags[t][k]);
            }
            free(c->task_tags[t]);
        }
        free(c->task_names);
        free(c->task_tags);
        free(c->task_refs);
        free(c->tasks);
        free(c->name);
    }
    free(s->lclasses);
    free(s->classes);
    if (s->L) {
        lua_close(s->L);
    }
    memset(s, 0, sizeof *s);
    s->limit = LWLUA_DEFAULT_LIMIT;
}
