/*
 * h1tls.h - the transport under a fast-client connection: plain recv()
 * and send() on its socket, or TLS with OpenSSL (h1tls.c says how).
 */
#ifndef LW_H1TLS_H
#define LW_H1TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "h1dns.h"

/* The TLS settings of an engine: all zero is none yet. */
typedef struct {
    struct ssl_ctx_st *ctx; /* made at the first https:// connection */
    int insecure;           /* no certificate or host name checks */
} h1_tls;

/* The TLS session a user's session keeps to resume: all zero is none. */
typedef struct {
    struct ssl_session_st *sess;
    h1_origin *origin; /* whose it is (a reference) */
} h1_tls_resume;

/* One connection's transport: all zero but fd is a plain one. */
typedef struct {
    int fd;               /* the socket */
    struct ssl_st *ssl;   /* an https:// connection's TLS, else NULL */
    int handshaking;      /* TLS handshake under way */
    int read_wants_write; /* a TLS read waits for the socket to take bytes */
} h1_link;

/* The link's TLS on its socket, for origin o: SNI, ALPN http/1.1, and
 * (unless insecure) the peer's certificate checked against the system's
 * store ($SSL_CERT_FILE, $SSL_CERT_DIR) for o's host; r's session is
 * resumed when it is o's (r is left empty). Returns 0, or -1 with the
 * reason in err. */
int h1_tls_open(h1_link *l, h1_tls *t, h1_tls_resume *r, h1_origin *o, char *err, size_t errlen);
/* One step of the handshake: 1 when done, 0 when it waits for the socket
 * (*events: EV_READ or EV_WRITE), -1 when it failed (err: libcurl's text
 * for the same fault). */
int h1_tls_handshake(h1_link *l, const h1_tls *t, const h1_origin *o, int *events, char *err,
                     size_t errlen);
/* recv() and send() through the link's TLS, if any: bytes, 0 at the end
 * of the stream (recv), or -1 with errno (EAGAIN: try again later). */
ssize_t h1_link_recv(h1_link *l, char *buf, size_t len);
ssize_t h1_link_send(h1_link *l, const char *buf, size_t len);
/* Whether the link's TLS holds bytes read from the socket but not
 * returned yet (the socket's readiness does not show them). */
int h1_link_pending(const h1_link *l);
/* Frees the link's TLS (the socket stays open); a resumable TLS session
 * goes to r (for origin o), so that the next connection to o resumes it
 * (an abbreviated handshake). */
void h1_tls_close(h1_link *l, h1_tls_resume *r, h1_origin *o);
/* Frees the TLS session r kept. */
void h1_tls_forget(h1_tls_resume *r);
/* Frees the engine's TLS context. */
void h1_tls_free(h1_tls *t);

#endif
