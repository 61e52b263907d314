/*
 * h1.c - the fast HTTP/1.1 client's engine: connections on libev, and the
 * life of a transfer on them.
 *
 *   start -> (idle connection of the session | connect) -> send -> read
 *         -> done | redirect (again) | retry once (a reused connection the
 *            server closed before answering) | error | timeout
 *
 * Each connection keeps EV_READ on while it lives, so an idle keep-alive
 * connection the server closes is noticed and dropped at once, and a
 * request costs one send() and (for a small response) one recv(). An
 * https:// connection shakes hands once, after its TCP connect, and then
 * reads and writes through its TLS (h1tls.c). Messages (URLs, cookies,
 * request bytes) are built in h1msg.c.
 *
 * The engine is the top of the client: it calls the layers under it
 * (h1msg.c, h1tls.c, h1dns.c, h1cookie.c, h1parse.c), and they report
 * back only through callbacks it gives them (a finished lookup: on_lookup;
 * the parser's headers and body: on_header, on_body).
 */
#include "h1.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "h1int.h"
#include "h1msg.h"
#include "lw.h"
#include "procinfo.h"

static void begin(h1_xfer *x, int fresh);
static void on_lookup(h1_origin *o, void *ctx);

/* ---- engine and sessions ---- */

h1_engine *h1_new(struct ev_loop *loop, h1_done_fn done, void *ctx)
{
    h1_engine *h = calloc(1, sizeof *h);
    if (!h) {
        return NULL;
    }
    h->loop = loop;
    h->done = done;
    h->ctx = ctx;
    if (!(h->dns = h1_dns_new(loop, on_lookup, h))) {
        free(h);
        return NULL;
    }
    return h;
}

void h1_free(h1_engine *h)
{
    if (!h) {
        return;
    }
    h1_dns_free(h->dns);
    h1_tls_free(&h->tls);
    free(h->wbuf.data);
    free(h);
}

void h1_set_insecure(h1_engine *h, int insecure)
{
    h->tls.insecure = insecure;
}

int h1_running(const h1_engine *h)
{
    return h->running;
}

h1_session *h1_session_new(void)
{
    return calloc(1, sizeof(h1_session));
}

static void conn_close(h1_conn *c)
{
    h1_tls_close(&c->link, &c->s->tls_resume, c->origin);
    ev_io_stop(c->h->loop, &c->io);
    close(c->io.fd);
    h1_origin_unref(c->origin);
    free(c->out);
    free(c);
}

void h1_session_free(h1_session *s)
{
    if (!s) {
        return;
    }
    while (s->idle.first) {
        h1_conn *c = LIST_ITEM(s->idle.first, h1_conn, idle_link);
        list_remove(&s->idle, &c->idle_link);
        conn_close(c);
    }
    h1_tls_forget(&s->tls_resume);
    h1_cookies_free(&s->jar);
    free(s);
}

static void idle_remove(h1_conn *c)
{
    if (c->idle_link.prev || c->s->idle.first == &c->idle_link) {
        list_remove(&c->s->idle, &c->idle_link);
    }
}

/* ---- the end of a transfer ---- */

static void finish(h1_xfer *x)
{
    ev_timer_stop(x->h->loop, &x->timer);
    x->rt_ms = (now_mono() - x->t0) * 1000.0;
    x->active = 0;
    x->h->running--;
    x->h->done(x, x->h->ctx);
}

/* The connection is no good any more (error, timeout, cancel). */
static void drop_conn(h1_xfer *x)
{
    if (x->c) {
        conn_close(x->c);
        x->c = NULL;
    }
}

static void fail(h1_xfer *x, h1_result r, const char *text)
{
    drop_conn(x);
    x->result = r;
    snprintf(x->errtext, sizeof x->errtext, "%s", text);
    finish(x);
}

/* Fail from the loop, not from inside h1_start or a callback chain. */
static void fail_soon(h1_xfer *x)
{
    drop_conn(x);
    if (x->result == H1_OK) {
        x->result = H1_ERR_CONNECTION;
    }
    ev_timer_stop(x->h->loop, &x->timer);
    ev_timer_set(&x->timer, 0.0, 0.0);
    ev_timer_start(x->h->loop, &x->timer);
}

static int is_redirect(const h1_xfer *x)
{
    int st = x->p.status;
    return (st == 301 || st == 302 || st == 303 || st == 307 || st == 308) && x->location.len > 0;
}

