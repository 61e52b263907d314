/*
 * wait_time.c - the wait between two tasks of a user.
 *
 * constant_pacing follows Locust's locust/user/wait_time.py: the time the
 * task ran is measured from the end of the previous wait, and the wait is
 * what is left of the pacing period (never negative). constant_throughput(n)
 * is constant_pacing(1/n).
 */
#include "wait_time.h"

void wait_state_init(wait_state *w, double now)
{
    w->last_run = now;
    w->last_wait = 0.0;
}

static double pacing(double period, wait_state *w, double now)
{
    double run_time = now - w->last_run - w->last_wait;
    double wait = period - run_time;
    w->last_wait = wait > 0 ? wait : 0;
    w->last_run = now;
    return w->last_wait;
}

double wait_time_next(const lw_wait_time *wt, wait_state *w, double now, double rnd)
{
    switch (wt->kind) {
    case LW_WAIT_BETWEEN:
        return wt->a + rnd * (wt->b - wt->a);
    case LW_WAIT_CONSTANT_PACING:
        return pacing(wt->a, w, now);
    case LW_WAIT_CONSTANT_THROUGHPUT:
        return pacing(1.0 / wt->a, w, now);
    case LW_WAIT_CONSTANT:
    default:
        return wt->a;
    }
}

int wait_time_valid(const lw_wait_time *wt)
{
    switch (wt->kind) {
    case LW_WAIT_CONSTANT:
    case LW_WAIT_CONSTANT_PACING:
        return wt->a >= 0 ? 0 : -1;
    case LW_WAIT_BETWEEN:
        return (wt->a >= 0 && wt->b >= wt->a) ? 0 : -1;
    case LW_WAIT_CONSTANT_THROUGHPUT:
        return wt->a > 0 ? 0 : -1;
    default:
        return -1;
    }
}

double wait_time_min_interval(const lw_wait_time *wt)
{
    switch (wt->kind) {
    case LW_WAIT_CONSTANT_THROUGHPUT:
        return wt->a > 0 ? 1.0 / wt->a : 0.0;
    case LW_WAIT_CONSTANT:
    case LW_WAIT_BETWEEN:
    case LW_WAIT_CONSTANT_PACING:
    default:
        return wt->a;
    }
}
