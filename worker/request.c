/*
 * request.c - a user's requests (request.h) and the response side of the
 * public API (lw_response_*).
 *
 * Each request takes a slot from the user's spares, or makes one, and goes
 * through the transport its class asks for when that transport can carry
 * the URL, else through the default one (transport.h); the user's session
 * of that transport is made on first use. When the request finishes, the
 * default verdict is set (a transport error or a status >= 400 is a
 * failure, with error texts shaped like Python requests' exceptions), the
 * task's callback may change it or chain another request, and then the
 * request is logged in stats: once, in the interval it finished. Cancelled
 * requests are never logged.
 */
#include "request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error_key.h"
#include "url.h"
#include "log.h"
#include "procinfo.h"

struct lw_response {
    list_link link; /* in the set's busy or spare list */
    request_set *rs;
    int tp;  /* the transport of x */
    void *x; /* its transfer, or NULL */
    buf url; /* the request's absolute URL */
    lw_response_fn cb;
    void *arg;
    char method[16];
    buf name;  /* stats name, up to STATS_NAME_MAX */
    int named; /* the task gave a name= */
    long status;
    double rt_ms;
    int64_t content_length;
    char *error; /* verdict: NULL means success */
};

typedef struct lw_response req_slot;

static void on_done(void *arg);

static const transport *tp_of(const req_slot *s)
{
    return transport_at(s->tp);
}

static void slot_destroy(req_slot *s)
{
    if (s->x) {
        tp_of(s)->xfer_free(s->x);
    }
    free(s->name.data);
    free(s->url.data);
    free(s->error);
    free(s);
}

/* Back to the spares, with per-request state dropped. */
static void slot_release(req_slot *s)
{
    request_set *rs = s->rs;
    if (s->x) {
        tp_of(s)->finish(s->x);
    }
    free(s->error);
    s->error = NULL;
    list_remove(&rs->busy, &s->link);
    list_push_front(&rs->spare, &s->link);
    rs->inflight--;
}

/* A slot for a new request, in the busy list. */
static req_slot *slot_take(request_set *rs)
{
    req_slot *s;
    if (rs->spare.first) {
        s = LIST_ITEM(rs->spare.first, req_slot, link);
        list_remove(&rs->spare, &s->link);
    } else if (!(s = calloc(1, sizeof *s))) {
        return NULL;
    } else {
        s->rs = rs;
    }
    list_push_front(&rs->busy, &s->link);
    rs->inflight++;
    return s;
}

static void set_error(req_slot *s, const char *kind, const char *text)
{
    char *r = py_repr_str(text);
    free(s->error);
    s->error = NULL;
    if (!r) {
        return;
    }
    size_t n = strlen(kind) + strlen(r) + 3;
    s->error = malloc(n);
    if (s->error) {
        snprintf(s->error, n, "%s(%s)", kind, r);
    }
    free(r);
}

static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A URL requests would refuse: the exception's name and message. */
typedef struct {
    const char *kind;
    char *msg;
} bad_url;

/* Spaces, controls and non-ASCII bytes of the path and query escaped, as
 * requests does, for both clients (no CR or LF reaches a request line). */
static int escape_url(req_slot *s)
{
    const char *p = s->url.data;
    while (*p && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f) {
        p++;
    }
    if (!*p) {
        return 0;
    }
    buf esc = {0};
    if (url_escape(&esc, s->url.data) != 0) {
        free(esc.data);
        return -1;
    }
    free(s->url.data);
    s->url = esc;
    return 0;
}

/* A request's own timeout: more than 0 and at most MAX_TIMEOUT_S (0 means
 * the worker's default). Anything else is refused like requests refuses
 * one, with a ValueError. */
#define MAX_TIMEOUT_S LW_MAX_TIMEOUT_S

static int check_timeout(double t, bad_url *bad)
{
    char text[200];
    if (t > 0 && t <= MAX_TIMEOUT_S) {
        return 0;
    }
    snprintf(text, sizeof text,
             "Attempted to set timeout to %g, but the timeout must be more than 0 "
             "and at most %g seconds.",
             t, MAX_TIMEOUT_S);
    bad->kind = "ValueError";
    bad->msg = strdup(text);
    return bad->msg ? -3 : -1;
}