/* Follow a redirect like Python requests: 301 (for a POST), 302 and 303
 * (for all but HEAD) go on as a GET; every redirect but 307/308 drops the
 * body and its headers; a new host does not get the credentials, cookies or
 * Host header meant for the old one. */
static void follow(h1_xfer *x)
{
    static const char *const body_headers[] = {"content-type:", "transfer-encoding:", NULL};
    static const char *const host_headers[] = {"authorization:", "cookie:", "host:", NULL};
    int st = x->p.status;
    if (x->redirects >= H1_MAX_REDIRECTS) {
        fail(x, H1_ERR_CONNECTION, "Maximum (30) redirects followed");
        return;
    }
    h1_origin *was = x->origin; /* compared below: kept alive till then */
    was->refs++;
    x->redirects++;
    int head = strcmp(x->method, "HEAD") == 0;
    if (((st == 302 || st == 303) && !head) || (st == 301 && strcmp(x->method, "POST") == 0)) {
        snprintf(x->method, sizeof x->method, "GET");
    }
    if (st != 307 && st != 308) {
        x->has_body = 0;
        h1_drop_headers(x, body_headers);
    }
    if (h1_retarget(x, x->location.data) != 0) {
        fail(x, H1_ERR_CONNECTION, "out of memory");
    } else if (x->result != H1_OK) {
        finish(x);
    } else {
        if (x->origin != was) {
            h1_drop_headers(x, host_headers);
            x->user_host = 0;
        }
        begin(x, 0);
    }
    h1_origin_unref(was);
}

/* The response is complete: the connection goes back to the session
 * (or is closed), then the transfer ends or follows a redirect. */
static void complete(h1_xfer *x, int close_conn)
{
    h1_conn *c = x->c;
    x->c = NULL;
    c->x = NULL;
    c->served++;
    if (close_conn || !x->p.keep_alive || c->out) {
        conn_close(c);
    } else {
        list_push_front(&x->s->idle, &c->idle_link);
    }
    if (is_redirect(x)) {
        follow(x);
    } else {
        finish(x);
    }
}

/* ---- parser callbacks ---- */

static int on_header(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
    h1_xfer *x = ctx;
    int bad = 0;
    if (nlen == 10 && strncasecmp(name, "set-cookie", 10) == 0) {
        h1_cookie_set(&x->s->jar, x->origin->host, x->target.data, value, vlen);
    } else if (nlen == 8 && strncasecmp(name, "location", 8) == 0) {
        x->location.len = 0;
        bad |= buf_put(&x->location, value, vlen);
    }
    if (x->keep) {
        bad |= buf_put(&x->rheaders, name, nlen) | buf_put(&x->rheaders, "", 1) |
               buf_put(&x->rheaders, value, vlen) | buf_put(&x->rheaders, "", 1);
    }
    return bad;
}

/* A kept body stops growing at LW_RESPONSE_BODY_MAX; the rest is read and
 * counted (p.body_bytes) but not kept. */
static int on_body(void *ctx, const char *data, size_t len)
{
    h1_xfer *x = ctx;
    if (!x->keep) {
        return 0;
    }
    size_t room = LW_RESPONSE_BODY_MAX - x->rbody.len;
    if (len > room) {
        x->body_cut = 1;
        len = room;
    }
    return len ? buf_put(&x->rbody, data, len) : 0;
}

static const h1_callbacks parse_cbs = {on_header, on_body};

/* ---- connection I/O ---- */

static void set_events(h1_conn *c, int events)
{
    if (c->io.events != events) {
        ev_io_stop(c->h->loop, &c->io);
        ev_io_set(&c->io, c->io.fd, events);
        ev_io_start(c->h->loop, &c->io);
    }
}

/* The connection broke (EOF or an error) while x was on it. */
static void conn_lost(h1_conn *c, int err)
{
    h1_xfer *x = c->x;
    char text[200];
    if (!h1_started(&x->p) && c->served > 0 && !x->retried) {
        drop_conn(x); /* the server closed it between requests */
        x->retried = 1;
        begin(x, 1);
        return;
    }
    if (err == 0 && h1_eof(&x->p)) {
        complete(x, 1);
        return;
    }
    if (err) {
        snprintf(text, sizeof text, "Recv failure: %s", strerror(err));
    } else {
        snprintf(text, sizeof text, "%s",
                 h1_started(&x->p) ? "transfer closed with outstanding read data remaining"
                                   : "Empty reply from server");
    }
    fail(x, H1_ERR_CONNECTION, text);
}

