/*
 * h1int.h - what the fast HTTP/1.1 client's files share inside: the
 * engine, sessions, connections and origins (h1.c), URLs, cookies and
 * request bytes (h1msg.c), the transport under a connection (h1tls.c).
 */
#ifndef LW_H1INT_H
#define LW_H1INT_H

#include <sys/socket.h>
#include <time.h>

#include "h1.h"

#define H1_RBUF_SIZE 65536
#define H1_MAX_REDIRECTS 30
#define H1_RESOLVE_RETRY 10.0   /* s before a host that did not resolve is tried again */
#define H1_MAX_ADDRS 4          /* addresses kept per host, tried in turn */
#define H1_ORIGIN_CACHE 256     /* hosts the table keeps; then the least
                                   recently used one leaves it (h1dns.c) */

typedef enum { H1_DNS_PENDING = 0, H1_DNS_OK, H1_DNS_FAILED } h1_dns_state;

/* A host and port, resolved (or being resolved) without blocking the loop.
 * Counted references: the engine's table, each connection to it, each
 * transfer aimed at it and a lookup in flight; freed at the last one. */
typedef struct h1_origin {
    h1_engine *h;
    int refs;
    h1_dns_state state;
    char *host;               /* as in the URL, without brackets */
    char *authority;          /* the Host header: host[:port] as written */
    int port;
    int tls;                  /* https:// */
    struct sockaddr_storage addr[H1_MAX_ADDRS];
    socklen_t addrlen[H1_MAX_ADDRS];
    int naddrs;
    int preferred;            /* the address that last connected */
    double failed_at;         /* when it did not resolve (monotonic s) */
    double used_at;           /* last asked for (monotonic s) */
    h1_xfer *waiters;         /* transfers waiting for the lookup */
} h1_origin;

#define H1_COOKIE_MAX_BYTES 4096     /* name=value; a longer cookie is ignored */
#define H1_COOKIES_PER_DOMAIN 50     /* then the domain's oldest goes */
#define H1_COOKIES_PER_SESSION 500   /* then the session's oldest goes */

/* A cookie of a session's jar (h1cookie.c). */
typedef struct h1_cookie {
    struct h1_cookie *next;
    size_t name_len;
    char *domain;             /* lowercase host or domain, no leading dot */
    char *path;
    int host_only;            /* no Domain attribute: that host only */
    int secure;
    time_t expires;           /* 0: end of session */
    char pair[];              /* "name=value\0domain\0path" */
} h1_cookie;

struct h1_session {
    h1_conn *idle;            /* keep-alive connections, newest first */
    h1_cookie *cookies;       /* oldest first */
    size_t ncookies;
    struct ssl_session_st *tls_resume;  /* the TLS session of its last closed
                                           https connection, to resume */
    h1_origin *tls_origin;    /* that connection's origin (a reference) */
};

struct h1_conn {
    ev_io io;
    h1_engine *h;
    h1_session *s;
    h1_xfer *x;               /* the transfer using it, or NULL when idle */
    h1_conn *next;            /* in the session's idle list */
    h1_origin *origin;        /* a reference */
    int addr;                 /* index of the origin's address in use */
    int tries;                /* addresses tried for this connection */
    int connecting;           /* TCP connect under way */
    int handshaking;          /* TLS handshake under way */
    int tls_read_wants_write; /* a TLS read waits for the socket to take bytes */
    struct ssl_st *tls;       /* an https:// connection's TLS, else NULL */
    int served;               /* responses read on it */
    char *out;                /* request bytes not sent yet */
    size_t out_len, out_off;
};

struct h1_engine {
    struct ev_loop *loop;
    h1_done_fn done;
    void *ctx;
    int running;
    h1_origin **origins;      /* the host table, each a reference */
    size_t norigins;
    struct h1_dns *dns;       /* the resolver (h1dns.c) */
    struct ssl_ctx_st *tls_ctx;   /* made at the first https:// connection */
    int insecure;             /* no certificate or host name checks */
    h1_buf wbuf;              /* request bytes being built */
    char rbuf[H1_RBUF_SIZE];
};

