/*
 * ratelimit.c - the process's request-rate cap (ratelimit.h).
 *
 * The bucket holds at most 50 ms of tokens (at least one) while no request
 * waits for one, so a burst after an idle spell is short; it starts full.
 * While requests wait, it holds up to 1 s of tokens: a stall of this
 * process (a busy machine) is made up right after it, so the rate over a
 * run stays the cap. Once no request waits (every user is waiting on the
 * target), what is left is cut back to 50 ms: a target that stalled gets
 * no burst above the cap when it recovers, and its stall costs rate.
 * Queued requests are served in order by one timer that ticks every
 * 1/rate s, but at most every 1 ms (epoll's grain), and after every poll
 * of the loop (an ev_check watcher): at high rates the loop turns far more
 * often than every 1 ms, so waiting users are served at that finer grain.
 * A queued request is a deep copy of the lw_request; it is sent later
 * through lw_request_send itself, marked so that it does not queue twice.
 */
#include "ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "log.h"
#include "user.h"

#define BURST_S 0.05
#define CATCH_UP_S 1.0
#define MIN_TICK_S 0.001

typedef struct queued {
    lw_user *u;
    lw_request req;
    char *method, *path, *name, *body;
    char **headers;
    list_link link; /* in the queue, oldest first */
} queued;

static struct {
    struct ev_loop *loop;
    double max, step, interval;
    double tokens, last, t0;
    int on, started;
    const lw_request *sending; /* the queued request being sent now */
    list_head queue;
    ev_timer timer;
    ev_check check; /* serves the queue after each poll */
} rl;

double ratelimit_refill(double tokens, double rate, double elapsed, double cap)
{
    double t = tokens + (elapsed > 0 ? elapsed : 0) * rate;
    return t > cap ? cap : t;
}

double ratelimit_ramp(double max, double step, double interval, double t)
{
    if (step <= 0) {
        return max;
    }
    double r = step * (1.0 + floor((t > 0 ? t : 0) / interval));
    return max > 0 && r > max ? max : r;
}

static double rate_at(double now)
{
    return ratelimit_ramp(rl.max, rl.step, rl.interval, now - rl.t0);
}

double ratelimit_rate(void)
{
    return rl.on ? rate_at(rl.started ? ev_now(rl.loop) : rl.t0) : 0;
}

static double burst(double rate)
{
    return rate * BURST_S > 1 ? rate * BURST_S : 1;
}

static void refill(double now)
{
    if (!rl.started) {
        rl.started = 1;
        rl.t0 = rl.last = now;
        rl.tokens = burst(rate_at(now));
        return;
    }
    double rate = rate_at(now);
    double cap = rl.queue.first ? rate * CATCH_UP_S : burst(rate);
    rl.tokens = ratelimit_refill(rl.tokens, rate, now - rl.last, cap > 1 ? cap : 1);
    rl.last = now;
}

static void free_queued(queued *q)
{
    if (q->headers) {
        for (char **h = q->headers; *h; h++) {
            free(*h);
        }
        free(q->headers);
    }
    free(q->method);
    free(q->path);
    free(q->name);
    free(q->body);
    free(q);
}

static char *dup_or_null(const char *s, int *bad)
{
    char *d = s ? strdup(s) : NULL;
    *bad |= s && !d;
    return d;
}

static char **dup_headers(const char *const *h, int *bad)
{
    size_t n = 0;
    if (!h) {
        return NULL;
    }
    while (h[n]) {
        n++;
    }
    char **d = calloc(n + 1, sizeof *d);
    *bad |= !d;
    for (size_t i = 0; d && i < n; i++) {
        d[i] = dup_or_null(h[i], bad);
    }
    return d;
}

/* A deep copy of req, or NULL when out of memory. */
static queued *copy(lw_user *u, const lw_request *req)
{
    queued *q = calloc(1, sizeof *q);
    int bad = !q;
    if (bad) {
        return NULL;
    }
    size_t blen = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
    q->u = u;
    q->req = *req;
    q->method = dup_or_null(req->method, &bad);
    q->path = dup_or_null(req->path, &bad);
    q->name = dup_or_null(req->name, &bad);
    q->headers = dup_headers(req->headers, &bad);
    if (req->body && (q->body = malloc(blen + 1))) {
        memcpy(q->body, req->body, blen);
        q->body[blen] = '\0';
    }
    bad |= req->body && !q->body;
    if (bad) {
        free_queued(q);
        return NULL;
    }
    q->req.method = q->method;
    q->req.path = q->path;
    q->req.name = q->name;
    q->req.body = q->body;
    q->req.body_len = blen;
    q->req.headers = (const char *const *)q->headers;
    return q;
}

