/*
 * wait_time.h - Locust's wait_time functions: between, constant,
 * constant_pacing and constant_throughput, with Locust's semantics.
 */
#ifndef LW_WAIT_TIME_H
#define LW_WAIT_TIME_H

#include "lw.h"

/* Per-user pacing memory for constant_pacing / constant_throughput. */
typedef struct {
    double last_run; /* monotonic time the last wait began (or start) */
    double last_wait;
} wait_state;

/* now: monotonic time the user started, as Locust's _cp_last_run. */
void wait_state_init(wait_state *w, double now);

/* Seconds to wait after a task that just finished, at monotonic time now.
 * rnd is a uniform sample in [0, 1). */
double wait_time_next(const lw_wait_time *wt, wait_state *w, double now, double rnd);

/* Checks a wait_time's parameters; returns 0 or -1. */
int wait_time_valid(const lw_wait_time *wt);

/* The shortest time, in seconds, from the start of one task to the start
 * of the next that wt allows (the task's own time aside): constant(a),
 * between(a, b) and constant_pacing(a) give a, constant_throughput(n)
 * 1/n. */
double wait_time_min_interval(const lw_wait_time *wt);

#endif
