/*
 * custom.c - load-testing any protocol from a task (lw.h): lw_record puts
 * an operation into the stats like an HTTP request; holds keep a task open
 * (the user's hold count: its phase ends when no hold and no request is
 * left); timers run on the user's loop; the
 * cleanup hook closes the user's own I/O when the user is freed.
 */
#include "custom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "list.h"
#include "log.h"
#include "procinfo.h"
#include "ratelimit.h"
#include "stats.h"
#include "user.h"

typedef struct lw_timer {
    ev_timer w;
    lw_user *u;
    lw_timer_fn fn;
    void *arg;
    list_link link; /* in the user's timers */
} lw_timer;

struct user_ext {
    list_head timers;
    int holds; /* lw_task_hold()s not released yet */
    lw_timer_fn cleanup;
    void *cleanup_arg;
    int freeing; /* custom_user_free is running */
};

static long worker_index = -1;

static custom_record_fn record_tap;

void custom_set_record_tap(custom_record_fn tap)
{
    record_tap = tap;
}

void custom_set_worker_index(long index)
{
    worker_index = index;
}

long lw_worker_index(void)
{
    return worker_index;
}

static struct user_ext *ext_of(lw_user *u)
{
    if (!u->ext) {
        u->ext = calloc(1, sizeof *u->ext);
    }
    return u->ext;
}

static int freeing(const lw_user *u)
{
    return u->ext && u->ext->freeing;
}

int lw_record(lw_user *u, const char *type, const char *name, double response_time_ms,
              int64_t response_length, const char *error)
{
    if (!u) {
        log_msg(LOG_ERROR, LOG_USER, "lw_record: the user is NULL; the operation is not recorded");
        return -1;
    }
    if (!name) {
        lw_user_exception(u, "lw_record: the name is NULL; the operation is not recorded");
        return -1;
    }
    if (u->cancelled || freeing(u)) {
        return 0; /* cut off at the end of a stop: never counted */
    }
    if (isnan(response_time_ms)) {
        response_time_ms = -1;
    }
    if (record_tap) {
        record_tap(type, name, response_time_ms, response_length, error);
    }
    stats_log(u->env->req.stats, type ? type : "", name, response_time_ms,
              response_length > 0 ? response_length : 0, error, now_epoch());
    return 0;
}

void lw_task_hold(lw_user *u)
{
    struct user_ext *x = ext_of(u);
    if (!x) {
        lw_user_exception(u, "lw_task_hold: out of memory; the task is not held");
        return;
    }
    x->holds++;
    u->inflight++;
}

void lw_task_release(lw_user *u)
{
    if (freeing(u)) {
        return;
    }
    if (!u->ext || u->ext->holds == 0) {
        lw_user_exception(u, "lw_task_release without a matching lw_task_hold (ignored)");
        return;
    }
    u->ext->holds--;
    u->inflight--;
    user_settle(u);
}

struct ev_loop *lw_user_loop(lw_user *u)
{
    return u->env->loop;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    lw_timer *t = w->data;
    lw_user *u = t->u;
    list_remove(&u->ext->timers, &t->link);
    lw_timer_fn fn = t->fn;
    void *arg = t->arg;
    free(t);
    u->running_fn++; /* settle once, after fn and the release */
    fn(u, arg);
    u->running_fn--;
    lw_task_release(u);
}

int lw_timer_after(lw_user *u, double seconds, lw_timer_fn fn, void *arg)
{
    struct user_ext *x = ext_of(u);
    lw_timer *t = x && fn ? calloc(1, sizeof *t) : NULL;
    if (!t) {
        return -1;
    }
    t->u = u;
    t->fn = fn;
    t->arg = arg;
    list_push_front(&x->timers, &t->link);
    ev_timer_init(&t->w, on_timer, seconds > 0 ? seconds : 0.0, 0.0);
    t->w.data = t;
    ev_timer_start(u->env->loop, &t->w);
    lw_task_hold(u);
    return 0;
}

void lw_user_set_cleanup(lw_user *u, lw_timer_fn fn, void *arg)
{
    struct user_ext *x = ext_of(u);
    if (!x) {
        lw_user_exception(u, "lw_user_set_cleanup: out of memory");
        return;
    }
    x->cleanup = fn;
    x->cleanup_arg = arg;
}

void custom_user_free(lw_user *u)
{
    struct user_ext *x = u->ext;
    ratelimit_forget(u); /* its requests waiting for a token */
    if (!x) {
        return;
    }
    x->freeing = 1;
    while (x->timers.first) {
        lw_timer *t = LIST_ITEM(x->timers.first, lw_timer, link);
        ev_timer_stop(u->env->loop, &t->w);
        list_remove(&x->timers, &t->link);
        free(t);
    }
    if (x->cleanup) {
        x->cleanup(u, x->cleanup_arg);
    }
    u->inflight -= x->holds;
    free(x);
    u->ext = NULL;
}