/* The slot's transfer and the user's session on transport tp, made when
 * missing (a slot that last went another way frees its old transfer). */
static int bind_transport(req_slot *s, int tp, void **session)
{
    request_set *rs = s->rs;
    const transport *t = transport_at(tp);
    if (s->x && s->tp != tp) {
        tp_of(s)->xfer_free(s->x);
        s->x = NULL;
    }
    s->tp = tp;
    if (!s->x && !(s->x = t->xfer_new(rs->env->engine[tp], on_done, s))) {
        return -1;
    }
    if (!rs->session[tp] && !(rs->session[tp] = t->session_new(rs->env->engine[tp]))) {
        return -1;
    }
    *session = rs->session[tp];
    return 0;
}

static int prepare(req_slot *s, const lw_request *req, bad_url *bad)
{
    request_set *rs = s->rs;
    size_t body_len = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
    double timeout = req->timeout != 0 ? req->timeout : rs->env->timeout;
    int bad_timeout = check_timeout(timeout, bad);
    if (bad_timeout) {
        return bad_timeout;
    }
    copy_text(s->method, sizeof s->method, req->method ? req->method : "GET");
    const char *name = req->name ? req->name : req->path;
    s->name.len = 0;
    if (buf_put(&s->name, name, stats_name_len(name)) != 0) {
        return -1;
    }
    s->named = req->name != NULL;
    s->cb = req->on_response;
    s->arg = req->arg;
    int rc = url_join(&s->url, rs->host ? rs->host : rs->env->host, req->path);
    if (rc) {
        return rc;
    }
    if (url_check(s->url.data, &bad->kind, &bad->msg) != 0) {
        return -3;
    }
    if (escape_url(s) != 0) {
        return -1;
    }
    int client = rs->env->client >= 0 ? rs->env->client : rs->client;
    void *session = NULL;
    if (bind_transport(s, transport_pick(client, s->url.data), &session) != 0) {
        return -1;
    }
    tr_request tr = {
        .method = s->method,
        .url = s->url.data,
        .body = req->body,
        .body_len = body_len,
        .session_headers = (const char *const *)rs->headers,
        .headers = req->headers,
        .timeout = timeout,
        .keep = req->on_response != NULL,
        .paced = rs->paced,
    };
    return tp_of(s)->prepare(s->x, session, &tr);
}

int request_env_set_host(request_env *env, const char *host)
{
    char *copy = strdup(host ? host : "");
    if (!copy) {
        return -1;
    }
    free(env->host);
    env->host = copy;
    return 0;
}

int request_env_open(request_env *env, const tr_config *cfg)
{
    for (int i = 0; i < TR_COUNT; i++) {
        if (!(env->engine[i] = transport_at(i)->engine_new(cfg))) {
            request_env_close(env);
            return -1;
        }
    }
    return 0;
}

void request_env_close(request_env *env)
{
    for (int i = 0; i < TR_COUNT; i++) {
        if (env->engine[i]) {
            transport_at(i)->engine_free(env->engine[i]);
            env->engine[i] = NULL;
        }
    }
    free(env->host);
    env->host = NULL;
}

/* A request that could not even start is a failure with no response time:
 * kind(repr(why)), as Locust shows the exception requests raised. */
static void log_unstarted(request_set *rs, const lw_request *req, const char *kind, const char *why)
{
    char *r = py_repr_str(why ? why : "out of memory");
    size_t n = strlen(kind) + (r ? strlen(r) : 7) + 3;
    char *text = malloc(n);
    if (text) {
        snprintf(text, n, "%s(%s)", kind, r ? r : "'error'");
    }
    free(r);
    stats_log(rs->env->stats, req->method ? req->method : "GET", req->name ? req->name : req->path,
              0.0, 0, text ? text : "LocustError('out of memory')", now_epoch());
    free(text);
}