/* Fail x with text: at once, or from the loop when inside h1_start. */
static void fail_now_or_soon(h1_xfer *x, const char *text, int soon)
{
    if (!soon) {
        fail(x, H1_ERR_CONNECTION, text);
        return;
    }
    snprintf(x->errtext, sizeof x->errtext, "%s", text);
    fail_soon(x);
}

static void send_failed(h1_conn *c, int err, int soon)
{
    h1_xfer *x = c->x;
    if (c->served > 0 && !x->retried && (err == EPIPE || err == ECONNRESET)) {
        drop_conn(x);
        x->retried = 1;
        begin(x, 1);
        return;
    }
    char text[200];
    snprintf(text, sizeof text, "Send failure: %s", strerror(err));
    fail_now_or_soon(x, text, soon);
}

/* Send what is pending: c->out, else the engine's freshly built request.
 * soon: called from h1_start, where a failure must wait for the loop.
 * Returns -1 when the transfer failed (c is gone). */
static int send_now(h1_conn *c, int soon)
{
    const char *data = c->out ? c->out + c->out_off : c->h->wbuf.data;
    size_t len = c->out ? c->out_len - c->out_off : c->h->wbuf.len;
    ssize_t n = h1_link_send(&c->link, data, len);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        send_failed(c, errno, soon);
        return -1;
    }
    size_t sent = n > 0 ? (size_t)n : 0;
    if (sent == len) {
        free(c->out);
        c->out = NULL;
        set_events(c, EV_READ);
        return 0;
    }
    if (c->out) {
        c->out_off += sent;
    } else {
        if (!(c->out = malloc(len - sent))) {
            fail_now_or_soon(c->x, "out of memory", soon);
            return -1;
        }
        memcpy(c->out, data + sent, len - sent);
        c->out_len = len - sent;
        c->out_off = 0;
    }
    set_events(c, EV_READ | EV_WRITE);
    return 0;
}

static int conn_dial(h1_conn *c, h1_xfer *x);

/* TLS on c's socket, resuming its session's TLS session for the origin. */
static int conn_tls_open(h1_conn *c, char *err, size_t errlen)
{
    return h1_tls_open(&c->link, &c->h->tls, &c->s->tls_resume, c->origin, err, errlen);
}

/* A step of c's TLS handshake; when it is done, the request waiting in
 * c->out goes. Returns -1 when the transfer failed (c is gone). */
static int tls_step(h1_conn *c)
{
    char text[256];
    int events = 0;
    int rc = h1_tls_handshake(&c->link, &c->h->tls, c->origin, &events, text, sizeof text);
    if (rc < 0) {
        fail(c->x, H1_ERR_TLS, text);
        return -1;
    }
    if (rc == 0) {
        set_events(c, events);
        return 0;
    }
    set_events(c, EV_READ);
    return c->out ? send_now(c, 0) : 0;
}

static int finish_connect(h1_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    h1_xfer *x = c->x;
    if (err) {
        ev_io_stop(c->h->loop, &c->io);
        close(c->io.fd);
        if (conn_dial(c, x) == 0) {
            return -1; /* the next address is being tried */
        }
        h1_origin_unref(c->origin);
        free(c->out);
        free(c);
        x->c = NULL;
        x->result = H1_ERR_CONNECTION; /* conn_dial wrote errtext */
        finish(x);
        return -1;
    }
    c->origin->preferred = c->addr;
    c->connecting = 0;
    if (c->origin->tls) {
        char text[200];
        if (conn_tls_open(c, text, sizeof text) != 0) {
            fail(x, H1_ERR_CONNECTION, text);
            return -1;
        }
        return tls_step(c);
    }
    return send_now(c, 0);
}

/* Read what the socket (and the connection's TLS) holds. Returns 1 when
 * more is buffered in the TLS, else 0. */
static int conn_read_once(h1_conn *c)
{
    h1_engine *h = c->h;
    ssize_t n = h1_link_recv(&c->link, h->rbuf, sizeof h->rbuf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (c->link.read_wants_write) {
            set_events(c, EV_READ | EV_WRITE);
        }
        return 0;
    }
    if (!c->x) { /* idle: the server closed it or talks out of turn */
        idle_remove(c);
        conn_close(c);
        return 0;
    }
    if (n <= 0) {
        conn_lost(c, n < 0 ? errno : 0);
        return 0;
    }
    h1_xfer *x = c->x;
    ssize_t used = h1_feed(&x->p, h->rbuf, (size_t)n, &parse_cbs, x);
    if (used < 0) {
        fail(x, H1_ERR_CONNECTION, "Weird server reply");
    } else if (x->p.done) {
        complete(x, used < n);
    } else {
        return h1_link_pending(&c->link);
    }
    return 0;
}

