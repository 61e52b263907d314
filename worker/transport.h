/*
 * transport.h - what an HTTP client must provide: a table of operations
 * that request.c drives without knowing which client it talks to.
 *
 * A transport has three kinds of object, all opaque to request.c:
 *   engine   one per process, on the process's loop (engine_new);
 *   session  one per user, made on the user's first request through this
 *            transport: the user's keep-alive connection and cookies,
 *            as a requests.Session (session_new);
 *   xfer     one per request slot, reused request after request: prepare
 *            sets it up, start runs it, and the done callback given at
 *            xfer_new fires once it has a response or an error, never from
 *            inside start. The response (status, time, body, headers) is
 *            readable from then until finish, which readies the xfer for
 *            its next request; cancel abandons a running transfer (no
 *            callback).
 *
 * The transports are listed in transports.c, indexed by lw_client. A
 * third one is a new file with its table, a line there and an lw_client
 * value: request.c does not change. transport.c holds what every
 * transport's operations share.
 */
#ifndef LW_TRANSPORT_H
#define LW_TRANSPORT_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

typedef enum {
    TR_OK = 0,
    TR_ERR_CONNECTION, /* refused, reset, closed, malformed, unresolved */
    TR_ERR_TIMEOUT,
    TR_ERR_TLS, /* a failed handshake or a refused certificate */
    TR_ERR_URL  /* a redirect to a URL requests refuses */
} tr_result;

/* A request, as request.c has checked it. Valid during prepare only: a
 * transport copies what it keeps. */
typedef struct {
    const char *method; /* "GET", "POST", ... */
    const char *url;    /* absolute, checked, escaped */
    const char *body;   /* NULL: no body */
    size_t body_len;
    const char *const *session_headers; /* the user's "Name: value"
                                            lines, NULL-terminated, or NULL */
    const char *const *headers;         /* the request's own, or NULL */
    double timeout;                     /* seconds, > 0 */
    int keep;                           /* keep body and headers */
    int paced;                          /* the user starts at most a task
                                            a second: idle most of the time,
                                            its connection should cost
                                            memory rather than CPU */
} tr_request;

/* A finished transfer, as the transport saw it. */
typedef struct {
    tr_result result;
    const char *text;     /* the error, in libcurl's words ("" when OK) */
    const char *url_kind; /* TR_ERR_URL: requests' exception name */
    const char *url_msg;  /* TR_ERR_URL: its message */
    int open_errno;       /* errno of a failed socket(), else 0 */
    long status;          /* 0 when no response came */
    const char *reason;   /* the status line's reason phrase */
    int64_t bytes;        /* body bytes received */
    double time_ms;       /* start to last byte, redirects included */
    const char *url;      /* the effective URL, after redirects */
} tr_response;

typedef void (*tr_done_fn)(void *arg);

/* The head every transport's transfer starts with (xfer_new makes it
 * with transport_xfer_alloc, response returns its resp). */
typedef struct {
    void *engine;
    tr_done_fn done;
    void *arg;
    tr_response resp; /* filled before done is called */
} tr_xfer_head;

/* What every engine is told at its start. */
typedef struct {
    struct ev_loop *loop;
    int insecure; /* no TLS certificate or host name checks */
} tr_config;

typedef struct {
    const char *name;
    /* Whether this transport can send to url (a whole URL or a base host). */
    int (*supports)(const char *url);
    void *(*engine_new)(const tr_config *cfg); /* NULL on failure */
    void (*engine_free)(void *engine);
    void *(*session_new)(void *engine);                /* NULL on failure */
    void (*session_free)(void *engine, void *session); /* its xfers idle */
    void *(*xfer_new)(void *engine, tr_done_fn done, void *arg);
    void (*xfer_free)(void *xfer); /* not running */
    /* 0, or -1 when out of memory. */
    int (*prepare)(void *xfer, void *session, const tr_request *req);
    /* 0, or -1 when it could not start (no callback then). */
    int (*start)(void *xfer);
    void (*cancel)(void *xfer);
    void (*finish)(void *xfer);
    const tr_response *(*response)(void *xfer);
    /* The kept body (NUL-terminated, "" when none) and whether it was cut. */
    const char *(*body)(void *xfer, size_t *len, int *cut);
    /* A kept response header's value (case-insensitive name), or NULL. */
    const char *(*header)(void *xfer, const char *name);
} transport;

/* The table of a transport whose file defines the operations as static
 * functions of these names. */
#define TRANSPORT_TABLE(label)                                                                \
    {                                                                                         \
        .name = (label), .supports = supports, .engine_new = engine_new,                      \
        .engine_free = engine_free, .session_new = session_new, .session_free = session_free, \
        .xfer_new = xfer_new, .xfer_free = xfer_free, .prepare = prepare, .start = start,     \
        .cancel = cancel, .finish = finish, .response = transport_response, .body = body,     \
        .header = header,                                                                     \
    }

/* A zeroed transfer of size bytes with its head filled, or NULL. */
void *transport_xfer_alloc(size_t size, void *engine, tr_done_fn done, void *arg);
/* The response operation of every transport: the head's resp. */
const tr_response *transport_response(void *xfer);

/* A transport's body operation over its kept body b: the text (never
 * NULL), its length in *len and whether it was cut in *cut (either may be
 * NULL). */
const char *transport_kept_body(const struct buf *b, int was_cut, size_t *len, int *cut);

#endif
