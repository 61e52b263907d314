/*
 * runtasks.c - --run-tasks (runtasks.h). Each Class.task runs in a runner
 * of its own over a one-class copy of the class: the named task only, no
 * wait, its function wrapped by a trampoline that runs it the first time
 * and, the second time (the first run is over), stops the user. Requests
 * get a printing on_response around the task's own; the wrappers are kept
 * on a list and freed at the end (a request that never starts never calls
 * back).
 */
#include "runtasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custom.h"
#include "list.h"
#include "log.h"
#include "procinfo.h"
#include "runner.h"
#include "stats.h"
#include "user.h"

#define SHOW_BYTES 120
#define STOP_GRACE_S 60.0

typedef struct wrap {
    lw_response_fn cb;
    void *arg;
    const char *method;
    list_link link; /* in rt.wraps */
    char path[];    /* the request's, as the task gave it */
} wrap;

static struct {
    int active;
    int failed;
    const lw_task *task; /* the one being run */
    int calls;           /* trampoline calls in this run */
    runner *run;
    struct ev_loop *loop;
    ev_timer stop;
    list_head wraps; /* every wrapper made, freed at the end */
} rt;

/* ---- the names ---- */

static int find(const char *item, size_t len, const lw_user_class *c, size_t n,
                const lw_user_class **cls, const lw_task **task)
{
    const char *dot = memchr(item, '.', len);
    if (!dot) {
        return -1;
    }
    size_t clen = (size_t)(dot - item), tlen = len - clen - 1;
    for (size_t i = 0; i < n; i++) {
        if (strlen(c[i].name) != clen || strncmp(c[i].name, item, clen) != 0) {
            continue;
        }
        *cls = &c[i];
        for (size_t t = 0; t < c[i].ntasks; t++) {
            const char *tn = c[i].tasks[t].name;
            if (tn && strlen(tn) == tlen && strncmp(tn, dot + 1, tlen) == 0) {
                *task = &c[i].tasks[t];
                return 0;
            }
        }
        return -2;
    }
    return -3;
}

int runtasks_check(const char *list, const lw_user_class *classes, size_t n, char *err,
                   size_t errlen)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const lw_user_class *cls = NULL;
        const lw_task *task = NULL;
        int rc = find(p, len, classes, n, &cls, &task);
        if (rc) {
            snprintf(err, errlen, "--run-tasks: '%.*s' %s", (int)(len > 200 ? 200 : len), p,
                     rc == -1   ? "is not Class.task"
                     : rc == -2 ? "names no task of that class"
                                : "names no user class of this binary");
            return -1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

/* ---- printing ---- */

static void show_bytes(const char *body, size_t len)
{
    size_t n = len < SHOW_BYTES ? len : SHOW_BYTES;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)body[i];
        putchar(c >= 0x20 && c < 0x7f ? c : '.');
    }
    if (len > n) {
        fputs("...", stdout);
    }
}

static void on_response(lw_user *u, lw_response *r, void *arg)
{
    wrap *w = arg;
    if (w->cb) {
        w->cb(u, r, w->arg);
    }
    size_t len = 0;
    const char *body = lw_response_body(r, &len);
    const char *error = lw_response_error(r);
    printf("  %s %s -> %ld, %.1f ms, %zu bytes: ", w->method, w->path, lw_response_status(r),
           lw_response_time_ms(r), len);
    show_bytes(body ? body : "", body ? len : 0);
    if (error) {
        printf("  FAILURE %s", error);
        rt.failed = 1;
    }
    putchar('\n');
    fflush(stdout);
}

static const lw_request *wrap_request(lw_user *u, const lw_request *req, lw_request *tmp)
{
    (void)u;
    size_t plen = strlen(req->path) > 300 ? 300 : strlen(req->path);
    wrap *w = rt.active ? calloc(1, sizeof *w + plen + 1) : NULL;
    if (!w) {
        return req;
    }
    memcpy(w->path, req->path, plen);
    w->cb = req->on_response;
    w->arg = req->arg;
    w->method = req->method ? req->method : "GET";
    list_push_front(&rt.wraps, &w->link);
    *tmp = *req;
    tmp->on_response = on_response;
    tmp->arg = w;
    return tmp;
}

