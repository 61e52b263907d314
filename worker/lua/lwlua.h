/*
 * lwlua.h - the Lua binding's internals: one LuaJIT state per process, user
 * classes declared by a script, each user a coroutine that yields while its
 * request is in flight.
 *
 *   script.c   the state, loading the script, the declared classes
 *   module.c   the `lw` module: class declaration, wait times, helpers
 *   coro.c     the class functions liblw calls: user objects, coroutines,
 *              errors, the instruction limit (calls no other file here)
 *   client.c   self.client (requests) and response objects (calls coro.c)
 *   async.c    self.client:async(): requests in flight together, wait()
 *              (calls client.c and coro.c)
 *
 * script.c calls module.c, which registers client.c's and async.c's
 * methods: calls go down only.
 */
#ifndef LWLUA_H
#define LWLUA_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#include "../lw.h"

/* Registry keys (light userdata addresses) and metatable names. */
#define LWLUA_CLASSES "lw.classes" /* declared classes, in order */
#define LWLUA_BASE "lw.User"       /* methods every user has */
#define LWLUA_CLIENT_MT "lw.client"
#define LWLUA_RESPONSE_MT "lw.response"
#define LWLUA_HEADERS_MT "lw.headers"
#define LWLUA_ASYNC_MT "lw.async"
#define LWLUA_MAX_HEADERS 64

/* The default instruction limit of one run of a task between two waits. */
#define LWLUA_DEFAULT_LIMIT 10000000L

/* A declared class, as liblw sees it; lw_user_class.arg points here. */
typedef struct {
    int class_ref;  /* the class table */
    int *task_refs; /* the task functions, as tasks[] */
    lw_task *tasks;
    char **task_names;
    char ***task_tags; /* per task: NULL-terminated, or NULL */
    size_t ntasks;
    char *name;
} lwlua_class;

/* Per user: lw_user_data(). */
typedef struct {
    int self_ref; /* the user object; LUA_NOREF before on_start */
    int co_ref;   /* its coroutine; LUA_NOREF when none */
    lua_State *co;
    int waiting;       /* the coroutine waits for a response */
    int running;       /* the coroutine runs now */
    int stopping;      /* the coroutine runs on_stop */
    void *wait_handle; /* the async request it waits for, or NULL */
    int pending_ref;   /* its async requests in flight (a table) */
    lw_response *resp; /* the response the script may judge now */
    unsigned resp_seq; /* which response object that is */
    void *client;      /* the client userdata (lwlua_client *) */
} lwlua_user;

/* The client userdata: self.client. */
typedef struct {
    lw_user *u; /* NULL once the user has stopped */
    int typed;  /* a session header sets the Content-Type */
} lwlua_client;

/* script.c */
typedef struct {
    long limit; /* in: instructions per run; 0: no limit, JIT on */
    lua_State *L;
    lw_user_class *classes;
    lwlua_class *lclasses;
    size_t nclasses;
} lwlua_script;

/* Loads and runs the script, then reads its classes. Returns 0, or -1 with
 * one line in err (a syntax error names file:line). */
int lwlua_load(lwlua_script *s, const char *path, char *err, size_t len);
void lwlua_free(lwlua_script *s);

/* module.c: registers the `lw` module (require "lw" and the global lw). */
int lwlua_open_module(lua_State *L);
/* Reads a wait_time value at index idx; returns 0 or -1. */
int lwlua_wait_time(lua_State *L, int idx, lw_wait_time *out);

/* coro.c */
/* Returns 0 or -1 (out of memory). */
int lwlua_coro_init(lua_State *L, long instruction_limit);
void lwlua_on_start(lw_user *u);
void lwlua_on_stop(lw_user *u);
void lwlua_task(lw_user *u);
/* The user behind a user object at index idx (its client), or NULL. */
lw_user *lwlua_user_of(lua_State *L, int idx);
/* The same for self of method what, raising a Lua error when none runs. */
lw_user *lwlua_running_user(lua_State *L, const char *what);
/* Pushes s, or nil when s is NULL; returns 1 (the values pushed). */
int lwlua_push_or_nil(lua_State *L, const char *s);

/* The process's state, for the response callbacks. */
lua_State *lwlua_state(void);
/* Resumes the user's coroutine with nargs values on its stack. */
void lwlua_resume(lw_user *u, lwlua_user *lu, int nargs);
/* Runs check(response) (both on the state's stack) protected and limited
 * like a task; an error becomes an exception. */
void lwlua_run_check(lw_user *u);

/* client.c */
typedef struct {
    lw_request req;
    const char *headers[LWLUA_MAX_HEADERS + 1];
    int nheaders;
    int typed; /* a Content-Type is among the headers */
} lwlua_request;

/* Reads a request (client at 1, path at path_idx, opts after it) into a,
 * with strings kept on L's stack; checks that L is the user's own
 * coroutine, running. Returns the client. */
lwlua_client *lwlua_read_request(lua_State *L, const char *method, int path_idx, lwlua_request *a);
/* Upper-cased method name of argument idx into out[16]. */
void lwlua_method(lua_State *L, int idx, char out[16]);
/* Pushes the response object of a request that was not sent. */
int lwlua_not_sent(lua_State *L);
/* Registers the client's and the responses' metatables. */
void lwlua_client_open(lua_State *L);
/* The response callback of a request sent by get, post, ... */
void lwlua_on_response(lw_user *u, lw_response *r, void *arg);
/* Pushes a response object for r onto L. */
void lwlua_push_response(lua_State *L, lwlua_user *lu, lw_response *r);

/* async.c: adds async to the client's methods (after lwlua_client_open). */
void lwlua_async_open(lua_State *L);
void lwlua_on_async(lw_user *u, lw_response *r, void *arg);

#endif