static void conn_read(h1_conn *c)
{
    while (conn_read_once(c)) {
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    h1_conn *c = (h1_conn *)w;
    if (c->link.handshaking) {
        (void)tls_step(c);
        return;
    }
    if ((revents & EV_WRITE) && c->link.read_wants_write && !c->out) {
        set_events(c, EV_READ);
        revents |= EV_READ; /* the TLS read goes on now */
    } else if (revents & EV_WRITE) {
        if (!c->x) {
            set_events(c, EV_READ);
        } else if ((c->connecting ? finish_connect(c) : send_now(c, 0)) != 0) {
            return;
        }
    }
    if ((revents & EV_READ) && !c->connecting && !c->link.handshaking) {
        conn_read(c);
    }
}

/* ---- connections ---- */

static h1_conn *take_idle(h1_session *s, const h1_origin *origin)
{
    for (list_link *l = s->idle.first; l; l = l->next) {
        h1_conn *c = LIST_ITEM(l, h1_conn, idle_link);
        if (c->origin == origin || (c->origin->tls == origin->tls &&
                                    strcmp(c->origin->authority, origin->authority) == 0)) {
            list_remove(&s->idle, &c->idle_link);
            return c;
        }
    }
    return NULL;
}

/* A non-blocking socket connecting to the origin's address i, or -1. */
static int open_socket(h1_xfer *x, const h1_origin *o, int i, int *connecting)
{
    int fd = socket(o->addr[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        x->open_errno = errno;
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* best effort */
    *connecting = 0;
    if (connect(fd, (const struct sockaddr *)&o->addr[i], o->addrlen[i]) != 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return -1;
        }
        *connecting = 1;
    }
    return fd;
}

/* Connect c to the origin's next untried address (the one that connected
 * last comes first): a name may give ::1 and 127.0.0.1 while the server
 * listens on one of them only. Returns 0, or -1 when none is left. */
static int conn_dial(h1_conn *c, h1_xfer *x)
{
    const h1_origin *o = c->origin;
    while (c->tries < o->naddrs) {
        c->addr = (o->preferred + c->tries++) % o->naddrs;
        int connecting = 0;
        int fd = open_socket(x, o, c->addr, &connecting);
        if (fd >= 0) {
            c->connecting = connecting;
            ev_io_init(&c->io, on_io, fd, EV_READ | (connecting ? EV_WRITE : 0));
            c->link.fd = fd;
            if (!connecting && o->tls && conn_tls_open(c, x->errtext, sizeof x->errtext) != 0) {
                close(fd);
                return -1;
            }
            if (c->link.handshaking) {
                ev_io_set(&c->io, fd, EV_WRITE); /* the ClientHello goes from the loop */
            }
            ev_io_start(c->h->loop, &c->io);
            return 0;
        }
        if (x->open_errno == EMFILE || x->open_errno == ENFILE) {
            break;
        }
    }
    snprintf(x->errtext, sizeof x->errtext,
             "Failed to connect to %.180s port %d: Couldn't connect to server", o->host, o->port);
    return -1;
}

static h1_conn *conn_open(h1_xfer *x)
{
    h1_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(x->errtext, sizeof x->errtext, "out of memory");
        return NULL;
    }
    c->h = x->h;
    c->s = x->s;
    c->origin = x->origin;
    if (conn_dial(c, x) != 0) {
        free(c);
        return NULL;
    }
    c->origin->refs++;
    return c;
}

/* ---- waiting for a lookup ---- */

/* x waits for its origin's lookup: on_lookup sends it. */
static void dns_wait(h1_xfer *x)
{
    x->waiting = &x->origin->waiters;
    list_push_front(x->waiting, &x->wait_link);
}

/* x waits no more (cancel, timeout, free). */
static void dns_unwait(h1_xfer *x)
{
    if (!x->waiting) {
        return;
    }
    list_remove(x->waiting, &x->wait_link);
    x->waiting = NULL;
}

/* The resolver's callback: o's lookup is over, its waiters go on. */
static void on_lookup(h1_origin *o, void *ctx)
{
    (void)ctx;
    list_head ready = o->waiters; /* these go on; later ones wait anew */
    o->waiters = (list_head){0};
    for (list_link *l = ready.first; l; l = l->next) {
        LIST_ITEM(l, h1_xfer, wait_link)->waiting = &ready;
    }
    while (ready.first) {
        h1_xfer *w = LIST_ITEM(ready.first, h1_xfer, wait_link);
        list_remove(&ready, &w->wait_link);
        w->waiting = NULL;
        begin(w, 0);
    }
}

/* Send x's request on an idle connection of its session or a new one. */
static void begin(h1_xfer *x, int fresh)
{
    h1_reset(&x->p);
    h1_init(&x->p, strcmp(x->method, "HEAD") == 0);
    x->location.len = x->rbody.len = x->rheaders.len = 0;
    x->body_cut = 0;
    if (x->rbody.data) {
        x->rbody.data[0] = '\0'; /* no text of an earlier response */
    }
    if (x->origin->state == H1_DNS_PENDING) {
        dns_wait(x); /* on_lookup follows the answer */
        return;
    }
    if (x->origin->state == H1_DNS_FAILED) {
        snprintf(x->errtext, sizeof x->errtext, "Could not resolve host: %s", x->origin->host);
        x->result = H1_ERR_CONNECTION;
        fail_soon(x);
        return;
    }
    h1_conn *c = fresh ? NULL : take_idle(x->s, x->origin);
    if (!c && !(c = conn_open(x))) {
        fail_soon(x);
        return;
    }
    c->x = x;
    x->c = c;
    if (h1_build(&x->h->wbuf, x) != 0) {
        snprintf(x->errtext, sizeof x->errtext, "out of memory");
        fail_soon(x);
        return;
    }
    if (!c->connecting && !c->link.handshaking) {
        (void)send_now(c, 1); /* a failure ends the transfer from the loop */
        return;
    }
    if (!(c->out = malloc(x->h->wbuf.len))) {
        snprintf(x->errtext, sizeof x->errtext, "out of memory");
        fail_soon(x);
        return;
    }
    memcpy(c->out, x->h->wbuf.data, x->h->wbuf.len);
    c->out_len = x->h->wbuf.len;
    c->out_off = 0;
}

/* ---- transfers ---- */

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    h1_xfer *x = w->data;
    if (x->result != H1_OK) {
        finish(x); /* a failure kept for the loop */
    } else if (x->waiting) {
        dns_unwait(x);
        fail(x, H1_ERR_TIMEOUT, "Resolving timed out");
    } else {
        fail(x, H1_ERR_TIMEOUT,
             x->c && (x->c->connecting || x->c->link.handshaking) ? "Connection timed out"
                                                                  : "Operation timed out");
    }
}

