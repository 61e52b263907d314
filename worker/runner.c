/*
 * runner.c - what happens on spawn and stop.
 *
 * Targets are absolute per class. An ev_timer "adjust" moves the live
 * counts toward them in slices of SPAWN_SLICE users, SLICE_PAUSE apart, so
 * the first requests (and connects) of one slice are done before the next
 * slice starts: heartbeats keep flowing and response times are not inflated
 * by thousands of connects in one loop iteration. Surplus users are
 * stopped newest first. Stopping users leave the per-class counts at once and
 * live on a separate list until their on_stop is over.
 */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capacity.h"
#include "custom.h"
#include "log.h"
#include "ratelimit.h"
#include "user.h"
#include "utf8.h"

#define SPAWN_SLICE 100
#define SLICE_PAUSE 0.001 /* s between slices: connects of one slice at a time */
#define DRAIN_SECONDS 2.0
#define MAX_UNKNOWN 16 /* unknown class names reported one by one per test */

static int init_picks(runner *r);

struct runner {
    struct ev_loop *loop;
    const lw_user_class *classes;
    size_t n;
    user_env env;
    runner_events ev;
    char default_host[1024];
    int64_t *target;
    int64_t *alive;
    list_head *active;  /* per class, newest first */
    list_head stopping; /* users between stop and finished */
    int64_t nstopping;
    int spawn_pending; /* spawning_complete still owed */
    int stop_pending;  /* events.stopped still owed */
    double stop_timeout;
    ev_timer adjust;
    ev_timer stop_deadline;
    ev_timer drain_deadline;
    void (*idle_cb)(void *); /* shutdown waiting for idle */
    void *idle_arg;
    double *user_bytes;         /* memory estimate per user, per class */
    int base_fds;               /* open fds with no user running; -1: unknown */
    int cut_reported;           /* a capacity shortfall reported this test */
    char *unknown[MAX_UNKNOWN]; /* unknown class names reported this test */
    size_t nunknown;
    int unknown_overflow; /* more were requested: reported once */
};

static lw_user *first_user(const list_head *h)
{
    return h->first ? LIST_ITEM(h->first, lw_user, link) : NULL;
}

static void check_idle(runner *r)
{
    if (!runner_idle(r)) {
        return;
    }
    ev_timer_stop(r->loop, &r->stop_deadline);
    ev_timer_stop(r->loop, &r->drain_deadline);
    if (r->stop_pending) {
        r->stop_pending = 0;
        r->ev.stopped(r->ev.ctx);
    }
    if (r->idle_cb) {
        void (*cb)(void *) = r->idle_cb;
        r->idle_cb = NULL;
        cb(r->idle_arg);
    }
}

/* user_env.finished: a stopping user is completely done. */
static void on_user_finished(lw_user *u, void *ctx)
{
    runner *r = ctx;
    if (u->stopping) {
        list_remove(&r->stopping, &u->link);
        r->nstopping--;
    } else { /* ended by itself (a class without a runnable task) */
        list_remove(&r->active[u->class_index], &u->link);
        r->alive[u->class_index]--;
    }
    user_free(u);
    check_idle(r);
}

static void on_user_exception(const char *msg, void *ctx)
{
    runner *r = ctx;
    r->ev.exception(msg, r->ev.ctx);
}

static void begin_stop_user(runner *r, size_t cls, int hard)
{
    lw_user *u = first_user(&r->active[cls]);
    list_remove(&r->active[cls], &u->link);
    r->alive[cls]--;
    list_push_front(&r->stopping, &u->link);
    r->nstopping++;
    user_stop(u, hard);
}

static void arm_stop_deadline(runner *r)
{
    if (ev_is_active(&r->stop_deadline) || ev_is_active(&r->drain_deadline)) {
        return;
    }
    if (r->stop_timeout > 0) {
        ev_timer_set(&r->stop_deadline, r->stop_timeout, 0.0);
        ev_timer_start(r->loop, &r->stop_deadline);
    } else {
        ev_timer_set(&r->drain_deadline, DRAIN_SECONDS, 0.0);
        ev_timer_start(r->loop, &r->drain_deadline);
    }
}

