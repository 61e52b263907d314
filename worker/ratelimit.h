/*
 * ratelimit.h - --max-rps: one token bucket per process that every HTTP
 * request draws from before it starts (lw_request_send). A request that
 * finds no token waits in a FIFO queue, its task held open, and starts when
 * a token comes; none is dropped or counted twice. --request-increase-rate
 * R/I ramps the cap: R requests/s at first, R more every I seconds, up to
 * --max-rps (no upper bound without it).
 */
#ifndef LW_RATELIMIT_H
#define LW_RATELIMIT_H

#include <ev.h>

#include "lw.h"

/* max_rps 0 and step 0: no cap (the default). */
void ratelimit_init(struct ev_loop *loop, double max_rps, double step, double interval);
void ratelimit_free(void);

/* Called first thing by lw_request_send: 1 when the request was queued
 * (a copy; the caller returns 0), 0 when it may start now (a token was
 * taken, or there is no cap, or the copy failed for lack of memory). */
int ratelimit_defer(lw_user *u, const lw_request *req);

/* The user is freed: its queued requests are dropped (never counted). */
void ratelimit_forget(lw_user *u);

/* The cap in force now, requests per second (0: none). */
double ratelimit_rate(void);

/* The token bucket's arithmetic, for tests: the tokens after `elapsed`
 * seconds at `rate`, starting from `tokens`, at most `cap`. */
double ratelimit_refill(double tokens, double rate, double elapsed, double cap);
/* The cap at `t` seconds after the start (ramp of step every interval,
 * up to max; max 0: none). */
double ratelimit_ramp(double max, double step, double interval, double t);

#endif