int request_send(request_set *rs, const lw_request *req)
{
    req_slot *s = slot_take(rs);
    if (!s) {
        log_unstarted(rs, req, "LocustError", "out of memory for a request");
        return -1;
    }
    bad_url bad = {NULL, NULL};
    int rc = prepare(s, req, &bad);
    if (rc == 0 && tp_of(s)->start(s->x) == 0) {
        return 0;
    }
    if (rc == -3) {
        log_unstarted(rs, req, bad.kind, bad.msg);
        free(bad.msg);
    } else {
        log_unstarted(
            rs, req, "LocustError",
            rc == -2
                ? "You must specify the base host. Either in the host attribute in the User class, or on the command line using the --host option."
                : "could not start the request");
    }
    slot_release(s);
    return -1;
}

int request_add_header(request_set *rs, const char *line)
{
    char *copy = strdup(line);
    char **grown =
        copy ? grow_array(rs->headers, &rs->cap, rs->nheaders + 2, sizeof *grown, 4) : NULL;
    if (!grown) {
        free(copy);
        return -1;
    }
    rs->headers = grown;
    rs->headers[rs->nheaders++] = copy;
    rs->headers[rs->nheaders] = NULL;
    return 0;
}

/* Out of file descriptors: a clear failure text, one ERROR line and one
 * exception to the master per minute, instead of curl's "Couldn't connect". */
static const char *fd_exhausted(req_slot *s, int open_errno)
{
    static double last_report = -1e9;
    static const char text[] = "Too many open files: each user holds its own connection; raise the "
                               "open-file limit (ulimit -n) or run fewer users per process";
    if (open_errno != EMFILE && open_errno != ENFILE) {
        return NULL;
    }
    double now = now_mono();
    if (now - last_report >= 60.0) {
        last_report = now;
        log_msg(LOG_ERROR, LOG_USER, "%s", text);
        s->rs->env->exception(text, s->rs->env->ctx);
    }
    return text;
}

/* Copies the transport's error text (in libcurl's words) without the
 * numbers that change from one request to the next (" after 12 ms",
 * " after 1001 milliseconds", " with 0 bytes received"), so one error is
 * one failure row. */
static void stable_text(const char *in, char *out, size_t len)
{
    static const char *const cuts[] = {" after ", " with "};
    size_t n = 0;
    while (*in && n + 1 < len) {
        size_t skip = 0;
        for (size_t i = 0; i < 2 && !skip; i++) {
            size_t cl = strlen(cuts[i]);
            const char *p = in + cl;
            if (strncmp(in, cuts[i], cl) != 0 || *p < '0' || *p > '9') {
                continue;
            }
            while ((*p >= '0' && *p <= '9') || *p == ' ' || strncmp(p, "out of", 6) == 0) {
                p += strncmp(p, "out of", 6) == 0 ? 6 : 1;
            }
            const char *const units[] = {"milliseconds", "ms", "bytes received", "bytes"};
            for (size_t u = 0; u < 4; u++) {
                if (strncmp(p, units[u], strlen(units[u])) == 0) {
                    skip = (size_t)(p + strlen(units[u]) - in);
                    break;
                }
            }
        }
        if (skip) {
            in += skip;
        } else {
            out[n++] = *in++;
        }
    }
    out[n] = '\0';
}

/* kind(text): Timeout, SSLError or ConnectionError, with the transport's
 * text made stable (no counts, no trailing space) so that one fault is one
 * failure row. */
static void set_transport_error(req_slot *s, const char *kind, const char *raw, int open_errno)
{
    char plain[256]; /* CURL_ERROR_SIZE, the size of either client's text */
    const char *text = fd_exhausted(s, open_errno);
    if (!text) {
        stable_text(raw, plain, sizeof plain);
        text = plain;
        /* "Too large response headers: 309239 > 307200": the count varies */
        static const char big[] = "Too large response headers";
        if (strncmp(plain, big, sizeof big - 1) == 0) {
            plain[sizeof big - 1] = '\0';
        }
        size_t n = strlen(plain);
        while (n > 0 && plain[n - 1] == ' ') {
            plain[--n] = '\0';
        }
        /* libcurl says either, by where its clock ran out in a handshake */
        if (strcmp(plain, "SSL connection timeout") == 0) {
            snprintf(plain, sizeof plain, "Connection timed out");
        }
    }
    set_error(s, kind, text);
}

