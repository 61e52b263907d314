/*
 * user.h - one simulated user: a small state machine driven by the loop.
 *
 *   starting -> on_start -> task -> wait -> task -> ... -> on_stop -> done
 *
 * A phase (on_start, a task, on_stop) ends when its function has returned
 * and no request of the user is in flight. Each user owns its HTTP session
 * (connections, cookies, default headers). The runner owns users and keeps
 * them in per-class lists through the link fields.
 */
#ifndef LW_USER_H
#define LW_USER_H

#include <ev.h>

#include "list.h"
#include "lw.h"
#include "request.h"
#include "taskpick.h"
#include "wait_time.h"

/* What users share: set up once per process by the runner. */
typedef struct {
    struct ev_loop *loop;
    request_env req;                         /* transports, stats, host, timeout */
    taskpick *picks;                         /* per class: the tasks that may run */
    const proto_spawn *options;              /* the current test's spawn, kept alive by
                                    the master (lw_option), or NULL */
    int test_host;                           /* the current spawn names a host */
    void (*finished)(lw_user *u, void *ctx); /* stopped: free it */
    void (*exception)(const char *msg, void *ctx);
    void *ctx;
    /* Set by the layers above, each optional: */
    /* takes a request to send later through lw_request_send (1), or not (0) */
    int (*defer)(lw_user *u, const lw_request *req);
    /* may hand back a replacement kept in *tmp (--run-tasks) */
    const lw_request *(*wrap)(lw_user *u, const lw_request *req, lw_request *tmp);
    /* the user is being freed: drop what is kept for it */
    void (*forget)(lw_user *u);
} user_env;

typedef enum {
    PHASE_START = 0, /* waiting to run on_start */
    PHASE_ON_START,
    PHASE_TASK,
    PHASE_WAIT,
    PHASE_ON_STOP,
    PHASE_DONE
} user_phase;

struct lw_user {
    user_env *env;
    const lw_user_class *cls;
    const lw_task *task; /* the task running now; NULL outside tasks */
    int class_index;
    user_phase phase;
    int stopping;   /* stop asked: on_stop after the current phase */
    int draining;   /* hard stop: no new requests until on_stop */
    int cancelled;  /* out of time: no new requests at all */
    int inflight;   /* holds on the phase (timers, held tasks,
                              requests waiting for a token) */
    int running_fn; /* inside a phase function or a callback */
    char *host;     /* the class picker's host when the user
                              started in a test without a host of its
                              own (as Python's HttpUser), or NULL */
    ev_timer timer; /* wait_time and deferred starts */
    wait_state ws;
    request_set req; /* its requests and HTTP sessions */
    void *data;
    struct user_ext *ext; /* custom.c: timers and the cleanup hook, or NULL */
    list_link link;       /* in the runner's lists */
};

lw_user *user_new(user_env *env, const lw_user_class *cls, int class_index);
/* Begin: on_start, then tasks. */
void user_start(lw_user *u);
/* Stop the user; on_stop runs, then env->finished fires.
 * Graceful (hard = 0): the current task runs to its end first.
 * Hard: the task sends no new request; requests already in flight still
 * finish and are counted. user_cancel drops what is still in flight (never
 * counted) so the user finishes at once. */
void user_stop(lw_user *u, int hard);
void user_cancel(lw_user *u);
/* Cancel everything and free at once (shutdown). No callbacks fire. */
void user_free(lw_user *u);

/* A request finished or a phase function returned: move on if the phase
 * is over. */
void user_settle(lw_user *u);

#endif
