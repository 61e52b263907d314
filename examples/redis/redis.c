/*
 * redis.c - a worker that load-tests Redis itself (Ops-Core's datastore)
 * with hiredis on the user's libev loop, through the any-protocol API of
 * lw.h: every command is put into the stats with lw_record (Type: the
 * command, Name: the key pattern), its task held open with lw_task_hold
 * until the reply arrives.
 *
 * The key layout is Ops-Core's (RedisStorage): agent:{id}:registration and
 * agent:{id}:latest_state hold JSON written with plain SET; each agent's
 * id starts with lw_worker_index(), so workers never share keys.
 *
 *   AgentUser (weight 3)    on_start registers its agent (SET
 *                           registration, SET latest_state UNKNOWN), then
 *                           post_state (3): GET registration, then SET
 *                           latest_state, as one POST /state does;
 *                           get_state (1): GET latest_state
 *   SessionUser (weight 1)  start_session: HSET session:{uuid} with the
 *                           session's fields; pause: a timer of 50 ms
 *                           (lw_timer_after), then GET its agent's state
 *
 * Redis is --redis-host / --redis-port (the master's options, from
 * examples/redis/locustfile.py), else REDIS_HOST / REDIS_PORT, else
 * 127.0.0.1:6379.
 *
 *   locust -f examples/redis/locustfile.py --master --redis-port 6379
 *   build/redis-worker --master-host 127.0.0.1
 *   build/redis-worker --headless -u 20 -r 20 -t 30s      (no master)
 */
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../worker/lw.h"

/* One command in flight. then: the next step of the task, on success.
 * u is NULL once the user is gone (hiredis may still call back). */
typedef struct pending {
    lw_user *u;
    struct timespec t0;
    const char *type;
    const char *name;
    void (*then)(lw_user *u);
    struct pending *prev, *next;
} pending;

typedef struct {
    redisAsyncContext *ac;
    pending *inflight; /* this user's commands awaiting a reply */
    char agent[64];
} redis_user;

static void unlink_pending(redis_user *r, pending *p)
{
    if (p->prev) {
        p->prev->next = p->next;
    } else {
        r->inflight = p->next;
    }
    if (p->next) {
        p->next->prev = p->prev;
    }
    p->prev = p->next = NULL;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    lw_user *u = ac->data;
    if (!u) { /* the user is gone (cleanup) */
        return;
    }
    redis_user *r = lw_user_data(u);
    if (r->ac == ac) {
        r->ac = NULL; /* hiredis frees it; the next command reconnects */
    }
}

/* A failed connect: hiredis frees the context after this returns (without
 * calling on_disconnect, which is only for connections once made). */
static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        on_disconnect(ac, status);
    }
}

static void cleanup(lw_user *u, void *arg)
{
    (void)arg;
    redis_user *r = lw_user_data(u);
    for (pending *p = r->inflight; p; p = p->next) {
        p->u = NULL; /* their replies are dropped, not recorded */
    }
    r->inflight = NULL;
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        ac->data = NULL;
        redisAsyncFree(ac); /* now, or after the callback running now */
    }
}

/* The user's connection, opened on first use. */
static redisAsyncContext *conn(lw_user *u)
{
    redis_user *r = lw_user_data(u);
    if (r->ac) {
        return r->ac;
    }
    const char *host = lw_option(u, "redis_host");
    const char *env_host = getenv("REDIS_HOST");
    const char *env_port = getenv("REDIS_PORT");
    host = host ? host : env_host ? env_host : "127.0.0.1";
    int port = (int)lw_option_number(u, "redis_port", env_port ? atof(env_port) : 6379);
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (!ac || ac->err) {
        if (ac) {
            redisAsyncFree(ac);
        }
        return NULL;
    }
    ac->data = u;
    if (redisLibevAttach(lw_user_loop(u), ac) != REDIS_OK) {
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    lw_user_set_cleanup(u, cleanup, NULL);
    return ac;
}

/* redis-py's exception texts, as a Python user's failures would read. */
static void reply_error(const redisAsyncContext *ac, const redisReply *reply, char *buf, size_t len)
{
    if (!reply) {
        snprintf(buf, len, "ConnectionError('%s')",
                 ac && ac->errstr[0] ? ac->errstr : "Connection closed by server.");
    } else if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(buf, len, "ResponseError('%.*s')", (int)(reply->len < 400 ? reply->len : 400),
                 reply->str);
    } else {
        buf[0] = '\0';
    }
}

static void on_reply(redisAsyncContext *ac, void *reply_v, void *privdata)
{
    pending *p = privdata;
    redisReply *reply = reply_v;
    char err[512];
    if (!p->u) {
        free(p);
        return;
    }
    unlink_pending(lw_user_data(p->u), p);
    reply_error(ac, reply, err, sizeof err);
    size_t len = reply && reply->type == REDIS_REPLY_STRING ? reply->len : 0;
    lw_record(p->u, p->type, p->name, ms_since(&p->t0), (int64_t)len, err[0] ? err : NULL);
    if (!err[0] && p->then) {
        p->then(p->u);
    }
    lw_task_release(p->u);
    free(p);
}