/* like Locust: with name= the error names the name, so all the URLs
 * grouped under one name give one failure row */
static void set_http_error(req_slot *s, const char *reason, const char *url)
{
    char url_text[STATS_NAME_MAX + 200];
    snprintf(url_text, sizeof url_text, "%ld %s Error: %.63s for url: %s", s->status,
             s->status < 500 ? "Client" : "Server", reason,
             s->named ? s->name.data
             : url    ? url
                      : "");
    set_error(s, "HTTPError", url_text);
}

static void default_verdict(req_slot *s, const tr_response *r)
{
    static const char *const kinds[] = {
        [TR_ERR_CONNECTION] = "ConnectionError",
        [TR_ERR_TIMEOUT] = "Timeout",
        [TR_ERR_TLS] = "SSLError",
    };
    s->status = r->status;
    s->rt_ms = r->time_ms;
    s->content_length = r->bytes;
    if (r->result == TR_ERR_URL) {
        set_error(s, r->url_kind, r->url_msg);
    } else if (r->result != TR_OK) {
        set_transport_error(s, kinds[r->result], r->text, r->open_errno);
    } else if (s->status >= 400) {
        set_http_error(s, r->reason, r->url);
    }
}

/* The transport's callback: judged, shown to the task's callback, logged
 * once; the slot is free and the user model told. */
static void on_done(void *arg)
{
    req_slot *s = arg;
    request_set *rs = s->rs;
    default_verdict(s, tp_of(s)->response(s->x));
    if (s->cb) {
        rs->calling++;
        s->cb(rs->owner, s, s->arg);
        rs->calling--;
    }
    stats_log(rs->env->stats, s->method, s->name.data, s->rt_ms, s->content_length, s->error,
              now_epoch());
    slot_release(s);
    rs->settled(rs->owner);
}

void request_cancel_all(request_set *rs)
{
    while (rs->busy.first) {
        req_slot *s = LIST_ITEM(rs->busy.first, req_slot, link);
        tp_of(s)->cancel(s->x);
        slot_release(s);
    }
}

void request_set_free(request_set *rs)
{
    request_cancel_all(rs);
    while (rs->spare.first) {
        req_slot *s = LIST_ITEM(rs->spare.first, req_slot, link);
        list_remove(&rs->spare, &s->link);
        slot_destroy(s);
    }
    for (int i = 0; i < TR_COUNT; i++) {
        if (rs->session[i]) {
            transport_at(i)->session_free(rs->env->engine[i], rs->session[i]);
            rs->session[i] = NULL;
        }
    }
    for (size_t i = 0; i < rs->nheaders; i++) {
        free(rs->headers[i]);
    }
    free(rs->headers);
    rs->headers = NULL;
    rs->nheaders = rs->cap = 0;
}

long lw_response_status(const lw_response *r)
{
    return r->status;
}

const char *lw_response_body(const lw_response *r, size_t *len)
{
    return tp_of(r)->body(r->x, len, NULL);
}

int lw_response_body_cut(const lw_response *r)
{
    int cut = 0;
    tp_of(r)->body(r->x, NULL, &cut);
    return cut;
}

const char *lw_response_header(const lw_response *r, const char *name)
{
    return tp_of(r)->header(r->x, name);
}

double lw_response_time_ms(const lw_response *r)
{
    return r->rt_ms;
}

const char *lw_response_error(const lw_response *r)
{
    return r->error;
}

void lw_response_success(lw_response *r)
{
    free(r->error);
    r->error = NULL;
}

void lw_response_failure(lw_response *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    set_error(r, "CatchResponseError", text);
}
