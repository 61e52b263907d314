/*
 * h1xfer.h - the fast client's transfer (one request, reused): what it
 * asks for, its result, and the state the engine keeps in it; and the
 * names of the engine's other types. The engine's API is h1.h; the layers
 * that work on a transfer (h1msg.c, h1.c) share this header.
 */
#ifndef LW_H1XFER_H
#define LW_H1XFER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "buf.h"
#include "h1parse.h"

typedef struct h1_engine h1_engine;
typedef struct h1_session h1_session;
typedef struct h1_conn h1_conn;
typedef struct h1_xfer h1_xfer;

typedef enum {
    H1_OK = 0,
    H1_ERR_CONNECTION, /* refused, reset, closed, malformed, unresolved */
    H1_ERR_TIMEOUT,
    H1_ERR_TLS, /* the TLS handshake failed: a certificate the
                            checks refuse, or a server that does not speak
                            TLS */
    H1_ERR_URL  /* a redirect to a URL requests refuses: url_kind
                            and url_msg hold its exception (url.h) */
} h1_result;

struct h1_xfer {
    /* the request: set by h1_xfer_set() */
    char method[16];
    const char *body; /* caller's, valid until done */
    size_t body_len;
    int has_body;
    double timeout; /* seconds */
    int keep;       /* keep response headers and body */
    /* the result, valid in the done callback */
    h1_result result;
    char errtext[256];
    const char *url_kind; /* H1_ERR_URL: e.g. "InvalidSchema" */
    char *url_msg;        /* H1_ERR_URL: its message, malloc'd */
    int open_errno;       /* errno of a failed socket(), else 0 */
    double rt_ms;         /* start to the last byte, redirects included */
    h1_parser p;          /* status, reason, body_bytes */
    buf url;              /* effective URL, NUL-terminated */
    buf rbody;            /* kept body, NUL-terminated, at most
                                LW_RESPONSE_BODY_MAX bytes */
    int body_cut;         /* the body went on beyond rbody */
    buf rheaders;         /* kept headers: "name\0value\0" ... */
    /* engine state */
    h1_engine *h;
    h1_session *s;
    h1_conn *c;
    ev_timer timer;
    buf target;               /* request target: path and query */
    buf hdrs;                 /* extra header lines, each ending in CRLF */
    int user_host;            /* hdrs has the Host line */
    buf location;             /* Location of a redirect */
    struct h1_origin *origin; /* a reference, or NULL */
    list_link wait_link;      /* in the origin's waiters (h1.c) */
    list_head *waiting;       /* the list it waits in for the origin's
                                lookup, or NULL */
    int redirects;
    int retried;
    int active;
    double t0;
};

typedef void (*h1_done_fn)(h1_xfer *x, void *ctx);

#endif