static void record(const char *type, const char *name, double ms, int64_t len, const char *error)
{
    if (!rt.active) {
        return;
    }
    printf("  %s %s -> %.1f ms, %lld bytes%s%s\n", type ? type : "", name, ms, (long long)len,
           error ? "  FAILURE " : "", error ? error : "");
    rt.failed |= error != NULL;
    fflush(stdout);
}

/* ---- running one task ---- */

static void trampoline(lw_user *u)
{
    if (++rt.calls == 1) {
        rt.task->fn(u);
        return;
    }
    if (!ev_is_active(&rt.stop)) { /* the first run is over */
        ev_timer_start(rt.loop, &rt.stop);
    }
}

static void on_stop_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    runner_stop(rt.run, STOP_GRACE_S);
}

static void on_stopped(void *ctx)
{
    (void)ctx;
    ev_break(rt.loop, EVBREAK_ALL);
}

static void on_complete(void *ctx)
{
    (void)ctx;
}

static void on_exception(const char *msg, void *ctx)
{
    (void)ctx;
    printf("  EXCEPTION %s\n", msg);
    rt.failed = 1;
}

/* One class with only the named task, and a trampoline for it. */
static int run_one(const lw_config *cfg, const lw_user_class *cls, const lw_task *task,
                   lw_stats *st)
{
    lw_task only = *task;
    lw_user_class one = *cls;
    only.fn = trampoline;
    only.weight = 1;
    one.tasks = &only;
    one.ntasks = 1;
    one.wait_time = LW_CONSTANT(0);
    rt.task = task;
    rt.calls = 0;
    printf("%s.%s\n", cls->name, task->name);
    runner_events ev = {on_complete, on_stopped, on_exception, NULL};
    rt.run = runner_new(rt.loop, &one, 1, cfg, st, ev);
    if (!rt.run) {
        return -1;
    }
    runner_set_wrap(rt.run, wrap_request); /* each request is printed */
    proto_class_count count = {(char *)cls->name, 1};
    proto_spawn sp = {.timestamp = now_epoch(), .classes = &count, .nclasses = 1};
    runner_spawn(rt.run, &sp);
    ev_run(rt.loop, 0);
    ev_timer_stop(rt.loop, &rt.stop);
    runner_free(rt.run);
    rt.run = NULL;
    return 0;
}

int runtasks_run(const lw_config *cfg, const lw_user_class *classes, size_t n)
{
    lw_stats *st = stats_new(now_epoch());
    rt.loop = ev_default_loop(EVFLAG_AUTO);
    if (!st || !rt.loop) {
        stats_free(st);
        log_msg(LOG_ERROR, LOG_MAIN, "out of memory");
        return 1;
    }
    ev_timer_init(&rt.stop, on_stop_timer, 0.0, 0.0);
    custom_set_worker_index(0);
    custom_set_record_tap(record); /* so is each lw_record */
    rt.active = 1;
    int code = 0;
    for (const char *p = cfg->run_tasks; *p && code == 0;) {
        size_t len = strcspn(p, ",");
        const lw_user_class *cls = NULL;
        const lw_task *task = NULL;
        if (find(p, len, classes, n, &cls, &task) == 0 && run_one(cfg, cls, task, st) != 0) {
            log_msg(LOG_ERROR, LOG_MAIN, "out of memory");
            code = 1;
        }
        p += len + (p[len] == ',');
    }
    rt.active = 0;
    while (rt.wraps.first) {
        wrap *w = LIST_ITEM(rt.wraps.first, wrap, link);
        list_remove(&rt.wraps, &w->link);
        free(w);
    }
    code = code ? code : (rt.failed || stats_error_count(st) > 0) ? 1 : 0;
    stats_free(st);
    return code;
}