/* One slice toward the targets. Returns 1 if more work remains. */
static int adjust_slice(runner *r)
{
    int budget = SPAWN_SLICE;
    for (size_t i = 0; i < r->n; i++) {
        while (r->alive[i] > r->target[i]) {
            begin_stop_user(r, i, r->stop_timeout <= 0);
            arm_stop_deadline(r);
        }
        while (r->alive[i] < r->target[i] && budget > 0) {
            lw_user *u = user_new(&r->env, &r->classes[i], (int)i);
            if (!u) {
                log_msg(LOG_ERROR, LOG_RUNNER, "out of memory starting a %s user",
                        r->classes[i].name);
                r->ev.exception("out of memory starting a user", r->ev.ctx);
                r->target[i] = r->alive[i];
                break;
            }
            list_push_front(&r->active[i], &u->link);
            r->alive[i]++;
            budget--;
            user_start(u);
        }
        if (r->alive[i] < r->target[i]) {
            return 1;
        }
    }
    return 0;
}

static void on_adjust(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    runner *r = w->data;
    if (adjust_slice(r)) {
        ev_timer_set(&r->adjust, SLICE_PAUSE, 0.0);
        ev_timer_start(r->loop, &r->adjust);
        return;
    }
    if (r->spawn_pending) {
        r->spawn_pending = 0;
        r->ev.spawning_complete(r->ev.ctx);
    }
}

/* stop_timeout is over: the rest stop hard, then get DRAIN_SECONDS. */
static void on_stop_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    runner *r = w->data;
    for (list_link *l = r->stopping.first, *next; l; l = next) {
        next = l->next;
        user_stop(LIST_ITEM(l, lw_user, link), 1);
    }
    ev_timer_set(&r->drain_deadline, DRAIN_SECONDS, 0.0);
    ev_timer_start(r->loop, &r->drain_deadline);
}

/* Out of time: whatever is still in flight is dropped, never counted. */
static void on_drain_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    runner *r = w->data;
    while (r->stopping.first) {
        lw_user *u = first_user(&r->stopping);
        if (u->phase == PHASE_DONE) { /* cannot happen: finished unlinks */
            break;
        }
        user_cancel(u);
        if (first_user(&r->stopping) == u) { /* still waiting for its on_stop */
            list_remove(&r->stopping, &u->link);
            r->nstopping--;
            user_free(u);
        }
    }
    check_idle(r);
}

runner *runner_new(struct ev_loop *loop, const lw_user_class *classes, size_t nclasses,
                   const lw_config *cfg, lw_stats *stats, runner_events events)
{
    runner *r = calloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    r->target = calloc(nclasses ? nclasses : 1, sizeof *r->target);
    r->alive = calloc(nclasses ? nclasses : 1, sizeof *r->alive);
    r->active = calloc(nclasses ? nclasses : 1, sizeof *r->active);
    r->user_bytes = calloc(nclasses ? nclasses : 1, sizeof *r->user_bytes);
    tr_config tc = {.loop = loop, .insecure = cfg->insecure};
    if (!r->target || !r->alive || !r->active || !r->user_bytes ||
        request_env_open(&r->env.req, &tc) != 0) {
        runner_free(r);
        return NULL;
    }
    r->loop = loop;
    r->classes = classes;
    r->n = nclasses;
    r->ev = events;
    if (init_picks(r) != 0) {
        runner_free(r);
        return NULL;
    }
    snprintf(r->default_host, sizeof r->default_host, "%s", cfg->host);
    if (request_env_set_host(&r->env.req, cfg->host) != 0) {
        runner_free(r);
        return NULL;
    }
    r->env.loop = loop;
    r->env.req.stats = stats;
    r->env.req.timeout = cfg->request_timeout;
    r->env.req.client = cfg->http_client;
    r->env.req.exception = on_user_exception;
    r->env.req.ctx = r;
    r->env.finished = on_user_finished;
    r->env.exception = on_user_exception;
    r->env.ctx = r;
    r->env.defer = ratelimit_defer;
    r->env.forget = custom_user_free;
    ev_timer_init(&r->adjust, on_adjust, 0.0, 0.0);
    ev_timer_init(&r->stop_deadline, on_stop_deadline, 0.0, 0.0);
    ev_timer_init(&r->drain_deadline, on_drain_deadline, 0.0, 0.0);
    r->adjust.data = r->stop_deadline.data = r->drain_deadline.data = r;
    r->base_fds = -1;
    for (size_t i = 0; i < nclasses; i++) {
        int client = cfg->http_client >= 0 ? cfg->http_client : (int)classes[i].client;
        r->user_bytes[i] =
            (client == LW_CLIENT_FAST ? CAPACITY_FAST_USER_BYTES : CAPACITY_CURL_USER_BYTES) +
            (double)classes[i].user_data_size;
    }
    capacity_raise_nofile();
    return r;
}

static void free_list(list_head *head)
{
    while (head->first) {
        lw_user *u = first_user(head);
        list_remove(head, &u->link);
        user_free(u);
    }
}

