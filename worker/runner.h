/*
 * runner.h - the users of this worker process, per class: applying the
 * master's absolute per-class targets incrementally (existing users keep
 * running), in slices so the loop never stalls, and stopping them with
 * Locust's stop_timeout.
 */
#ifndef LW_RUNNER_H
#define LW_RUNNER_H

#include <ev.h>

#include "../proto/proto.h"
#include "cli.h"
#include "lw.h"
#include "stats.h"

typedef struct runner runner;

typedef struct {
    void (*spawning_complete)(void *ctx); /* targets reached */
    void (*stopped)(void *ctx);           /* runner_stop finished */
    void (*exception)(const char *msg, void *ctx);
    void *ctx;
} runner_events;

runner *runner_new(struct ev_loop *loop, const lw_user_class *classes, size_t nclasses,
                   const lw_config *cfg, lw_stats *stats, runner_events events);
void runner_free(runner *r);

/* Apply a spawn message: host and absolute per-class targets. */
void runner_spawn(runner *r, const proto_spawn *sp);
/* The spawn whose parsed_options lw_option reads; the caller keeps it
 * alive until the next call (or NULL). */
void runner_set_options(runner *r, const proto_spawn *sp);
/* Every request of the users goes through wrap first (--run-tasks): it
 * may hand back a replacement kept in *tmp. */
void runner_set_wrap(runner *r,
                     const lw_request *(*wrap)(lw_user *u, const lw_request *req, lw_request *tmp));
/* A new test begins with this spawn: its --tags / --exclude-tags. */
void runner_new_test(runner *r, const proto_spawn *sp);
/* The web UI's class picker changed a class (update_user_class). */
void runner_update_class(runner *r, const proto_update *up);
/* Stop every user (stop_timeout seconds of grace, then a hard stop whose
 * in-flight requests get a short drain). events.stopped fires when done. */
void runner_stop(runner *r, double stop_timeout);
/* Hard-stop all users and drain within `drain` seconds; then cb fires
 * (shutdown path). */
void runner_shutdown(runner *r, double drain, void (*cb)(void *), void *arg);
/* Users running now, per class: fills out[nclasses]. Returns nclasses. */
size_t runner_counts(const runner *r, proto_class_count *out);
int64_t runner_user_count(const runner *r);
/* True when no user exists at all (none running, none stopping). */
int runner_idle(const runner *r);
size_t runner_nclasses(const runner *r);

#endif