/* Send one command; its reply is recorded under (type, name). */
static void command(lw_user *u, const char *type, const char *name, void (*then)(lw_user *),
                    const char *fmt, ...)
{
    pending *p = calloc(1, sizeof *p);
    redisAsyncContext *ac = conn(u);
    if (!p || !ac) {
        lw_record(u, type, name, 0, 0,
                  !p ? "MemoryError()" : "ConnectionError('cannot connect to Redis')");
        free(p);
        return;
    }
    *p = (pending){u, {0, 0}, type, name, then, NULL, NULL};
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(ac, on_reply, p, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        lw_record(u, type, name, 0, 0, "ConnectionError('the connection is closing')");
        free(p);
        return;
    }
    redis_user *r = lw_user_data(u);
    p->next = r->inflight;
    if (r->inflight) {
        r->inflight->prev = p;
    }
    r->inflight = p;
    lw_task_hold(u);
}

/* ---- AgentUser ---- */

static void agent_register(lw_user *u)
{
    redis_user *r = lw_user_data(u);
    char uuid[37], key[128], json[512];
    lw_uuid4(uuid);
    snprintf(r->agent, sizeof r->agent, "lw%ld-%.8s", lw_worker_index(), uuid);
    snprintf(key, sizeof key, "agent:%s:registration", r->agent);
    snprintf(json, sizeof json,
             "{\"agentId\":\"%s\",\"agentName\":\"lw load agent\",\"version\":\"1.0\","
             "\"capabilities\":[\"test_capability\"],\"contactEndpoint\":\"http://127.0.0.1:9/\"}",
             r->agent);
    command(u, "SET", "agent:[id]:registration", NULL, "SET %s %s", key, json);
    snprintf(key, sizeof key, "agent:%s:latest_state", r->agent);
    snprintf(json, sizeof json, "{\"agentId\":\"%s\",\"state\":\"UNKNOWN\"}", r->agent);
    command(u, "SET", "agent:[id]:latest_state", NULL, "SET %s %s", key, json);
}

static void set_state(lw_user *u)
{
    redis_user *r = lw_user_data(u);
    char key[128], json[256];
    snprintf(key, sizeof key, "agent:%s:latest_state", r->agent);
    snprintf(json, sizeof json, "{\"agentId\":\"%s\",\"state\":\"%s\"}", r->agent,
             lw_random() < 0.5 ? "idle" : "busy");
    command(u, "SET", "agent:[id]:latest_state", NULL, "SET %s %s", key, json);
}

/* POST /state: GET the registration, then SET the latest state. */
static void post_state(lw_user *u)
{
    redis_user *r = lw_user_data(u);
    command(u, "GET", "agent:[id]:registration", set_state, "GET agent:%s:registration", r->agent);
}

static void get_state(lw_user *u)
{
    redis_user *r = lw_user_data(u);
    command(u, "GET", "agent:[id]:latest_state", NULL, "GET agent:%s:latest_state", r->agent);
}

/* ---- SessionUser ---- */

static void session_start(lw_user *u)
{
    redis_user *r = lw_user_data(u);
    char uuid[37];
    lw_uuid4(uuid);
    if (!r->agent[0]) {
        snprintf(r->agent, sizeof r->agent, "lw%ld-s%.8s", lw_worker_index(), uuid);
    }
    command(u, "HSET", "session:[id]", NULL,
            "HSET session:%s agentId %s workflowId wf-1 status started", uuid, r->agent);
}

static void read_after_pause(lw_user *u, void *arg)
{
    (void)arg;
    get_state(u);
}

static void pause_then_read(lw_user *u)
{
    if (lw_timer_after(u, 0.05, read_after_pause, NULL) != 0) {
        lw_user_exception(u, "out of memory for a timer");
    }
}

static const lw_task agent_tasks[] = {
    {"post_state", 3, post_state, NULL},
    {"get_state", 1, get_state, NULL},
};

static const lw_task session_tasks[] = {
    {"start_session", 2, session_start, NULL},
    {"pause_then_read", 1, pause_then_read, NULL},
};

static const lw_user_class classes[] = {
    {.name = "AgentUser",
     .weight = 3,
     .wait_time = LW_CONSTANT(0.1),
     .tasks = agent_tasks,
     .ntasks = 2,
     .on_start = agent_register,
     .user_data_size = sizeof(redis_user)},
    {.name = "SessionUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0.1),
     .tasks = session_tasks,
     .ntasks = 2,
     .user_data_size = sizeof(redis_user)},
};

int main(int argc, char **argv)
{
    return lw_main(argc, argv, classes, sizeof classes / sizeof classes[0]);
}