void runner_free(runner *r)
{
    if (!r) {
        return;
    }
    if (r->loop) {
        ev_timer_stop(r->loop, &r->adjust);
        ev_timer_stop(r->loop, &r->stop_deadline);
        ev_timer_stop(r->loop, &r->drain_deadline);
    }
    for (size_t i = 0; r->active && i < r->n; i++) {
        free_list(&r->active[i]);
    }
    free_list(&r->stopping);
    request_env_close(&r->env.req);
    for (size_t i = 0; r->env.picks && i < r->n; i++) {
        taskpick_free(&r->env.picks[i]);
    }
    free(r->env.picks);
    for (size_t i = 0; i < r->nunknown; i++) {
        free(r->unknown[i]);
    }
    free(r->target);
    free(r->alive);
    free(r->active);
    free(r->user_bytes);
    free(r);
}

static int init_picks(runner *r)
{
    r->env.picks = calloc(r->n ? r->n : 1, sizeof *r->env.picks);
    if (!r->env.picks) {
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (taskpick_init(&r->env.picks[i], &r->classes[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

static int class_index(const runner *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->classes[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* A class the master wants but we lack: one ERROR line and one exception
 * per name per test, for the first MAX_UNKNOWN names; past them, one line
 * and one exception for the rest of the test (a spawn may name thousands). */
static void report_unknown(runner *r, const char *name, int64_t count)
{
    for (size_t i = 0; i < r->nunknown; i++) {
        if (strcmp(r->unknown[i], name) == 0) {
            return;
        }
    }
    char msg[512];
    if (r->nunknown < MAX_UNKNOWN) {
        int shown = (int)utf8_cut(name, strlen(name), 200);
        snprintf(msg, sizeof msg,
                 "User class '%.*s%s' was requested by the master (%lld users) but "
                 "this worker does not have it; its users are not run",
                 shown, name, name[shown] ? "..." : "", (long long)count);
        if (!(r->unknown[r->nunknown] = strdup(name))) {
            return;
        }
        r->nunknown++;
    } else if (!r->unknown_overflow) {
        r->unknown_overflow = 1;
        snprintf(msg, sizeof msg,
                 "The master requested more than %d user classes that this worker "
                 "does not have; the others are not reported one by one, and their "
                 "users are not run",
                 MAX_UNKNOWN);
    } else {
        return;
    }
    log_msg(LOG_ERROR, LOG_RUNNER, "%s", msg);
    r->ev.exception(msg, r->ev.ctx);
}

void runner_new_test(runner *r, const proto_spawn *sp)
{
    const proto_option *tags = proto_spawn_option(sp, "tags");
    const proto_option *exclude = proto_spawn_option(sp, "exclude_tags");
    for (size_t i = 0; i < r->n; i++) {
        if (taskpick_tags(&r->env.picks[i], tags, exclude) == 0) {
            log_msg(LOG_WARNING, LOG_RUNNER, "%s had no tasks left after filtering by tags",
                    r->classes[i].name);
        }
    }
}

void runner_update_class(runner *r, const proto_update *up)
{
    int idx = class_index(r, up->class_name);
    if (idx < 0) {
        log_msg(LOG_DEBUG, LOG_RUNNER, "update_user_class for %s, a class this worker lacks",
                up->class_name);
        return;
    }
    taskpick *t = &r->env.picks[idx];
    if (up->has_tasks) {
        size_t left = taskpick_select(t, up->tasks, up->ntasks);
        log_msg(LOG_INFO, LOG_RUNNER, "%s now runs %zu of its %zu tasks", up->class_name, left,
                r->classes[idx].ntasks);
    }
    if (taskpick_set_host(t, up->host) != 0) {
        log_msg(LOG_ERROR, LOG_RUNNER, "out of memory for the host of %s", up->class_name);
    } else if (up->host) {
        log_msg(LOG_INFO, LOG_RUNNER, "%s users started from now on use the host %s",
                up->class_name, up->host);
    }
    if (up->other) {
        log_msg(LOG_DEBUG, LOG_RUNNER, "update_user_class: %s has no C equivalent of: %s",
                up->class_name, up->other);
    }
}

/* The master asked for more users than fit: run what fits (capacity.h),
 * and say so once per test, in the log and to the Exceptions tab. */
static void report_cut(runner *r, const capacity *c, const capacity_cut *cut)
{
    char msg[512];
    if (r->cut_reported) {
        return;
    }
    r->cut_reported = 1;
    if (cut->by_fds) {
        snprintf(msg, sizeof msg,
                 "This worker can run %lld of the %lld users the master asked for: "
                 "each user holds a connection and the open-file limit is %lld; raise it "
                 "(ulimit -n) or run more worker processes",
                 (long long)cut->runs, (long long)cut->asked, (long long)c->nofile);
    } else {
        snprintf(msg, sizeof msg,
                 "This worker can run %lld of the %lld users the master asked for: "
                 "the memory left is %lld MB (%s), at about %.0f KB per user; run "
                 "more workers on other machines",
                 (long long)cut->runs, (long long)cut->asked, (long long)(c->mem_bytes >> 20),
                 c->mem_what, cut->user_bytes / 1024);
    }
    log_msg(LOG_ERROR, LOG_RUNNER, "%s", msg);
    r->ev.exception(msg, r->ev.ctx);
}

static void fit_capacity(runner *r)
{
    capacity c;
    capacity_cut cut;
    if (runner_idle(r) || r->base_fds < 0) {
        r->base_fds = capacity_open_fds();
    }
    if (capacity_measure(&c, r->base_fds) == 0 &&
        capacity_fit(&c, r->n, r->alive, r->target, r->user_bytes, r->nstopping, &cut)) {
        report_cut(r, &c, &cut);
    }
}

void runner_set_options(runner *r, const proto_spawn *sp)
{
    r->env.options = sp;
}

void runner_set_wrap(runner *r,
                     const lw_request *(*wrap)(lw_user *u, const lw_request *req, lw_request *tmp))
{
    r->env.wrap = wrap;
}

void runner_spawn(runner *r, const proto_spawn *sp)
{
    r->env.test_host = sp->host && *sp->host;
    const char *host = sp->host && *sp->host ? sp->host : r->default_host;
    if (request_env_set_host(&r->env.req, host) != 0) {
        log_msg(LOG_ERROR, LOG_RUNNER, "out of memory for the host of a spawn");
    }
    r->stop_timeout = sp->has_stop_timeout ? sp->stop_timeout : 0.0;
    for (size_t i = 0; i < sp->nclasses; i++) {
        int idx = class_index(r, sp->classes[i].name);
        if (idx >= 0) {
            r->target[idx] = sp->classes[i].count;
        } else if (sp->classes[i].count > 0) {
            report_unknown(r, sp->classes[i].name, sp->classes[i].count);
        }
    }
    fit_capacity(r);
    r->stop_pending = 0;
    r->spawn_pending = 1;
    ev_timer_stop(r->loop, &r->adjust);
    ev_timer_set(&r->adjust, 0.0, 0.0);
    ev_timer_start(r->loop, &r->adjust);
}

static void stop_all(runner *r, int hard)
{
    ev_timer_stop(r->loop, &r->adjust);
    r->spawn_pending = 0;
    for (size_t i = 0; i < r->n; i++) {
        r->target[i] = 0;
        while (r->active[i].first) {
            begin_stop_user(r, i, hard);
        }
    }
}

void runner_stop(runner *r, double stop_timeout)
{
    r->stop_timeout = stop_timeout;
    r->stop_pending = 1;
    stop_all(r, stop_timeout <= 0);
    for (size_t i = 0; i < r->nunknown; i++) {
        free(r->unknown[i]);
    }
    r->nunknown = 0;
    r->unknown_overflow = 0;
    r->cut_reported = 0;
    if (!runner_idle(r)) {
        arm_stop_deadline(r);
    }
    check_idle(r);
}

void runner_shutdown(runner *r, double drain, void (*cb)(void *), void *arg)
{
    r->idle_cb = cb;
    r->idle_arg = arg;
    stop_all(r, 1);
    for (list_link *l = r->stopping.first, *next; l; l = next) {
        next = l->next;
        user_stop(LIST_ITEM(l, lw_user, link), 1);
    }
    ev_timer_stop(r->loop, &r->stop_deadline);
    ev_timer_stop(r->loop, &r->drain_deadline);
    if (!runner_idle(r)) {
        ev_timer_set(&r->drain_deadline, drain, 0.0);
        ev_timer_start(r->loop, &r->drain_deadline);
    }
    check_idle(r);
}

size_t runner_counts(const runner *r, proto_class_count *out)
{
    for (size_t i = 0; i < r->n; i++) {
        out[i].name = (char *)r->classes[i].name;
        out[i].count = r->alive[i];
    }
    return r->n;
}

int64_t runner_user_count(const runner *r)
{
    int64_t sum = 0;
    for (size_t i = 0; i < r->n; i++) {
        sum += r->alive[i];
    }
    return sum;
}

int runner_idle(const runner *r)
{
    return r->nstopping == 0 && runner_user_count(r) == 0;
}

size_t runner_nclasses(const runner *r)
{
    return r->n;
}
