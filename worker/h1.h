/*
 * h1.h - the fast HTTP/1.1 client: http:// and https:// requests on
 * non-blocking sockets driven by libev, for user classes that ask for it
 * (like Locust's FastHttpUser) or for every class with --http-client fast.
 * https:// uses OpenSSL with the peer's certificate and host name checked
 * (unless insecure); a connection's handshake happens once, when it opens.
 *
 * A session (one per user) holds that user's keep-alive connections and
 * cookie jar (scoped like requests' jar and bounded: h1cookie.c), so each
 * user keeps its own connection as with libcurl. A
 * transfer (one per request, reused) carries the request, its result and,
 * when asked to keep them, the response's headers and body. Redirects are
 * followed (up to 30), a request that finds its reused connection closed
 * by the server is retried once on a fresh one, and per-request timeouts
 * cover connect and response. Error texts match libcurl's, so the failure
 * rows of both clients are the same.
 */
#ifndef LW_H1_H
#define LW_H1_H

#include <curl/curl.h>
#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "h1parse.h"

typedef struct h1_engine h1_engine;
typedef struct h1_session h1_session;
typedef struct h1_conn h1_conn;
typedef struct h1_xfer h1_xfer;

typedef enum {
    H1_OK = 0,
    H1_ERR_CONNECTION,   /* refused, reset, closed, malformed, unresolved */
    H1_ERR_TIMEOUT,
    H1_ERR_TLS,          /* the TLS handshake failed: a certificate the
                            checks refuse, or a server that does not speak
                            TLS */
    H1_ERR_URL           /* a redirect to a URL requests refuses: url_kind
                            and url_msg hold its exception (h1url.h) */
} h1_result;

typedef buf h1_buf;

struct h1_xfer {
    /* the request: set by h1_xfer_set() */
    char method[16];
    const char *body;        /* caller's, valid until done */
    size_t body_len;
    int has_body;
    double timeout;          /* seconds */
    int keep;                /* keep response headers and body */
    /* the result, valid in the done callback */
    h1_result result;
    char errtext[256];
    const char *url_kind;    /* H1_ERR_URL: e.g. "InvalidSchema" */
    char *url_msg;           /* H1_ERR_URL: its message, malloc'd */
    int open_errno;          /* errno of a failed socket(), else 0 */
    double rt_ms;            /* start to the last byte, redirects included */
    h1_parser p;             /* status, reason, body_bytes */
    h1_buf url;              /* effective URL, NUL-terminated */
    h1_buf rbody;            /* kept body, NUL-terminated, at most
                                LW_RESPONSE_BODY_MAX bytes */
    int body_cut;            /* the body went on beyond rbody */
    h1_buf rheaders;         /* kept headers: "name\0value\0" ... */
    /* engine state */
    h1_engine *h;
    h1_session *s;
    h1_conn *c;
    ev_timer timer;
    h1_buf target;           /* request target: path and query */
    h1_buf hdrs;             /* extra header lines, each ending in CRLF */
    int user_host;           /* hdrs has the Host line */
    h1_buf location;         /* Location of a redirect */
    struct h1_origin *origin;   /* a reference, or NULL */
    h1_xfer *wait_next;      /* in the origin's waiters */
    int waiting;             /* for the origin's lookup */
    int redirects;
    int retried;
    int active;
    double t0;
};

typedef void (*h1_done_fn)(h1_xfer *x, void *ctx);

/* Append to a buffer (kept NUL-terminated). Returns 0 or -1. */
int h1_buf_put(h1_buf *b, const char *data, size_t len);

h1_engine *h1_new(struct ev_loop *loop, h1_done_fn done, void *ctx);
/* https:// without certificate or host name checks (--insecure); before
 * the first https:// request. */
void h1_set_insecure(h1_engine *h, int insecure);
void h1_free(h1_engine *h);
/* Transfers in flight. */
int h1_running(const h1_engine *h);

h1_session *h1_session_new(void);
/* Closes the session's idle connections; its transfers must be over. */
void h1_session_free(h1_session *s);

/* Whether the fast client can send to this URL or base host (http:// or
 * https://, no user info). */
int h1_supports(const char *url);

/* The URL of a request: path itself when it is absolute (http:// or
 * https://), else base + path ("http://x/" + "/a" gives one slash).
 * Returns 0, -1 when out of memory, -2 for a relative path without base. */
int h1_join_url(h1_buf *out, const char *base, const char *path);
/* Set the request (method, body, timeout and keep first): its absolute
 * URL, session headers and the request's own (both NULL-terminated lists
 * of "Name: value" lines, or NULL). A host
 * that does not resolve fails the transfer when it starts. Returns 0, or
 * -1 when out of memory. */
int h1_xfer_set(h1_engine *h, h1_xfer *x, const char *url,
                const char *const *session_headers,
                const char *const *headers);
/* Start it. The done callback always follows (errors included), never
 * from inside this call. Returns 0, or -1 when it could not start. */
int h1_start(h1_engine *h, h1_session *s, h1_xfer *x);
/* Abandon a transfer in flight: no callback. */
void h1_cancel(h1_xfer *x);
/* Free a transfer's buffers (it must not be in flight). */
void h1_xfer_free(h1_xfer *x);
/* A kept response header (case-insensitive name), or NULL. */
const char *h1_header(const h1_xfer *x, const char *name);

#endif
