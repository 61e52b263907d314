/*
 * user.c - the user state machine: on_start, weighted task choice, wait_time
 * between tasks, stopping with on_stop. Requests live in request.c; this file
 * only learns when the last request of a phase has finished (user_settle).
 */
#include "user.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "procinfo.h"

#define NO_TASK_RETRY_S 1.0

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents);

/* Nothing of the phase is still running: no function, no request, no
 * hold. */
static int idle(const lw_user *u)
{
    return u->inflight == 0 && u->running_fn == 0 && u->req.inflight == 0 && u->req.calling == 0;
}

lw_user *user_new(user_env *env, const lw_user_class *cls, int class_index)
{
    lw_user *u = calloc(1, sizeof *u);
    if (!u) {
        return NULL;
    }
    *u = (lw_user){.env = env, .cls = cls, .class_index = class_index};
    if (cls->user_data_size && !(u->data = calloc(1, cls->user_data_size))) {
        free(u);
        return NULL;
    }
    /* A class host from the class picker counts when the master's test has
     * none, as with Python workers (the test's host overwrites class
     * hosts at each spawn); the user keeps it, as HttpUser keeps its
     * base_url. */
    const char *host = env->picks && !env->test_host ? env->picks[class_index].host : NULL;
    if (host && !(u->host = strdup(host))) {
        free(u->data);
        free(u);
        return NULL;
    }
    u->req.env = &env->req;
    u->req.owner = u;
    u->req.client = (int)cls->client;
    u->req.paced = wait_time_min_interval(&cls->wait_time) >= 1.0;
    u->req.host = u->host;
    u->req.settled = user_settle;
    ev_timer_init(&u->timer, on_timer, 0.0, 0.0);
    u->timer.data = u;
    wait_state_init(&u->ws, now_mono());
    return u;
}

static void arm(lw_user *u, double seconds)
{
    ev_timer_stop(u->env->loop, &u->timer);
    ev_timer_set(&u->timer, seconds > 0 ? seconds : 0.0, 0.0);
    ev_timer_start(u->env->loop, &u->timer);
}

void user_start(lw_user *u)
{
    u->phase = PHASE_START;
    arm(u, 0.0);
}

/* Run one phase function; user_settle decides what comes next. */
static void run_phase(lw_user *u, user_phase phase, lw_task_fn fn)
{
    u->phase = phase;
    if (fn) {
        u->running_fn++;
        fn(u);
        u->running_fn--;
    }
    user_settle(u);
}

static void begin_stop(lw_user *u)
{
    ev_timer_stop(u->env->loop, &u->timer);
    u->draining = 0; /* on_stop may send its own requests */
    u->task = NULL;
    run_phase(u, PHASE_ON_STOP, u->cls->on_stop);
}

/* With no task left to run (tags, the class picker), a user waits and
 * looks again: the class picker may select tasks later. */
static void run_next_task(lw_user *u)
{
    taskpick *tp = &u->env->picks[u->class_index];
    const lw_task *t = taskpick_choose(tp, lw_random());
    if (!t) {
        if (!tp->warned) {
            char msg[600];
            tp->warned = 1;
            snprintf(msg, sizeof msg,
                     "%.400s had no tasks left after filtering (tags or the class "
                     "picker); its users wait",
                     u->cls->name);
            log_msg(LOG_WARNING, LOG_USER, "%s", msg);
            u->env->exception(msg, u->env->ctx);
        }
        u->phase = PHASE_WAIT;
        arm(u, NO_TASK_RETRY_S);
        return;
    }
    u->task = t;
    run_phase(u, PHASE_TASK, t->fn);
}

/* The user's timer went off: the start, the next task or the stop. */
static void wake(lw_user *u)
{
    if (u->stopping) {
        begin_stop(u);
    } else if (u->phase == PHASE_START) {
        run_phase(u, PHASE_ON_START, u->cls->on_start);
    } else {
        run_next_task(u);
    }
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    wake(w->data);
}

void user_settle(lw_user *u)
{
    if (!idle(u)) {
        return;
    }
    switch (u->phase) {
    case PHASE_ON_START:
    case PHASE_TASK:
        if (u->stopping) {
            begin_stop(u);
            return;
        }
        {
            /* Locust runs the first task right after on_start; a wait of 0
         * still goes through the loop so users never recurse. */
            double wait = u->phase == PHASE_ON_START
                              ? 0.0
                              : wait_time_next(&u->cls->wait_time, &u->ws, now_mono(), lw_random());
            u->phase = PHASE_WAIT;
            arm(u, wait);
            return;
        }
    case PHASE_ON_STOP:
        u->phase = PHASE_DONE;
        u->env->finished(u, u->env->ctx);
        return;
    default:
        return;
    }
}

void user_stop(lw_user *u, int hard)
{
    if (u->phase == PHASE_DONE) {
        return;
    }
    if (hard) {
        u->draining = 1;
    }
    if (u->stopping) {
        return;
    }
    u->stopping = 1;
    if (u->phase == PHASE_START) {
        /* never started: like Locust, no on_stop without a run */
        ev_timer_stop(u->env->loop, &u->timer);
        u->phase = PHASE_DONE;
        u->env->finished(u, u->env->ctx);
        return;
    }
    if (u->phase == PHASE_WAIT || idle(u)) {
        begin_stop(u);
    }
}

void user_cancel(lw_user *u)
{
    if (u->phase == PHASE_DONE) {
        return;
    }
    u->stopping = u->draining = u->cancelled = 1;
    request_cancel_all(&u->req);
    if (u->phase == PHASE_START) {
        ev_timer_stop(u->env->loop, &u->timer);
        u->phase = PHASE_DONE;
        u->env->finished(u, u->env->ctx);
    } else if (u->phase == PHASE_WAIT) {
        begin_stop(u);
    } else {
        user_settle(u);
    }
}

void user_free(lw_user *u)
{
    if (!u) {
        return;
    }
    ev_timer_stop(u->env->loop, &u->timer);
    if (u->env->forget) {
        u->env->forget(u); /* before anything it may still use */
    }
    request_set_free(&u->req);
    free(u->data);
    free(u->host);
    free(u);
}

void *lw_user_data(lw_user *u)
{
    return u->data;
}

const lw_user_class *lw_user_class_of(const lw_user *u)
{
    return u->cls;
}

const lw_task *lw_current_task(const lw_user *u)
{
    return u->phase == PHASE_TASK ? u->task : NULL;
}

int lw_user_add_header(lw_user *u, const char *header)
{
    return request_add_header(&u->req, header);
}

/* A request of a task: refused once the user may send no more; it may be
 * deferred (--max-rps) or wrapped (--run-tasks) by the layers above. */
int lw_request_send(lw_user *u, const lw_request *req)
{
    if (!req || !req->path || (u->draining && u->phase != PHASE_ON_STOP) ||
        u->phase == PHASE_DONE || u->cancelled) {
        return -1;
    }
    if (u->env->defer && u->env->defer(u, req)) {
        return 0;
    }
    lw_request wrapped;
    if (u->env->wrap) {
        req = u->env->wrap(u, req, &wrapped);
    }
    return request_send(&u->req, req);
}

void lw_user_exception(lw_user *u, const char *msg)
{
    log_msg(LOG_ERROR, LOG_USER, "%s: %s", u->cls->name, msg);
    u->env->exception(msg, u->env->ctx);
}
