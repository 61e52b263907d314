/*
 * h1client.c - the fast HTTP/1.1 client as a transport (transport.h),
 * like Locust's FastHttpUser: http:// and https:// on the engine of h1.h.
 *
 * A session is an h1 session (the user's connections and cookie jar); a
 * transfer is an h1 transfer with the request body's copy beside it.
 */
#include "h1client.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "h1.h"

#define SPARE_BUF_MAX 65536 /* bytes an idle transfer may keep allocated */

typedef struct {
    tr_xfer_head head; /* engine, callback, response */
    h1_xfer x;
    void *session; /* the user's h1 session */
    buf req_body;  /* the request body's copy */
} xfer;

static void read_result(xfer *f)
{
    h1_xfer *x = &f->x;
    tr_response *r = &f->head.resp;
    *r = (tr_response){.result = TR_OK,
                       .text = x->errtext,
                       .reason = "",
                       .time_ms = x->rt_ms,
                       .open_errno = x->open_errno,
                       .url = x->url.data ? x->url.data : ""};
    switch (x->result) {
    case H1_OK:
        r->status = x->p.status;
        r->bytes = x->p.body_bytes;
        r->reason = x->p.reason;
        r->text = "";
        break;
    case H1_ERR_URL:
        r->result = TR_ERR_URL;
        r->url_kind = x->url_kind;
        r->url_msg = x->url_msg ? x->url_msg : x->errtext;
        break;
    case H1_ERR_TIMEOUT:
        r->result = TR_ERR_TIMEOUT;
        break;
    case H1_ERR_TLS:
        r->result = TR_ERR_TLS;
        break;
    default:
        r->result = TR_ERR_CONNECTION;
        break;
    }
}

/* The engine's completion callback: the transfer's own callback. */
static void on_done(h1_xfer *x, void *ctx)
{
    (void)ctx;
    xfer *f = (xfer *)(void *)((char *)x - offsetof(xfer, x));
    read_result(f);
    f->head.done(f->head.arg);
}

static int prepare(void *xp, void *session, const tr_request *req)
{
    xfer *f = xp;
    h1_xfer *x = &f->x;
    size_t n = strlen(req->method);
    if (n >= sizeof x->method) {
        n = sizeof x->method - 1;
    }
    memcpy(x->method, req->method, n);
    x->method[n] = '\0';
    x->has_body = req->body != NULL;
    x->body_len = req->body_len;
    f->req_body.len = 0;
    if (x->has_body && buf_put(&f->req_body, req->body, req->body_len) != 0) {
        return -1;
    }
    x->body = f->req_body.data;
    x->timeout = req->timeout;
    x->keep = req->keep;
    f->session = session;
    return h1_xfer_set(f->head.engine, x, req->url, req->session_headers, req->headers);
}

static int start(void *xp)
{
    xfer *f = xp;
    return h1_start(f->head.engine, f->session, &f->x);
}

static void cancel(void *xp)
{
    h1_cancel(&((xfer *)xp)->x);
}

/* A large body's buffer is not kept for the next request. */
static void finish(void *xp)
{
    xfer *f = xp;
    if (f->x.rbody.cap > SPARE_BUF_MAX) {
        free(f->x.rbody.data);
        f->x.rbody.data = NULL;
        f->x.rbody.len = f->x.rbody.cap = 0;
    }
}

static const char *body(void *xp, size_t *len, int *cut)
{
    h1_xfer *x = &((xfer *)xp)->x;
    return transport_kept_body(&x->rbody, x->body_cut, len, cut);
}

static const char *header(void *xp, const char *name)
{
    return h1_header(&((xfer *)xp)->x, name);
}

static void *xfer_new(void *engine, tr_done_fn done, void *arg)
{
    return transport_xfer_alloc(sizeof(xfer), engine, done, arg);
}

static void xfer_free(void *xp)
{
    xfer *f = xp;
    if (f) {
        h1_xfer_free(&f->x);
        free(f->req_body.data);
        free(f);
    }
}

static void *session_new(void *engine)
{
    (void)engine;
    return h1_session_new();
}

static void session_free(void *engine, void *session)
{
    (void)engine;
    h1_session_free(session);
}

static int supports(const char *url)
{
    return url_simple_http(url);
}

static void *engine_new(const tr_config *cfg)
{
    h1_engine *h = h1_new(cfg->loop, on_done, NULL);
    if (h) {
        h1_set_insecure(h, cfg->insecure);
    }
    return h;
}

static void engine_free(void *engine)
{
    h1_free(engine);
}

const transport fast_transport = TRANSPORT_TABLE("fast");
