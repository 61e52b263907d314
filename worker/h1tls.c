/*
 * h1tls.c - the transport under a fast-client connection: plain recv()
 * and send(), or TLS with OpenSSL's libssl for https:// origins.
 *
 * The engine has one SSL_CTX, made at its first https:// connection: TLS
 * 1.2 or later, ALPN offering http/1.1, and unless insecure the peer's
 * certificate verified against the system's store (OpenSSL's defaults,
 * which honour $SSL_CERT_FILE and $SSL_CERT_DIR) with the origin's host
 * name or IP address checked. Each connection has its own SSL, driven
 * without blocking from the engine's libev loop; its buffers are given back
 * while it is idle (SSL_MODE_RELEASE_BUFFERS), so an idle keep-alive
 * connection stays small. When a connection closes, its TLS session (if
 * resumable) stays with the user's session, and the user's next
 * connection to that origin resumes it. A failed handshake is described with libcurl's
 * text for the same fault, so both clients give the same failure row.
 */
#include "h1tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static SSL_CTX *ctx_new(int insecure)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* a server that closes without close_notify ends the stream, as a
       plain connection's EOF does */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_read_ahead(ctx, 1); /* a record in one read() */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* no usable store leaves every certificate unverified: a failure */
        (void)SSL_CTX_set_default_verify_paths(ctx);
    }
    return ctx;
}

void h1_tls_free(h1_tls *t)
{
    SSL_CTX_free(t->ctx);
    t->ctx = NULL;
}

static int is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* SNI and the name or address the certificate must be for. */
static int set_peer(SSL *ssl, const char *host, int insecure)
{
    if (is_ip(host)) { /* no SNI for an address (RFC 6066) */
        return insecure || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
    }
    if (SSL_set_tlsext_host_name(ssl, host) != 1) {
        return -1;
    }
    return insecure || SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

int h1_tls_open(h1_link *l, h1_tls *t, h1_tls_resume *r, h1_origin *o, char *err, size_t errlen)
{
    if (!t->ctx && !(t->ctx = ctx_new(t->insecure))) {
        snprintf(err, errlen, "failed to create an SSL context");
        return -1;
    }
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl || SSL_set_fd(ssl, l->fd) != 1 || set_peer(ssl, o->host, t->insecure) != 0) {
        SSL_free(ssl);
        snprintf(err, errlen, "SSL: couldn't create a context (handle)");
        return -1;
    }
    SSL_set_connect_state(ssl);
    if (r->sess && r->origin == o) {
        (void)SSL_set_session(ssl, r->sess); /* a full handshake if refused */
    }
    h1_tls_forget(r); /* the SSL holds it now: one copy at most */
    l->ssl = ssl;
    l->handshaking = 1;
    return 0;
}

void h1_tls_forget(h1_tls_resume *r)
{
    SSL_SESSION_free(r->sess);
    r->sess = NULL;
    h1_origin_unref(r->origin);
    r->origin = NULL;
}

void h1_tls_close(h1_link *l, h1_tls_resume *r, h1_origin *o)
{
    if (!l->ssl) {
        return;
    }
    SSL_SESSION *ss = l->handshaking ? NULL : SSL_get1_session(l->ssl);
    if (ss && SSL_SESSION_is_resumable(ss)) {
        /* as if shut down: SSL_free would make the session unresumable */
        SSL_set_shutdown(l->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        h1_tls_forget(r);
        r->sess = ss;
        r->origin = o;
        o->refs++;
    } else {
        SSL_SESSION_free(ss);
    }
    SSL_free(l->ssl); /* no close_notify: the socket closes next */
    l->ssl = NULL;
}

/* libcurl's name for the OpenSSL library: "OpenSSL/3.0.11". */
static void lib_name(char *out, size_t len)
{
    snprintf(out, len, "OpenSSL/%u.%u.%u", OPENSSL_version_major(), OPENSSL_version_minor(),
             OPENSSL_version_patch());
}

/* The failed handshake's text, as libcurl 7.88 writes it with OpenSSL. */
static void handshake_error(const h1_link *l, const h1_tls *t, const h1_origin *o, int detail,
                            int sockerr, char *err, size_t errlen)
{
    long verify = SSL_get_verify_result(l->ssl);
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!t->insecure && verify != X509_V_OK) {
        if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            snprintf(err, errlen,
                     "SSL: no alternative certificate subject name matches "
                     "target host name '%.150s'",
                     o->host);
        } else {
            snprintf(err, errlen, "SSL certificate problem: %s",
                     X509_verify_cert_error_string(verify));
        }
        return;
    }
    if (detail == SSL_ERROR_SSL && e) {
        char lib[40], reason[160];
        lib_name(lib, sizeof lib);
        ERR_error_string_n(e, reason, sizeof reason);
        snprintf(err, errlen, "%s: %s", lib, reason);
        return;
    }
    /* libcurl ends this one with a space; the request layer trims it */
    snprintf(err, errlen, "OpenSSL SSL_connect: %s in connection to %.150s:%d ",
             sockerr ? strerror(sockerr) : "SSL_ERROR_SYSCALL", o->host, o->port);
}

int h1_tls_handshake(h1_link *l, const h1_tls *t, const h1_origin *o, int *events, char *err,
                     size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(l->ssl);
    if (rc == 1) {
        l->handshaking = 0;
        return 1;
    }
    int detail = SSL_get_error(l->ssl, rc);
    if (detail == SSL_ERROR_WANT_READ || detail == SSL_ERROR_WANT_WRITE) {
        *events = detail == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
        return 0;
    }
    handshake_error(l, t, o, detail, detail == SSL_ERROR_SYSCALL ? errno : 0, err, errlen);
    return -1;
}

/* errno for an SSL_read or SSL_write that did not move bytes. */
static ssize_t tls_fail(h1_link *l, int rc, int reading)
{
    int detail = SSL_get_error(l->ssl, rc);
    int sys = errno;
    ERR_clear_error();
    switch (detail) {
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify: the end of the stream */
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        l->read_wants_write = reading;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_SYSCALL:
        if (sys == 0 && reading) {
            return 0; /* the peer closed without close_notify */
        }
        errno = sys ? sys : EPIPE;
        return -1;
    default:
        errno = EPROTO;
        return -1;
    }
}

ssize_t h1_link_recv(h1_link *l, char *buf, size_t len)
{
    if (!l->ssl) {
        return recv(l->fd, buf, len, 0);
    }
    l->read_wants_write = 0;
    errno = 0;
    int rc = SSL_read(l->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);
    return rc > 0 ? rc : tls_fail(l, rc, 1);
}

int h1_link_pending(const h1_link *l)
{
    return l->ssl && SSL_has_pending(l->ssl);
}

ssize_t h1_link_send(h1_link *l, const char *buf, size_t len)
{
    if (!l->ssl) {
        return send(l->fd, buf, len, MSG_NOSIGNAL);
    }
    errno = 0;
    int rc = SSL_write(l->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);
    if (rc > 0) {
        return rc;
    }
    ssize_t r = tls_fail(l, rc, 0);
    return r == 0 ? (errno = EPIPE, -1) : r;
}