static queued *first(void)
{
    return rl.queue.first ? LIST_ITEM(rl.queue.first, queued, link) : NULL;
}

/* Send a queued request now, then release its hold on the task. */
static void send_queued(queued *q)
{
    lw_user *u = q->u;
    list_remove(&rl.queue, &q->link);
    u->running_fn++;
    rl.sending = &q->req;
    lw_request_send(u, &q->req);
    rl.sending = NULL;
    u->running_fn--;
    u->inflight--;
    free_queued(q);
    user_settle(u);
}

static void arm(void)
{
    double rate = rate_at(ev_now(rl.loop));
    double wait = rate > 0 ? (1.0 - rl.tokens) / rate : MIN_TICK_S;
    ev_timer_set(&rl.timer, wait > MIN_TICK_S ? wait : MIN_TICK_S, 0.0);
    ev_timer_start(rl.loop, &rl.timer);
}

/* Serve what tokens allow; keep the timer and the check watcher running
 * while requests wait. */
static void serve(void)
{
    refill(ev_now(rl.loop));
    while (rl.queue.first && rl.tokens >= 1) {
        rl.tokens -= 1;
        send_queued(first());
    }
    double b = burst(rate_at(ev_now(rl.loop)));
    if (!rl.queue.first && rl.tokens > b) {
        rl.tokens = b; /* demand met: no catch-up burst later */
    }
    if (rl.queue.first) {
        if (!ev_is_active(&rl.timer)) {
            arm();
        }
        ev_check_start(rl.loop, &rl.check);
    } else {
        ev_timer_stop(rl.loop, &rl.timer);
        ev_check_stop(rl.loop, &rl.check);
    }
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    serve();
}

static void on_check(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    serve();
}

int ratelimit_defer(lw_user *u, const lw_request *req)
{
    if (!rl.on || req == rl.sending) {
        return 0;
    }
    refill(ev_now(rl.loop));
    if (!rl.queue.first && rl.tokens >= 1) {
        rl.tokens -= 1;
        return 0;
    }
    queued *q = copy(u, req);
    if (!q) {
        return 0; /* never dropped: it goes now, over the cap */
    }
    list_push_back(&rl.queue, &q->link);
    u->inflight++; /* the task stays open while the request waits */
    if (!ev_is_active(&rl.timer)) {
        arm();
        ev_check_start(rl.loop, &rl.check);
    }
    return 1;
}

void ratelimit_forget(lw_user *u)
{
    for (list_link *l = rl.queue.first, *next; l; l = next) {
        next = l->next;
        queued *q = LIST_ITEM(l, queued, link);
        if (q->u == u) {
            list_remove(&rl.queue, &q->link);
            u->inflight--;
            free_queued(q);
        }
    }
}

void ratelimit_init(struct ev_loop *loop, double max_rps, double step, double interval)
{
    ratelimit_free();
    memset(&rl, 0, sizeof rl);
    rl.loop = loop;
    rl.max = max_rps > 0 ? max_rps : 0;
    rl.step = step > 0 ? step : 0;
    rl.interval = interval > 0 ? interval : 1.0;
    rl.on = rl.max > 0 || rl.step > 0;
    ev_timer_init(&rl.timer, on_tick, 0.0, 0.0);
    ev_check_init(&rl.check, on_check);
    if (rl.on) {
        if (rl.step > 0) {
            log_msg(LOG_INFO, LOG_MAIN, "Request rate capped at %g/s, %g/s more every %g s%s%.0f",
                    rl.step, rl.step, rl.interval, rl.max > 0 ? " up to " : "", rl.max);
        } else {
            log_msg(LOG_INFO, LOG_MAIN, "Request rate capped at %g requests/s in this process",
                    rl.max);
        }
    }
}

void ratelimit_free(void)
{
    if (rl.loop) {
        ev_timer_stop(rl.loop, &rl.timer);
        ev_check_stop(rl.loop, &rl.check);
    }
    while (rl.queue.first) {
        queued *q = first();
        list_remove(&rl.queue, &q->link);
        q->u->inflight--;
        free_queued(q);
    }
    rl.on = 0;
}