/* h1dns.c */
/* The resolver on the engine's loop: c-ares with the system's settings
 * (/etc/resolv.conf, /etc/hosts), or the servers of $LW_DNS_SERVERS
 * ("127.0.0.1:5353,..."). Returns 0 or -1. */
int h1_dns_init(h1_engine *h);
/* Ends lookups in flight (their transfers must be gone) and the table. */
void h1_dns_free(h1_engine *h);
/* The origin of a URL's scheme://authority (a new reference), from the
 * table or new, its lookup started (a numeric host resolves at once); a
 * host that did not resolve is looked up again after H1_RESOLVE_RETRY s.
 * *path is set to the rest of the URL ("" for none). NULL: errtext says
 * why. */
h1_origin *h1_origin_of(h1_engine *h, const char *url, const char **path,
                        char *errtext, size_t errlen);
void h1_origin_unref(h1_origin *o);
/* x waits for its origin's lookup: h1_resume(x) follows it. */
void h1_dns_wait(h1_xfer *x);
/* x waits no more (cancel, timeout). */
void h1_dns_unwait(h1_xfer *x);

/* h1tls.c: the transport under a connection, plain or TLS (OpenSSL). */
/* The connection's TLS on its socket: SNI, ALPN http/1.1, and (unless
 * insecure) the peer's certificate checked against the system's store
 * ($SSL_CERT_FILE, $SSL_CERT_DIR) for the origin's host. Returns 0, or -1
 * with the reason in err. */
int h1_tls_open(h1_conn *c, char *err, size_t errlen);
/* One step of the handshake: 1 when done, 0 when it waits for the socket
 * (*events: what for), -1 when it failed (err: libcurl's text for the same
 * fault). */
int h1_tls_handshake(h1_conn *c, int *events, char *err, size_t errlen);
/* recv() and send() through the connection's TLS, if any: bytes, 0 at the
 * end of the stream (recv), or -1 with errno (EAGAIN: try again later). */
ssize_t h1_conn_recv(h1_conn *c, char *buf, size_t len);
ssize_t h1_conn_send(h1_conn *c, const char *buf, size_t len);
/* Whether the connection's TLS holds bytes read from the socket but not
 * returned yet (the socket's readiness does not show them). */
int h1_conn_pending(const h1_conn *c);
/* Frees the connection's TLS (the socket stays open); a resumable TLS
 * session is kept in the connection's h1 session, so that its next
 * connection to the same origin resumes it (an abbreviated handshake). */
void h1_tls_close(h1_conn *c);
/* Frees the TLS session a session kept. */
void h1_tls_forget(h1_session *s);
/* Frees the engine's TLS context. */
void h1_tls_free(h1_engine *h);

/* h1.c */
/* The lookup of x's origin is over: send, or fail from the loop. */
void h1_resume(h1_xfer *x);

/* h1msg.c */
/* Point x at url (absolute, or relative to its current URL). */
int h1_retarget(h1_xfer *x, const char *url);
/* The length of url's "http://" or "https://", else 0. */
size_t h1_scheme_len(const char *url);
/* Build x's request into h->wbuf. */
int h1_build(h1_engine *h, h1_xfer *x);
/* Remove x's extra header lines whose names (with their colon) are listed
 * (NULL-terminated). */
void h1_drop_headers(h1_xfer *x, const char *const *names);
/* h1cookie.c */
/* A Set-Cookie header value from a response to host (no port) and the
 * request target (path and query). */
void h1_cookie_set(h1_session *s, const char *host, const char *target, const char *value,
                   size_t len);
/* The Cookie line (with its CRLF) of a request to host and target (over
 * https or not), or nothing; drops cookies whose time is up. Returns 0 or
 * -1. */
int h1_cookies_put(h1_buf *b, h1_session *s, const char *host, const char *target, int https);
void h1_cookies_free(h1_session *s);

#endif