int h1_xfer_set(h1_engine *h, h1_xfer *x, const char *url, const char *const *session_headers,
                const char *const *headers)
{
    x->h = h;
    return h1_msg_set(x, url, session_headers, headers);
}

int h1_start(h1_engine *h, h1_session *s, h1_xfer *x)
{
    if (x->active || !s) {
        return -1;
    }
    x->h = h;
    x->s = s;
    x->c = NULL;
    x->active = 1;
    x->retried = 0;
    x->open_errno = 0;
    x->t0 = now_mono();
    h->running++;
    ev_now_update(h->loop); /* the timeout counts from now, not the loop's last wake */
    ev_timer_init(&x->timer, on_timer, x->timeout > 0 ? x->timeout : 1e9, 0.0);
    x->timer.data = x;
    ev_timer_start(h->loop, &x->timer);
    if (x->result != H1_OK) {
        fail_soon(x);
    } else {
        begin(x, 0);
    }
    return 0;
}

void h1_cancel(h1_xfer *x)
{
    if (!x->active) {
        return;
    }
    ev_timer_stop(x->h->loop, &x->timer);
    dns_unwait(x);
    drop_conn(x);
    x->active = 0;
    x->h->running--;
}

void h1_xfer_free(h1_xfer *x)
{
    h1_reset(&x->p);
    free(x->url.data);
    free(x->rbody.data);
    free(x->rheaders.data);
    free(x->target.data);
    free(x->hdrs.data);
    free(x->location.data);
    free(x->url_msg);
    dns_unwait(x);
    h1_origin_unref(x->origin);
    *x = (h1_xfer){0};
}

const char *h1_header(const h1_xfer *x, const char *name)
{
    const char *p = x->rheaders.data, *end = p + x->rheaders.len;
    while (p && p < end) {
        const char *value = p + strlen(p) + 1;
        if (value >= end) {
            break;
        }
        if (strcasecmp(p, name) == 0) {
            return value;
        }
        p = value + strlen(value) + 1;
    }
    return NULL;
}
