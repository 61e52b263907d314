/*
 * request.h - a user's requests: send one through a transport, judge its
 * response as requests and Locust do, show it to the task's callback and
 * log it in stats. This layer knows users only as the lw_user handle it
 * passes back; the user model gives it a request_set per user and learns
 * of each finished request through the set's settled callback.
 */
#ifndef LW_REQUEST_H
#define LW_REQUEST_H

#include <stddef.h>

#include "list.h"
#include "lw.h"
#include "stats.h"
#include "transports.h"

/* What the users of one process share: set up by the runner. */
typedef struct {
    void *engine[TR_COUNT]; /* per transport, NULL until opened */
    lw_stats *stats;
    char *host;     /* base URL, whole (request_env_set_host);
                                  NULL or "" when none is known */
    double timeout; /* default request timeout, seconds */
    int client;     /* -1: each class's own; else an lw_client */
    /* a failure the master should see (out of file descriptors) */
    void (*exception)(const char *msg, void *ctx);
    void *ctx;
} request_env;

/* One user's requests and HTTP sessions. */
typedef struct {
    request_env *env;
    lw_user *owner;          /* passed to callbacks, never looked into */
    int client;              /* the user's class's lw_client */
    int paced;               /* its class starts at most a task a second */
    const char *host;        /* the user's own base URL, or NULL */
    void *session[TR_COUNT]; /* per transport, made on first use */
    char **headers;          /* the user's default header lines,
                                  NULL-terminated, or NULL */
    size_t nheaders, cap;
    list_head busy;              /* requests in flight */
    list_head spare;             /* finished slots kept for reuse */
    int inflight;                /* requests in flight */
    int calling;                 /* inside a response callback */
    void (*settled)(lw_user *u); /* a request of the user finished */
} request_set;

/* Open every transport's engine on the loop. Returns 0 or -1 (those
 * opened are closed again). */
int request_env_open(request_env *env, const tr_config *cfg);
void request_env_close(request_env *env);
/* Set env->host to a copy of host (never cut). Returns 0, or -1 when out
 * of memory (the old host stays). */
int request_env_set_host(request_env *env, const char *host);

/* Send a request: 0, or -1 when it could not start (then it is logged as
 * a failure). The set's settled callback follows its end. */
int request_send(request_set *rs, const lw_request *req);
/* A default header for the user's later requests. Returns 0 or -1. */
int request_add_header(request_set *rs, const char *line);
/* Drop every request in flight: never counted, no callbacks. */
void request_cancel_all(request_set *rs);
/* Free the set's slots, sessions and headers (nothing in flight). */
void request_set_free(request_set *rs);

#endif
